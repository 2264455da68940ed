// Package sampling draws the two-stage stratified sample of a household
// survey and builds its weights.
//
// Stage 1 selects enumeration areas (primary sampling units, PSUs) from a
// frame with probability proportional to size, systematically within each
// stratum, with certainty units: [Allocate] shares n PSUs among strata,
// [InclusionProbabilities] computes π1 exactly as R's
// sampling::inclusionprobabilities, and [SelectPSUs] draws the sample as
// sampling::UPsystematic does (random start on the cumulated π). Stage 2
// selects households within each selected PSU from its listing, with a quota
// per screening class ([SelectHouseholds]; π2 = m/M per class).
//
// Weights: [BaseWeights] (1/(π1·π2)), [AdjustNonresponse] within weighting
// classes, [PostStratify], [Rake] (iterative proportional fitting),
// [Calibrate] (linear/GREG with optional bounds, or raking ratio, as R
// survey::calibrate), [Trim] (as survey::trimWeights) and [Summarize] (the
// weights report with Kish's design effect due to weighting).
//
// The package is pure and deterministic: it does no I/O beyond the readers
// and writers it is given, reads no clock, and every random draw comes from a
// seed. Random numbers come from the PCG-DXSM generator of math/rand/v2 and
// are turned into uniforms, integers and permutations by code in this
// package, so the same inputs and seed give the same sample on every machine
// and every Go release.
//
// It is not for variance estimation or analysis (package analysis), and it
// does not store listings or assignments (package collector): callers pass
// listings in as slices of [ListedHousehold], wherever they came from.
package sampling
