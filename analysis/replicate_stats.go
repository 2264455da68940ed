package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Tests and regression on replicate-weight designs, as R survey's methods
// for svyrep.design objects: each statistic is recomputed with every
// replicate's weights and its covariance is R's svrVar of the replicates'
// values (see [Design.repVcov]).

// repTTest is svyttest(y ~ group) on a replicate design: the difference of
// the two groups' weighted means among the used rows (the slope of the
// saturated gaussian svyglm, recomputed with each replicate's weights), t
// on degf(subset design) − 1 degrees of freedom, the subset being the rows
// of the two groups in the domain (dom).
func (d *Design) repTTest(levels [2]string, y, x []float64, used, dom []bool, diff float64, n int) TTest {
	theta := func(w []float64) []float64 {
		var sw, swy [2]float64
		for i, u := range used {
			if u {
				k := int(x[i])
				sw[k] += w[i]
				swy[k] += w[i] * y[i]
			}
		}
		return []float64{swy[1]/sw[1] - swy[0]/sw[0]}
	}
	v := d.repVariance([]float64{diff}, theta)[0]
	df := d.repDF(dom) - 1
	t := TTest{Levels: levels, Difference: diff, SE: math.Sqrt(v), DF: df, N: n}
	t.T = t.Difference / t.SE
	t.P = tPValue(t.T, df)
	q := tQuantile(df)
	t.CI = [2]float64{t.Difference - q*t.SE, t.Difference + q*t.SE}
	return t
}

// repCellVcov is the replicate covariance of the k cell proportions of
// cells (−1: not used) over the rows m, as R's svymean(mm, design) of the
// cells' indicators in svychisq.svyrep.design.
func (d *Design) repCellVcov(cells []int32, k int, m []bool, p []float64) []float64 {
	return d.repVcov(p, func(w []float64) []float64 {
		s := make([]float64, k)
		var tot float64
		for i, c := range cells {
			if m[i] {
				s[c] += w[i]
				tot += w[i]
			}
		}
		for j := range s {
			s[j] /= tot
		}
		return s
	})
}

// domainRows counts the rows of the domain in (nil: all rows).
func (d *Design) domainRows(in []bool) int {
	if in == nil {
		return d.n
	}
	n := 0
	for _, b := range in {
		if b {
			n++
		}
	}
	return n
}

// repGLMVcov is the replicate covariance of a GLM's coefficients, as R's
// svyglm.svyrep.design: for each replicate, R's glm.fit started from the
// full-sample coefficients beta0 with the replicate's weights of the used
// rows scaled to sum 1, and svrVar of the replicates' coefficients.
// X and y hold the used rows (rows[k] is the design row of X's row k).
func (d *Design) repGLMVcov(X *mat.Dense, y []float64, rows []int, beta0 []float64, family Family) ([]float64, error) {
	lk := linkFor(family)
	n, p := X.Dims()
	wt := make([]float64, n)
	var fitErr error
	v := d.repVcov(beta0, func(w []float64) []float64 {
		var sum float64
		for k, i := range rows {
			wt[k] = w[i]
			sum += w[i]
		}
		for k := range wt {
			wt[k] /= sum
		}
		b, err := glmFitFrom(X, y, wt, beta0, lk)
		if err != nil && fitErr == nil {
			fitErr = err
		}
		return b
	})
	if fitErr != nil {
		return nil, fmt.Errorf("regression on a replicate: %w", fitErr)
	}
	_ = p
	return v, nil
}

// glmFitFrom is R's glm.fit(x, y, weights, start = start) for the link lk:
// IRLS on the rows with positive weight, at most 25 iterations, stopping
// when |dev − dev_old|/(|dev| + 0.1) < 1e-8. It returns the coefficients
// of the last iteration (as R does, with a warning, when IRLS has not
// converged).
func glmFitFrom(X *mat.Dense, y, weights, start []float64, lk link) ([]float64, error) {
	n, p := X.Dims()
	eta := make([]float64, n)
	mu := make([]float64, n)
	coef := append([]float64(nil), start...)
	predict := func() {
		for k := range n {
			var e float64
			for j := range p {
				e += X.At(k, j) * coef[j]
			}
			eta[k] = e
			mu[k] = lk.linkinv(e)
		}
	}
	predict()
	devold := lk.deviance(y, mu, weights)
	var good []int
	for iter := 0; iter < 25; iter++ {
		good = good[:0]
		for k := range n {
			if weights[k] > 0 && lk.muEta(eta[k]) != 0 {
				good = append(good, k)
			}
		}
		if len(good) < p {
			return nil, fmt.Errorf("%d rows with positive weight for %d coefficients", len(good), p)
		}
		wx := mat.NewDense(len(good), p, nil)
		wz := mat.NewVecDense(len(good), nil)
		for g, k := range good {
			me := lk.muEta(eta[k])
			z := eta[k] + (y[k]-mu[k])/me
			w := math.Sqrt(weights[k] * me * me / lk.variance(mu[k]))
			for j := range p {
				wx.Set(g, j, X.At(k, j)*w)
			}
			wz.SetVec(g, z*w)
		}
		var qr mat.QR
		qr.Factorize(wx)
		c := mat.NewVecDense(p, nil)
		if err := qr.SolveVecTo(c, false, wz); err != nil {
			return nil, fmt.Errorf("the model matrix is singular (%v)", err)
		}
		for j := range p {
			coef[j] = c.AtVec(j)
		}
		predict()
		dev := lk.deviance(y, mu, weights)
		if math.IsNaN(dev) || math.IsInf(dev, 0) {
			return nil, fmt.Errorf("the deviance is not finite; IRLS diverged")
		}
		if math.Abs(dev-devold)/(math.Abs(dev)+0.1) < 1e-8 {
			break
		}
		devold = dev
	}
	return coef, nil
}

// coefs copies a coefficient vector.
func coefs(v *mat.VecDense) []float64 {
	out := make([]float64, v.Len())
	for j := range out {
		out[j] = v.AtVec(j)
	}
	return out
}
