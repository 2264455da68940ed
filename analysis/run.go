package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Num is a float64 that encodes NaN and ±Inf as JSON null.
type Num float64

// MarshalJSON writes the shortest exact decimal, or null.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number or null (NaN).
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Results is the JSON answer to a plan: {"results": [...]}.
type Results struct {
	Design  DesignSummary `json:"design"`
	Results []Result      `json:"results"`
}

// DesignSummary describes the design the results were computed with.
type DesignSummary struct {
	Rows   int        `json:"rows"`
	PSUs   int        `json:"psus"`
	Strata int        `json:"strata"`
	DF     int        `json:"df"`
	Spec   DesignSpec `json:"spec"`
	// Variance says how standard errors were computed ([Design.VarianceMethod]).
	Variance string `json:"variance"`
}

// Result is one plan entry's answer. Which fields are set depends on Type:
// mean/total/ratio: estimate, se, ci, deff, n; by: domains; proportion (or
// the mean of a text column): levels; compare: difference, se, t, df, p;
// chisq: F, ndf, ddf, p; lm/logit: coefficients; quantile: quantiles.
type Result struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Variable string `json:"variable,omitempty"`
	By       string `json:"by,omitempty"`
	Subset   string `json:"subset,omitempty"`

	Estimate *Num    `json:"estimate,omitempty"`
	SE       *Num    `json:"se,omitempty"`
	CI       []Num   `json:"ci,omitempty"`
	DEff     *Num    `json:"deff,omitempty"`
	N        int     `json:"n,omitempty"`
	DF       *int    `json:"df,omitempty"`
	Levels   []Group `json:"levels,omitempty"`
	Domains  []Group `json:"domains,omitempty"`

	Groups     []string `json:"groups,omitempty"`
	Difference *Num     `json:"difference,omitempty"`
	T          *Num     `json:"t,omitempty"`
	P          *Num     `json:"p,omitempty"`

	F   *Num `json:"F,omitempty"`
	NDF *Num `json:"ndf,omitempty"`
	DDF *Num `json:"ddf,omitempty"`

	Coefficients []CoefficientResult `json:"coefficients,omitempty"`
	Quantiles    []QuantileResult    `json:"quantiles,omitempty"`
}

// Group is one level of a domain or categorical variable.
type Group struct {
	Level     string           `json:"level"`
	Estimate  *Num             `json:"estimate,omitempty"`
	SE        *Num             `json:"se,omitempty"`
	CI        []Num            `json:"ci,omitempty"`
	DEff      *Num             `json:"deff,omitempty"`
	N         int              `json:"n"`
	Levels    []Group          `json:"levels,omitempty"`
	Quantiles []QuantileResult `json:"quantiles,omitempty"`
}

// CoefficientResult is one regression coefficient.
type CoefficientResult struct {
	Term     string `json:"term"`
	Estimate Num    `json:"estimate"`
	SE       Num    `json:"se"`
	T        Num    `json:"t"`
	P        Num    `json:"p"`
}

// QuantileResult is one quantile.
type QuantileResult struct {
	P        Num   `json:"p"`
	Estimate Num   `json:"estimate"`
	SE       Num   `json:"se"`
	CI       []Num `json:"ci"`
	DF       int   `json:"df"` // degrees of freedom of the interval
}

func np(f float64) *Num { n := Num(f); return &n }

// Run evaluates every entry of plan on the table src loads.
func Run(ctx context.Context, plan *Plan, src Source) (*Results, error) {
	t, err := src.Load(ctx, plan.Columns())
	if err != nil {
		return nil, err
	}
	return RunTable(plan, t)
}

// RunTable evaluates every entry of plan on t.
func RunTable(plan *Plan, t *Table) (*Results, error) {
	if plan.Design.File != "" {
		return nil, fmt.Errorf("design: file %s was not read (dotm analyze reads it, relative to the plan)", plan.Design.File)
	}
	return runSpec(plan, t, plan.Design.Spec())
}

