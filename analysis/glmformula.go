package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// variable is one formula variable evaluated on the table: numbers, or a
// factor.
type variable struct {
	num []float64
	fac *factor
}

func (v variable) present(i int) bool {
	if v.fac != nil {
		return v.fac.codes[i] >= 0
	}
	return !math.IsNaN(v.num[i])
}

// evalVariable evaluates a formula variable: a column (text columns are
// factors), factor(column), or an expression of numeric columns (a
// comparison is a factor with levels FALSE and TRUE, as R codes a
// logical).
func evalVariable(t *Table, v string) (variable, error) {
	if validName(v) || strings.HasPrefix(v, "factor(") {
		c, err := t.Column(factorArg(v))
		if err != nil {
			return variable{}, err
		}
		if c.IsText() || strings.HasPrefix(v, "factor(") {
			f := asFactor(c)
			return variable{fac: &f}, nil
		}
		return variable{num: c.Num}, nil
	}
	e, err := parseExpr(v)
	if err != nil {
		return variable{}, err
	}
	cols := map[string][]float64{}
	for _, name := range e.columns() {
		x, err := t.numeric(name)
		if err != nil {
			return variable{}, fmt.Errorf("%s: %w", v, err)
		}
		cols[name] = x
	}
	x := make([]float64, t.Len())
	for i := range x {
		x[i] = e.eval(cols, i)
		if math.IsInf(x[i], 0) {
			return variable{}, fmt.Errorf("%s is infinite in row %d", v, i+1)
		}
	}
	if !e.logical() {
		return variable{num: x}, nil
	}
	f := factor{name: v, codes: make([]int32, len(x))}
	for i, b := range x {
		switch {
		case math.IsNaN(b):
			f.codes[i] = -1
		case b == 1:
			f.codes[i] = 1
		}
	}
	f.levels = []string{"FALSE", "TRUE"}
	return variable{fac: &f}, nil
}

// fitFormula fits formula to the rows of the domain in (nil: all) as R's
// svyglm(formula, subset(design, in), family): rows with a missing model
// variable are dropped, weights are rescaled to mean 1, the coefficients
// come from R's glm.fit IRLS (same start, same convergence test), and the
// covariance is the sandwich svyrecvar(estfun · A⁻¹) with A⁻¹ = (X'WX)⁻¹ of
// the last iteration. The model matrix is R's model.matrix: a factor in a
// term is coded by treatment contrasts (its first level left out) when the
// term without it is in the model (the intercept for a main effect), by
// indicators of every level otherwise; an interaction's columns are the
// products of its variables' columns, the first variable varying fastest.
// p values use t on design df + 1 − p.
func (d *Design) fitFormula(t *Table, formula string, family Family, in []bool) (*Regression, error) {
	f, err := ParseFormula(formula)
	if err != nil {
		return nil, err
	}
	yc, err := t.Column(f.Response)
	if err != nil {
		return nil, fmt.Errorf("formula %q: %w", formula, err)
	}
	vals := map[string]variable{}
	for _, v := range f.vars {
		if vals[v], err = evalVariable(t, v); err != nil {
			return nil, fmt.Errorf("formula %q: %w", formula, err)
		}
	}
	// Model frame: domain rows with every variable present.
	used := make([]bool, d.n)
	nused := 0
	for i := range used {
		if in != nil && !in[i] {
			continue
		}
		ok := yc.IsText() && yc.Codes[i] >= 0 || !yc.IsText() && !math.IsNaN(yc.Num[i])
		for _, v := range vals {
			ok = ok && v.present(i)
		}
		used[i] = ok
		if ok {
			nused++
		}
	}
	wmean := d.glmWeightMean(in)
	if nused == 0 || wmean == 0 {
		return nil, fmt.Errorf("formula %q: no rows with positive weight", formula)
	}
	// Response.
	y := make([]float64, d.n)
	if yc.IsText() {
		lv := levelsUsed(yc, used)
		if len(lv) != 2 || family != Quasibinomial {
			return nil, fmt.Errorf("formula %q: response %s is text; it must be numeric (or have two levels for logit)", formula, f.Response)
		}
		for i := range y {
			if used[i] && yc.Levels[yc.Codes[i]] != lv[0] {
				y[i] = 1
			}
		}
	} else {
		copy(y, yc.Num)
	}
	for i, v := range y {
		if !used[i] {
			continue
		}
		switch {
		case family == Quasibinomial && (v < 0 || v > 1):
			return nil, fmt.Errorf("formula %q: response %s is %g in row %d; logit needs values in [0, 1]", formula, f.Response, v, i+1)
		case (family == Poisson || family == Quasipoisson) && v < 0:
			return nil, fmt.Errorf("formula %q: response %s is %g in row %d; a %s model needs counts ≥ 0", formula, f.Response, v, i+1, family)
		}
	}
	names, xcols, assign := f.modelMatrix(vals, used)
	reg, err := d.glmFit(names, xcols, y, used, wmean, family)
	if err != nil {
		return nil, fmt.Errorf("formula %q: %w", formula, err)
	}
	reg.assign, reg.terms = assign, f.Terms
	return reg, nil
}

