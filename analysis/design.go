package analysis

import (
	"fmt"
	"math"
	"sort"
)

// Lonely-PSU rules, as R's options(survey.lonely.psu = ...).
const (
	// LonelyFail makes a stratum with a single PSU an error (R's default).
	LonelyFail = "fail"
	// LonelyRemove lets a single-PSU stratum contribute nothing.
	LonelyRemove = "remove"
	// LonelyCertainty treats a single PSU as sampled with certainty: it
	// contributes nothing at its stage (later stages still count).
	LonelyCertainty = "certainty"
	// LonelyAdjust centres a single PSU at the grand mean (zero for the
	// linearized variables used here) instead of its stratum mean.
	LonelyAdjust = "adjust"
	// LonelyAverage replaces a single-PSU stratum's contribution by the
	// average of the other strata.
	LonelyAverage = "average"
)

// DesignSpec names the design variables of a table, as the arguments of R's
// svydesign(ids=, strata=, weights= or probs=, fpc=, nest=).
type DesignSpec struct {
	// Strata is the stratum column; empty for an unstratified design.
	Strata string `json:"strata,omitempty"`
	// PSU lists the cluster columns by stage (PSU, then SSU, ...); empty
	// makes every row its own PSU.
	PSU []string `json:"psu,omitempty"`
	// Weight is the sampling weight column; Prob the selection probability
	// column (give at most one). With neither, weights come from FPC as
	// population sizes (R: weights(fpc)), else all weights are 1.
	Weight string `json:"weight,omitempty"`
	Prob   string `json:"prob,omitempty"`
	// FPC lists, by stage, columns holding either population sizes (all
	// values ≥ 1: PSUs in the stratum's frame) or sampling fractions (all
	// values ≤ 1), as R's as.fpc. Empty: sampling with replacement.
	FPC []string `json:"fpc,omitempty"`
	// LonelyPSU is one of fail (default), remove, certainty, adjust, average.
	LonelyPSU string `json:"lonely_psu,omitempty"`
	// AdjustDomainLonely is R's options(survey.adjust.domain.lonely = TRUE):
	// a stratum with several PSUs in the sample but only one in the domain
	// is treated by the lonely-PSU rule (adjust: centred at zero; average:
	// left out and the others scaled up) instead of contributing zero.
	AdjustDomainLonely bool `json:"adjust_domain_lonely,omitempty"`
	// Nest makes PSU ids unique within strata (R's nest = TRUE); without
	// it a PSU id found in two strata is an error.
	Nest bool `json:"nest,omitempty"`
	// Calibration lists the calibrations that made the weights, in the
	// order they were applied; with it every variance is the calibrated
	// design's (R's svyrecvar with postStrata), see [CalibrationStep].
	Calibration []CalibrationStep `json:"calibration,omitempty"`
	// Replicates makes a replicate-weight design (R's svrepdesign): its
	// variances come from the replicate weights, not from strata and PSUs
	// (which may be absent).
	Replicates *ReplicateSpec `json:"replicates,omitempty"`
	// StageStrata are the strata of the later stages, one column per stage
	// from the second, each within the previous stage's clusters (R's
	// svydesign(strata = ~s1 + s2)): the screening classes within an EA.
	StageStrata []string `json:"stage_strata,omitempty"`
	// PPS is "brewer" for PSUs drawn with probability proportional to size
	// without replacement, with FPC columns holding the inclusion
	// probabilities by stage (R's svydesign(pps = "brewer", fpc = ~pi1 +
	// pi2)); empty for the designs above. See [PPSBrewer].
	PPS string `json:"pps,omitempty"`
	// Certainty names a column that is non-zero for rows in a
	// self-representing (certainty) PSU: such a PSU is a stratum of its
	// own whose units of the next stage are its PSUs (see [DesignSpec.Certainty]
	// in asdrawn.go).
	Certainty string `json:"certainty,omitempty"`
}

// Design is a survey design bound to a table: weights, strata and clusters
// by stage, population sizes. Build it with [NewDesign].
type Design struct {
	spec   DesignSpec
	n      int
	w      []float64
	stages []stage
	lonely string
	hasFPC bool
	cal    []calStep
	rep    *replicates
}

