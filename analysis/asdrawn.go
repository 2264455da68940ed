package analysis

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// PPSBrewer is DesignSpec.PPS for PSUs drawn with probability proportional
// to size without replacement, with the variance of Brewer's approximation
// as R's svydesign(..., fpc = ~pi1 + pi2, pps = "brewer") computes it: a
// stage's fpc column holds each cluster's inclusion probability π_i (R:
// population size n_h/π_i), so the stratum's between-cluster term is
// n_h/(n_h − 1)·Σ_i (1 − π_i)(t_i − t̄_h)², and the next stage's variance
// within cluster i is multiplied by π_i. A certainty PSU (π = 1) adds
// nothing at its own stage. As R does, a domain that misses some PSUs of a
// stratum uses, for every PSU of that stratum, the factor 1 − π of its first
// PSU present in the domain (in row order); R pairs factors with PSUs in
// the order of the data, so data sorted by stratum and PSU give R's result.
//
// Without PPS and without fpc at the first stage the design is the
// with-replacement (Hansen–Hurwitz) one most national survey analyses use:
// R's svydesign(ids = ~psu + household, strata = ~stratum + class,
// weights = ~weight): only the first stage's PSU totals enter.
const PPSBrewer = "brewer"

// The Certainty column (DesignSpec.Certainty) describes a design with
// self-representing PSUs as drawn: a PSU selected with certainty is not a
// sample of PSUs but a stratum of its own, and its units of the next stage
// are its PSUs. For the rows where the column is non-zero, every stage
// moves up one: the first-stage stratum becomes (stratum, PSU, second-stage
// stratum), the PSU becomes the second-stage unit, the strata, clusters and
// fpc of later stages move up likewise, and the last stage is the unit
// itself with fpc 1. In R, for a two-stage design:
//
//	cert <- d$certainty != 0
//	d$s1 <- ifelse(cert, paste(d$stratum, d$psu, d$class, sep = "/"), d$stratum)
//	d$p1 <- ifelse(cert, paste(d$psu, d$household_id, sep = "/"), d$psu)
//	d$f1 <- ifelse(cert, d$pi2, d$pi1); d$f2 <- ifelse(cert, 1, d$pi2)
//	svydesign(ids = ~p1 + household_id, strata = ~s1 + class, fpc = ~f1 + f2, ...)
func newCertaintyDesign(t *Table, spec DesignSpec) (*Design, error) {
	v, vs, err := certaintyView(t, spec)
	if err != nil {
		return nil, err
	}
	d, err := NewDesign(v, vs)
	if err != nil {
		return nil, err
	}
	d.spec = spec
	return d, nil
}

