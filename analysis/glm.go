package analysis

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Family is a GLM family: gaussian (identity link) or quasibinomial (logit).
type Family string

// The families svyglm supports here.
const (
	Gaussian      Family = "gaussian"
	Quasibinomial Family = "quasibinomial"
	// Poisson and Quasipoisson (log link) give the same coefficients
	// and design-based standard errors; they differ in the model-based
	// variance a misspecification effect compares with.
	Poisson      Family = "poisson"
	Quasipoisson Family = "quasipoisson"
)

// Coefficient is one regression coefficient, named as R names it (the
// variable, or the variable followed by the level for a factor).
type Coefficient struct {
	Term     string
	Estimate float64
	SE       float64
	T        float64
	P        float64
}

// Regression is a fitted design-based GLM.
type Regression struct {
	Family       Family
	Coefficients []Coefficient
	// DF is the residual degrees of freedom: design df + 1 − coefficients.
	DF int
	N  int
	// Vcov is the design-based covariance of the coefficients (row-major).
	Vcov []float64
	// naive is the model-based (X'WX)⁻¹ and dispersion the family's
	// dispersion estimate (R: summary.glm's cov.unscaled and dispersion).
	naive      []float64
	dispersion float64
	// assign is the term of each coefficient (0: intercept), terms the
	// formula's term labels (for term tests).
	assign []int
	terms  []string
}

// GLM fits formula to the rows of domain in (nil: all) as R's
// svyglm(formula, subset(design, in), family): rows with a missing model
// variable are dropped, weights are rescaled to mean 1, the coefficients
// come from R's glm.fit IRLS (same start, same convergence test), and the
// covariance is the sandwich svyrecvar(estfun · A⁻¹) with A⁻¹ = (X'WX)⁻¹ of
// the last iteration. p values use t on design df + 1 − p.
func (d *Design) GLM(t *Table, formula string, family Family, in []bool) (*Regression, error) {
	if d.replicated() {
		return nil, repUnsupported("regression")
	}
	return d.fitFormula(t, formula, family, in)
}

// levelsUsed returns the sorted levels of a text column among used rows.
func levelsUsed(c *Column, used []bool) []string {
	seen := make([]bool, len(c.Levels))
	for i, code := range c.Codes {
		if used[i] && code >= 0 {
			seen[code] = true
		}
	}
	var lv []string
	for k, s := range seen {
		if s {
			lv = append(lv, c.Levels[k])
		}
	}
	sort.Strings(lv)
	return lv
}

