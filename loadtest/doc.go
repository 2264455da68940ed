// Package loadtest drives a running dotm API the way a field team does:
// simulated enumerators post valid Development on the Move household
// submissions, one at a time and in offline-sync batches, and retry every
// post that was not acknowledged, while the package measures throughput,
// latency percentiles and errors by status.
//
// It is for `dotm loadtest`, for BENCHMARKS.md and for the fault tests
// (crash and database outage), which use its enumerators and its record of
// acknowledged instances. It refuses any address that is not on the loopback
// interface, and every run is bounded in time and in the number of
// submissions, so that it cannot be pointed at a production server by
// mistake or left running.
//
// It is not a correctness test of the API (collector's tests are) and not a
// benchmark of the store alone (mongodb's benchmarks are).
package loadtest
