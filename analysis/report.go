package analysis

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// indicator is one row of the migrant and development indicator report.
type indicator struct {
	id, label, unit string
	mean, num, den  string // mean of mean, or ratio num/den
	subset          string // column that must equal 1
	median          bool
}

var indicators = []indicator{
	{id: "remit_share", label: "Households receiving remittances", unit: "share", mean: "remit_received"},
	{id: "remit_mean", label: "Remittances received, among receivers (12 months)", unit: "local currency", mean: "remit_amount", subset: "remit_received"},
	{id: "cons_mean", label: "Consumption per capita, mean (monthly)", unit: "local currency", mean: "cons_pc"},
	{id: "cons_median", label: "Consumption per capita, median (monthly)", unit: "local currency", mean: "cons_pc", median: true},
	{id: "bank", label: "Households with a bank account", unit: "share", mean: "bank_account"},
	{id: "enrolled", label: "Children 6–17 enrolled in school", unit: "share of children", num: "children_enrolled", den: "children_6_17"},
	{id: "health_exp", label: "Health expenditure (monthly)", unit: "local currency", mean: "health_exp"},
	{id: "women_decide", label: "A woman takes part in major decisions", unit: "share", mean: "women_decide"},
}

// Report is the migrant and development indicator report: each indicator
// by household migration status and by sex of the household head, with
// differences from non-migrant (and male-headed) households.
type Report struct {
	Design     DesignSummary     `json:"design"`
	Groups     []ReportGroupSize `json:"groups"`
	Indicators []IndicatorResult `json:"indicators"`
	// Countries is the cross-country page of a stack of surveys.
	Countries *CountryComparison `json:"countries,omitempty"`
}

// ReportGroupSize is the sample size and estimated population of a group.
type ReportGroupSize struct {
	Variable   string `json:"variable"`
	Level      string `json:"level"`
	N          int    `json:"n"`
	Population Num    `json:"population"`
}

// IndicatorResult is one indicator for all households and by group.
type IndicatorResult struct {
	ID        string          `json:"id"`
	Label     string          `json:"label"`
	Unit      string          `json:"unit"`
	All       GroupEstimate   `json:"all"`
	ByMigrant []GroupEstimate `json:"by_migrant"`
	BySex     []GroupEstimate `json:"by_head_sex"`
}

// GroupEstimate is an indicator in one group, with the test of its
// difference from the reference group (non-migrant, male head).
type GroupEstimate struct {
	Group    string `json:"group"`
	Estimate Num    `json:"estimate"`
	SE       Num    `json:"se"`
	CI       [2]Num `json:"ci"`
	N        int    `json:"n"`
	// Reference marks the group differences are taken from.
	Reference bool      `json:"reference,omitempty"`
	Diff      *DiffTest `json:"difference,omitempty"`
	// NoTest says why a group other than the reference has no Diff.
	NoTest string `json:"no_test,omitempty"`
}

// DiffTest is a design-based difference from a reference group.
type DiffTest struct {
	Versus     string `json:"versus"`
	Difference Num    `json:"difference"`
	SE         Num    `json:"se"`
	T          Num    `json:"t"`
	DF         int    `json:"df"`
	P          Num    `json:"p"`
}

// IndicatorColumns lists the columns the indicator report reads.
func IndicatorColumns(spec DesignSpec) []string {
	cols := []string{"migrant", "head_sex", "remit_received", "remit_amount", "cons_pc", "bank_account",
		"children_enrolled", "children_6_17", "health_exp", "women_decide"}
	seen := map[string]bool{}
	for _, c := range cols {
		seen[c] = true
	}
	for _, c := range spec.Columns() {
		if !seen[c] {
			seen[c] = true
			cols = append(cols, c)
		}
	}
	return cols
}