// stage holds the strata and clusters of one sampling stage. Strata of
// stage s > 1 are the clusters of stage s−1 (R nests them so).
type stage struct {
	stratum         []int32 // row → stratum
	cluster         []int32 // row → cluster
	stratumName     []string
	stratumNPSU     []int32
	stratumPop      []float64 // population size; +Inf without fpc
	clusterPop      []float64 // PPS designs: each cluster's n_h/π (nil otherwise)
	stratumClusters [][]int32
	clusterStratum  []int32
	clusterRows     [][]int32 // rows of each cluster, for the next stage's recursion
}

// NewDesign binds spec to t and checks it: weights present and finite,
// clusters nested in strata, fpc consistent within strata and not smaller
// than the number of sampled PSUs. Errors name the column, row or stratum.
func NewDesign(t *Table, spec DesignSpec) (*Design, error) {
	if spec.Certainty != "" {
		return newCertaintyDesign(t, spec)
	}
	d := &Design{spec: spec, n: t.Len(), lonely: spec.LonelyPSU}
	switch d.lonely {
	case "":
		d.lonely = LonelyFail
	case LonelyFail, LonelyRemove, LonelyCertainty, LonelyAdjust, LonelyAverage:
	default:
		return nil, fmt.Errorf("design: lonely_psu %q is not one of fail, remove, certainty, adjust, average", spec.LonelyPSU)
	}
	if d.n == 0 {
		return nil, fmt.Errorf("design: the data have no rows")
	}
	if spec.Weight != "" && spec.Prob != "" {
		return nil, fmt.Errorf("design: give weight or prob, not both")
	}
	if len(spec.FPC) > 0 && len(spec.FPC) != max(1, len(spec.PSU)) {
		return nil, fmt.Errorf("design: %d fpc columns for %d stages; give one per stage", len(spec.FPC), max(1, len(spec.PSU)))
	}
	// Stage 1 strata.
	n := d.n
	s1 := stage{stratum: bigMake[int32](n, n)}
	if spec.Strata != "" {
		c, err := t.Column(spec.Strata)
		if err != nil {
			return nil, fmt.Errorf("design: strata: %w", err)
		}
		f := asFactor(c)
		for i, code := range f.codes {
			if code < 0 {
				return nil, fmt.Errorf("design: strata column %s is missing in row %d", spec.Strata, i+1)
			}
		}
		s1.stratum = f.codes
		s1.stratumName = f.levels
	} else {
		s1.stratumName = []string{"1"}
	}
	// Cluster ids by stage.
	nst := max(1, len(spec.PSU))
	ids := make([][]int32, nst)
	idNames := make([][]string, nst)
	for s := 0; s < nst; s++ {
		if len(spec.PSU) == 0 {
			ids[s] = bigMake[int32](n, n)
			for i := range ids[s] {
				ids[s][i] = int32(i)
			}
			continue
		}
		c, err := t.Column(spec.PSU[s])
		if err != nil {
			return nil, fmt.Errorf("design: psu: %w", err)
		}
		// Cluster ids are only told apart (the stages number them in
		// first-seen order), so a text column's own codes serve; levels
		// need sorting only for numbers.
		var f factor
		if c.IsText() {
			f = factor{codes: c.Codes, levels: c.Levels}
		} else {
			f = asFactor(c)
		}
		for i, code := range f.codes {
			if code < 0 {
				return nil, fmt.Errorf("design: cluster column %s is missing in row %d", spec.PSU[s], i+1)
			}
		}
		ids[s], idNames[s] = f.codes, f.levels
	}
	if spec.Nest && spec.Strata != "" {
		ids[0] = pairCodes(s1.stratum, ids[0])
	}
	s1.cluster = renumber(ids[0])
	if err := d.finishStage(&s1, 0, ids, idNames); err != nil {
		return nil, err
	}
	d.stages = append(d.stages, s1)
	for s := 1; s < nst; s++ {
		prev := &d.stages[s-1]
		st := stage{stratum: prev.cluster}
		st.stratumName = make([]string, len(prev.clusterStratum))
		for c := range st.stratumName {
			st.stratumName[c] = fmt.Sprintf("%s cluster %d", spec.PSU[s-1], c+1)
		}
		if err := d.stageStrata(t, &st, s); err != nil {
			return nil, err
		}
		st.cluster = pairCodes(st.stratum, ids[s])
		if err := d.finishStage(&st, s, ids, idNames); err != nil {
			return nil, err
		}
		d.stages = append(d.stages, st)
	}
	if err := d.setFPC(t); err != nil {
		return nil, err
	}
	if err := d.setWeights(t); err != nil {
		return nil, err
	}
	if err := d.setCalibration(t); err != nil {
		return nil, err
	}
	if err := d.setReplicates(t); err != nil {
		return nil, err
	}
	if d.hasFPC && nst > 1 {
		for s := 0; s < nst-1; s++ {
			st := &d.stages[s]
			st.clusterRows = make([][]int32, len(st.clusterStratum))
			counts := make([]int32, len(st.clusterStratum))
			for _, c := range st.cluster {
				counts[c]++
			}
			for c := range st.clusterRows {
				st.clusterRows[c] = make([]int32, 0, counts[c])
			}
			for i, c := range st.cluster {
				st.clusterRows[c] = append(st.clusterRows[c], int32(i))
			}
		}
	}
	return d, nil
}