// modelMatrix builds R's model.matrix columns over the used rows (nil
// column: the intercept) with their names and the term of each (0: the
// intercept, k: Terms[k−1]).
func (f Formula) modelMatrix(vals map[string]variable, used []bool) ([]string, [][]float64, []int) {
	var names []string
	var cols [][]float64
	var assign []int
	if f.intercept {
		names, cols, assign = append(names, "(Intercept)"), append(cols, nil), append(assign, 0)
	}
	inModel := map[string]bool{}
	for _, term := range f.terms {
		inModel[strings.Join(term, ":")] = true
	}
	n := len(used)
	for k, term := range f.terms {
		tn := []string{""}
		tc := [][]float64{nil}
		for vi, v := range term {
			val := vals[v]
			var vn []string
			var vc [][]float64
			if val.fac == nil {
				vn, vc = []string{v}, [][]float64{val.num}
			} else {
				rest := slices.Delete(slices.Clone(term), vi, vi+1)
				contrasts := len(rest) == 0 && f.intercept || len(rest) > 0 && inModel[strings.Join(rest, ":")]
				present := make([]bool, len(val.fac.levels))
				for i, c := range val.fac.codes {
					if used[i] && c >= 0 {
						present[c] = true
					}
				}
				first := true
				for l, ok := range present {
					if !ok {
						continue
					}
					if first && contrasts {
						first = false
						continue
					}
					first = false
					x := make([]float64, n)
					for i, c := range val.fac.codes {
						if used[i] && c == int32(l) {
							x[i] = 1
						}
					}
					vn, vc = append(vn, v+val.fac.levels[l]), append(vc, x)
				}
			}
			// Later variables vary slowest.
			var nn []string
			var nc [][]float64
			for j := range vn {
				for i := range tn {
					name := vn[j]
					if tn[i] != "" {
						name = tn[i] + ":" + vn[j]
					}
					nn = append(nn, name)
					if tc[i] == nil {
						nc = append(nc, vc[j])
						continue
					}
					x := make([]float64, n)
					for r := range x {
						if used[r] {
							x[r] = tc[i][r] * vc[j][r]
						}
					}
					nc = append(nc, x)
				}
			}
			tn, tc = nn, nc
		}
		for j := range tn {
			names, cols, assign = append(names, tn[j]), append(cols, tc[j]), append(assign, k+1)
		}
	}
	return names, cols, assign
}

// logLink is the log link of R's poisson family (family.c): linkinv and
// mu.eta are max(exp(η), ε).
func logLink() link {
	const eps = 2.220446049250313e-16
	return link{
		linkfun:  math.Log,
		linkinv:  func(e float64) float64 { return math.Max(math.Exp(e), eps) },
		muEta:    func(e float64) float64 { return math.Max(math.Exp(e), eps) },
		variance: func(m float64) float64 { return m },
		deviance: func(y, mu, wt []float64) float64 {
			var s float64
			for k := range y {
				r := mu[k]
				if y[k] > 0 {
					r = y[k]*math.Log(y[k]/mu[k]) - (y[k] - mu[k])
				}
				s += 2 * wt[k] * r
			}
			return s
		},
	}
}