// ParseReportPlan reads a plan for a report: data (or survey) and design;
// estimates are optional and ignored.
func ParseReportPlan(b []byte) (*Plan, error) {
	var p Plan
	if err := decodeStrict(b, &p); err != nil {
		return nil, err
	}
	if err := p.check(false); err != nil {
		return nil, err
	}
	return &p, nil
}

// IndicatorReport computes the report on t with the design spec. Means and
// shares use svymean, the enrolment rate svyratio, the median svyquantile;
// differences use svyttest (means) or the linearized difference of the two
// domain ratios, on design df − 1 of the two groups' PSUs. Medians have no
// difference test.
func IndicatorReport(t *Table, spec DesignSpec) (*Report, error) {
	d, err := NewDesign(t, spec)
	if err != nil {
		return nil, err
	}
	mig, err := t.Column("migrant")
	if err != nil {
		return nil, err
	}
	sex, err := t.Column("head_sex")
	if err != nil {
		return nil, err
	}
	rep := &Report{Design: DesignSummary{Rows: d.Len(), PSUs: d.PSUs(), Strata: d.Strata(), DF: d.DF(nil), Spec: spec, Variance: d.VarianceMethod()}}
	type grouping struct {
		col   *Column
		order []string
		ref   string
	}
	groupings := []grouping{
		{mig, []string{"current_migrant", "return_migrant", "non_migrant"}, "non_migrant"},
		{sex, []string{"female", "male"}, "male"},
	}
	masks := map[string][]bool{}
	for _, g := range groupings {
		f := asFactor(g.col)
		for _, lv := range g.order {
			k := -1
			for j, l := range f.levels {
				if l == lv {
					k = j
				}
			}
			if k < 0 {
				return nil, fmt.Errorf("column %s has no %q households", g.col.Name, lv)
			}
			m := make([]bool, d.n)
			for i, c := range f.codes {
				m[i] = c == int32(k)
			}
			masks[g.col.Name+"="+lv] = m
			sw, _, nobs := d.sums(nil, m)
			rep.Groups = append(rep.Groups, ReportGroupSize{Variable: g.col.Name, Level: lv, N: nobs, Population: Num(sw)})
		}
	}
	df := d.DF(nil)
	for _, ind := range indicators {
		res := IndicatorResult{ID: ind.id, Label: ind.label, Unit: ind.unit}
		var y, x []float64
		if ind.num != "" {
			if y, err = t.numeric(ind.num); err != nil {
				return nil, err
			}
			if x, err = t.numeric(ind.den); err != nil {
				return nil, err
			}
		} else if y, err = t.numeric(ind.mean); err != nil {
			return nil, err
		}
		var sub []bool
		if ind.subset != "" {
			s, err := t.numeric(ind.subset)
			if err != nil {
				return nil, err
			}
			sub = make([]bool, d.n)
			for i, v := range s {
				sub[i] = v == 1
			}
		}
		and := func(a, b []bool) []bool {
			if a == nil {
				return b
			}
			if b == nil {
				return a
			}
			m := make([]bool, len(a))
			for i := range m {
				m[i] = a[i] && b[i]
			}
			return m
		}
		estimate := func(dom []bool, name string) (GroupEstimate, error) {
			dom = and(dom, sub)
			g := GroupEstimate{Group: name}
			if ind.median {
				qs, err := d.Quantiles(ind.mean, y, []float64{0.5}, dom, true, d.DF(dom))
				if err != nil {
					return g, err
				}
				g.Estimate, g.SE, g.CI = Num(qs[0].Estimate), Num(qs[0].SE), [2]Num{Num(qs[0].CI[0]), Num(qs[0].CI[1])}
				for i, v := range y {
					if (dom == nil || dom[i]) && !math.IsNaN(v) && d.w[i] != 0 {
						g.N++
					}
				}
				return g, nil
			}
			var e Estimate
			var err error
			if ind.num != "" {
				e, err = d.Ratio(ind.num, ind.den, y, x, dom, true, df)
			} else {
				e, err = d.Mean(ind.mean, y, dom, true, df)
			}
			if err != nil {
				return g, err
			}
			g.Estimate, g.SE, g.CI, g.N = Num(e.Estimate), Num(e.SE), [2]Num{Num(e.CI[0]), Num(e.CI[1])}, e.N
			return g, nil
		}
		// A group the data cannot estimate (no household in it, a zero
		// denominator: small samples and pilots) is reported as such, with
		// the reason, instead of failing the whole report.
		missing := func(name string, err error) GroupEstimate {
			nan := Num(math.NaN())
			return GroupEstimate{Group: name, Estimate: nan, SE: nan, CI: [2]Num{nan, nan}, NoTest: "no estimate: " + err.Error()}
		}
		if res.All, err = estimate(nil, "all"); err != nil {
			res.All = missing("all", err)
		}
		for gi, g := range groupings {
			for _, lv := range g.order {
				ge, err := estimate(masks[g.col.Name+"="+lv], lv)
				estimated := err == nil
				if !estimated {
					ge = missing(lv, err)
				}
				ge.Reference = lv == g.ref
				switch {
				case lv == g.ref || !estimated:
				case ind.median:
					ge.NoTest = "no test for medians"
				default:
					dt, err := d.difference(ind, y, x, g.col, g.ref, lv, sub)
					if err != nil {
						ge.NoTest = "no test: " + err.Error()
						break
					}
					if dt.DF < 1 {
						// The two groups' units span no more PSUs than strata:
						// the design leaves no degree of freedom for a t test.
						ge.NoTest = fmt.Sprintf("too few PSUs for a test (design df %d)", dt.DF)
					} else {
						ge.Diff = dt
					}
				}
				if gi == 0 {
					res.ByMigrant = append(res.ByMigrant, ge)
				} else {
					res.BySex = append(res.BySex, ge)
				}
			}
		}
		rep.Indicators = append(rep.Indicators, res)
	}
	if rep.Countries, err = d.crossCountry(t, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// difference tests indicator(level) − indicator(ref).
func (d *Design) difference(ind indicator, y, x []float64, group *Column, ref, level string, sub []bool) (*DiffTest, error) {
	if ind.num == "" {
		tt, err := d.Compare(ind.mean, y, group, []string{ref, level}, sub)
		if err != nil {
			return nil, err
		}
		return &DiffTest{Versus: ref, Difference: Num(tt.Difference), SE: Num(tt.SE), T: Num(tt.T), DF: tt.DF, P: Num(tt.P)}, nil
	}
	// Ratio: linearized scores of the two domain ratios, differenced.
	f := asFactor(group)
	code := func(l string) int32 {
		for k, s := range f.levels {
			if s == l {
				return int32(k)
			}
		}
		return -1
	}
	ca, cb := code(ref), code(level)
	both := make([]bool, d.n)
	ma := make([]bool, d.n)
	mb := make([]bool, d.n)
	for i, c := range f.codes {
		ok := !math.IsNaN(y[i]) && !math.IsNaN(x[i]) && (sub == nil || sub[i])
		ma[i] = ok && c == ca
		mb[i] = ok && c == cb
		both[i] = (c == ca || c == cb) && (sub == nil || sub[i])
	}
	ratio := func(m []bool) (float64, float64, error) {
		_, swx, _ := d.sums(x, m)
		_, swy, _ := d.sums(y, m)
		if swx == 0 {
			return 0, 0, fmt.Errorf("ratio %s/%s: the weighted total of %s is zero", ind.num, ind.den, ind.den)
		}
		return swy / swx, swx, nil
	}
	ra, xa, err := ratio(ma)
	if err != nil {
		return nil, err
	}
	rb, xb, err := ratio(mb)
	if err != nil {
		return nil, err
	}
	z := make([]float64, d.n)
	for i, w := range d.w {
		switch {
		case mb[i]:
			z[i] = w * (y[i] - rb*x[i]) / xb
		case ma[i]:
			z[i] = -w * (y[i] - ra*x[i]) / xa
		}
	}
	v, err := d.vcov([][]float64{z}, both)
	if err != nil {
		return nil, err
	}
	dt := &DiffTest{Versus: ref, Difference: Num(rb - ra), SE: Num(math.Sqrt(v[0]))}
	dt.T = dt.Difference / dt.SE
	dt.DF = d.DF(both) - 1
	dt.P = Num(tPValue(float64(dt.T), dt.DF))
	return dt, nil
}

var (
	colorMigrant = color.RGBA{R: 0x1f, G: 0x5f, B: 0x9e, A: 0xff}
	colorSex     = color.RGBA{R: 0xc8, G: 0x5a, B: 0x12, A: 0xff}
	colorAll     = color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xff}
)

var groupLabels = map[string]string{
	"current_migrant": "Current migrant", "return_migrant": "Return migrant", "non_migrant": "Non-migrant",
	"female": "Female head", "male": "Male head", "all": "All households",
}

// chartSVG draws one indicator: estimates with 95% CIs for every group.
func chartSVG(ind IndicatorResult) ([]byte, error) {
	p := plot.New()
	p.Title.Text = ind.Label
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.Text = ind.Unit
	p.Y.Tick.Label.Font.Size = vg.Points(9)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Add(plotter.NewGrid())
	groups := append(append([]GroupEstimate{ind.All}, ind.ByMigrant...), ind.BySex...)
	var names []string
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, g := range groups {
		names = append(names, strings.Replace(groupLabels[g.Group], " ", "\n", 1))
		c := colorMigrant
		switch {
		case k == 0:
			c = colorAll
		case k > len(ind.ByMigrant):
			c = colorSex
		}
		est := float64(g.Estimate)
		if math.IsNaN(est) || math.IsInf(est, 0) {
			continue // no estimate for this group: its tick stays, without a point
		}
		l, h := float64(g.CI[0]), float64(g.CI[1])
		if math.IsNaN(l) {
			l = est
		}
		if math.IsNaN(h) {
			h = est
		}
		lo, hi = math.Min(lo, l), math.Max(hi, h)
		pts := errPoints{XYs: plotter.XYs{{X: float64(k), Y: est}}, YErrors: plotter.YErrors{{Low: est - l, High: h - est}}}
		eb, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return nil, err
		}
		eb.LineStyle.Color = c
		eb.LineStyle.Width = vg.Points(1.5)
		eb.CapWidth = vg.Points(8)
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Color = c
		sc.GlyphStyle.Radius = vg.Points(3.5)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(eb, sc)
	}
	if math.IsInf(lo, 1) { // no group has an estimate
		lo, hi = 0, 1
	}
	pad := (hi - lo) * 0.15
	if pad == 0 {
		pad = math.Abs(hi)*0.1 + 1e-9
	}
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
	if lo >= 0 && lo-pad < 0 {
		p.Y.Min = 0
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	wt, err := p.WriterTo(5.6*vg.Inch, 3.2*vg.Inch, "svg")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	s := b.Bytes()
	if i := bytes.Index(s, []byte("<svg")); i > 0 {
		s = s[i:]
	}
	return s, nil
}

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"f": func(u string, n Num) string {
		v := float64(n)
		if math.IsNaN(v) {
			return "–"
		}
		if strings.HasPrefix(u, "share") {
			return fmt.Sprintf("%.1f%%", 100*v)
		}
		return fmt.Sprintf("%.1f", v)
	},
	"p": func(n Num) string {
		v := float64(n)
		switch {
		case math.IsNaN(v):
			return "–"
		case v < 0.001:
			return "&lt;0.001"
		}
		return fmt.Sprintf("%.3f", v)
	},
	"star": func(n Num) string {
		switch v := float64(n); {
		case v < 0.001:
			return "***"
		case v < 0.01:
			return "**"
		case v < 0.05:
			return "*"
		}
		return ""
	},
	"fd": func(u string, n Num) string {
		v := float64(n)
		if math.IsNaN(v) {
			return "–"
		}
		if strings.HasPrefix(u, "share") {
			return fmt.Sprintf("%+.1f pp", 100*v)
		}
		return fmt.Sprintf("%+.1f", v)
	},
	"fs": func(u string, n Num) string {
		if strings.HasPrefix(u, "share") {
			return fmt.Sprintf("%.1f pp", 100*float64(n))
		}
		return fmt.Sprintf("%.1f", float64(n))
	},
	"n":     func(x int) string { return thousands(int64(x)) },
	"label": func(s string) string { return groupLabels[s] },
	"safe":  func(s string) template.HTML { return template.HTML(s) },
	"svg":   func(b []byte) template.HTML { return template.HTML(b) },
	"pct":   func(x int, tot int) string { return fmt.Sprintf("%.1f%%", 100*float64(x)/float64(tot)) },
	"int":   func(n Num) string { return thousands(int64(math.Round(float64(n)))) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Migration and development indicators</title>
<style>
body{font-family:"Helvetica Neue",Arial,sans-serif;margin:0 auto;max-width:1180px;padding:24px 28px;color:#1d1d1d;line-height:1.4}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #1f5f9e;padding-bottom:3px}
.sub{color:#555;margin:0 0 16px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 14px;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #e2e2e2;text-align:right;white-space:nowrap}
th{background:#f1f4f8;font-weight:600}td:first-child,th:first-child{text-align:left}
tr.ref td{color:#555}table.est{table-layout:fixed}td.c{text-align:center;color:#777}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:10px 18px}
.chart{border:1px solid #e4e4e4;border-radius:4px;padding:4px;background:#fff}
.chart svg{width:100%;height:auto;display:block}
.legend span{display:inline-block;width:11px;height:11px;border-radius:6px;margin:0 5px 0 12px;vertical-align:-1px}
.note{font-size:13px;color:#333;background:#f7f7f4;border-left:4px solid #bbb;padding:8px 14px}
.sizes td,.sizes th{width:1%}
</style></head><body>
<h1>Migration and development indicators</h1>
<p class="sub">Design-based estimates by household migration status and by sex of the household head, with 95% confidence intervals and tests of the difference from non-migrant (or male-headed) households.</p>

<h2>Sample</h2>
<table class="sizes"><tr><th>Group</th><th>Households in sample</th><th>Estimated households</th></tr>
{{range .R.Groups}}<tr><td>{{label .Level}}</td><td>{{n .N}}</td><td>{{int .Population}}</td></tr>{{end}}
</table>

<h2>Charts</h2>
<p class="legend">Dots: estimates; bars: 95% confidence intervals.<span style="background:#444"></span>All households<span style="background:#1f5f9e"></span>By migration status<span style="background:#c85a12"></span>By sex of head</p>
<div class="charts">{{range .Charts}}<div class="chart">{{svg .}}</div>{{end}}</div>

<h2>Estimates</h2>
{{range .R.Indicators}}{{$u := .Unit}}
<h3 style="font-size:15px;margin:18px 0 2px">{{.Label}} <span style="font-weight:normal;color:#666">({{.Unit}})</span></h3>
<table class="est"><colgroup><col style="width:17%"><col style="width:9%"><col style="width:7%"><col style="width:16%"><col style="width:7%"><col style="width:12%"><col style="width:8%"><col style="width:7%"><col style="width:6%"><col style="width:11%"></colgroup>
<tr><th>Group</th><th>Estimate</th><th>SE</th><th>95% CI</th><th>n</th><th>Difference</th><th>SE</th><th>t</th><th>df</th><th>p</th></tr>
<tr class="ref"><td>{{label .All.Group}}</td><td>{{f $u .All.Estimate}}</td><td>{{f $u .All.SE}}</td><td>{{f $u (index .All.CI 0)}} – {{f $u (index .All.CI 1)}}</td><td>{{.All.N}}</td><td colspan="5" class="c">{{.All.NoTest}}</td></tr>
{{range .ByMigrant}}<tr><td>{{label .Group}}</td><td>{{f $u .Estimate}}</td><td>{{f $u .SE}}</td><td>{{f $u (index .CI 0)}} – {{f $u (index .CI 1)}}</td><td>{{.N}}</td>{{if .Diff}}<td>{{fd $u .Diff.Difference}}{{star .Diff.P}}</td><td>{{fs $u .Diff.SE}}</td><td>{{printf "%.2f" .Diff.T}}</td><td>{{.Diff.DF}}</td><td>{{safe (p .Diff.P)}}</td>{{else if .Reference}}<td colspan="5" class="c">reference{{if .NoTest}}: {{.NoTest}}{{end}}</td>{{else}}<td colspan="5" class="c">{{.NoTest}}</td>{{end}}</tr>
{{end}}{{range .BySex}}<tr><td>{{label .Group}}</td><td>{{f $u .Estimate}}</td><td>{{f $u .SE}}</td><td>{{f $u (index .CI 0)}} – {{f $u (index .CI 1)}}</td><td>{{.N}}</td>{{if .Diff}}<td>{{fd $u .Diff.Difference}}{{star .Diff.P}}</td><td>{{fs $u .Diff.SE}}</td><td>{{printf "%.2f" .Diff.T}}</td><td>{{.Diff.DF}}</td><td>{{safe (p .Diff.P)}}</td>{{else if .Reference}}<td colspan="5" class="c">reference{{if .NoTest}}: {{.NoTest}}{{end}}</td>{{else}}<td colspan="5" class="c">{{.NoTest}}</td>{{end}}</tr>
{{end}}</table>
{{end}}
{{if .R.Countries}}{{template "countries" .R.Countries}}{{end}}
<h2>Methods</h2>
<div class="note">
<p>Design: {{.R.Design.Rows}} households in {{.R.Design.PSUs}} primary sampling units (PSUs) and {{.R.Design.Strata}} strata{{if .R.Design.Spec.Strata}} (stratum variable <code>{{.R.Design.Spec.Strata}}</code>){{end}}{{if .R.Design.Spec.Weight}}, weights <code>{{.R.Design.Spec.Weight}}</code>{{end}}{{if .R.Design.Spec.FPC}}, finite population correction from <code>{{index .R.Design.Spec.FPC 0}}</code>{{end}}; design degrees of freedom = PSUs − strata = {{.R.Design.DF}}. Variance: {{.R.Design.Variance}}; intervals use Student's t on the design degrees of freedom.</p>
<p>Standard errors use Taylor linearization with the ultimate-cluster variance estimator, as R's survey package (svymean, svyratio, svyquantile, svyttest); estimates for a group keep the full design (households outside the group contribute zeros). Confidence intervals are 95% Student t intervals on the design degrees of freedom. The enrolment rate is the ratio of enrolled children to children aged 6–17. Medians use the weighted empirical quantile with a Woodruff interval; no difference test is shown for them. Differences are group minus reference (non-migrant households; male-headed households; shares in percentage points, pp), tested with a design-based t test on the degrees of freedom of the two groups' PSUs minus strata, minus one. Stars: * p &lt; 0.05, ** p &lt; 0.01, *** p &lt; 0.001. Missing values are left out of each indicator.</p>
</div>
</body></html>
`))

// WriteHTML writes the report as one self-contained HTML page with inline
// SVG charts.
func (r *Report) WriteHTML(w io.Writer) error {
	var charts [][]byte
	for _, ind := range r.Indicators {
		svg, err := chartSVG(ind)
		if err != nil {
			return fmt.Errorf("chart %s: %w", ind.ID, err)
		}
		charts = append(charts, svg)
	}
	return reportTmpl.Execute(w, map[string]any{"R": r, "Charts": charts})
}

// thousands formats n with thin-space thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	return b.String()
}
