package analysis

import (
	"math"
)

// Variance estimates the population variance of x over the domain in as
// R's svyvar: with n the rows of the domain with a positive weight
// (counted before missing values are removed, as R counts them) and x̄
// the design-based mean, the estimate is the design-based mean of
// u_i = (x_i − x̄)²·n/(n − 1), and its standard error is that mean's.
func (d *Design) Variance(name string, x []float64, in []bool, naRM bool, df int) (Estimate, error) {
	if d.replicated() {
		return Estimate{}, repUnsupported("svyvar")
	}
	m, err := d.Mean(name, x, in, naRM, df)
	if err != nil {
		return Estimate{}, err
	}
	n := 0
	for i, w := range d.w {
		if (in == nil || in[i]) && w != 0 {
			n++
		}
	}
	u := make([]float64, d.n)
	f := float64(n) / float64(n-1)
	for i, v := range x {
		dv := v - m.Estimate
		u[i] = dv * dv * f
	}
	e, err := d.Mean(name, u, in, naRM, df)
	if err != nil {
		return Estimate{}, err
	}
	e.DEff, e.DEffWR = math.NaN(), math.NaN()
	return e, nil
}
