// Package faults holds dotm's fault tests: they start the real dotm binary
// as a separate process and check that nothing an enumerator was told is
// stored gets lost, and that nothing is stored twice, when things go wrong.
//
//   - crash: 20 simulated enumerators sync submissions (single and batch,
//     with retries) while the server is killed with SIGKILL mid-way and
//     restarted on the same data dir; every acknowledged submission must be
//     stored exactly once and whole, and the final count must equal the
//     number of distinct instances sent;
//   - database outage: dotm serve uses a MongoDB-wire server in another
//     process (dotm dev-mongo), which is stopped mid-load: the API must
//     answer 503 problem+json within its request timeout and /readyz 503,
//     then recover when the database is back, without a restart of dotm;
//   - bad input: a corpus of malformed, oversized and mistyped bodies sent
//     to every POST route of the router must get 4xx, never 5xx, and never
//     bring the process down;
//   - security: headers, slow clients cut off, TLS, closed CORS, and no
//     answer value or token in any log line or problem document.
//
// The package has no code of its own, only tests (and this file). The tests
// run in the normal suite at a small size; set DOTM_FAULTS_SIZE=full (as
// `make test-faults` does) for the full size, e.g. 2,000 submissions in the
// crash test.
//
// It is not for unit tests of the packages it exercises (they have their
// own) nor for benchmarks (see the loadtest package and BENCHMARKS.md).
package faults
