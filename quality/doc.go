// Package quality computes the data-quality flags of a submission when it
// is received: an interview too short for the answers it holds, a location
// far from the other interviews of its enumeration area, one answer given
// to a whole battery of questions (straight-lining), and the fingerprints
// (canonical bytes, to be hashed with a key by the caller) that find
// duplicate households; and it collects the numbers that the
// enumerator-level checks of the progress summary need (ages for Whipple's
// index, the roundness of amounts).
//
// It is pure: the form, the answers and the other interviews come in, the
// flags go out; no I/O, no clock. It is not where flags are stored or
// shown: the collector stores them with the submission and its tally, and
// dotm.ComputeProgress counts them.
package quality