// glmFit runs R's glm.fit IRLS on the used rows; xcols[0] == nil is the
// intercept.
func (d *Design) glmFit(names []string, xcols [][]float64, y []float64, used []bool, wmean float64, family Family) (*Regression, error) {
	var rows []int
	for i, u := range used {
		if u {
			rows = append(rows, i)
		}
	}
	n, p := len(rows), len(names)
	if n <= p {
		return nil, fmt.Errorf("regression: %d usable rows for %d coefficients", n, p)
	}
	X := mat.NewDense(n, p, nil)
	prior := make([]float64, n)
	yy := make([]float64, n)
	for k, i := range rows {
		for j := 0; j < p; j++ {
			v := 1.0
			if xcols[j] != nil {
				v = xcols[j][i]
			}
			X.Set(k, j, v)
		}
		prior[k] = d.w[i] / wmean
		yy[k] = y[i]
	}
	lk := linkFor(family)
	eta := make([]float64, n)
	mu := make([]float64, n)
	for k := range yy {
		var ms float64
		switch family {
		case Quasibinomial:
			ms = (prior[k]*yy[k] + 0.5) / (prior[k] + 1)
		case Poisson, Quasipoisson:
			ms = yy[k] + 0.1 // R: poisson()$initialize
		default:
			ms = yy[k]
		}
		eta[k] = lk.linkfun(ms)
		mu[k] = lk.linkinv(eta[k])
	}
	devold := lk.deviance(yy, mu, prior)
	wx := mat.NewDense(n, p, nil)
	wz := mat.NewVecDense(n, nil)
	w := make([]float64, n)
	coef := mat.NewVecDense(p, nil)
	var qr mat.QR
	conv := false
	for iter := 0; iter < 25; iter++ {
		for k := range yy {
			me := lk.muEta(eta[k])
			z := eta[k] + (yy[k]-mu[k])/me
			w[k] = math.Sqrt(prior[k] * me * me / lk.variance(mu[k]))
			for j := 0; j < p; j++ {
				wx.Set(k, j, X.At(k, j)*w[k])
			}
			wz.SetVec(k, z*w[k])
		}
		qr.Factorize(wx)
		if err := qr.SolveVecTo(coef, false, wz); err != nil {
			return nil, fmt.Errorf("regression: the model matrix is singular (%v)", err)
		}
		for k := range yy {
			var e float64
			for j := 0; j < p; j++ {
				e += X.At(k, j) * coef.AtVec(j)
			}
			eta[k] = e
			mu[k] = lk.linkinv(e)
		}
		dev := lk.deviance(yy, mu, prior)
		if math.IsNaN(dev) || math.IsInf(dev, 0) {
			return nil, fmt.Errorf("regression: the deviance is not finite; IRLS diverged")
		}
		if math.Abs(dev-devold)/(0.1+math.Abs(dev)) < 1e-8 {
			conv = true
			break
		}
		devold = dev
	}
	if !conv {
		return nil, fmt.Errorf("regression: IRLS did not converge in 25 iterations")
	}
	// A⁻¹ = (R'R)⁻¹ from the last QR.
	var Rd mat.Dense
	qr.RTo(&Rd)
	R := mat.NewTriDense(p, mat.Upper, nil)
	for a := 0; a < p; a++ {
		for b := a; b < p; b++ {
			R.SetTri(a, b, Rd.At(a, b))
		}
	}
	var Rinv mat.TriDense
	if err := Rinv.InverseTri(R); err != nil {
		return nil, fmt.Errorf("regression: the model matrix is singular (%v)", err)
	}
	var Ainv mat.Dense
	Ainv.Mul(&Rinv, Rinv.T())
	// Scores: estfun · A⁻¹, estfun_i = x_i · working residual · w_i².
	z := make([][]float64, p)
	for j := range z {
		z[j] = make([]float64, d.n)
	}
	ef := make([]float64, p)
	for k, i := range rows {
		res := (yy[k] - mu[k]) / lk.muEta(eta[k])
		for j := 0; j < p; j++ {
			ef[j] = X.At(k, j) * res * w[k] * w[k]
		}
		for j := 0; j < p; j++ {
			var s float64
			for l := 0; l < p; l++ {
				s += ef[l] * Ainv.At(l, j)
			}
			z[j][i] = s
		}
	}
	v, err := d.vcov(z, used)
	if err != nil {
		return nil, err
	}
	df := d.DF(used) + 1 - p
	reg := &Regression{Family: family, DF: df, N: n, Vcov: v, naive: Ainv.RawMatrix().Data, dispersion: 1}
	if family == Gaussian || family == Quasibinomial || family == Quasipoisson {
		// summary.glm: Σ w·r²/(n − p) over the working weights and residuals.
		var s float64
		for k := range yy {
			r := (yy[k] - mu[k]) / lk.muEta(eta[k])
			s += w[k] * w[k] * r * r
		}
		reg.dispersion = s / float64(n-p)
	}
	for j := 0; j < p; j++ {
		c := Coefficient{Term: names[j], Estimate: coef.AtVec(j), SE: math.Sqrt(v[j*p+j])}
		c.T = c.Estimate / c.SE
		c.P = tPValue(c.T, df)
		reg.Coefficients = append(reg.Coefficients, c)
	}
	return reg, nil
}

// tPValue is the two-sided p value 2·P(T_df > |t|).
func tPValue(t float64, df int) float64 {
	if df <= 0 || math.IsNaN(t) {
		return math.NaN()
	}
	return 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.CDF(-math.Abs(t))
}

type link struct {
	linkfun, linkinv, muEta, variance func(float64) float64
	deviance                          func(y, mu, wt []float64) float64
}

func linkFor(f Family) link {
	if f == Poisson || f == Quasipoisson {
		return logLink()
	}
	if f == Quasibinomial {
		// R's C code for the logit link (family.c), THRESH = 30.
		const thresh, eps = 30.0, 2.220446049250313e-16
		return link{
			linkfun: func(m float64) float64 { return math.Log(m / (1 - m)) },
			linkinv: func(e float64) float64 {
				var t float64
				switch {
				case e < -thresh:
					t = eps
				case e > thresh:
					t = 1 / eps
				default:
					t = math.Exp(e)
				}
				return t / (1 + t)
			},
			muEta: func(e float64) float64 {
				if e > thresh || e < -thresh {
					return eps
				}
				op := 1 + math.Exp(e)
				return math.Exp(e) / (op * op)
			},
			variance: func(m float64) float64 { return m * (1 - m) },
			deviance: func(y, mu, wt []float64) float64 {
				var s float64
				ylogy := func(a, b float64) float64 {
					if a == 0 {
						return 0
					}
					return a * math.Log(a/b)
				}
				for k := range y {
					s += 2 * wt[k] * (ylogy(y[k], mu[k]) + ylogy(1-y[k], 1-mu[k]))
				}
				return s
			},
		}
	}
	id := func(x float64) float64 { return x }
	return link{
		linkfun: id, linkinv: id,
		muEta:    func(float64) float64 { return 1 },
		variance: func(float64) float64 { return 1 },
		deviance: func(y, mu, wt []float64) float64 {
			var s float64
			for k := range y {
				r := y[k] - mu[k]
				s += wt[k] * r * r
			}
			return s
		},
	}
}
