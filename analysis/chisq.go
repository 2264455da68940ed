package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// ChiSq is the Rao–Scott second-order corrected test of independence in a
// two-way table (R: svychisq(~a + b, design), statistic "F").
type ChiSq struct {
	F, NDF, DDF, P float64
	// Pearson is the Pearson X² of the weighted table scaled to n rows.
	Pearson float64
	// traceDelta and cells (the interaction's degrees of freedom) give the
	// first-order correction of statistic "Chisq" (chisqstats.go).
	traceDelta float64
	cells      int
}

// ChiSqTest tests independence of a and b over the domain in, as R's
// svychisq default: with cell proportions p̂ (covariance V), C the
// interaction contrasts orthogonal to the main effects, D = diag(p̂) and
// Δ = (C'D⁻¹C/N)⁻¹ C'D⁻¹VD⁻¹C, F = X²/tr Δ on d₀ = (tr Δ)²/tr Δ² and
// d₀·ν degrees of freedom, ν = PSUs − strata. Rows missing a or b are left
// out (R's na.rm = TRUE).
func (d *Design) ChiSqTest(ta, tb *Column, in []bool) (ChiSq, error) {
	if d.replicated() {
		return ChiSq{}, repUnsupported("the chi-square test")
	}
	fa, fb := asFactor(ta), asFactor(tb)
	m := make([]bool, d.n)
	N := 0
	for i := range m {
		m[i] = (in == nil || in[i]) && fa.codes[i] >= 0 && fb.codes[i] >= 0
		if m[i] {
			N++
		}
	}
	// Levels present among the used rows.
	ra, nr := compactCodes(fa.codes, m)
	cb, nc := compactCodes(fb.codes, m)
	if nr < 2 || nc < 2 {
		return ChiSq{}, fmt.Errorf("chisq %s × %s: each variable needs at least two levels (have %d and %d)", ta.Name, tb.Name, nr, nc)
	}
	cells := make([]int32, d.n)
	for i := range cells {
		cells[i] = -1
		if m[i] {
			cells[i] = ra[i] + int32(nr)*cb[i]
		}
	}
	k := nr * nc
	sw, _, _ := d.sums(nil, m)
	if sw == 0 {
		return ChiSq{}, fmt.Errorf("chisq %s × %s: total weight is zero", ta.Name, tb.Name)
	}
	p := make([]float64, k)
	for i, w := range d.w {
		if m[i] {
			p[cells[i]] += w
		}
	}
	for j := range p {
		p[j] /= sw
	}
	// Joint covariance of the cell proportions.
	z := make([][]float64, k)
	for j := range z {
		z[j] = make([]float64, d.n)
	}
	for i, w := range d.w {
		if !m[i] {
			continue
		}
		for j := 0; j < k; j++ {
			ind := 0.0
			if cells[i] == int32(j) {
				ind = 1
			}
			z[j][i] = w * (ind - p[j]) / sw
		}
	}
	vv, err := d.vcov(z, m)
	if err != nil {
		return ChiSq{}, err
	}
	V := mat.NewDense(k, k, vv)
	// Pearson X² of the table scaled to N.
	// R scales the table to the rows of the design, N = nrow(model
	// matrix), counting rows missing a or b, and every row of a calibrated
	// design's subset; F does not depend on N, Pearson's X² does.
	for i := range m {
		if !m[i] && (in == nil || in[i] || d.calibrated()) {
			N++
		}
	}
	fN := float64(N)
	rowS := make([]float64, nr)
	colS := make([]float64, nc)
	for r := 0; r < nr; r++ {
		for c := 0; c < nc; c++ {
			o := p[r+nr*c] * fN
			rowS[r] += o
			colS[c] += o
		}
	}
	var x2 float64
	for r := 0; r < nr; r++ {
		for c := 0; c < nc; c++ {
			o := p[r+nr*c] * fN
			e := rowS[r] * colS[c] / fN
			x2 += (o - e) * (o - e) / e
		}
	}
	// Main-effects and interaction design over the cells (rows fastest).
	p1 := 1 + (nr - 1) + (nc - 1)
	pint := (nr - 1) * (nc - 1)
	X1 := mat.NewDense(k, p1, nil)
	Xi := mat.NewDense(k, pint, nil)
	for c := 0; c < nc; c++ {
		for r := 0; r < nr; r++ {
			row := r + nr*c
			X1.Set(row, 0, 1)
			if r > 0 {
				X1.Set(row, r, 1)
			}
			if c > 0 {
				X1.Set(row, nr-1+c, 1)
			}
			if r > 0 && c > 0 {
				Xi.Set(row, (r-1)+(nr-1)*(c-1), 1)
			}
		}
	}
	var beta mat.Dense
	if err := beta.Solve(X1, Xi); err != nil {
		return ChiSq{}, fmt.Errorf("chisq %s × %s: %v", ta.Name, tb.Name, err)
	}
	var fit, C mat.Dense
	fit.Mul(X1, &beta)
	C.Sub(Xi, &fit)
	Dinv := mat.NewDiagDense(k, nil)
	for j := range p {
		if p[j] != 0 {
			Dinv.SetDiag(j, 1/p[j])
		}
	}
	var DC, denom, VDC, numr, delta mat.Dense
	DC.Mul(Dinv, &C)
	denom.Mul(C.T(), &DC)
	denom.Scale(1/fN, &denom)
	VDC.Mul(V, &DC)
	numr.Mul(DC.T(), &VDC)
	if err := delta.Solve(&denom, &numr); err != nil {
		return ChiSq{}, fmt.Errorf("chisq %s × %s: %v", ta.Name, tb.Name, err)
	}
	var d2 mat.Dense
	d2.Mul(&delta, &delta)
	tr, tr2 := mat.Trace(&delta), mat.Trace(&d2)
	d0 := tr * tr / tr2
	nu := float64(d.stagesDF(in))
	out := ChiSq{Pearson: x2, F: x2 / tr, NDF: d0, DDF: d0 * nu, traceDelta: tr, cells: pint}
	out.P = fSurvival(out.F, out.NDF, out.DDF)
	if math.IsNaN(out.F) {
		return out, fmt.Errorf("chisq %s × %s: the test statistic is not defined (empty margins?)", ta.Name, tb.Name)
	}
	return out, nil
}

// stagesDF is R's ν in svychisq: distinct PSUs − distinct strata among the
// design's rows (the domain's rows for a subset design, all rows for a
// calibrated one, whose subsets keep every row).
func (d *Design) stagesDF(in []bool) int {
	if in == nil || d.calibrated() {
		// R keeps every row of a calibrated design's subset.
		st := &d.stages[0]
		return len(st.clusterStratum) - len(st.stratumName)
	}
	return d.DF(in)
}

// compactCodes renumbers the codes present among used rows as 0..k−1 in
// level order.
func compactCodes(codes []int32, used []bool) ([]int32, int) {
	maxc := int32(-1)
	for _, c := range codes {
		maxc = max(maxc, c)
	}
	seen := make([]bool, maxc+1)
	for i, c := range codes {
		if used[i] && c >= 0 {
			seen[c] = true
		}
	}
	remap := make([]int32, maxc+1)
	k := int32(0)
	for c, s := range seen {
		if s {
			remap[c] = k
			k++
		}
	}
	out := make([]int32, len(codes))
	for i, c := range codes {
		out[i] = -1
		if used[i] && c >= 0 {
			out[i] = remap[c]
		}
	}
	return out, int(k)
}
