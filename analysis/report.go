package analysis

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// indicator is one row of the migrant and development indicator report.
type indicator struct {
	id, label, unit string
	// base says what the estimate is per or a share of ("% of households",
	// "per person per month"), count what its n counts ("households").
	base, count    string
	mean, num, den string // mean of mean, or ratio num/den
	subset         string // column that must equal 1
	// subsetIs keeps the households whose column [0] is [1] (a string).
	subsetIs [2]string
	// noBySex leaves out the breakdown by sex of the head, for an
	// indicator that it would make true by definition in one group.
	noBySex bool
	median  bool
}

// The indicators. women_decide is 1 when any decision names a woman,
// which a female head always is: among female-headed households it is true
// by definition, so it is reported for male-headed households only.
var indicators = []indicator{
	{id: "remit_share", label: "Households receiving remittances", unit: "share", base: "% of households", count: "households", mean: "remit_received"},
	{id: "remit_mean", label: "Remittances received, among receivers (12 months)", unit: "local currency", base: "per receiving household, last 12 months", count: "households receiving remittances", mean: "remit_amount", subset: "remit_received"},
	{id: "cons_mean", label: "Consumption per capita, mean (monthly)", unit: "local currency", base: "per person per month", count: "households", mean: "cons_pc"},
	{id: "cons_median", label: "Consumption per capita, median (monthly)", unit: "local currency", base: "per person per month", count: "households", mean: "cons_pc", median: true},
	{id: "bank", label: "Households with a bank account", unit: "share", base: "% of households", count: "households", mean: "bank_account"},
	{id: "enrolled", label: "Children 6–17 enrolled in school", unit: "share of children", base: "% of children aged 6–17", count: "households with children aged 6–17", num: "children_enrolled", den: "children_6_17"},
	{id: "health_exp", label: "Health expenditure (monthly)", unit: "local currency", base: "per household per month", count: "households", mean: "health_exp"},
	{id: "women_decide", label: "A woman takes part in major decisions, in male-headed households", unit: "share", base: "% of male-headed households", count: "male-headed households", mean: "women_decide", subsetIs: [2]string{"head_sex", "male"}, noBySex: true},
}

// Reliability: an estimate on fewer than MinReliableN cases, or with a
// coefficient of variation (SE / |estimate|) above MaxReliableCV, is
// flagged as unreliable, the convention statistical offices publish with.
const (
	MinReliableN  = 30
	MaxReliableCV = 0.30
)

// Report is the migrant and development indicator report: each indicator
// by household migration status and by sex of the household head, with
// differences from non-migrant (and male-headed) households.
type Report struct {
	// Meta describes the survey round; the caller fills it (WithMeta),
	// the design's part is filled by IndicatorReport.
	Meta SurveyMeta `json:"meta"`
	// Summary is the headline: the largest significant differences
	// between migrant and non-migrant households, in sentences.
	Summary    []string          `json:"summary"`
	Design     DesignSummary     `json:"design"`
	Groups     []ReportGroupSize `json:"groups"`
	Indicators []IndicatorResult `json:"indicators"`
	// Countries is the cross-country page of a stack of surveys.
	Countries *CountryComparison `json:"countries,omitempty"`
}

// SurveyMeta is what a reader needs to know about the survey round behind
// a report. Empty fields are left out of it.
type SurveyMeta struct {
	Country string `json:"country,omitempty"`
	Round   string `json:"round,omitempty"`
	// FieldworkStart and FieldworkEnd are dates (YYYY-MM-DD).
	FieldworkStart string `json:"fieldwork_start,omitempty"`
	FieldworkEnd   string `json:"fieldwork_end,omitempty"`
	// Households selected, interviewed (any outcome reached in the field)
	// and responding (a complete interview with consent, approved).
	Selected    int `json:"households_selected,omitempty"`
	Interviewed int `json:"households_interviewed,omitempty"`
	Responding  int `json:"households_responding,omitempty"`
	// ResponseRate is AAPOR RR1 (complete interviews / eligible selected
	// households), in [0, 1]; 0 when unknown.
	ResponseRate float64 `json:"response_rate,omitempty"`
	Weighting    string  `json:"weighting,omitempty"`
	// Currency is the code or name amounts are in ("LCU", local currency
	// units, when empty).
	Currency string `json:"currency,omitempty"`
}

