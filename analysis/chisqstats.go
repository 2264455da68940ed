package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// TableTest is a design-based test of independence in a two-way table
// with the statistic R's svychisq names: "F" (Rao–Scott second-order F,
// the default), "Chisq" (Pearson's X² referred to χ² after the first-order
// correction: p = P(χ²_df > X²/δ̄), δ̄ the mean eigenvalue of the design
// effect matrix Δ, df = (r − 1)(c − 1)), "Wald" and "adjWald" (design-based
// Wald tests of the interaction of the cell totals, as F on (r − 1)(c − 1)
// and ν degrees of freedom, adjWald scaled by (ν − df + 1)/ν).
type TableTest struct {
	Statistic string
	// F, NDF, DDF: the F statistic and its degrees of freedom (F, Wald,
	// adjWald).
	F, NDF, DDF float64
	// Chisq and DF: Pearson's X² and its degrees of freedom (Chisq).
	Chisq, DF float64
	P         float64
}

// TableTest tests independence of a and b over the domain in with the
// named statistic (see [TableTest]).
func (d *Design) TableTest(ta, tb *Column, in []bool, statistic string) (TableTest, error) {
	switch statistic {
	case "", "F", "Chisq":
		cs, err := d.ChiSqTest(ta, tb, in)
		if err != nil {
			return TableTest{}, err
		}
		if statistic == "Chisq" {
			df := float64(cs.cells)
			p := distuv.ChiSquared{K: df}.Survival(cs.Pearson / (cs.traceDelta / df))
			return TableTest{Statistic: "Chisq", Chisq: cs.Pearson, DF: df, P: p, F: math.NaN(), NDF: math.NaN(), DDF: math.NaN()}, nil
		}
		return TableTest{Statistic: "F", F: cs.F, NDF: cs.NDF, DDF: cs.DDF, P: cs.P, Chisq: math.NaN(), DF: math.NaN()}, nil
	case "Wald", "adjWald":
		return d.waldTable(ta, tb, in, statistic)
	}
	return TableTest{}, fmt.Errorf("chisq: statistic %q is not one of F, Chisq, Wald, adjWald", statistic)
}

// waldTable is svychisq's Wald and adjWald: with cell totals N̂_rc, row
// and column totals N̂_r·, N̂_·c and N̂, Y_rc = N̂_rc − N̂_r·N̂_·c/N̂ for the
// cells r, c > 1, V = J·Cov(totals)·J' with J the Jacobian of Y, and
// W = Y'V⁻¹Y: F = W/df on df = (r − 1)(c − 1) and ν degrees of freedom
// (Wald), or F = W·(ν − df + 1)/(df·ν) on df and ν − df + 1 (adjWald).
// Rows missing a or b are left out (R's na.rm = TRUE).
func (d *Design) waldTable(ta, tb *Column, in []bool, statistic string) (TableTest, error) {
	if d.replicated() {
		return TableTest{}, repUnsupported("the chi-square test")
	}
	fa, fb := asFactor(ta), asFactor(tb)
	m := make([]bool, d.n)
	for i := range m {
		m[i] = (in == nil || in[i]) && fa.codes[i] >= 0 && fb.codes[i] >= 0
	}
	ra, nr := compactCodes(fa.codes, m)
	cb, nc := compactCodes(fb.codes, m)
	if nr < 2 || nc < 2 {
		return TableTest{}, fmt.Errorf("chisq %s × %s: each variable needs at least two levels (have %d and %d)", ta.Name, tb.Name, nr, nc)
	}
	k := nr * nc
	// Totals of: the cells (rows fastest), the rows, the columns, one.
	p := k + nr + nc + 1
	z := make([][]float64, p)
	for j := range z {
		z[j] = make([]float64, d.n)
	}
	tot := make([]float64, p)
	for i, w := range d.w {
		if !m[i] {
			continue
		}
		r, c := int(ra[i]), int(cb[i])
		for _, j := range []int{r + nr*c, k + r, k + nr + c, p - 1} {
			z[j][i] = w
			tot[j] += w
		}
	}
	vv, err := d.vcov(z, m)
	if err != nil {
		return TableTest{}, err
	}
	V := mat.NewSymDense(p, vv)
	n := tot[p-1]
	rowT, colT := tot[k:k+nr], tot[k+nr:k+nr+nc]
	// Y and its Jacobian for the cells with r, c > 0 (R: use).
	var use []int
	for c := 1; c < nc; c++ {
		for r := 1; r < nr; r++ {
			use = append(use, r+nr*c)
		}
	}
	q := len(use)
	J := mat.NewDense(q, p, nil)
	Y := mat.NewVecDense(q, nil)
	for a, cell := range use {
		r, c := cell%nr, cell/nr
		Y.SetVec(a, tot[cell]-rowT[r]*colT[c]/n)
		J.Set(a, cell, 1)
		J.Set(a, k+r, -colT[c]/n)
		J.Set(a, k+nr+c, -rowT[r]/n)
		J.Set(a, p-1, rowT[r]*colT[c]/(n*n))
	}
	var JV, VY mat.Dense
	JV.Mul(J, V)
	VY.Mul(&JV, J.T())
	var sol mat.VecDense
	if err := sol.SolveVec(&VY, Y); err != nil {
		return TableTest{}, fmt.Errorf("chisq %s × %s: the Wald statistic's covariance is singular (%v)", ta.Name, tb.Name, err)
	}
	w := mat.Dot(Y, &sol)
	nu := float64(d.stagesDF(in))
	df := float64(q)
	out := TableTest{Statistic: statistic, NDF: df, Chisq: math.NaN(), DF: math.NaN()}
	if statistic == "Wald" {
		out.F, out.DDF = w/df, nu
	} else {
		out.DDF = nu - df + 1
		out.F = w * out.DDF / (df * nu)
	}
	out.P = fSurvival(out.F, out.NDF, out.DDF)
	return out, nil
}

// fSurvival is P(F_{d1,d2} > f) as the regularized incomplete beta
// I_{d2/(d2 + d1·f)}(d2/2, d1/2), as R's pf(lower.tail = FALSE) computes
// it; 1 − CDF loses the digits of small p values.
func fSurvival(f, d1, d2 float64) float64 {
	if math.IsNaN(f) || f < 0 {
		return math.NaN()
	}
	return mathext.RegIncBeta(d2/2, d1/2, d2/(d2+d1*f))
}
