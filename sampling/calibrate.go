package sampling

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Margin is one population total: of a category of a categorical variable,
// or (Category empty) of a numeric variable.
type Margin struct {
	Variable, Category string
	Total              float64
	Line               int // line in the margins file, 0 if not from a file
}

// ReadMargins reads a margins CSV with columns variable, category, total.
// A variable has either categories, each with a total ≥ 0, or a single row
// with an empty category: a numeric variable and its population total (for
// Calibrate only).
func ReadMargins(r io.Reader) ([]Margin, error) {
	t, err := ReadTable(r)
	if err != nil {
		return nil, err
	}
	vars, e1 := t.Strings("variable", true)
	cats, e2 := t.Strings("category", false)
	totals, e3 := t.Floats("total")
	if err := joinInput(e1, e2, e3); err != nil {
		return nil, err
	}
	var ex errs
	var out []Margin
	first := map[[2]string]int{}
	numeric := map[string]bool{}
	categorical := map[string]bool{}
	for i := range t.Rows {
		line := t.Lines[i]
		key := [2]string{vars[i], cats[i]}
		if f, dup := first[key]; dup {
			ex.add(line, "category", "variable %q category %q appears twice (first on line %d)", vars[i], cats[i], f)
			continue
		}
		first[key] = line
		if cats[i] == "" {
			numeric[vars[i]] = true
		} else {
			categorical[vars[i]] = true
			if totals[i] < 0 {
				ex.add(line, "total", "a category total must be >= 0, got %s", FormatFloat(totals[i]))
			}
		}
		if numeric[vars[i]] && categorical[vars[i]] {
			ex.add(line, "category", "variable %q has both categories and an empty category (numeric total)", vars[i])
		}
		out = append(out, Margin{Variable: vars[i], Category: cats[i], Total: totals[i], Line: line})
	}
	if len(out) == 0 && len(ex.list) == 0 {
		ex.add(0, "", "no margins")
	}
	return out, ex.err()
}

// MarginVariable is one calibration variable: its population totals and
// each unit's value.
type MarginVariable struct {
	Name       string
	Numeric    bool
	Categories []string  // categorical: the categories, in margins order
	Totals     []float64 // categorical: total per category; numeric: one total
	Code       []int     // categorical: each unit's category index
	Values     []float64 // numeric: each unit's value
}

// MarginVariables matches margins to the columns of t. Every value of a
// categorical variable in t must have a margin (else an InputError with its
// line and column); a category with a positive total must occur in t (a
// category with total 0 and no units is dropped, as R's calibrate does);
// categorical variables must have the same grand total (to a relative
// 1e-6).
func MarginVariables(t *Table, margins []Margin) ([]MarginVariable, error) {
	var vars []MarginVariable
	pos := map[string]int{}
	for _, m := range margins {
		k, ok := pos[m.Variable]
		if !ok {
			k = len(vars)
			pos[m.Variable] = k
			vars = append(vars, MarginVariable{Name: m.Variable, Numeric: m.Category == ""})
		}
		vars[k].Categories = append(vars[k].Categories, m.Category)
		vars[k].Totals = append(vars[k].Totals, m.Total)
	}
	var ex errs
	var grand float64
	grandName := ""
	for k := range vars {
		v := &vars[k]
		if v.Numeric {
			vals, err := t.Floats(v.Name)
			if err != nil {
				ex.list = append(ex.list, asInputErrors(err)...)
				continue
			}
			v.Categories = nil
			v.Values = vals
			continue
		}
		col, err := t.Strings(v.Name, false)
		if err != nil {
			ex.list = append(ex.list, asInputErrors(err)...)
			continue
		}
		index := map[string]int{}
		for c, name := range v.Categories {
			index[name] = c
		}
		v.Code = make([]int, len(col))
		count := make([]int, len(v.Categories))
		for i, val := range col {
			c, ok := index[val]
			if !ok {
				ex.add(t.Lines[i], v.Name, "value %q has no population total in the margins", val)
				continue
			}
			v.Code[i] = c
			count[c]++
		}
		// Drop empty categories with zero total; refuse positive ones.
		keep := make([]int, len(v.Categories))
		var cats []string
		var totals []float64
		for c := range v.Categories {
			keep[c] = -1
			if count[c] == 0 {
				if v.Totals[c] > 0 {
					ex.add(0, v.Name, "category %q has population total %s but no units in the data", v.Categories[c], FormatFloat(v.Totals[c]))
				}
				continue
			}
			keep[c] = len(cats)
			cats = append(cats, v.Categories[c])
			totals = append(totals, v.Totals[c])
		}
		for i := range v.Code {
			v.Code[i] = keep[v.Code[i]]
		}
		v.Categories, v.Totals = cats, totals
		g := sum(totals)
		if grandName == "" {
			grand, grandName = g, v.Name
		} else if math.Abs(g-grand) > 1e-6*math.Abs(grand) {
			ex.add(0, v.Name, "categories total %s but those of %q total %s: the margins disagree on the population size", FormatFloat(g), grandName, FormatFloat(grand))
		}
	}
	if err := ex.err(); err != nil {
		return nil, err
	}
	return vars, nil
}

