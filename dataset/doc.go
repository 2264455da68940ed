// Package dataset turns approved submissions, with their design variables and
// final weights, into the typed columnar tables that analysis and releases
// work on: households (one row per interview, with the derived variables of a
// Development on the Move analysis), persons (the roster), migrants (members
// now abroad) and return_migrants.
//
// Columns carry their form metadata (question text per language, value
// labels, sensitivity class), so that a release's codebook and disclosure
// control need nothing else. The tables are exports.Table values.
//
// It is pure: it reads nothing and stores nothing. It is not for estimation
// (package analysis) nor for anonymization (package exports).
package dataset
