// Package synth generates realistic synthetic household survey data with
// the canonical dotm variable names, for tests, benchmarks and the demo.
//
// The design is a stratified two-stage sample: 10 strata (5 regions ×
// urban/rural); in each stratum a frame of enumeration areas (PSUs) with
// household counts, from which PSUs are drawn with probability
// proportional to size (systematic, π₁ = n_h·M_i/ΣM_h, capped at 1); every
// household of a selected PSU is listed and screened as current migrant,
// return migrant or non-migrant, and a fixed quota of each class is drawn
// (migrants oversampled, π₂ = m_is/M_is). The weight is 1/(π₁·π₂) and fpc is
// the number of PSUs in the stratum's frame.
//
// Migrant households receive remittances more often, consume more, keep
// children in school more, bank more, and women take part in decisions more
// often where the head is a woman or a man is abroad; PSU effects make the
// data clustered so design effects exceed 1.
//
// The package is pure: Generate takes a seed and returns columns; writing
// them to CSV or Parquet is the caller's job.
package synth
