// Package collector is dotm's HTTP API (gin): sign-in by bearer token, roles,
// surveys, forms, listings, assignments, submissions, review, audit and
// downloads, plus the health and readiness probes.
//
// Every route is listed in routes.go. Handlers get their dependencies as
// arguments (handleX(deps) gin.HandlerFunc); storage is reached only through
// the small interfaces this package declares (UserStore, Pinger, …), which
// package mongodb implements. Errors carry a Code and are turned into HTTP
// statuses and application/problem+json (RFC 9457) documents in one place,
// the error-mapping middleware in errors.go.
//
// It is not for storage, statistics or file formats: those live in mongodb,
// analysis, sampling and exports.
package collector
