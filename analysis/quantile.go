package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Quantile is one estimated quantile with its Woodruff interval.
type Quantile struct {
	P        float64
	Estimate float64
	SE       float64
	CI       [2]float64
	DF       int // degrees of freedom of the interval
}

// Quantiles estimates the quantiles ps of x over the domain in as R's
// svyquantile (survey ≥ 4.1 defaults): qrule "math" (the smallest x whose
// weighted CDF reaches p, stepping up unless p lands exactly on a jump),
// and a Woodruff interval: the 95% t interval (df degrees of freedom) of the
// estimated CDF at the quantile, mapped back through the quantile function;
// SE = (upper − lower)/(2·t). An interval end outside [0, 1] is NaN.
// On a replicate design the CDF's variance is the replicates' and the
// quantiles use the full-sample weights, as R's svyquantile.svyrep.design.
func (d *Design) Quantiles(name string, x []float64, ps []float64, in []bool, naRM bool, df int) ([]Quantile, error) {
	m, err := d.domainMask(in, naRM, []string{name}, x)
	if err != nil {
		return nil, err
	}
	type item struct {
		x float64
		i int32
	}
	var items []item
	for i, w := range d.w {
		if (m == nil || m[i]) && w != 0 {
			items = append(items, item{x[i], int32(i)})
		}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("column %s: no rows with positive weight in the domain", name)
	}
	// Order by value, ties by row: the stable order R's order() gives.
	slices.SortFunc(items, func(a, b item) int {
		if c := cmp.Compare(a.x, b.x); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	idx := make([]int32, len(items))
	for j, it := range items {
		idx[j] = it.i
	}
	sx := make([]float64, len(idx))
	cumw := make([]float64, len(idx))
	// R's cumsum and sum accumulate in long double; compensated
	// (Neumaier) summation reproduces their rounding, which decides the
	// exact ties qrule "math" tests for.
	var c, comp float64
	for j, i := range idx {
		sx[j] = x[i]
		c, comp = neumaier(c, comp, d.w[i])
		cumw[j] = c + comp
	}
	total := cumw[len(cumw)-1]
	qrule := func(p float64) float64 {
		target := p * total
		pos := sort.Search(len(cumw), func(j int) bool { return cumw[j] > target }) - 1
		if pos < 0 {
			// R's qs: last() of no TRUE is 1, and p is then below that
			// jump, so the rule takes the next value.
			pos = 0
		}
		next := pos
		if pos < len(sx)-1 {
			next = pos + 1
		}
		if p-cumw[pos]/total == 0 {
			return sx[pos]
		}
		return sx[next]
	}
	ind := make([]float64, d.n)
	tq := tQuantile(df)
	out := make([]Quantile, len(ps))
	for k, p := range ps {
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("quantile of %s: p = %g is not in [0, 1]", name, p)
		}
		q := qrule(p)
		for i := range ind {
			ind[i] = 0
			if x[i] <= q {
				ind[i] = 1
			}
		}
		cdf, err := d.Mean(name, ind, m, false, df)
		if err != nil {
			return nil, err
		}
		lo := cdf.Estimate - tq*cdf.SE
		hi := cdf.Estimate + tq*cdf.SE
		r := Quantile{P: p, Estimate: q, CI: [2]float64{math.NaN(), math.NaN()}, DF: df}
		if !math.IsNaN(lo) && lo >= 0 {
			r.CI[0] = qrule(lo)
		}
		if !math.IsNaN(hi) && hi <= 1 {
			r.CI[1] = qrule(hi)
		}
		r.SE = (r.CI[1] - r.CI[0]) / (2 * tq)
		out[k] = r
	}
	return out, nil
}

// neumaier adds x to the compensated sum (s, c).
func neumaier(s, c, x float64) (float64, float64) {
	t := s + x
	if math.Abs(s) >= math.Abs(x) {
		c += (s - t) + x
	} else {
		c += (x - t) + s
	}
	return t, c
}
