package analysis

import (
	"fmt"
	"math"
)

// statsOne returns the single-domain computation of a ciprop or var
// entry. df is the entry's degrees of freedom; dfSet > 0 when the plan
// set them, else each domain gets its own (R: degf of the subset design).
func statsOne(d *Design, t *Table, e *EstimateSpec, r *Result, df, dfSet int) (single, error) {
	domDF := func(dom []bool) int {
		if dfSet > 0 {
			return dfSet
		}
		return d.DF(dom)
	}
	switch r.Type {
	case "var":
		r.Variable = e.Var
		x, err := t.numeric(e.Var)
		if err != nil {
			return nil, err
		}
		return func(dom []bool, g *Group) error {
			est, err := d.Variance(e.Var, x, dom, e.NARM, df)
			if err != nil {
				return err
			}
			e.fill(g, est)
			g.DEff = nil
			return nil
		}, nil
	case "ciprop":
		r.Variable = e.CIProp
		col, err := t.Column(e.CIProp)
		if err != nil {
			return nil, err
		}
		y := col.Num
		if col.IsText() || e.Level != "" {
			if e.Level == "" {
				return nil, fmt.Errorf("column %s is text; name the level whose proportion to estimate (level: …)", e.CIProp)
			}
			f := asFactor(col)
			code := int32(-1)
			for k, l := range f.levels {
				if l == e.Level {
					code = int32(k)
				}
			}
			if code < 0 {
				return nil, fmt.Errorf("column %s has no level %q", e.CIProp, e.Level)
			}
			y = make([]float64, len(f.codes))
			for i, c := range f.codes {
				switch {
				case c < 0:
					y[i] = math.NaN()
				case c == code:
					y[i] = 1
				}
			}
			r.Variable = e.CIProp + "=" + e.Level
		}
		return func(dom []bool, g *Group) error {
			est, err := d.CIProp(r.Variable, y, dom, e.NARM, e.Method, domDF(dom))
			if err != nil {
				return err
			}
			e.fill(g, est)
			g.DEff = nil
			return nil
		}, nil
	}
	return nil, fmt.Errorf("unknown statistic %s", r.Type)
}

// TermTestResult is one regression term test (R: regTermTest).
type TermTestResult struct {
	Terms     string `json:"terms"`
	Statistic string `json:"statistic"`
	F         *Num   `json:"F,omitempty"`
	Chisq     Num    `json:"chisq"`
	DF        Num    `json:"df"`
	DDF       *Num   `json:"ddf,omitempty"`
	P         Num    `json:"p"`
}

// ContrastResult is one contrast (R: svycontrast).
type ContrastResult struct {
	Name     string `json:"name"`
	Estimate Num    `json:"estimate"`
	SE       Num    `json:"se"`
	CI       []Num  `json:"ci"`
}

// regressionExtras adds a regression's misspecification effects, term
// tests and contrasts as the entry asks.
func regressionExtras(r *Result, e *EstimateSpec, g *Regression) error {
	if e.Meff {
		for j, m := range g.Meff() {
			r.Coefficients[j].Meff = np(m)
		}
	}
	for _, ts := range e.Tests {
		tt, err := g.TermTest(ts.Terms, ts.Statistic)
		if err != nil {
			return err
		}
		x := TermTestResult{Terms: tt.Terms, Statistic: tt.Statistic, Chisq: Num(tt.Chisq), DF: Num(tt.DF), P: Num(tt.P)}
		if tt.Statistic == "F" {
			x.F, x.DDF = np(tt.F), np(tt.DDF)
		}
		r.Tests = append(r.Tests, x)
	}
	if len(e.Contrasts) == 0 {
		return nil
	}
	items := make([]string, len(g.Coefficients))
	theta := make([]float64, len(g.Coefficients))
	for j, c := range g.Coefficients {
		items[j], theta[j] = c.Term, c.Estimate
	}
	return addContrasts(r, e, items, theta, g.Vcov, g.DF)
}

func addContrasts(r *Result, e *EstimateSpec, items []string, theta, v []float64, df int) error {
	for _, cs := range e.Contrasts {
		c, err := contrast(cs, items, theta, v, df)
		if err != nil {
			return err
		}
		r.Contrasts = append(r.Contrasts, ContrastResult{Name: c.Name, Estimate: Num(c.Estimate), SE: Num(c.SE), CI: []Num{Num(c.CI[0]), Num(c.CI[1])}})
	}
	return nil
}

// byContrasts adds the contrasts of a by entry's domain estimates (means,
// totals or ratios): their joint covariance is that of the domains'
// linearized variables over the design (R: svyratio(…, covmat = TRUE) of
// the domain-indicator products, or svytotal of them; svyby's covmat in
// survey 4.1 leaves the covariances between domains out, which is only
// right when no PSU holds two domains).
func byContrasts(d *Design, t *Table, e *EstimateSpec, r *Result, doms []domain, in []bool, df int) error {
	if d.replicated() {
		return repUnsupported("a contrast of domain estimates")
	}
	var y, x []float64
	var err error
	switch r.Type {
	case "mean", "total":
		if y, err = t.numeric(e.Mean + e.Total); err != nil {
			return err
		}
	case "ratio":
		if y, err = t.numeric(e.Ratio.Numerator); err != nil {
			return err
		}
		if x, err = t.numeric(e.Ratio.Denominator); err != nil {
			return err
		}
	default:
		return fmt.Errorf("contrasts of domains are for means, totals and ratios, not %s", r.Type)
	}
	items := make([]string, len(doms))
	theta := make([]float64, len(doms))
	z := make([][]float64, len(doms))
	for k, dm := range doms {
		g := r.Domains[k]
		items[k], theta[k] = g.Level, val(g.Estimate)
		z[k] = make([]float64, d.n)
		var den float64
		for i, w := range d.w {
			if !dm.in[i] || math.IsNaN(y[i]) || x != nil && math.IsNaN(x[i]) {
				continue
			}
			switch r.Type {
			case "mean":
				den += w
			case "ratio":
				den += w * x[i]
			}
		}
		for i, w := range d.w {
			if !dm.in[i] || math.IsNaN(y[i]) || x != nil && math.IsNaN(x[i]) {
				continue
			}
			switch r.Type {
			case "mean":
				z[k][i] = w * (y[i] - theta[k]) / den
			case "total":
				z[k][i] = w * y[i]
			case "ratio":
				z[k][i] = w * (y[i] - theta[k]*x[i]) / den
			}
		}
	}
	v, err := d.vcov(z, in)
	if err != nil {
		return err
	}
	return addContrasts(r, e, items, theta, v, df)
}
