package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// CIProp estimates the proportion of rows (over the domain in) where y is
// 1 — y must be 0 or 1 — with the confidence interval of R's
// svyciprop(~y, design, method, df = df), meant for small proportions
// where p̂ ± t·SE leaves [0, 1]. The standard error is svymean's. Methods:
//
//   - logit (default): the interval of the intercept of the design-based
//     quasibinomial regression y ~ 1 (R's glm IRLS), t on df, mapped back
//     with expit; the estimate is expit of the intercept.
//
//   - mean: p̂ ± t·SE.
//
//   - xlogit: logit(p̂) ± t·SE/(p̂(1 − p̂)), mapped back with expit.
//
//   - asin: asin(√p̂) ± t·SE/(2√(p̂(1 − p̂))), mapped back with sin².
//
//   - beta: Korn and Graubard's: the effective sample size
//     n* = p̂(1 − p̂)/SE² · (t_{n−1}/t_df)², n the design's rows, and the
//     Clopper–Pearson limits qbeta(α/2; n*p̂, n*(1 − p̂) + 1) and
//     qbeta(1 − α/2; n*p̂ + 1, n*(1 − p̂)).
//
//   - likelihood: the profile likelihood interval of the intercept, as R's
//     confint(svyglm, method = "likelihood") computes it: the
//     quasibinomial deviance profiled at up to 9 steps each side, scaled
//     by the design-based dispersion, a cubic (fmm) spline through the
//     profile, and the level adjusted for the design effect of the
//     intercept.
func (d *Design) CIProp(name string, y []float64, in []bool, naRM bool, method string, df int) (Estimate, error) {
	for i, v := range y {
		if (in == nil || in[i]) && !math.IsNaN(v) && v != 0 && v != 1 {
			return Estimate{}, fmt.Errorf("ciprop %s: value %g in row %d; a proportion's column holds 0 and 1 (or name a level)", name, v, i+1)
		}
	}
	if d.replicated() {
		return Estimate{}, repUnsupported("ciprop")
	}
	m, err := d.Mean(name, y, in, naRM, df)
	if err != nil {
		return Estimate{}, err
	}
	p, se := m.Estimate, m.SE
	q := tQuantile(df)
	e := Estimate{Estimate: p, SE: se, N: m.N, DF: df, DEff: math.NaN(), DEffWR: math.NaN()}
	expit := func(x float64) float64 { return math.Exp(x) / (1 + math.Exp(x)) }
	switch method {
	case "mean":
		e.CI = m.CI
	case "xlogit":
		l, s := math.Log(p/(1-p)), se/(p*(1-p))
		e.CI = [2]float64{expit(l - q*s), expit(l + q*s)}
	case "asin":
		a, s := math.Asin(math.Sqrt(p)), se/(2*math.Sqrt(p*(1-p)))
		lo, hi := math.Sin(a-q*s), math.Sin(a+q*s)
		e.CI = [2]float64{lo * lo, hi * hi}
	case "beta":
		rows := 0
		for i := range y {
			if in == nil || in[i] || d.calibrated() {
				rows++ // R: nrow(design); a calibrated subset keeps every row
			}
		}
		// R: (qt(α/2, nrow − 1)/qt(α/2, degf(design)))², whatever df.
		r := tQuantile(rows-1) / tQuantile(d.DF(in))
		neff := p * (1 - p) / (se * se) * r * r
		e.CI = [2]float64{betaQuantile(0.025, neff*p, neff*(1-p)+1), betaQuantile(0.975, neff*p+1, neff*(1-p))}
	case "", "logit":
		used := make([]bool, d.n)
		for i := range used {
			used[i] = (in == nil || in[i]) && !math.IsNaN(y[i])
		}
		reg, err := d.glmFit([]string{"(Intercept)"}, [][]float64{nil}, y, used, d.glmWeightMean(in), Quasibinomial)
		if err != nil {
			return Estimate{}, fmt.Errorf("ciprop %s: %w", name, err)
		}
		c := reg.Coefficients[0]
		e.Estimate = expit(c.Estimate)
		e.CI = [2]float64{expit(c.Estimate - q*c.SE), expit(c.Estimate + q*c.SE)}
	case "likelihood":
		used := make([]bool, d.n)
		for i := range used {
			used[i] = (in == nil || in[i]) && !math.IsNaN(y[i])
		}
		wmean := d.glmWeightMean(in)
		reg, err := d.glmFit([]string{"(Intercept)"}, [][]float64{nil}, y, used, wmean, Quasibinomial)
		if err != nil {
			return Estimate{}, fmt.Errorf("ciprop %s: %w", name, err)
		}
		lo, hi, err := d.profileInterval(name, reg, y, used, in, wmean, df)
		if err != nil {
			return Estimate{}, err
		}
		e.Estimate = expit(reg.Coefficients[0].Estimate)
		e.CI = [2]float64{expit(lo), expit(hi)}
	default:
		return Estimate{}, fmt.Errorf("ciprop %s: method %q is not one of logit, likelihood, mean, xlogit, asin, beta", name, method)
	}
	return e, nil
}

// betaQuantile is R's qbeta(p, a, b); NaN when a shape is not positive
// (R: qbeta(…, 0, b) is 0, as a proportion of 0 gives).
func betaQuantile(p, a, b float64) float64 {
	switch {
	case a == 0 && b > 0:
		return 0
	case b == 0 && a > 0:
		return 1
	case !(a > 0 && b > 0):
		return math.NaN()
	}
	return distuv.Beta{Alpha: a, Beta: b}.Quantile(p)
}

// glmWeightMean is the mean weight svyglm rescales the weights by (R:
// (1/prob)/mean(1/prob)) in the domain in: over the domain's rows, or
// over every row of a calibrated design, whose subsets keep the rows
// outside the domain with weight 0.
func (d *Design) glmWeightMean(in []bool) float64 {
	var wsum float64
	nd := 0
	for i, w := range d.w {
		if in == nil || in[i] {
			wsum += w
			nd++
		} else if d.calibrated() {
			nd++
		}
	}
	return wsum / float64(nd)
}
