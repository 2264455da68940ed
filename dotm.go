// Package dotm is the domain of a household migration survey round: the
// records dotm keeps (surveys, forms, assignments, listings, submissions,
// the sampling design, weights, releases, users and the audit trail), the
// storage interfaces that package mongodb implements, the error codes every
// layer shares, roles and scopes, the encryption of direct identifiers, and
// the rules that are not about HTTP: what a valid survey is, who may read
// what, what a review decision does to a submission and its assignment.
//
// It imports no HTTP, driver or database code (internal/archtest checks
// this), so that a store, a CLI command or a test can use the domain
// without the API server. The only packages it imports besides the standard
// library are the pure stages whose results it records (exports for a
// release's manifest and report, sampling for the weights' summaries).
//
// The HTTP edge is package collector (gin, decoding, status mapping, audit
// middleware); sequences of a round that span stores and stages (drawing,
// weighting, releasing) live in package round.
package dotm
