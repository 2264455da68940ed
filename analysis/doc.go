// Package analysis computes design-based estimates for complex household
// surveys: means, totals, ratios, proportions, quantiles, domain estimates,
// differences between domains with their t tests, the Rao–Scott test for
// two-way tables (F, Chisq, Wald, adjWald), linear, logistic and Poisson
// regression with design-based standard errors, term tests and contrasts,
// and the rest of what R survey users reach for: totals and shares of
// every level of a factor, domains crossed from several variables, design
// and misspecification effects, svyciprop's intervals, svyvar, and
// svyquantile's rules and interval types (see [Stats]). Every number is meant to equal what R's survey package
// (Lumley, version 4.1) prints for the same design, to 1e-9 relative; the
// tests in this package check that against golden files made with R.
//
// Data come in as a [Table] of columns ([]float64 with NaN for missing, or
// text coded against a dictionary). A [Design] carries strata, clusters at
// one or more stages, weights and finite population corrections. Variances
// use Taylor linearization with the ultimate-cluster estimator of R's
// svyrecvar (onestage/multistage): for a stratum h with n_h sampled PSUs and
// PSU totals z_hi of the linearized variable,
//
//	V = Σ_h (1 − f_h) · n_h/(n_h − 1) · Σ_i (z_hi − z̄_h)²
//
// plus, when a population size is given for every stage, the later-stage
// terms of R's multistage recursion. Domains keep the full design: rows
// outside a domain contribute zeros.
//
// A [Plan] (YAML) lists estimates; [Run] evaluates it against a [Table].
// [IndicatorReport] builds the migrant vs non-migrant indicator report, with
// charts, as one self-contained HTML page.
//
// The package is pure: it reads only the readers and tables it is given and
// writes only to the writers it is given; it keeps no global state. It does
// not open files, talk to the store, or decide where data come from: a
// [Source] supplies the table.
package analysis