// WithMeta sets the survey's metadata (and the summary's currency).
func (r *Report) WithMeta(m SurveyMeta) *Report {
	r.Meta = m
	r.Summary = r.headlines(3)
	return r
}

func (r *Report) currency() string {
	if r.Meta.Currency != "" {
		return r.Meta.Currency
	}
	return "LCU"
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
	ID    string `json:"id"`
	Label string `json:"label"`
	// Unit is "share", "share of children" or "local currency"; Base
	// what the estimate is a share of or per ("% of households", "per
	// person per month"); Count what N counts ("households").
	Unit      string          `json:"unit"`
	Base      string          `json:"base"`
	Count     string          `json:"count"`
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
	// CV is SE / |Estimate| (NaN for an estimate of 0); Unreliable says
	// why the estimate is not reliable (fewer than MinReliableN cases, CV
	// above MaxReliableCV), "" when it is.
	CV         Num    `json:"cv"`
	Unreliable string `json:"unreliable,omitempty"`
}

// flag sets CV and Unreliable.
func (g *GroupEstimate) flag() {
	est, se := float64(g.Estimate), float64(g.SE)
	g.CV = Num(math.NaN())
	if est != 0 && !math.IsNaN(est) && !math.IsNaN(se) {
		g.CV = Num(se / math.Abs(est))
	}
	switch {
	case math.IsNaN(est):
	case g.N < MinReliableN:
		g.Unreliable = fmt.Sprintf("%d cases, fewer than %d", g.N, MinReliableN)
	case float64(g.CV) > MaxReliableCV:
		g.Unreliable = fmt.Sprintf("CV %.0f%%, above %.0f%%", 100*float64(g.CV), 100*MaxReliableCV)
	}
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
		res := IndicatorResult{ID: ind.id, Label: ind.label, Unit: ind.unit, Base: ind.base, Count: ind.count}
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
		if ind.subsetIs[0] != "" {
			c, err := t.Column(ind.subsetIs[0])
			if err != nil {
				return nil, err
			}
			f := asFactor(c)
			if sub == nil {
				sub = make([]bool, d.n)
				for i := range sub {
					sub[i] = true
				}
			}
			for i, code := range f.codes {
				sub[i] = sub[i] && code >= 0 && f.levels[code] == ind.subsetIs[1]
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
		res.All.flag()
		for gi, g := range groupings {
			if gi == 1 && ind.noBySex {
				continue
			}
			for _, lv := range g.order {
				ge, err := estimate(masks[g.col.Name+"="+lv], lv)
				estimated := err == nil
				if !estimated {
					ge = missing(lv, err)
				}
				ge.Reference = lv == g.ref
				ge.flag()
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
	rep.Summary = rep.headlines(3)
	if rep.Countries, err = d.crossCountry(t, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// headlines are n sentences on the largest differences between a migrant
// group and non-migrant households that are significant (p < 0.05), with
// at least MinReliableN cases on both sides and a reliable migrant-group
// estimate, largest first by the size of the difference relative to the
// non-migrant value. A non-migrant value that is unreliable by its CV
// (a small share) says so.
func (r *Report) headlines(n int) []string {
	type cand struct {
		rel  float64
		text string
	}
	var cs []cand
	for _, ind := range r.Indicators {
		var ref *GroupEstimate
		for k := range ind.ByMigrant {
			if ind.ByMigrant[k].Reference {
				ref = &ind.ByMigrant[k]
			}
		}
		if ref == nil || ref.N < MinReliableN || float64(ref.Estimate) == 0 || math.IsNaN(float64(ref.Estimate)) {
			continue
		}
		refText := r.value(ind.Unit, float64(ref.Estimate))
		if ref.Unreliable != "" {
			refText += " (unreliable: " + ref.Unreliable + ")"
		}
		for _, g := range ind.ByMigrant {
			if g.Diff == nil || !(float64(g.Diff.P) < 0.05) || g.Unreliable != "" {
				continue
			}
			rel := math.Abs(float64(g.Diff.Difference) / float64(ref.Estimate))
			more := "more"
			if g.Diff.Difference < 0 {
				more = "less"
			}
			var diff string
			if strings.HasPrefix(ind.Unit, "share") {
				diff = fmt.Sprintf("%s percentage points", signed(100*float64(g.Diff.Difference), 1))
			} else {
				diff = fmt.Sprintf("%s, %.0f%% %s", r.money(float64(g.Diff.Difference), true), 100*rel, more)
			}
			text := fmt.Sprintf("%s: %s in %s households against %s in non-migrant households (%s; p %s).",
				ind.Label, r.value(ind.Unit, float64(g.Estimate)), strings.ToLower(groupLabels[g.Group]), refText, diff, pText(float64(g.Diff.P)))
			cs = append(cs, cand{rel, text})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].rel > cs[j].rel })
	out := []string{}
	for i := 0; i < n && i < len(cs); i++ {
		out = append(out, cs[i].text)
	}
	return out
}

// value formats an estimate of the unit: a share as a percentage, an
// amount with thousands separators and the currency.
func (r *Report) value(unit string, v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if strings.HasPrefix(unit, "share") {
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	return r.money(v, false)
}

// money is an amount with thousands separators and the currency: whole
// units from 100 up, one decimal below; sign forces a + or −.
func (r *Report) money(v float64, sign bool) string {
	return r.currency() + " " + amount(v, sign)
}

// amount is v with thousands separators (whole units from 100 up, one
// decimal below), with a sign when sign is set.
func amount(v float64, sign bool) string {
	if math.IsNaN(v) {
		return "–"
	}
	neg := v < 0
	a := math.Abs(v)
	var s string
	if a >= 100 {
		s = thousands(int64(math.Round(a)))
	} else {
		s = fmt.Sprintf("%.1f", a)
	}
	switch {
	case neg:
		s = "−" + s
	case sign:
		s = "+" + s
	}
	return s
}

// signed is v with d decimals and its sign (+ or −).
func signed(v float64, d int) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', d, 64)
	if v < 0 {
		return "−" + s
	}
	return "+" + s
}

// pText is a p-value as a sentence writes it: "< 0.001" or "= 0.012".
func pText(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("= %.3f", p)
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

// reportFont is the one font family of the report: the charts are drawn
// with Liberation Sans (metric-compatible with Arial and Helvetica, which
// the page falls back to), and the page's text uses the same family.
var reportFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// reportFontCSS is reportFont as a CSS font-family list.
const reportFontCSS = `"Liberation Sans",Arial,Helvetica,sans-serif`

// plainTicks labels an axis's ticks as the tables write numbers: thousands
// separated, no trailing zeros ("0", "25", "1 500 000").
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label == "" {
			continue
		}
		if v := ts[i].Value; math.Abs(v) >= 1000 {
			ts[i].Label = amount(v, false)
		} else {
			ts[i].Label = strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), "-", "−", 1)
		}
	}
	return ts
}

// chartSVG draws one indicator: estimates with 95% CIs for every group.
// Shares are drawn as percentages on an axis from 0; amounts with
// thousands separators and the currency. An unreliable estimate is a
// hollow dot.
func chartSVG(ind IndicatorResult, currency string) ([]byte, error) {
	p := plot.New()
	share := strings.HasPrefix(ind.Unit, "share")
	scale := 1.0
	p.Title.Text = ind.Label
	for _, st := range []*text.Style{&p.Title.TextStyle, &p.Y.Label.TextStyle, &p.X.Label.TextStyle, &p.Y.Tick.Label, &p.X.Tick.Label} {
		size := st.Font.Size
		st.Font = reportFont
		st.Font.Size = size
	}
	p.Title.TextStyle.Font.Size = vg.Points(11)
	if share {
		scale = 100
		p.Y.Label.Text = ind.Base
	} else {
		p.Y.Label.Text = currency + " " + ind.Base
	}
	p.Y.Tick.Marker = plainTicks{}
	p.Y.Label.TextStyle.Font.Size = vg.Points(9)
	p.Y.Tick.Label.Font.Size = vg.Points(9)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Add(plotter.NewGrid())
	groups := append(append([]GroupEstimate{ind.All}, ind.ByMigrant...), ind.BySex...)
	all := "All households"
	if ind.Count != "households" && ind.Count != "" {
		all = "All " + ind.Count
	}
	var names []string
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, g := range groups {
		name := groupLabels[g.Group]
		if k == 0 {
			name = all
		}
		names = append(names, wrapLabel(name, 9))
		c := colorMigrant
		switch {
		case k == 0:
			c = colorAll
		case k > len(ind.ByMigrant):
			c = colorSex
		}
		est := scale * float64(g.Estimate)
		if math.IsNaN(est) || math.IsInf(est, 0) {
			continue // no estimate for this group: its tick stays, without a point
		}
		l, h := scale*float64(g.CI[0]), scale*float64(g.CI[1])
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
		if g.Unreliable != "" {
			sc.GlyphStyle.Shape = draw.RingGlyph{}
			eb.LineStyle.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
		}
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
	if share {
		// a share's axis starts at zero and ends at 100% at most
		p.Y.Min = 0
		p.Y.Max = math.Max(math.Min(100, hi+pad), hi)
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

// wrapLabel breaks a tick label into lines of about width characters.
func wrapLabel(s string, width int) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(s) {
		if i > 0 {
			if line+1+utf8.RuneCountInString(w) > width {
				b.WriteByte('\n')
				line = 0
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(w)
		line += utf8.RuneCountInString(w)
	}
	return b.String()
}

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	// f is an estimate, SE or CI bound: a share in % (one decimal), an
	// amount with thousands separators (the unit line names the currency).
	"f": func(u string, n Num) string {
		v := float64(n)
		if math.IsNaN(v) {
			return "–"
		}
		if strings.HasPrefix(u, "share") {
			return fmt.Sprintf("%.1f%%", 100*v)
		}
		return amount(v, false)
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
			return signed(100*v, 1) + " pp"
		}
		return amount(v, true)
	},
	"fs": func(u string, n Num) string {
		if strings.HasPrefix(u, "share") {
			return fmt.Sprintf("%.1f pp", 100*float64(n))
		}
		return amount(float64(n), false)
	},
	"unit": func(ind IndicatorResult, cur string) string {
		if strings.HasPrefix(ind.Unit, "share") {
			return ind.Base
		}
		return cur + " " + ind.Base
	},
	"n":     func(x int) string { return thousands(int64(x)) },
	"label": func(s string) string { return groupLabels[s] },
	"safe":  func(s string) template.HTML { return template.HTML(s) },
	"svg":   func(b []byte) template.HTML { return template.HTML(b) },
	"pct":   func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) },
	"int":   func(n Num) string { return thousands(int64(math.Round(float64(n)))) },
	"font":  func() template.CSS { return template.CSS(reportFontCSS) },
	"minN":  func() int { return MinReliableN },
	"maxCV": func() string { return fmt.Sprintf("%.0f%%", 100*MaxReliableCV) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Migration and development indicators{{with .R.Meta.Round}}: {{.}}{{end}}</title>
<style>
body{font-family:{{font}};margin:0 auto;max-width:1180px;padding:24px 28px;color:#1d1d1d;line-height:1.4}
.chart svg,.chart svg *{font-family:{{font}}!important}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #1f5f9e;padding-bottom:3px}
h3{font-size:15px;margin:18px 0 2px}
.sub{color:#555;margin:0 0 16px}
.headline{font-size:15px;background:#f1f6fb;border-left:4px solid #1f5f9e;padding:8px 16px 8px 30px;margin:8px 0}
.headline li{margin:4px 0}
table{border-collapse:collapse;font-size:13px;margin:6px 0 14px;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #e2e2e2;text-align:right;white-space:nowrap}
th{background:#f1f4f8;font-weight:600}td:first-child,th:first-child{text-align:left}
tr.ref td{color:#555}table.est{table-layout:fixed}td.c{text-align:center;color:#777;white-space:normal}
tr.unreliable td{color:#8a6d3b;font-style:italic}
.unitline{color:#555;font-size:12.5px;margin:0 0 2px}
table.meta{width:auto}table.meta td{text-align:left;white-space:normal}table.meta td:first-child{color:#555;padding-right:18px}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:10px 18px}
.chart{border:1px solid #e4e4e4;border-radius:4px;padding:4px;background:#fff}
.chart svg{width:100%;height:auto;display:block}
.legend span{display:inline-block;width:11px;height:11px;border-radius:6px;margin:0 5px 0 12px;vertical-align:-1px}
.legend span.ring{background:#fff!important;border:2px solid #1f5f9e;width:8px;height:8px}
.note{font-size:13px;color:#333;background:#f7f7f4;border-left:4px solid #bbb;padding:8px 14px}
.sizes td,.sizes th{width:1%}
section.ind{break-inside:avoid;page-break-inside:avoid}
@page{size:A4;margin:14mm 12mm}
@media print{
 body{max-width:none;padding:0;font-size:11px}
 h1{font-size:20px}h2{font-size:15px;margin:14px 0 6px;break-after:avoid;page-break-after:avoid}
 h3{break-after:avoid;page-break-after:avoid}
 table{font-size:9.5px}th,td{padding:2px 4px}
 .charts{grid-template-columns:1fr 1fr;gap:6px 10px}
 .chart{break-inside:avoid;page-break-inside:avoid;border:none;padding:0}
 .headline,.note{break-inside:avoid;page-break-inside:avoid}
 .headline,tr.ref td,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
</style></head><body>
<h1>Migration and development indicators</h1>
<p class="sub">{{with .R.Meta.Round}}{{.}}{{with $.R.Meta.Country}}, {{.}}{{end}}. {{end}}Design-based estimates by household migration status and by sex of the household head, with 95% confidence intervals and tests of the difference from non-migrant (or male-headed) households.</p>

<h2>Summary</h2>
{{if .R.Summary}}<ul class="headline">{{range .R.Summary}}<li>{{.}}</li>{{end}}</ul>
<p class="sub">The largest differences between migrant and non-migrant households, relative to the non-migrant value, among those significant at 5% and estimated reliably.</p>
{{else}}<p class="sub">No difference between migrant and non-migrant households is significant at 5% with reliable estimates.</p>{{end}}

<h2>The survey</h2>
<table class="meta">
{{with .R.Meta.Country}}<tr><td>Country</td><td>{{.}}</td></tr>{{end}}
{{with .R.Meta.Round}}<tr><td>Survey round</td><td>{{.}}</td></tr>{{end}}
{{if .R.Meta.FieldworkStart}}<tr><td>Fieldwork</td><td>{{.R.Meta.FieldworkStart}} to {{.R.Meta.FieldworkEnd}}</td></tr>{{end}}
{{if .R.Meta.Selected}}<tr><td>Households selected</td><td>{{n .R.Meta.Selected}}</td></tr>{{end}}
{{if .R.Meta.Interviewed}}<tr><td>Households visited with an outcome</td><td>{{n .R.Meta.Interviewed}}</td></tr>{{end}}
<tr><td>Households in the analysis</td><td>{{n .R.Design.Rows}} in {{n .R.Design.PSUs}} primary sampling units (enumeration areas) and {{.R.Design.Strata}} strata</td></tr>
{{if .R.Meta.ResponseRate}}<tr><td>Response rate (AAPOR RR1)</td><td>{{pct .R.Meta.ResponseRate}}{{if .R.Meta.Responding}} ({{n .R.Meta.Responding}} complete interviews of {{n .R.Meta.Selected}} selected households){{end}}</td></tr>{{end}}
<tr><td>Weighting</td><td>{{with .R.Meta.Weighting}}{{.}}{{else}}{{if .R.Design.Spec.Weight}}weights <code>{{.R.Design.Spec.Weight}}</code>{{else}}unweighted{{end}}{{end}}</td></tr>
<tr><td>Variance estimation</td><td>{{.R.Design.Variance}}; 95% intervals on {{.R.Design.DF}} design degrees of freedom</td></tr>
<tr><td>Amounts</td><td>{{.Cur}}, with thousands separated by a thin space</td></tr>
</table>
<h3>Sample by group</h3>
<table class="sizes"><tr><th>Group</th><th>Households in sample</th><th>Estimated households</th></tr>
{{range .R.Groups}}<tr><td>{{label .Level}}</td><td>{{n .N}}</td><td>{{int .Population}}</td></tr>{{end}}
</table>

<h2>Charts</h2>
<p class="legend">Dots: estimates; bars: 95% confidence intervals; shares in % on an axis from 0.<span style="background:#444"></span>All households<span style="background:#1f5f9e"></span>By migration status<span style="background:#c85a12"></span>By sex of head<span class="ring"></span>Unreliable (dashed bar)</p>
<div class="charts">{{range .Charts}}<div class="chart">{{svg .}}</div>{{end}}</div>

<h2>Estimates</h2>
<p class="sub">† Unreliable: fewer than {{minN}} cases or a coefficient of variation above {{maxCV}}; interpret with caution.</p>
{{range .R.Indicators}}{{$u := .Unit}}<section class="ind">
<h3>{{.Label}}</h3>
<p class="unitline">Unit: {{unit . $.Cur}}; n counts {{.Count}}.</p>
<table class="est"><colgroup><col style="width:17%"><col style="width:10%"><col style="width:7%"><col style="width:16%"><col style="width:6%"><col style="width:12%"><col style="width:8%"><col style="width:7%"><col style="width:5%"><col style="width:12%"></colgroup>
<tr><th>Group</th><th>Estimate</th><th>SE</th><th>95% CI</th><th>n</th><th>Difference</th><th>SE</th><th>t</th><th>df</th><th>p</th></tr>
<tr class="ref{{if .All.Unreliable}} unreliable{{end}}"{{with .All.Unreliable}} title="{{.}}"{{end}}><td>{{if eq .Count "households"}}{{label .All.Group}}{{else}}All {{.Count}}{{end}}</td><td>{{f $u .All.Estimate}}{{if .All.Unreliable}} †{{end}}</td><td>{{f $u .All.SE}}</td><td>{{f $u (index .All.CI 0)}} – {{f $u (index .All.CI 1)}}</td><td>{{n .All.N}}</td><td colspan="5" class="c">{{.All.NoTest}}</td></tr>
{{range .ByMigrant}}<tr{{if .Unreliable}} class="unreliable" title="{{.Unreliable}}"{{end}}><td>{{label .Group}}</td><td>{{f $u .Estimate}}{{if .Unreliable}} †{{end}}</td><td>{{f $u .SE}}</td><td>{{f $u (index .CI 0)}} – {{f $u (index .CI 1)}}</td><td>{{n .N}}</td>{{if .Diff}}<td>{{fd $u .Diff.Difference}}{{star .Diff.P}}</td><td>{{fs $u .Diff.SE}}</td><td>{{printf "%.2f" .Diff.T}}</td><td>{{.Diff.DF}}</td><td>{{safe (p .Diff.P)}}</td>{{else if .Reference}}<td colspan="5" class="c">reference{{if .NoTest}}: {{.NoTest}}{{end}}</td>{{else}}<td colspan="5" class="c">{{.NoTest}}</td>{{end}}</tr>
{{end}}{{range .BySex}}<tr{{if .Unreliable}} class="unreliable" title="{{.Unreliable}}"{{end}}><td>{{label .Group}}</td><td>{{f $u .Estimate}}{{if .Unreliable}} †{{end}}</td><td>{{f $u .SE}}</td><td>{{f $u (index .CI 0)}} – {{f $u (index .CI 1)}}</td><td>{{n .N}}</td>{{if .Diff}}<td>{{fd $u .Diff.Difference}}{{star .Diff.P}}</td><td>{{fs $u .Diff.SE}}</td><td>{{printf "%.2f" .Diff.T}}</td><td>{{.Diff.DF}}</td><td>{{safe (p .Diff.P)}}</td>{{else if .Reference}}<td colspan="5" class="c">reference{{if .NoTest}}: {{.NoTest}}{{end}}</td>{{else}}<td colspan="5" class="c">{{.NoTest}}</td>{{end}}</tr>
{{end}}</table></section>
{{end}}
{{if .R.Countries}}{{template "countries" .R.Countries}}{{end}}
<h2>Methods</h2>
<div class="note">
<p>Design: {{n .R.Design.Rows}} households in {{n .R.Design.PSUs}} primary sampling units (PSUs) and {{.R.Design.Strata}} strata{{if .R.Design.Spec.Strata}} (stratum variable <code>{{.R.Design.Spec.Strata}}</code>){{end}}{{if .R.Design.Spec.Weight}}, weights <code>{{.R.Design.Spec.Weight}}</code>{{end}}{{if .R.Design.Spec.FPC}}, finite population correction from <code>{{index .R.Design.Spec.FPC 0}}</code>{{end}}; design degrees of freedom = PSUs − strata = {{.R.Design.DF}}. Variance: {{.R.Design.Variance}}; intervals use Student's t on the design degrees of freedom.</p>
<p>Standard errors use Taylor linearization with the ultimate-cluster variance estimator, as R's survey package (svymean, svyratio, svyquantile, svyttest); estimates for a group keep the full design (households outside the group contribute zeros). Confidence intervals are 95% Student t intervals on the design degrees of freedom. The enrolment rate is the ratio of enrolled children to children aged 6–17. Medians use the weighted empirical quantile with a Woodruff interval; no difference test is shown for them. Differences are group minus reference (non-migrant households; male-headed households; shares in percentage points, pp), tested with a design-based t test on the degrees of freedom of the two groups' PSUs minus strata, minus one. Stars: * p &lt; 0.05, ** p &lt; 0.01, *** p &lt; 0.001. Missing values are left out of each indicator. Women's part in decisions is shown for male-headed households only: a female head takes part in decisions by definition. Estimates on fewer than {{minN}} cases or with a coefficient of variation above {{maxCV}} are marked unreliable (†, hollow dots).</p>
</div>
</body></html>
`))

// WriteHTML writes the report as one self-contained HTML page with inline
// SVG charts.
func (r *Report) WriteHTML(w io.Writer) error {
	var charts [][]byte
	for _, ind := range r.Indicators {
		svg, err := chartSVG(ind, r.currency())
		if err != nil {
			return fmt.Errorf("chart %s: %w", ind.ID, err)
		}
		charts = append(charts, svg)
	}
	return reportTmpl.Execute(w, map[string]any{"R": r, "Charts": charts, "Cur": r.currency()})
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