// pairCodes codes the pairs (a[i], b[i]) as 0..k−1 in first-seen order.
func pairCodes(a, b []int32) []int32 {
	idx := map[int64]int32{}
	out := bigMake[int32](len(a), len(a))
	for i := range a {
		if i > 0 && a[i] == a[i-1] && b[i] == b[i-1] { // rows of a cluster are usually together
			out[i] = out[i-1]
			continue
		}
		k := int64(a[i])<<32 | int64(uint32(b[i]))
		c, ok := idx[k]
		if !ok {
			c = int32(len(idx))
			idx[k] = c
		}
		out[i] = c
	}
	return out
}

// renumber maps codes to 0..k−1 in first-seen order.
func renumber(a []int32) []int32 {
	out := bigMake[int32](len(a), len(a))
	// Codes are usually small and dense (a column's codes): a table then
	// does what a map would.
	lo, hi := int32(0), int32(-1)
	for i, v := range a {
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	if len(a) > 0 && lo >= 0 && int64(hi) < 4*int64(len(a))+1024 {
		seen := make([]int32, int(hi)+1)
		next := int32(0)
		for i, v := range a {
			if i > 0 && v == a[i-1] {
				out[i] = out[i-1]
				continue
			}
			if seen[v] == 0 {
				next++
				seen[v] = next
			}
			out[i] = seen[v] - 1
		}
		return out
	}
	m := map[int32]int32{}
	for i, v := range a {
		if i > 0 && v == a[i-1] {
			out[i] = out[i-1]
			continue
		}
		c, ok := m[v]
		if !ok {
			c = int32(len(m))
			m[v] = c
		}
		out[i] = c
	}
	return out
}

// finishStage fills the cluster → stratum map and counts PSUs per stratum.
func (d *Design) finishStage(st *stage, s int, ids [][]int32, idNames [][]string) error {
	nCl := int32(0)
	for _, c := range st.cluster {
		if c+1 > nCl {
			nCl = c + 1
		}
	}
	st.clusterStratum = make([]int32, nCl)
	for i := range st.clusterStratum {
		st.clusterStratum[i] = -1
	}
	for i, c := range st.cluster {
		h := st.stratum[i]
		switch st.clusterStratum[c] {
		case -1:
			st.clusterStratum[c] = h
		case h:
		default:
			name := fmt.Sprintf("in row %d", i+1)
			if len(d.spec.PSU) > s && idNames[s] != nil {
				name = fmt.Sprintf("%s=%s", d.spec.PSU[s], idNames[s][ids[s][i]])
			}
			return fmt.Errorf("design: cluster %s lies in strata %s and %s (row %d); set nest: true if cluster ids restart in each stratum",
				name, st.stratumName[st.clusterStratum[c]], st.stratumName[h], i+1)
		}
	}
	st.stratumNPSU = make([]int32, len(st.stratumName))
	st.stratumClusters = make([][]int32, len(st.stratumName))
	for c, h := range st.clusterStratum {
		st.stratumNPSU[h]++
		st.stratumClusters[h] = append(st.stratumClusters[h], int32(c))
	}
	st.stratumPop = make([]float64, len(st.stratumName))
	for h := range st.stratumPop {
		st.stratumPop[h] = math.Inf(1)
	}
	return nil
}

// setFPC reads the fpc columns and turns them into population sizes per
// stratum, as R's as.fpc.
func (d *Design) setFPC(t *Table) error {
	if len(d.spec.FPC) == 0 {
		return nil
	}
	cols := make([][]float64, len(d.spec.FPC))
	anyBig, allGE1 := false, true
	for s, name := range d.spec.FPC {
		x, err := t.numeric(name)
		if err != nil {
			return fmt.Errorf("design: fpc: %w", err)
		}
		for i, v := range x {
			if math.IsNaN(v) {
				return fmt.Errorf("design: fpc column %s is missing in row %d", name, i+1)
			}
			if v <= 0 {
				return fmt.Errorf("design: fpc column %s is %g in row %d; it must be a population size ≥ 1 or a sampling fraction in (0, 1]", name, v, i+1)
			}
			anyBig = anyBig || v > 1
			allGE1 = allGE1 && v >= 1
		}
		cols[s] = x
	}
	if d.spec.PPS != "" {
		return d.setPPS(cols, anyBig)
	}
	if anyBig != allGE1 {
		return fmt.Errorf("design: fpc columns %v mix population sizes (> 1) and sampling fractions (< 1); all values must be ≥ 1 or all ≤ 1", d.spec.FPC)
	}
	for s, x := range cols {
		st := &d.stages[s]
		set := make([]bool, len(st.stratumPop))
		for i, v := range x {
			h := st.stratum[i]
			pop := v
			if !anyBig {
				pop = float64(st.stratumNPSU[h]) / v
			}
			if !set[h] {
				st.stratumPop[h], set[h] = pop, true
			} else if st.stratumPop[h] != pop {
				return fmt.Errorf("design: fpc column %s varies within stratum %s (%g and %g, row %d)", d.spec.FPC[s], st.stratumName[h], st.stratumPop[h], pop, i+1)
			}
		}
		for h, pop := range st.stratumPop {
			if pop < float64(st.stratumNPSU[h]) {
				return fmt.Errorf("design: fpc column %s implies more than 100%% sampling in stratum %s: population %g, %d sampled", d.spec.FPC[s], st.stratumName[h], pop, st.stratumNPSU[h])
			}
		}
	}
	d.hasFPC = true
	return nil
}

// setWeights reads weights (or probabilities); without either it uses
// the product over stages of population size / sample size (R:
// weights(fpc)), or 1.
func (d *Design) setWeights(t *Table) error {
	d.w = bigMake[float64](d.n, d.n)
	switch {
	case d.spec.Weight != "" || d.spec.Prob != "":
		name := d.spec.Weight
		if name == "" {
			name = d.spec.Prob
		}
		x, err := t.numeric(name)
		if err != nil {
			return fmt.Errorf("design: weight: %w", err)
		}
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return fmt.Errorf("design: column %s has invalid value %g in row %d", name, v, i+1)
			}
			if d.spec.Prob != "" {
				if v == 0 {
					return fmt.Errorf("design: column %s has probability 0 in row %d", name, i+1)
				}
				d.w[i] = 1 / v
			} else {
				d.w[i] = v
			}
		}
	case d.hasFPC:
		for i := range d.w {
			w := 1.0
			for _, st := range d.stages {
				w *= st.pop(i) / float64(st.stratumNPSU[st.stratum[i]])
			}
			d.w[i] = w
		}
	default:
		for i := range d.w {
			d.w[i] = 1
		}
	}
	return nil
}

