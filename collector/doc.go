// Package collector is dotm's HTTP API (gin): sign-in by bearer token, roles,
// surveys, forms, listings, assignments, submissions, review, audit and
// downloads, plus the health and readiness probes.
//
// Every route is listed in routes.go. Handlers get their dependencies as
// arguments (handleX(deps) gin.HandlerFunc); storage is reached only through
// the interfaces of the domain package dotm (dotm.UserStore, …), which
// package mongodb implements. Errors carry a dotm.Code and are turned into HTTP
// statuses and application/problem+json (RFC 9457) documents in one place,
// the error-mapping middleware in errors.go.
//
// Releases: round.CreateRelease (shared by the API and `dotm release create
// --survey`) reads a survey's release tables through round.SurveyData, runs
// exports.Create and keeps the record and files in a dotm.ReleaseStore, so
// that any of several stateless API servers can serve them. Researchers see
// published releases only; downloads are streamed with the file's SHA-256
// as ETag, answer Range and If-None-Match, and are each audited.
//
// Submission files: the OpenRosa API (openrosa.go) takes the photos,
// recordings and files a submission's media questions name, whole or split
// over requests as ODK Collect sends them, and stores each through one
// function (attachments.go), sealed by dotm.SealAttachment in a
// dotm.AttachmentStore; supervisors and admins list and download them,
// each download audited.
//
// It is not for storage, statistics or file formats: those live in mongodb,
// analysis, sampling and exports.
package collector
