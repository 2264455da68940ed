// Package fieldsim simulates a country and its field work for a Development
// on the Move survey round: a census frame of enumeration areas in 10 strata
// (5 regions × urban/rural) with population margins, the listing and
// screening of a selected area, and household interviews whose answers are
// valid for the built-in household questionnaire and realistic in the ways
// the analysis looks at (migrant households remit, consume more, bank more,
// keep children in school; women head more of them).
//
// It is deterministic: everything takes a *rand.Rand or a seed. The demo,
// the load test and the fault tests use it; it is not part of a real
// survey's data path.
package fieldsim
