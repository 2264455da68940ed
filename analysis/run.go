package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
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
	DEft     *Num    `json:"deft,omitempty"`
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

	// Statistic names a chisq entry's statistic (F, Chisq, Wald, adjWald);
	// Chisq is Pearson's X² (statistic Chisq, on ndf degrees of freedom).
	Statistic string `json:"statistic,omitempty"`
	Chisq     *Num   `json:"chisq,omitempty"`
	// Tests are a regression's term tests; Contrasts an entry's contrasts.
	Tests     []TermTestResult `json:"tests,omitempty"`
	Contrasts []ContrastResult `json:"contrasts,omitempty"`
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

	DEft *Num `json:"deft,omitempty"`
	// Values are the levels of each by variable when there are several
	// (Level is then R's svyby label, the values joined by ".").
	Values []string `json:"values,omitempty"`
}

// CoefficientResult is one regression coefficient.
type CoefficientResult struct {
	Term     string `json:"term"`
	Estimate Num    `json:"estimate"`
	SE       Num    `json:"se"`
	T        Num    `json:"t"`
	P        Num    `json:"p"`

	// Meff is the misspecification effect (meff: true).
	Meff *Num `json:"meff,omitempty"`
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
	if err := rakeToMargins(t, plan.Design.Spec()); err != nil {
		return nil, err
	}
	return runSpec(plan, t, plan.Design.Spec())
}

// runSpec evaluates every entry of plan on t with the design spec.
func runSpec(plan *Plan, t *Table, spec DesignSpec) (*Results, error) {
	d, err := NewDesign(t, spec)
	if err != nil {
		return nil, err
	}
	// The design's degrees of freedom (a rank over every row of a
	// replicate design) are found while the entries run.
	designDF := make(chan int, 1)
	go func() { designDF <- d.DF(nil) }()
	out := &Results{Design: DesignSummary{Rows: d.Len(), PSUs: d.PSUs(), Strata: d.Strata(), Spec: spec, Variance: d.VarianceMethod()}}
	m := &planMemo{masks: map[string][]bool{}, dfs: map[string]int{}, domains: map[string][]domain{}}
	// The entries are independent: they run on all cores, and their
	// results are kept in the plan's order.
	results := make([]Result, len(plan.Estimates))
	errs := make([]error, len(plan.Estimates))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range plan.Estimates {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			results[i], errs[i] = m.runOne(d, t, &plan.Estimates[i])
		}(i)
	}
	wg.Wait()
	out.Design.DF = <-designDF
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("estimate %s: %w", plan.Estimates[i].ID, err)
		}
	}
	out.Results = results
	return out, nil
}

// single computes an entry's statistic over the domain dom into g.
type single func(dom []bool, g *Group) error

// planMemo keeps, for the entries of one plan on one design, what several
// entries share: a subset's rows and degrees of freedom and the domains of
// a by over a subset (a plan of five means overall and by migrant status
// among complete cases computes each once, not five times). The masks are
// read-only once made.
type planMemo struct {
	mu      sync.Mutex // held while a shared value is made, so it is made once
	masks   map[string][]bool
	dfs     map[string]int
	domains map[string][]domain
}

func runOne(d *Design, t *Table, e *EstimateSpec) (Result, error) {
	return (&planMemo{masks: map[string][]bool{}, dfs: map[string]int{}, domains: map[string][]domain{}}).runOne(d, t, e)
}

