package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// QuantileOptions are svyquantile's qrule and interval.type.
type QuantileOptions struct {
	// QRule is math (default), school, shahvaish or hf1 … hf9 (R:
	// qrule_math … qrule_hf9: the weighted analogues of Hyndman and
	// Fan's types; shahvaish is Shah and Vaish's).
	QRule string
	// Interval is mean (default: Woodruff, the t interval of the CDF at
	// the quantile), beta, xlogit, asin (Woodruff with the interval of the
	// CDF from svyciprop's beta, xlogit or asin method) or score (the
	// interval of Francisco and Fuller's score test, R's ffullerCI).
	Interval string
}

// QuantilesWith is [Design.Quantiles] with a quantile rule and an
// interval type of R's svyquantile(…, qrule =, interval.type =).
func (d *Design) QuantilesWith(name string, x, ps []float64, in []bool, naRM bool, df int, opt QuantileOptions) ([]Quantile, error) {
	if (opt.QRule == "" || opt.QRule == "math") && (opt.Interval == "" || opt.Interval == "mean") {
		return d.Quantiles(name, x, ps, in, naRM, df)
	}
	if d.replicated() {
		return nil, repUnsupported("a quantile")
	}
	m, err := d.domainMask(in, naRM, []string{name}, x)
	if err != nil {
		return nil, err
	}
	rule, err := quantileRule(opt.QRule)
	if err != nil {
		return nil, err
	}
	// The design's rows (R: x of the design after na.rm; a calibrated
	// design keeps every row, its missing values set to 0).
	var rows []int
	for i := range x {
		if m == nil || m[i] || d.calibrated() {
			rows = append(rows, i)
		}
	}
	xv := func(i int) float64 {
		if math.IsNaN(x[i]) {
			return 0
		}
		return x[i]
	}
	// The rows with positive weight, by value (ties by row), as qrule sees them.
	var sx, sw []float64
	{
		type item struct {
			x, w float64
			i    int
		}
		var items []item
		for _, i := range rows {
			if (m == nil || m[i]) && d.w[i] != 0 {
				items = append(items, item{xv(i), d.w[i], i})
			}
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("column %s: no rows with positive weight in the domain", name)
		}
		slices.SortFunc(items, func(a, b item) int {
			if c := cmp.Compare(a.x, b.x); c != 0 {
				return c
			}
			return cmp.Compare(a.i, b.i)
		})
		for _, it := range items {
			sx, sw = append(sx, it.x), append(sw, it.w)
		}
	}
	q := func(p float64) float64 { return rule(sx, sw, p) }
	tq := tQuantile(df)
	ind := make([]float64, d.n)
	out := make([]Quantile, len(ps))
	for k, p := range ps {
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("quantile of %s: p = %g is not in [0, 1]", name, p)
		}
		qhat := q(p)
		r := Quantile{P: p, Estimate: qhat, CI: [2]float64{math.NaN(), math.NaN()}, DF: df}
		var lo, hi float64
		if opt.Interval == "score" {
			r.CI, err = d.scoreInterval(name, rows, xv, m, p, tq, df, q)
			if err != nil {
				return nil, err
			}
		} else {
			for i := range ind {
				ind[i] = 0
				if xv(i) <= qhat {
					ind[i] = 1
				}
			}
			cdf, err := d.Mean(name, ind, m, false, df)
			if err != nil {
				return nil, err
			}
			pc, se := cdf.Estimate, cdf.SE
			expit := func(v float64) float64 { return math.Exp(v) / (1 + math.Exp(v)) }
			switch opt.Interval {
			case "", "mean":
				lo, hi = pc-tq*se, pc+tq*se
			case "xlogit":
				l, s := math.Log(pc/(1-pc)), se/(pc*(1-pc))
				lo, hi = expit(l-tq*s), expit(l+tq*s)
			case "asin":
				a, s := math.Asin(math.Sqrt(pc)), se/(2*math.Sqrt(pc*(1-pc)))
				lo, hi = math.Sin(a-tq*s), math.Sin(a+tq*s)
				lo, hi = lo*lo, hi*hi
			case "beta":
				rt := tQuantile(len(rows)-1) / tQuantile(d.DF(m))
				neff := pc * (1 - pc) / (se * se) * rt * rt
				lo, hi = betaQuantile(0.025, neff*pc, neff*(1-pc)+1), betaQuantile(0.975, neff*pc+1, neff*(1-pc))
			default:
				return nil, fmt.Errorf("quantile of %s: interval %q is not one of mean, beta, xlogit, asin, score", name, opt.Interval)
			}
			if !math.IsNaN(lo) && lo >= 0 {
				r.CI[0] = q(lo)
			}
			if !math.IsNaN(hi) && hi <= 1 {
				r.CI[1] = q(hi)
			}
		}
		r.SE = (r.CI[1] - r.CI[0]) / (2 * tq)
		out[k] = r
	}
	return out, nil
}