// certaintyView returns t with the moved-up design columns of the rows in
// certainty PSUs added, and the spec that names them.
func certaintyView(t *Table, spec DesignSpec) (*Table, DesignSpec, error) {
	if len(spec.PSU) < 2 {
		return nil, spec, fmt.Errorf("design: certainty %s needs two stages of clusters (psu: [PSU, household id]): the households of a certainty PSU become its PSUs", spec.Certainty)
	}
	if spec.Replicates != nil {
		return nil, spec, fmt.Errorf("design: certainty and replicates do not go together: replicate weights already carry the design")
	}
	cert, err := t.numeric(spec.Certainty)
	if err != nil {
		return nil, spec, fmt.Errorf("design: certainty: %w", err)
	}
	n := t.Len()
	nst := len(spec.PSU)
	text := func(name string) ([]string, error) {
		out := make([]string, n)
		if name == "" {
			return out, nil
		}
		c, err := t.Column(name)
		if err != nil {
			return nil, err
		}
		f := asFactor(c)
		for i, code := range f.codes {
			if code < 0 {
				return nil, fmt.Errorf("column %s is missing in row %d", name, i+1)
			}
			out[i] = f.levels[code]
		}
		return out, nil
	}
	// strata[s]: the stratum column of stage s ("" when the stage has none).
	strataCols := make([]string, nst)
	strataCols[0] = spec.Strata
	for s := 1; s < nst && s-1 < len(spec.StageStrata); s++ {
		strataCols[s] = spec.StageStrata[s-1]
	}
	strata := make([][]string, nst)
	ids := make([][]string, nst)
	for s := 0; s < nst; s++ {
		if strata[s], err = text(strataCols[s]); err != nil {
			return nil, spec, fmt.Errorf("design: strata: %w", err)
		}
		if ids[s], err = text(spec.PSU[s]); err != nil {
			return nil, spec, fmt.Errorf("design: psu: %w", err)
		}
	}
	var fpc [][]float64
	for _, name := range spec.FPC {
		x, err := t.numeric(name)
		if err != nil {
			return nil, spec, fmt.Errorf("design: fpc: %w", err)
		}
		fpc = append(fpc, x)
	}
	v := &Table{n: n, cols: maps.Clone(t.cols), order: slices.Clone(t.order)}
	vs := spec
	vs.Certainty = ""
	vs.StageStrata = nil
	vs.PSU = make([]string, nst)
	vs.FPC = nil
	newStrata := make([][]string, nst)
	newIDs := make([][]string, nst)
	newFPC := make([][]float64, len(fpc))
	for s := 0; s < nst; s++ {
		newStrata[s] = make([]string, n)
		newIDs[s] = make([]string, n)
	}
	for s := range fpc {
		newFPC[s] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		c := cert[i]
		if math.IsNaN(c) {
			return nil, spec, fmt.Errorf("design: certainty column %s is missing in row %d", spec.Certainty, i+1)
		}
		if c == 0 {
			for s := 0; s < nst; s++ {
				newStrata[s][i], newIDs[s][i] = strata[s][i], ids[s][i]
			}
			for s := range fpc {
				newFPC[s][i] = fpc[s][i]
			}
			continue
		}
		newStrata[0][i] = strata[0][i] + "/" + ids[0][i] + "/" + strata[1][i]
		newIDs[0][i] = ids[0][i] + "/" + ids[1][i]
		for s := 1; s < nst; s++ {
			if s+1 < nst {
				newStrata[s][i], newIDs[s][i] = strata[s+1][i], ids[s+1][i]
			} else {
				newStrata[s][i], newIDs[s][i] = "", ids[s][i] // the unit itself, a census of one
			}
		}
		for s := range fpc {
			if s+1 < len(fpc) {
				newFPC[s][i] = fpc[s+1][i]
			} else {
				newFPC[s][i] = 1
			}
		}
	}
	name := func(base string) string { return base + " (as drawn, certainty PSUs moved up a stage)" }
	vs.Strata = name("stratum")
	v.AddStrings(vs.Strata, newStrata[0])
	for s := 0; s < nst; s++ {
		vs.PSU[s] = name(spec.PSU[s])
		v.AddStrings(vs.PSU[s], newIDs[s])
		if s > 0 {
			st := name(fmt.Sprintf("stage %d strata", s+1))
			vs.StageStrata = append(vs.StageStrata, st)
			v.AddStrings(st, newStrata[s])
		}
	}
	for s := range fpc {
		vs.FPC = append(vs.FPC, name(spec.FPC[s]))
		v.AddNumeric(vs.FPC[s], newFPC[s])
	}
	return v, vs, nil
}

// stageStrata splits the strata of stage s (the clusters of stage s−1) by
// the stage's own strata column, when the spec names one.
func (d *Design) stageStrata(t *Table, st *stage, s int) error {
	if s-1 >= len(d.spec.StageStrata) || d.spec.StageStrata[s-1] == "" {
		return nil
	}
	name := d.spec.StageStrata[s-1]
	c, err := t.Column(name)
	if err != nil {
		return fmt.Errorf("design: stage_strata: %w", err)
	}
	f := asFactor(c)
	for i, code := range f.codes {
		if code < 0 {
			return fmt.Errorf("design: stage %d strata column %s is missing in row %d", s+1, name, i+1)
		}
	}
	prevName := st.stratumName
	st.stratum = pairCodes(st.stratum, f.codes) // codes in first-seen order
	st.stratumName = nil
	for i, h := range st.stratum {
		if int(h) == len(st.stratumName) {
			st.stratumName = append(st.stratumName, fmt.Sprintf("%s, %s=%s", prevName[d.stages[s-1].cluster[i]], name, f.levels[f.codes[i]]))
		}
	}
	return nil
}