func (m *planMemo) runOne(d *Design, t *Table, e *EstimateSpec) (Result, error) {
	r := Result{ID: e.ID, Type: e.Kind(), By: strings.Join(e.By, " × "), Subset: e.Subset}
	var in []bool
	m.mu.Lock()
	if e.subset != nil {
		mask, ok := m.masks[e.Subset]
		if !ok {
			var err error
			if mask, err = e.subset.mask(t); err != nil {
				m.mu.Unlock()
				return r, fmt.Errorf("subset: %w", err)
			}
			m.masks[e.Subset] = mask
		}
		in = mask
	}
	df, ok := m.dfs[e.Subset]
	if !ok {
		df = d.DF(in)
		m.dfs[e.Subset] = df
	}
	m.mu.Unlock()
	dfSet, _ := e.dfOverride()
	if dfSet > 0 {
		df = dfSet
	}
	var one single
	switch r.Type {
	case "mean", "total", "proportion":
		name, asFac := factorArg(e.Mean+e.Total+e.Proportion), strings.HasPrefix(e.Mean+e.Total, "factor(")
		r.Variable = name
		col, err := t.Column(name)
		if err != nil {
			return r, err
		}
		if col.IsText() || asFac || r.Type == "proportion" {
			f := asFactor(col)
			levels := d.proportions
			if r.Type == "total" {
				levels = d.levelTotals // R: svytotal of a factor
			} else {
				r.Type = "proportion"
			}
			one = func(dom []bool, g *Group) error {
				lv, err := levels(f, dom, e.NARM, df)
				if err != nil {
					return err
				}
				for _, l := range lv {
					x := Group{Level: l.Level}
					e.fill(&x, l.Estimate)
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
			e.fill(g, est)
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
			e.fill(g, est)
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
			qs, err := d.QuantilesWith(e.Quantile, x, e.P, dom, e.NARM, qdf, QuantileOptions{QRule: e.QRule, Interval: e.Interval})
			if err != nil {
				return err
			}
			for _, q := range qs {
				g.Quantiles = append(g.Quantiles, QuantileResult{P: Num(q.P), Estimate: Num(q.Estimate), SE: Num(q.SE), CI: []Num{Num(q.CI[0]), Num(q.CI[1])}, DF: q.DF})
			}
			return nil
		}
	case "var", "ciprop":
		var err error
		if one, err = statsOne(d, t, e, &r, df, dfSet); err != nil {
			return r, err
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
		cs, err := d.TableTest(a, b, in, e.Statistic)
		if err != nil {
			return r, err
		}
		r.Statistic, r.P = cs.Statistic, np(cs.P)
		if cs.Statistic == "Chisq" {
			r.Chisq, r.NDF = np(cs.Chisq), np(cs.DF)
			return r, nil
		}
		r.F, r.NDF, r.DDF = np(cs.F), np(cs.NDF), np(cs.DDF)
		return r, nil
	case "lm", "logit", "glm":
		fam, formula := Gaussian, e.LM
		switch r.Type {
		case "logit":
			fam, formula = Quasibinomial, e.Logit
		case "glm":
			fam, formula = Family(e.Family), e.GLM
			if fam == "" {
				fam = Gaussian
			}
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
		return r, regressionExtras(&r, e, g)
	}
	if len(e.By) == 0 {
		var g Group
		if err := one(in, &g); err != nil {
			return r, err
		}
		r.Estimate, r.SE, r.CI, r.DEff, r.DEft, r.N = g.Estimate, g.SE, g.CI, g.DEff, g.DEft, g.N
		r.Levels, r.Quantiles = g.Levels, g.Quantiles
		if r.Estimate != nil {
			r.DF = &df
		}
		return r, nil
	}
	domKey := strings.Join(e.By, "\x00") + "\x01" + e.Subset
	m.mu.Lock()
	doms, ok := m.domains[domKey]
	if !ok {
		var err error
		if doms, err = byDomains(t, e.By, in); err != nil {
			m.mu.Unlock()
			return r, err
		}
		m.domains[domKey] = doms
	}
	m.mu.Unlock()
	for _, dm := range doms {
		g := Group{Level: dm.label, Values: dm.values}
		if err := one(dm.in, &g); err != nil {
			return r, fmt.Errorf("%s: %w", dm.describe(e.By), err)
		}
		r.Domains = append(r.Domains, g)
	}
	r.DF = &df
	if len(e.Contrasts) > 0 {
		return r, byContrasts(d, t, e, &r, doms, in, df)
	}
	return r, nil
}