func asInputErrors(err error) InputErrors {
	var list InputErrors
	var one *InputError
	if errors.As(err, &list) {
		return list
	}
	if errors.As(err, &one) {
		return InputErrors{one}
	}
	return InputErrors{{Msg: err.Error()}}
}

// PostStratify returns w_i·N_c/Σ_{j∈c} w_j for the single categorical
// variable v, as R's survey::postStratify. It panics if v's codes and w
// differ in length.
func PostStratify(w []float64, v MarginVariable) ([]float64, error) {
	if v.Numeric {
		return nil, fmt.Errorf("post-stratify: variable %q is numeric", v.Name)
	}
	if len(v.Code) != len(w) {
		panic("sampling: PostStratify length mismatch")
	}
	s := make([]float64, len(v.Categories))
	for i, c := range v.Code {
		s[c] += w[i]
	}
	for c, x := range s {
		if !(x > 0) {
			return nil, fmt.Errorf("post-stratify: %s = %q: the weights sum to %s", v.Name, v.Categories[c], FormatFloat(x))
		}
	}
	out := make([]float64, len(w))
	for i, c := range v.Code {
		out[i] = w[i] * v.Totals[c] / s[c]
	}
	return out, nil
}

// RakeResult is the outcome of Rake.
type RakeResult struct {
	Weights    []float64
	Iterations int     // full cycles over the margins
	Converged  bool    // MaxRelDiff < tol
	MaxRelDiff float64 // max over categories of |Σw − N|/N (|Σw| when N = 0) after the last cycle
}

// Rake rakes w to the margins of the categorical variables vars by
// iterative proportional fitting: each cycle post-stratifies to each
// variable in turn (as R's survey::rake); it stops when, after a cycle, every
// category's weighted count is within a relative tol of its total, or after
// maxIter cycles (Converged false; the weights of the last cycle are
// returned). At convergence the result equals R's rake and
// calibrate(calfun = "raking") on the same margins.
func Rake(w []float64, vars []MarginVariable, maxIter int, tol float64) (*RakeResult, error) {
	for _, v := range vars {
		if v.Numeric {
			return nil, fmt.Errorf("rake: variable %q is numeric; use calibration", v.Name)
		}
		if len(v.Code) != len(w) {
			panic("sampling: Rake length mismatch")
		}
	}
	if maxIter < 1 {
		return nil, fmt.Errorf("rake: max iterations must be at least 1, got %d", maxIter)
	}
	g := append([]float64(nil), w...)
	res := &RakeResult{Weights: g}
	sums := make([][]float64, len(vars))
	for k, v := range vars {
		sums[k] = make([]float64, len(v.Categories))
	}
	tally := func(k int) {
		s := sums[k]
		clear(s)
		for i, c := range vars[k].Code {
			s[c] += g[i]
		}
	}
	for res.Iterations < maxIter {
		res.Iterations++
		for k, v := range vars {
			tally(k)
			f := make([]float64, len(v.Categories))
			for c, x := range sums[k] {
				switch {
				case v.Totals[c] == 0:
					f[c] = 0
				case !(x > 0):
					return nil, fmt.Errorf("rake: %s = %q: the weights sum to %s", v.Name, v.Categories[c], FormatFloat(x))
				default:
					f[c] = v.Totals[c] / x
				}
			}
			for i, c := range v.Code {
				g[i] *= f[c]
			}
		}
		res.MaxRelDiff = 0
		for k, v := range vars {
			tally(k)
			for c, x := range sums[k] {
				d := math.Abs(x - v.Totals[c])
				if v.Totals[c] > 0 {
					d /= v.Totals[c]
				}
				res.MaxRelDiff = math.Max(res.MaxRelDiff, d)
			}
		}
		if res.MaxRelDiff < tol {
			res.Converged = true
			break
		}
	}
	return res, nil
}