// Meff returns each coefficient's misspecification effect: its
// design-based variance over the model-based one, dispersion·(X'WX)⁻¹
// (R: deff of svyglm(…, deff = TRUE); Stata: estat effects, meff).
func (r *Regression) Meff() []float64 {
	p := len(r.Coefficients)
	out := make([]float64, p)
	for j := range out {
		out[j] = r.Vcov[j*p+j] / (r.dispersion * r.naive[j*p+j])
	}
	return out
}

// TermTest is a Wald test that regression terms are zero (R:
// regTermTest(model, ~terms)): with β the terms' coefficients and V their
// covariance, X² = β'V⁻¹β; F = X²/df on df and the model's residual
// degrees of freedom, or with statistic Chisq X² on df (R: df = Inf).
type TermTest struct {
	Terms     string
	Statistic string
	F, Chisq  float64
	DF, DDF   float64
	P         float64
}

// TermTest tests the named terms ("a + a:b"; the variables of an
// interaction in any order) of r.
func (r *Regression) TermTest(terms, statistic string) (TermTest, error) {
	canon := func(s string) string {
		parts := strings.Split(s, ":")
		for i := range parts {
			parts[i] = normalizeVar(strings.TrimSpace(parts[i]))
		}
		slices.Sort(parts)
		return strings.Join(parts, ":")
	}
	want := map[int]bool{}
	pieces, err := splitTop(terms, '+')
	if err != nil {
		return TermTest{}, err
	}
	for _, piece := range pieces {
		c := canon(piece)
		found := false
		for k, label := range r.terms {
			if canon(label) == c {
				want[k+1], found = true, true
			}
		}
		if !found {
			return TermTest{}, fmt.Errorf("test of %q: the model has no term %s (its terms: %s)", terms, strings.TrimSpace(piece), strings.Join(r.terms, ", "))
		}
	}
	var idx []int
	for j, a := range r.assign {
		if want[a] {
			idx = append(idx, j)
		}
	}
	q, p := len(idx), len(r.Coefficients)
	V := mat.NewSymDense(q, nil)
	beta := mat.NewVecDense(q, nil)
	for a, i := range idx {
		beta.SetVec(a, r.Coefficients[i].Estimate)
		for b, j := range idx {
			V.SetSym(a, b, r.Vcov[i*p+j])
		}
	}
	var sol mat.VecDense
	if err := sol.SolveVec(V, beta); err != nil {
		return TermTest{}, fmt.Errorf("test of %q: the coefficients' covariance is singular (%v)", terms, err)
	}
	x2 := mat.Dot(beta, &sol)
	out := TermTest{Terms: terms, Statistic: statistic, Chisq: x2, DF: float64(q), F: math.NaN(), DDF: math.NaN()}
	if statistic == "Chisq" {
		out.P = distuv.ChiSquared{K: float64(q)}.Survival(x2)
		return out, nil
	}
	out.Statistic = "F"
	out.F, out.DDF = x2/float64(q), float64(r.DF)
	out.P = fSurvival(out.F, out.DF, out.DDF)
	return out, nil
}

// Contrast is a linear combination of estimates with its standard error
// (R: svycontrast).
type Contrast struct {
	Name     string
	Estimate float64
	SE       float64
	CI       [2]float64
}

// contrast computes Σ c_k θ_k and √(c'Vc) for the estimates named items
// with covariance v (row-major), the interval on df.
func contrast(spec ContrastSpec, items []string, theta, v []float64, df int) (Contrast, error) {
	k := len(items)
	c := make([]float64, k)
	for name, w := range spec.Weights {
		j := slices.Index(items, name)
		if j < 0 {
			return Contrast{}, fmt.Errorf("contrast %s: no estimate %q (the estimates are %s)", spec.Name, name, strings.Join(items, ", "))
		}
		c[j] = w
	}
	var est, vr float64
	for a := range c {
		est += c[a] * theta[a]
		for b := range c {
			vr += c[a] * v[a*k+b] * c[b]
		}
	}
	out := Contrast{Name: spec.Name, Estimate: est, SE: math.Sqrt(vr)}
	q := tQuantile(df)
	out.CI = [2]float64{est - q*out.SE, est + q*out.SE}
	return out, nil
}