// Len is the number of rows.
func (d *Design) Len() int { return d.n }

// Weights returns the sampling weights (do not modify).
func (d *Design) Weights() []float64 { return d.w }

// PSUs is the number of first-stage clusters.
func (d *Design) PSUs() int { return len(d.stages[0].clusterStratum) }

// Strata is the number of first-stage strata.
func (d *Design) Strata() int { return len(d.stages[0].stratumName) }

// DF is the design's degrees of freedom, PSUs − strata, counted over the
// rows in the domain in with non-zero weight (nil: all rows), as R's
// degf(subset(design, ...)).
func (d *Design) DF(in []bool) int {
	if d.rep != nil {
		return d.repDF(in)
	}
	st := &d.stages[0]
	if in == nil {
		all := true
		for _, w := range d.w {
			if w == 0 {
				all = false
				break
			}
		}
		if all {
			return len(st.clusterStratum) - len(st.stratumName)
		}
	}
	seenC := make([]bool, len(st.clusterStratum))
	seenH := make([]bool, len(st.stratumName))
	nc, nh := 0, 0
	for i, c := range st.cluster {
		if (in != nil && !in[i]) || d.w[i] == 0 {
			continue
		}
		if !seenC[c] {
			seenC[c] = true
			nc++
		}
		if h := st.stratum[i]; !seenH[h] {
			seenH[h] = true
			nh++
		}
	}
	return nc - nh
}