// CalFunc is a calibration distance, as R survey's calfun.
type CalFunc int

// The calibration functions.
const (
	// Linear: g = 1 + x'λ (GREG), clipped to the bounds.
	Linear CalFunc = iota
	// Raking: g = exp(x'λ) (raking ratio), clipped to the bounds.
	Raking
)

// CalibrateOptions tunes Calibrate. The zero value is linear calibration
// without bounds, 50 iterations, epsilon 1e-7 (R's defaults).
type CalibrateOptions struct {
	Fun CalFunc
	// Lower and Upper bound g = w_new/w; both 0 means no bounds.
	Lower, Upper float64
	MaxIter      int     // 0 means 50
	Epsilon      float64 // 0 means 1e-7: stop when |misfit_j|/(1+|T_j|) < Epsilon for all j
}

// CalibrationResult is the outcome of Calibrate.
type CalibrationResult struct {
	Weights    []float64 // w·g
	G          []float64 // the calibration factors
	Iterations int
	Converged  bool
	MaxMisfit  float64 // max_j |misfit_j|/(1+|T_j|)
}

// ErrNotConverged is wrapped by Calibrate's error when the iteration did not
// converge; the result is still returned.
var ErrNotConverged = errors.New("calibration did not converge")

// Calibrate calibrates w to the totals of vars as R's survey::calibrate with
// formula ~v1+v2+… and calfun "linear" or "raking", with R's model matrix
// (an intercept when there is a categorical variable, treatment contrasts,
// numeric variables as they are). Linear without bounds solves
// (Σ w x xᵀ) λ = T − Σ w x and g = 1 + xᵀλ (R's regcalibrate). Otherwise it
// runs R's grake Newton iteration: Tmat = Σ w F'(xᵀη) x xᵀ, η += ginv(Tmat)
// (T − Σ w x − Σ w x (F(xᵀη) − 1)), with step halving on non-finite values,
// the weights scaled by the mean ratio T/Σwx when that ratio exceeds 20
// everywhere (bounds then apply after scaling), until every
// |misfit_j|/(1+|T_j|) < Epsilon.
func Calibrate(w []float64, vars []MarginVariable, opt CalibrateOptions) (*CalibrationResult, error) {
	n := len(w)
	x, pop, names := modelMatrix(vars, n)
	p := len(pop)
	if opt.MaxIter == 0 {
		opt.MaxIter = 50
	}
	if opt.Epsilon == 0 {
		opt.Epsilon = 1e-7
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if opt.Lower != 0 || opt.Upper != 0 {
		lo, hi = opt.Lower, opt.Upper
		if !(lo < 1 && hi > 1) {
			return nil, fmt.Errorf("calibrate: bounds [%s, %s] must contain 1", FormatFloat(lo), FormatFloat(hi))
		}
	}
	ww := append([]float64(nil), w...)
	sampleTotal := make([]float64, p)
	for i := 0; i < n; i++ {
		row := x[i*p : (i+1)*p]
		for j, v := range row {
			sampleTotal[j] += ww[i] * v
		}
	}
	for j := range pop {
		if sampleTotal[j] == 0 && pop[j] != 0 {
			return nil, fmt.Errorf("calibrate: %s has population total %s but weighted sample total 0", names[j], FormatFloat(pop[j]))
		}
	}
	var fm1, df func(u float64) float64
	switch opt.Fun {
	case Linear:
		fm1 = func(u float64) float64 { return math.Min(math.Max(u+1, lo), hi) - 1 }
		df = func(u float64) float64 {
			if u < hi-1 && u > lo-1 {
				return 1
			}
			return 0
		}
	case Raking:
		fm1 = func(u float64) float64 { return math.Min(math.Max(math.Exp(u), lo), hi) - 1 }
		df = func(u float64) float64 {
			if u < hi-1 && u > lo-1 {
				return math.Exp(u)
			}
			return 0
		}
	default:
		return nil, fmt.Errorf("calibrate: unknown calibration function %d", opt.Fun)
	}
	scale := 1.0
	unboundedLinear := opt.Fun == Linear && math.IsInf(lo, -1) && math.IsInf(hi, 1)
	if !unboundedLinear {
		minScale, meanScale := math.Inf(1), 0.0
		for j := range pop {
			s := pop[j] / sampleTotal[j]
			minScale = math.Min(minScale, s)
			meanScale += s
		}
		if minScale > 20 {
			scale = meanScale / float64(p)
			for i := range ww {
				ww[i] *= scale
			}
			for j := range sampleTotal {
				sampleTotal[j] *= scale
			}
		}
	}
	eta := make([]float64, p)
	xeta := make([]float64, n)
	g := make([]float64, n)
	deriv := make([]float64, n)
	update := func() bool {
		finite := true
		for i := 0; i < n; i++ {
			row := x[i*p : (i+1)*p]
			var s float64
			for j, v := range row {
				s += v * eta[j]
			}
			xeta[i] = s
			g[i] = 1 + fm1(s)
			deriv[i] = df(s)
			if math.IsInf(g[i], 0) || math.IsNaN(g[i]) || math.IsInf(deriv[i], 0) || math.IsNaN(deriv[i]) {
				finite = false
			}
		}
		return finite
	}
	misfit := func() []float64 {
		m := make([]float64, p)
		for i := 0; i < n; i++ {
			row := x[i*p : (i+1)*p]
			f := ww[i] * (g[i] - 1)
			for j, v := range row {
				m[j] += v * f
			}
		}
		for j := range m {
			m[j] = pop[j] - sampleTotal[j] - m[j]
		}
		return m
	}
	update()
	res := &CalibrationResult{}
	iter := 1
	acc := make([]float64, p*p)
	for {
		clear(acc)
		for i := 0; i < n; i++ {
			row := x[i*p : (i+1)*p]
			f := ww[i] * deriv[i]
			if f == 0 {
				continue
			}
			for a := 0; a < p; a++ {
				if row[a] == 0 {
					continue
				}
				for b := a; b < p; b++ {
					if row[b] != 0 {
						acc[a*p+b] += f * row[a] * row[b]
					}
				}
			}
		}
		tm := mat.NewSymDense(p, nil)
		for a := 0; a < p; a++ {
			for b := a; b < p; b++ {
				tm.SetSym(a, b, acc[a*p+b])
			}
		}
		m := misfit()
		ginv, err := pseudoInverse(tm)
		if err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
		deta := make([]float64, p)
		for a := 0; a < p; a++ {
			for b := 0; b < p; b++ {
				deta[a] += ginv.At(a, b) * m[b]
			}
		}
		for j := range eta {
			eta[j] += deta[j]
		}
		for !update() && iter < opt.MaxIter {
			iter++
			for j := range eta {
				deta[j] /= 2
				eta[j] -= deta[j]
			}
		}
		m = misfit()
		res.MaxMisfit = 0
		for j := range m {
			res.MaxMisfit = math.Max(res.MaxMisfit, math.Abs(m[j])/(1+math.Abs(pop[j])))
		}
		if res.MaxMisfit < opt.Epsilon {
			res.Converged = true
			break
		}
		iter++
		if iter > opt.MaxIter {
			break
		}
	}
	res.Iterations = iter
	res.G = g
	res.Weights = make([]float64, n)
	for i := range g {
		g[i] *= scale
		res.Weights[i] = w[i] * g[i]
	}
	if !res.Converged {
		return res, fmt.Errorf("calibrate: %w after %d iterations (max relative misfit %s)", ErrNotConverged, iter, FormatFloat(res.MaxMisfit))
	}
	return res, nil
}

// modelMatrix returns the n×p model matrix (row-major), the population
// totals and the column names, in R's layout for ~v1+v2+…: an intercept
// (total: the first categorical variable's grand total) when there is a
// categorical variable, then for each categorical variable an indicator for
// each category but the first in sorted order (R's factor levels and
// treatment contrasts), and each numeric variable as is. The layout matters
// only for grake's rescaling rule, which averages over columns.
func modelMatrix(vars []MarginVariable, n int) (x, pop []float64, names []string) {
	type col struct {
		v   int // -1 for the intercept
		cat int // -1 for numeric
	}
	var cols []col
	for _, v := range vars {
		if !v.Numeric {
			cols = append(cols, col{-1, -1})
			pop = append(pop, sum(v.Totals))
			names = append(names, "(Intercept)")
			break
		}
	}
	for k, v := range vars {
		if v.Numeric {
			cols = append(cols, col{k, -1})
			pop = append(pop, v.Totals[0])
			names = append(names, v.Name)
			continue
		}
		order := make([]int, len(v.Categories))
		for c := range order {
			order[c] = c
		}
		sort.Slice(order, func(a, b int) bool { return v.Categories[order[a]] < v.Categories[order[b]] })
		for _, c := range order[1:] {
			cols = append(cols, col{k, c})
			pop = append(pop, v.Totals[c])
			names = append(names, v.Name+v.Categories[c])
		}
	}
	p := len(cols)
	x = make([]float64, n*p)
	for j, c := range cols {
		for i := 0; i < n; i++ {
			switch {
			case c.v < 0:
				x[i*p+j] = 1
			case c.cat < 0:
				x[i*p+j] = vars[c.v].Values[i]
			case vars[c.v].Code[i] == c.cat:
				x[i*p+j] = 1
			}
		}
	}
	return x, pop, names
}

// pseudoInverse is R's MASS::ginv(a, tol = 256·eps): the Moore–Penrose
// inverse from the SVD, keeping singular values > tol·d_max.
func pseudoInverse(a mat.Matrix) (*mat.Dense, error) {
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return nil, errors.New("singular value decomposition failed")
	}
	d := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	r, c := a.Dims()
	out := mat.NewDense(c, r, nil)
	tol := 256 * 2.220446049250313e-16 * d[0]
	for k, s := range d {
		if !(s > math.Max(tol, 0)) {
			continue
		}
		for i := 0; i < c; i++ {
			vik := v.At(i, k) / s
			if vik == 0 {
				continue
			}
			for j := 0; j < r; j++ {
				out.Set(i, j, out.At(i, j)+vik*u.At(j, k))
			}
		}
	}
	return out, nil
}

// NegativeWeights counts the weights below zero and returns the smallest
// weight. Unbounded linear calibration (GREG) can give negative weights,
// which estimate totals unbiasedly but make no sense as "households each
// household represents" and break analyses that need positive weights:
// callers warn when count > 0 (R's calibrate does not).
func NegativeWeights(w []float64) (count int, min float64) {
	min = math.Inf(1)
	for _, x := range w {
		if x < 0 {
			count++
		}
		min = math.Min(min, x)
	}
	return count, min
}

// MarginNames lists the variables of margins in order of appearance.
func MarginNames(margins []Margin) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range margins {
		if !seen[m.Variable] {
			seen[m.Variable] = true
			out = append(out, m.Variable)
		}
	}
	return out
}