// runSpec evaluates every entry of plan on t with the design spec.
func runSpec(plan *Plan, t *Table, spec DesignSpec) (*Results, error) {
	d, err := NewDesign(t, spec)
	if err != nil {
		return nil, err
	}
	out := &Results{Design: DesignSummary{Rows: d.Len(), PSUs: d.PSUs(), Strata: d.Strata(), DF: d.DF(nil), Spec: spec, Variance: d.VarianceMethod()}}
	for i := range plan.Estimates {
		e := &plan.Estimates[i]
		r, err := runOne(d, t, e)
		if err != nil {
			return nil, fmt.Errorf("estimate %s: %w", e.ID, err)
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}

func fromEstimate(e Estimate, deff bool) (est, se *Num, ci []Num, de *Num) {
	est, se = np(e.Estimate), np(e.SE)
	ci = []Num{Num(e.CI[0]), Num(e.CI[1])}
	if deff {
		de = np(e.DEff)
	}
	return
}

func runOne(d *Design, t *Table, e *EstimateSpec) (Result, error) {
	r := Result{ID: e.ID, Type: e.Kind(), By: e.By, Subset: e.Subset}
	var in []bool
	if e.subset != nil {
		m, err := e.subset.mask(t)
		if err != nil {
			return r, fmt.Errorf("subset: %w", err)
		}
		in = m
	}
	df := d.DF(in)
	dfSet, _ := e.dfOverride()
	if dfSet > 0 {
		df = dfSet
	}
	wantDeff := e.Deff == nil || *e.Deff
	// single computes the entry's statistic over domain dom.
	type single func(dom []bool, g *Group) error
	var one single
	switch r.Type {
	case "mean", "total", "proportion":
		name := e.Mean + e.Total + e.Proportion
		r.Variable = name
		col, err := t.Column(name)
		if err != nil {
			return r, err
		}
		if col.IsText() || r.Type == "proportion" {
			if r.Type == "total" {
				return r, fmt.Errorf("column %s is text; a total needs numbers (use proportion)", name)
			}
			r.Type = "proportion"
			f := asFactor(col)
			one = func(dom []bool, g *Group) error {
				lv, err := d.proportions(f, dom, e.NARM, df)
				if err != nil {
					return err
				}
				for _, l := range lv {
					var x Group
					x.Level = l.Level
					x.Estimate, x.SE, x.CI, x.DEff = fromEstimate(l.Estimate, wantDeff)
					x.N = l.N
					g.Levels = append(g.Levels, x)
				}
				return nil
			}
			break
		}
		y := col.Num
		one = func(dom []bool, g *Group) error {
			var est Estimate
			var err error
			if r.Type == "mean" {
				est, err = d.Mean(name, y, dom, e.NARM, df)
			} else {
				est, err = d.Total(name, y, dom, e.NARM, df)
			}
			if err != nil {
				return err
			}
			g.Estimate, g.SE, g.CI, g.DEff = fromEstimate(est, wantDeff)
			g.N = est.N
			return nil
		}
	case "ratio":
		r.Variable = e.Ratio.Numerator + "/" + e.Ratio.Denominator
		y, err := t.numeric(e.Ratio.Numerator)
		if err != nil {
			return r, err
		}
		x, err := t.numeric(e.Ratio.Denominator)
		if err != nil {
			return r, err
		}
		one = func(dom []bool, g *Group) error {
			est, err := d.Ratio(e.Ratio.Numerator, e.Ratio.Denominator, y, x, dom, e.NARM, df)
			if err != nil {
				return err
			}
			g.Estimate, g.SE, g.CI, g.DEff = fromEstimate(est, wantDeff)
			g.N = est.N
			return nil
		}
	case "quantile":
		r.Variable = e.Quantile
		x, err := t.numeric(e.Quantile)
		if err != nil {
			return r, err
		}
		one = func(dom []bool, g *Group) error {
			// R: df = degf(design[!is.na(x), ]) with na.rm, the design's
			// degrees of freedom once the missing rows are removed.
			qdom := dom
			if e.NARM {
				qdom = make([]bool, len(x))
				for i, v := range x {
					qdom[i] = (dom == nil || dom[i]) && !math.IsNaN(v)
				}
			}
			qdf := d.DF(qdom)
			if dfSet > 0 {
				qdf = dfSet
			}
			qs, err := d.Quantiles(e.Quantile, x, e.P, dom, e.NARM, qdf)
			if err != nil {
				return err
			}
			for _, q := range qs {
				g.Quantiles = append(g.Quantiles, QuantileResult{P: Num(q.P), Estimate: Num(q.Estimate), SE: Num(q.SE), CI: []Num{Num(q.CI[0]), Num(q.CI[1])}, DF: q.DF})
			}
			return nil
		}
	case "compare":
		r.Variable = e.Compare
		y, err := t.numeric(e.Compare)
		if err != nil {
			return r, err
		}
		gc, err := t.Column(e.Between)
		if err != nil {
			return r, err
		}
		tt, err := d.Compare(e.Compare, y, gc, e.Levels, in)
		if err != nil {
			return r, err
		}
		r.By = e.Between
		r.Groups = tt.Levels[:]
		r.Difference, r.SE, r.T, r.P = np(tt.Difference), np(tt.SE), np(tt.T), np(tt.P)
		r.CI = []Num{Num(tt.CI[0]), Num(tt.CI[1])}
		r.DF = &tt.DF
		r.N = tt.N
		return r, nil
	case "chisq":
		a, err := t.Column(e.Chisq[0])
		if err != nil {
			return r, err
		}
		b, err := t.Column(e.Chisq[1])
		if err != nil {
			return r, err
		}
		r.Variable = e.Chisq[0] + " × " + e.Chisq[1]
		cs, err := d.ChiSqTest(a, b, in)
		if err != nil {
			return r, err
		}
		r.F, r.NDF, r.DDF, r.P = np(cs.F), np(cs.NDF), np(cs.DDF), np(cs.P)
		return r, nil
	case "lm", "logit":
		fam, formula := Gaussian, e.LM
		if r.Type == "logit" {
			fam, formula = Quasibinomial, e.Logit
		}
		r.Variable = formula
		g, err := d.GLM(t, formula, fam, in)
		if err != nil {
			return r, err
		}
		for _, c := range g.Coefficients {
			r.Coefficients = append(r.Coefficients, CoefficientResult{Term: c.Term, Estimate: Num(c.Estimate), SE: Num(c.SE), T: Num(c.T), P: Num(c.P)})
		}
		r.DF = &g.DF
		r.N = g.N
		return r, nil
	}
	if e.By == "" {
		var g Group
		if err := one(in, &g); err != nil {
			return r, err
		}
		r.Estimate, r.SE, r.CI, r.DEff, r.N = g.Estimate, g.SE, g.CI, g.DEff, g.N
		r.Levels, r.Quantiles = g.Levels, g.Quantiles
		if r.Estimate != nil {
			r.DF = &df
		}
		return r, nil
	}
	bc, err := t.Column(e.By)
	if err != nil {
		return r, err
	}
	f := asFactor(bc)
	dom := make([]bool, t.Len())
	for lv, name := range f.levels {
		any := false
		for i, c := range f.codes {
			dom[i] = c == int32(lv) && (in == nil || in[i])
			any = any || dom[i]
		}
		if !any {
			continue
		}
		g := Group{Level: name}
		if err := one(dom, &g); err != nil {
			return r, fmt.Errorf("%s = %s: %w", e.By, name, err)
		}
		r.Domains = append(r.Domains, g)
	}
	r.DF = &df
	return r, nil
}