// scoreInterval is R's ffullerCI: the values θ where the t statistic of
// the design-based mean of 1[x > θ] − (1 − p) equals ∓t, found by R's
// uniroot (Brent's zeroin) between min(x) + IQR/100 and max(x) − IQR/100
// with tolerance 1/(100·√rows), each turned into a quantile by the rule at
// the unweighted share of the design's rows at or below it.
func (d *Design) scoreInterval(name string, rows []int, xv func(int) float64, m []bool, p, tq float64, df int, q func(float64) float64) ([2]float64, error) {
	vals := make([]float64, len(rows))
	for k, i := range rows {
		vals[k] = xv(i)
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	iqr := quantile7(sorted, 0.75) - quantile7(sorted, 0.25)
	lowerT, upperT := sorted[0]+iqr/100, sorted[len(sorted)-1]-iqr/100
	tol := 1 / (100 * math.Sqrt(float64(len(rows))))
	u := make([]float64, d.n)
	var ferr error
	score := func(theta, limit float64) float64 {
		for i := range u {
			u[i] = -(1 - p)
			if xv(i) > theta {
				u[i] = p
			}
		}
		e, err := d.Mean(name, u, m, false, df)
		if err != nil {
			ferr = err
			return math.NaN()
		}
		return e.Estimate/e.SE - limit
	}
	var ci [2]float64
	for k, limit := range []float64{tq, -tq} {
		f := func(t float64) float64 { return score(t, limit) }
		root, err := uniroot(f, lowerT, upperT, tol)
		if ferr != nil {
			return ci, ferr
		}
		if err != nil {
			return ci, fmt.Errorf("quantile of %s: score interval: %w", name, err)
		}
		below := 0
		for _, v := range vals {
			if v <= root {
				below++
			}
		}
		ci[k] = q(float64(below) / float64(len(vals)))
	}
	return ci, nil
}

// quantile7 is R's quantile(x, p, type = 7) of sorted x.
func quantile7(sorted []float64, p float64) float64 {
	n := len(sorted)
	index := 1 + float64(max(n-1, 0))*p
	lo, hi := math.Floor(index), math.Ceil(index)
	ql, qh := sorted[int(lo)-1], sorted[int(hi)-1]
	if index > lo && qh != ql {
		h := index - lo
		return (1-h)*ql + h*qh
	}
	return ql
}

// uniroot is R's uniroot(f, c(a, b), tol = tol): Brent's zeroin as R's
// R_zeroin2 runs it (at most 1000 iterations).
func uniroot(f func(float64) float64, a, b, tol float64) (float64, error) {
	fa, fb := f(a), f(b)
	if math.IsNaN(fa) || math.IsNaN(fb) {
		return math.NaN(), fmt.Errorf("the score is not defined at the ends of the search interval")
	}
	if fa*fb > 0 {
		return math.NaN(), fmt.Errorf("the score has the same sign at both ends of the search interval")
	}
	if fa == 0 {
		return a, nil
	}
	if fb == 0 {
		return b, nil
	}
	const eps = 2.220446049250313e-16
	c, fc := a, fa
	for it := 0; it <= 1000; it++ {
		prev := b - a
		if math.Abs(fc) < math.Abs(fb) {
			a, b, c = b, c, b
			fa, fb, fc = fb, fc, fb
		}
		tolAct := 2*eps*math.Abs(b) + tol/2
		step := (c - b) / 2
		if math.Abs(step) <= tolAct || fb == 0 {
			return b, nil
		}
		if math.Abs(prev) >= tolAct && math.Abs(fa) > math.Abs(fb) {
			var p, q float64
			cb := c - b
			if a == c {
				t1 := fb / fa
				p = cb * t1
				q = 1 - t1
			} else {
				qq, t1, t2 := fa/fc, fb/fc, fb/fa
				p = t2 * (cb*qq*(qq-t1) - (b-a)*(t1-1))
				q = (qq - 1) * (t1 - 1) * (t2 - 1)
			}
			if p > 0 {
				q = -q
			} else {
				p = -p
			}
			if p < 0.75*cb*q-math.Abs(tolAct*q)/2 && p < math.Abs(prev*q/2) {
				step = p / q
			}
		}
		if math.Abs(step) < tolAct {
			if step > 0 {
				step = tolAct
			} else {
				step = -tolAct
			}
		}
		a, fa = b, fb
		b += step
		fb = f(b)
		if fb > 0 && fc > 0 || fb < 0 && fc < 0 {
			c, fc = a, fa
		}
	}
	return b, fmt.Errorf("no convergence in 1000 iterations")
}

// quantileRule returns the rule named by R's svyquantile qrule, applied
// to values x sorted ascending with positive weights w.
func quantileRule(name string) (func(x, w []float64, p float64) float64, error) {
	switch name {
	case "", "math", "hf1":
		return func(x, w []float64, p float64) float64 {
			s := qsOf(x, w, p)
			if s.wlow == 0 {
				return s.qlow
			}
			return s.qup
		}, nil
	case "school", "hf2":
		return func(x, w []float64, p float64) float64 {
			s := qsOf(x, w, p)
			if s.wlow == 0 {
				return (s.qlow + s.qup) / 2
			}
			return s.qup
		}, nil
	case "hf3":
		return func(x, w []float64, p float64) float64 {
			// R: w <- rowsum(w, x); x <- sort(unique(x)).
			var ux, uw []float64
			for i, v := range x {
				if len(ux) > 0 && ux[len(ux)-1] == v {
					uw[len(uw)-1] += w[i]
					continue
				}
				ux, uw = append(ux, v), append(uw, w[i])
			}
			s := qsOf(ux, uw, p)
			if s.wlow == 0 && s.ilow%2 == 0 {
				return s.qlow
			}
			return s.qup
		}, nil
	case "hf4":
		return func(x, w []float64, p float64) float64 {
			s := qsOf(x, w, p)
			g := s.wlow / (s.wup + s.wlow)
			return s.qlow*(1-g) + s.qup*g
		}, nil
	case "hf5", "hf6", "hf7", "hf8", "hf9", "shahvaish":
		return func(x, w []float64, p float64) float64 {
			n := len(x)
			cum := cumsumLD(w)
			pk := make([]float64, n)
			for k := range pk {
				prev := 0.0
				if k > 0 {
					prev = cum[k-1]
				}
				switch name {
				case "hf5":
					pk[k] = (cum[k] - w[k]/2) / cum[n-1]
				case "hf6":
					pk[k] = cum[k] / (cum[n-1] + w[n-1])
				case "hf7":
					pk[k] = prev / cum[max(n-2, 0)]
				case "hf8":
					pk[k] = (prev*1/3 + cum[k]*2/3) / (cum[n-1] + w[n-1]/3)
				case "hf9":
					pk[k] = (prev*3/8 + cum[k]*5/8) / (cum[n-1] + w[n-1]/4)
				}
			}
			if name == "shahvaish" {
				mean := meanLD(w)
				wbar := make([]float64, n)
				for k := range w {
					wbar[k] = w[k] / mean
				}
				s := cumsumLD(wbar)
				for k := range pk {
					pk[k] = (s[k] + 0.5 - w[k]/2) / float64(n+1)
				}
				return approxR(pk, x, p, false)
			}
			return approxR(pk, x, p, true)
		}, nil
	}
	return nil, fmt.Errorf("qrule %q is not one of math, school, shahvaish, hf1 … hf9", name)
}

// qsData is R survey's qs(): the values either side of the p-th weighted
// quantile and the weight shares from p to each.
type qsData struct {
	qlow, qup float64
	ilow      int // 1-based, as R's
	wlow, wup float64
}

func qsOf(x, w []float64, p float64) qsData {
	cum := cumsumLD(w)
	total := cum[len(cum)-1]
	target := p * total
	pos := len(cum) - 1
	for pos >= 0 && !(cum[pos] <= target) {
		pos--
	}
	if pos < 0 {
		pos = 0 // R: no value at or below p·Σw; the smallest
	}
	next := min(pos+1, len(x)-1)
	return qsData{qlow: x[pos], qup: x[next], ilow: pos + 1, wlow: p - cum[pos]/total, wup: cum[next]/total - p}
}

// cumsumLD is R's cumsum, which accumulates in long double: compensated
// summation reproduces its rounding.
func cumsumLD(w []float64) []float64 {
	out := make([]float64, len(w))
	var s, c float64
	for i, v := range w {
		s, c = neumaier(s, c, v)
		out[i] = s + c
	}
	return out
}

// meanLD is R's mean of doubles: a long double sum over n, refined by the
// mean of the deviations.
func meanLD(w []float64) float64 {
	var s, c float64
	for _, v := range w {
		s, c = neumaier(s, c, v)
	}
	n := float64(len(w))
	m := (s + c) / n
	var t, tc float64
	for _, v := range w {
		t, tc = neumaier(t, tc, v-m)
	}
	return m + (t+tc)/n
}

// regularize is R's regularize.values(x, y, ties = mean): the points
// ordered by x (stably), y averaged over equal x.
func regularize(x, y []float64) ([]float64, []float64) {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	var ox, oy []float64
	var cnt []float64
	for _, i := range idx {
		if k := len(ox) - 1; k >= 0 && ox[k] == x[i] {
			oy[k] += y[i]
			cnt[k]++
			continue
		}
		ox, oy, cnt = append(ox, x[i]), append(oy, y[i]), append(cnt, 1)
	}
	for k := range oy {
		oy[k] /= cnt[k]
	}
	return ox, oy
}

// approxR is R's approx(x, y, v, method = "linear" or "constant" with
// f = 0, rule = 2) for increasing x.
func approxR(x, y []float64, v float64, linear bool) float64 {
	if !slices.IsSorted(x) || len(slices.Compact(slices.Clone(x))) < len(x) {
		x, y = regularize(x, y)
	}
	n := len(x)
	if v < x[0] {
		return y[0]
	}
	if v > x[n-1] {
		return y[n-1]
	}
	i, j := 0, n-1
	for i < j-1 {
		ij := (i + j) / 2
		if v < x[ij] {
			j = ij
		} else {
			i = ij
		}
	}
	if v == x[j] {
		return y[j]
	}
	if v == x[i] {
		return y[i]
	}
	if linear {
		return y[i] + (y[j]-y[i])*((v-x[i])/(x[j]-x[i]))
	}
	return y[i]
}
