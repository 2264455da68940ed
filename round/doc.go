// Package round holds the sequences of a survey round that span the stores
// and the stage packages: joining the design, the assignments and the
// approved interviews into weights (ComputeWeights), into the release and
// analysis tables (Dataset, SurveySource, AnalysisTable) and into the
// calibrated design the analyses use (CalibratedDesign), drawing households
// in the sampled PSUs (DrawHouseholds), and making a release
// (CreateRelease).
//
// Each is one function that both the HTTP handlers (package collector) and
// the CLI (cmd/dotm) call, with the same types: neither repeats the
// sequence. It reaches storage only through the interfaces of package dotm,
// so it imports no HTTP, driver or database code.
package round