// vcov returns the p×p (row-major) design covariance of the totals of the
// linearized variables z (p columns of length n), Taylor linearization with
// the ultimate-cluster estimator and R's multistage recursion (svyrecvar).
// Rows outside the domain in (nil: all rows) must have z = 0; in decides
// which strata and clusters are present, as R's subset designs do.
func (d *Design) vcov(z [][]float64, in []bool) ([]float64, error) {
	if d.calibrated() {
		// R keeps every row of a calibrated design's subset (prob = Inf
		// outside the domain), so every cluster is present, and the
		// linearized variables are replaced by their calibration residuals.
		z, in = d.calResiduals(z), nil
	}
	p := len(z)
	w := &varWork{p: p, z: z, in: in}
	w.tot = make([][]float64, len(d.stages))
	w.present = make([][]bool, len(d.stages))
	w.hPresent = make([][]bool, len(d.stages))
	w.first = make([][]int32, len(d.stages))
	for s, st := range d.stages {
		w.first[s] = make([]int32, len(st.stratumName))
		w.tot[s] = make([]float64, len(st.clusterStratum)*p)
		w.present[s] = make([]bool, len(st.clusterStratum))
		w.hPresent[s] = make([]bool, len(st.stratumName))
	}
	out := make([]float64, p*p)
	if err := d.multistage(w, 0, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

type varWork struct {
	// first is, by stage and stratum, the stratum's first cluster present
	// (in row order) in the domain: R's PPS variance in a domain uses its
	// factor for every PSU of the stratum (see strataVariance).
	first    [][]int32
	p        int
	z        [][]float64
	in       []bool
	tot      [][]float64
	present  [][]bool
	hPresent [][]bool
}

// multistage adds to out the variance contribution of stage s and, when
// every stage has a population size, of the later stages within each
// present cluster scaled by the stage's sampling fraction (R: multistage).
func (d *Design) multistage(w *varWork, s int, rows []int32, out []float64) error {
	present, err := d.onestage(w, s, rows, out)
	if err != nil {
		return err
	}
	if !d.hasFPC || s+1 >= len(d.stages) {
		return nil
	}
	st := &d.stages[s]
	sub := make([]float64, len(out))
	for _, c := range present {
		for i := range sub {
			sub[i] = 0
		}
		if err := d.multistage(w, s+1, st.clusterRows[c], sub); err != nil {
			return err
		}
		h := st.clusterStratum[c]
		frac := float64(st.stratumNPSU[h]) / st.clusterPopulation(c)
		for i := range out {
			out[i] += sub[i] * frac
		}
	}
	return nil
}

// onestage adds the between-cluster variance of stage s over rows (nil: all
// rows) to out and returns the present clusters (R: onestage, onestrat).
func (d *Design) onestage(w *varWork, s int, rows []int32, out []float64) ([]int32, error) {
	st := &d.stages[s]
	p, in := w.p, w.in
	tot, pres, hpres := w.tot[s], w.present[s], w.hPresent[s]
	var clusters, strata []int32
	visit := func(r int) {
		if in != nil && !in[r] {
			return
		}
		c := st.cluster[r]
		if !pres[c] {
			pres[c] = true
			clusters = append(clusters, c)
			if h := st.stratum[r]; !hpres[h] {
				hpres[h] = true
				strata = append(strata, h)
				if st.clusterPop != nil {
					w.first[s][h] = c
				}
			}
		}
		base := int(c) * p
		for k := 0; k < p; k++ {
			tot[base+k] += w.z[k][r]
		}
	}
	if rows == nil {
		if p == 1 && in == nil {
			// Fast path: one variable, no domain.
			z := w.z[0]
			for r, c := range st.cluster {
				tot[c] += z[r]
			}
			for c := range pres {
				pres[c] = true
				clusters = append(clusters, int32(c))
			}
			for h := range hpres {
				hpres[h] = true
				strata = append(strata, int32(h))
			}
		} else {
			for r := 0; r < d.n; r++ {
				visit(r)
			}
		}
	} else {
		for _, r := range rows {
			visit(int(r))
		}
	}
	defer func() {
		for _, c := range clusters {
			pres[c] = false
			for k := 0; k < p; k++ {
				tot[int(c)*p+k] = 0
			}
		}
		for _, h := range strata {
			hpres[h] = false
		}
	}()
	return clusters, d.strataVariance(w, s, strata, out)
}

// strataVariance adds Σ_h scale_h·Σ_i (t_hi − t̄_h)(t_hi − t̄_h)' over the
// present strata of stage s to out, from the cluster totals in w, applying
// the lonely-PSU rule (R: onestrat).
func (d *Design) strataVariance(w *varWork, s int, strata []int32, out []float64) error {
	st := &d.stages[s]
	p := w.p
	tot, pres := w.tot[s], w.present[s]
	sort.Slice(strata, func(a, b int) bool { return strata[a] < strata[b] })
	acc := make([]float64, p*p)
	mean := make([]float64, p)
	dev := make([]float64, p)
	nok := 0
	for _, h := range strata {
		nPSU := int(st.stratumNPSU[h])
		f := 1.0
		if pop := st.stratumPop[h]; !math.IsInf(pop, 1) {
			f = (pop - float64(nPSU)) / pop
		}
		nsub := 0
		for _, c := range st.stratumClusters[h] {
			if pres[c] {
				nsub++
			}
		}
		var fc func(c int32) float64 // per-PSU fpc factor of a PPS design
		if st.clusterPop != nil {
			fc, f = st.ppsFactors(h, nsub, pres, w.first[s][h])
		}
		if f < 1e-7 {
			nok++
			continue
		}
		scale := f
		if nPSU > 1 {
			scale = f * float64(nPSU) / float64(nPSU-1)
		}
		if nPSU == 1 {
			switch d.lonely {
			case LonelyFail:
				return fmt.Errorf("stratum %s has only one PSU at stage %d; choose a lonely_psu rule (remove, certainty, adjust, average)", st.stratumName[h], s+1)
			case LonelyAverage:
				continue
			case LonelyRemove, LonelyCertainty:
				// Centred at its own mean: contributes zero.
				nok++
				continue
			}
		}
		adjDom := d.spec.AdjustDomainLonely
		if nsub == 1 && nPSU > 1 && adjDom && d.lonely == LonelyAverage {
			continue // R: scale NA, the stratum is left out of the average
		}
		center := !(d.lonely == LonelyAdjust && nsub <= 1 && (nPSU <= 1 || adjDom))
		for k := range mean {
			mean[k] = 0
		}
		if center {
			for _, c := range st.stratumClusters[h] {
				for k := 0; k < p; k++ {
					mean[k] += tot[int(c)*p+k]
				}
			}
			for k := range mean {
				mean[k] /= float64(nPSU)
			}
		}
		for _, c := range st.stratumClusters[h] {
			for k := 0; k < p; k++ {
				dev[k] = tot[int(c)*p+k] - mean[k]
			}
			sc := scale
			if fc != nil {
				sc = scale / f * fc(c)
			}
			for a := 0; a < p; a++ {
				da := dev[a] * sc
				for b := 0; b < p; b++ {
					acc[a*p+b] += da * dev[b]
				}
			}
		}
		nok++
	}
	if len(strata) > 0 {
		ratio := float64(len(strata)) / float64(nok)
		for i := range out {
			out[i] += acc[i] * ratio
		}
	}
	return nil
}

// linearVar is the one-pass form of vcov for the score z_i = w_i·a·(y_i − b)
// over domain rows (skipping rows where y is NaN): it returns the variance
// and Σw(y − b)² without building z. It handles one-stage variance; callers
// use vcov when the multistage recursion applies.
func (d *Design) linearVar(y []float64, in []bool, a, b float64) (float64, float64, error) {
	st := &d.stages[0]
	w := &varWork{p: 1, in: in, first: [][]int32{make([]int32, len(st.stratumName))}}
	w.tot = [][]float64{make([]float64, len(st.clusterStratum))}
	w.present = [][]bool{make([]bool, len(st.clusterStratum))}
	hpres := make([]bool, len(st.stratumName))
	tot, pres := w.tot[0], w.present[0]
	var strata []int32
	var ss float64
	for r, c := range st.cluster {
		if in != nil && !in[r] {
			continue
		}
		v := y[r]
		if v != v {
			continue
		}
		dv := v - b
		wt := d.w[r]
		tot[c] += wt * a * dv
		ss += wt * dv * dv
		if !pres[c] {
			pres[c] = true
			if h := st.stratum[r]; !hpres[h] {
				hpres[h] = true
				strata = append(strata, h)
				w.first[0][h] = c
			}
		}
	}
	out := []float64{0}
	if err := d.strataVariance(w, 0, strata, out); err != nil {
		return 0, 0, err
	}
	return out[0], ss, nil
}

// oneStage reports whether the variance is the first stage's alone.
func (d *Design) oneStage() bool { return !d.hasFPC || len(d.stages) == 1 }