// setPPS reads the fpc columns of a PPS design as inclusion probabilities
// of each stage's clusters (R's as.fpc with pps: population size n_h/π).
func (d *Design) setPPS(cols [][]float64, anyBig bool) error {
	if d.spec.PPS != PPSBrewer {
		return fmt.Errorf("design: pps %q: the only PPS approximation is brewer (leave pps out for the with-replacement design)", d.spec.PPS)
	}
	if anyBig {
		return fmt.Errorf("design: pps: brewer takes the fpc columns %v as inclusion probabilities in (0, 1], not population sizes", d.spec.FPC)
	}
	for s, x := range cols {
		st := &d.stages[s]
		st.clusterPop = make([]float64, len(st.clusterStratum))
		set := make([]bool, len(st.clusterPop))
		for i, p := range x {
			c := st.cluster[i]
			pop := float64(st.stratumNPSU[st.stratum[i]]) / p
			if !set[c] {
				st.clusterPop[c], set[c] = pop, true
			} else if st.clusterPop[c] != pop {
				return fmt.Errorf("design: fpc column %s varies within a cluster of stage %d (%g and %g, row %d): give each cluster's inclusion probability", d.spec.FPC[s], s+1, float64(st.stratumNPSU[st.stratum[i]])/st.clusterPop[c], p, i+1)
			}
		}
		for h := range st.stratumPop {
			st.stratumPop[h] = math.NaN() // per cluster: see clusterPop
		}
	}
	d.hasFPC = true
	return nil
}

// pop is the population size of row i's stratum at this stage (its
// cluster's, in a PPS design).
func (st *stage) pop(i int) float64 {
	if st.clusterPop != nil {
		return st.clusterPop[st.cluster[i]]
	}
	return st.stratumPop[st.stratum[i]]
}

// clusterPopulation is the population size that cluster c's sampling
// fraction n_h/N refers to.
func (st *stage) clusterPopulation(c int32) float64 {
	if st.clusterPop != nil {
		return st.clusterPop[c]
	}
	return st.stratumPop[st.clusterStratum[c]]
}

// ppsFactors returns the fpc factor 1 − π of each cluster of stratum h and
// the largest among the present ones (zero: the stratum adds nothing). With
// nsub of its clusters present and fewer than all, every cluster gets the
// factor of first, the stratum's first present cluster, as R does.
func (st *stage) ppsFactors(h int32, nsub int, pres []bool, first int32) (func(c int32) float64, float64) {
	nPSU := float64(st.stratumNPSU[h])
	f := func(c int32) float64 {
		pop := st.clusterPop[c]
		if math.IsInf(pop, 1) {
			return 1
		}
		return (pop - nPSU) / pop
	}
	fmax := math.Inf(-1)
	for _, c := range st.stratumClusters[h] {
		if pres[c] {
			fmax = math.Max(fmax, f(c))
		}
	}
	if nsub < int(nPSU) {
		f1 := f(first)
		return func(int32) float64 { return f1 }, fmax
	}
	return f, fmax
}

// Describe says in words how the design's PSUs were drawn and which
// variance approximation it declares ("" for a design that declares none
// of PPS, certainty PSUs, second-stage strata or with-replacement PSUs).
func (s DesignSpec) Describe() string { return s.asDrawnDescription() }

// asDrawnDescription says in words what PPS, certainty and stage strata
// the spec declares, for VarianceMethod.
func (s DesignSpec) asDrawnDescription() string {
	var parts []string
	if s.PPS == PPSBrewer {
		parts = append(parts, "PPS without replacement, Brewer's approximation (R: pps = \"brewer\")")
	} else if len(s.PSU) > 0 && len(s.FPC) == 0 {
		parts = append(parts, "PSUs with replacement (Hansen–Hurwitz)")
	}
	if s.Certainty != "" {
		parts = append(parts, "certainty PSUs as strata of their households")
	}
	if len(s.StageStrata) > 0 {
		parts = append(parts, fmt.Sprintf("second-stage strata %v", s.StageStrata))
	}
	if len(parts) == 0 {
		return ""
	}
	out := parts[0]
	for _, p := range parts[1:] {
		out += ", " + p
	}
	return out
}
