package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// profileInterval is R's confint(svyglm(y ~ 1, family = quasibinomial),
// method = "likelihood", ddf = df) for the intercept-only model reg fitted
// on the used rows: survey's MASSprofile_glm then confint_profile.
func (d *Design) profileInterval(name string, reg *Regression, y []float64, used, in []bool, wmean float64, df int) (float64, float64, error) {
	b0, se := reg.Coefficients[0].Estimate, reg.Coefficients[0].SE
	lk := linkFor(Quasibinomial)
	var yy, wt []float64
	rows := 0
	for i, u := range used {
		if u {
			yy = append(yy, y[i])
			wt = append(wt, d.w[i]/wmean)
		}
		if u || d.calibrated() && !math.IsNaN(y[i]) {
			rows++ // R: the model frame's rows (a calibrated subset keeps every row)
		}
	}
	dev := func(b float64) float64 {
		mu := make([]float64, len(yy))
		m := lk.linkinv(b)
		for k := range mu {
			mu[k] = m
		}
		return lk.deviance(yy, mu, wt)
	}
	dev0 := dev(b0)
	// The dispersion of summary.svyglm: svyvar of residuals.svyglm's
	// Pearson residuals, (y − μ)·√(prior/pw)/√V(μ), pw the weights of the
	// design without the missing rows rescaled to mean 1.
	mu0 := lk.linkinv(b0)
	var pw float64
	for i, u := range used {
		if u {
			pw += d.w[i]
		}
	}
	if d.calibrated() {
		pw /= float64(d.n)
	} else {
		pw /= float64(len(yy))
	}
	pres := make([]float64, d.n)
	for i, u := range used {
		if u {
			pres[i] = (y[i] - mu0) * math.Sqrt(pw/wmean) / math.Sqrt(mu0*(1-mu0))
		}
	}
	disp, err := d.Variance(name, pres, used, false, df)
	if err != nil {
		return 0, 0, err
	}
	// confint.svyglm: the level for the unscaled profile.
	lambda := reg.Vcov[0] / reg.naive[0]
	var crit float64
	if df == DFInf {
		crit = distuv.UnitNormal.Quantile(0.025)
	} else {
		crit = -tQuantile(df)
	}
	alpha := distuv.UnitNormal.CDF(crit*math.Sqrt(lambda)) / 2
	zmax := math.Sqrt(distuv.F{D1: 1, D2: float64(rows - 1)}.Quantile(1 - alpha))
	del := zmax / 5
	xs, zs := []float64{b0}, []float64{0}
	for _, sgn := range []float64{-1, 1} {
		z := 0.0
		for step := 1; step < 10 && math.Abs(z) < zmax; step++ {
			bi := b0 + sgn*float64(step)*del*se
			zz := (dev(bi) - dev0) / disp.Estimate
			if zz < -0.001 {
				return 0, 0, fmt.Errorf("ciprop %s: profiling found a better fit than the model's", name)
			}
			zz = math.Max(zz, 0)
			z = sgn * math.Sqrt(zz)
			xs, zs = append(xs, bi), append(zs, z)
		}
	}
	// order(zi): the profile sorted by z, then a spline of z on the
	// coefficient, inverted by linear interpolation at ∓ the cutoff.
	pz, px := regularize(zs, xs) // by z; x averaged over equal z
	sx, sz := regularize(px, pz) // spline(x = coefficient, y = z)
	n := 3 * len(sx)
	gx := make([]float64, n)
	for k := range gx {
		gx[k] = sx[0] + float64(k)*((sx[len(sx)-1]-sx[0])/float64(n-1))
	}
	gx[n-1] = sx[len(sx)-1]
	gz := splineFMM(sx, sz, gx)
	iz, ix := regularize(gz, gx)
	cut := distuv.UnitNormal.Quantile(2 * alpha)
	at := func(v float64) float64 {
		if v < iz[0] || v > iz[len(iz)-1] {
			return math.NaN()
		}
		return approxR(iz, ix, v, true)
	}
	return at(cut), at(-cut), nil
}

// splineFMM evaluates at u the cubic spline through (x, y) with Forsythe,
// Malcolm and Moler's end conditions (R: spline(method = "fmm")).
func splineFMM(x, y, u []float64) []float64 {
	n := len(x)
	b, c, d := make([]float64, n), make([]float64, n), make([]float64, n)
	switch {
	case n < 2:
		out := make([]float64, len(u))
		for i := range out {
			out[i] = y[0]
		}
		return out
	case n < 3:
		t := (y[1] - y[0]) / (x[1] - x[0])
		b[0], b[1] = t, t
	default:
		nm1 := n - 1
		d[0] = x[1] - x[0]
		c[1] = (y[1] - y[0]) / d[0]
		for i := 1; i < nm1; i++ {
			d[i] = x[i+1] - x[i]
			b[i] = 2 * (d[i-1] + d[i])
			c[i+1] = (y[i+1] - y[i]) / d[i]
			c[i] = c[i+1] - c[i]
		}
		b[0] = -d[0]
		b[nm1] = -d[n-2]
		c[0], c[nm1] = 0, 0
		if n > 3 {
			c[0] = c[2]/(x[3]-x[1]) - c[1]/(x[2]-x[0])
			c[nm1] = c[n-2]/(x[nm1]-x[n-3]) - c[n-3]/(x[n-2]-x[n-4])
			c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
			c[nm1] = -c[nm1] * d[n-2] * d[n-2] / (x[nm1] - x[n-4])
		}
		for i := 1; i < n; i++ {
			t := d[i-1] / b[i-1]
			b[i] = b[i] - t*d[i-1]
			c[i] = c[i] - t*c[i-1]
		}
		c[nm1] = c[nm1] / b[nm1]
		for i := n - 2; i >= 0; i-- {
			c[i] = (c[i] - d[i]*c[i+1]) / b[i]
		}
		b[nm1] = (y[nm1]-y[n-2])/d[n-2] + d[n-2]*(c[n-2]+2*c[nm1])
		for i := 0; i < nm1; i++ {
			b[i] = (y[i+1]-y[i])/d[i] - d[i]*(c[i+1]+2*c[i])
			d[i] = (c[i+1] - c[i]) / d[i]
			c[i] = 3 * c[i]
		}
		c[nm1] = 3 * c[nm1]
		d[nm1] = d[n-2]
	}
	out := make([]float64, len(u))
	i := 0
	for l, ul := range u {
		if ul < x[i] || i < n-1 && x[i+1] < ul {
			i = 0
			j := n
			for j > i+1 {
				k := (i + j) / 2
				if ul < x[k] {
					j = k
				} else {
					i = k
				}
			}
		}
		dx := ul - x[i]
		out[l] = y[i] + dx*(b[i]+dx*(c[i]+dx*d[i]))
	}
	return out
}
