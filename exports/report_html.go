package exports

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// ReportHTML is the disclosure report as a self-contained page
// (disclosure-report.html: no scripts, styles inline, charts as inline SVG),
// for the data-release committee that signs the release.
const ReportHTML = "disclosure-report.html"

// WriteHTML writes the report for release id as one HTML page: the verdict,
// the risk on the joined data before and after (with a bar chart), per
// table what was found, suppressed, recoded and dropped and why, and the
// information loss with the key indicators released vs full (with a chart
// of each estimate against the full data's confidence interval).
func (r *Report) WriteHTML(w io.Writer, id string) error {
	return reportPage.Execute(w, struct {
		ID string
		*Report
	}{id, r})
}

// bar is one pair of bars (before, after) of the risk chart.
type bar struct {
	Label         string
	Before, After float64
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":  func(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) },
	"num":  func(x float64) string { return fmt.Sprintf("%.4g", x) },
	"join": strings.Join,
	"riskChart": func(r *Report) template.HTML {
		var bars []bar
		for _, t := range r.Tables {
			bars = append(bars, bar{t.Table, t.Before.Global, t.After.Global})
		}
		if h := r.HouseholdRisk; h != nil && len(r.Joint) > 0 {
			var before float64
			for _, j := range r.Joint {
				before = math.Max(before, j.HouseholdBefore.Global)
			}
			bars = append(bars, bar{"household (hier_risk)", before, h.Global})
		}
		return riskSVG(bars, r.MaxRisk)
	},
	"indicatorChart": indicatorSVG,
	"sorted":         func(m map[string]string) []string { return sortedKeys(m) },
	"sortedCarriers": func(m map[string][]string) []string { return sortedKeys(m) },
	"sortedInts":     func(m map[string]int) []string { return sortedKeys(m) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Disclosure report, release {{.ID}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:62em;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.pass{color:#075}.fail{color:#b00}code{font-size:.95em}
.sign{margin-top:3em}.sign td{height:2.5em;min-width:14em}
</style></head><body>
<h1>Disclosure report, release <code>{{.ID}}</code></h1>
<p>Verdict: {{if .Passed}}<strong class="pass">passed</strong>{{else}}<strong class="fail">REFUSED</strong>{{end}}.
k = {{.K}}{{if gt .MaxRisk 0.0}}, maximum global risk {{.MaxRisk}}{{end}}. Risk measure: {{.RiskMethod}}.</p>
{{range .Overrides}}<p><strong>Override:</strong> {{.}}.</p>{{end}}
<p>Household quasi-identifiers: {{join .QuasiIdentifiers ", "}}.</p>

<h2>Risk before and after, on the joined data</h2>
{{riskChart .Report}}
{{if .Joint}}
<p>Each person is measured on their household's released key and their own quasi-identifiers; household risk is sdcMicro's (measure_risk with hid): 1 − Π(1 − r<sub>i</sub>) over the household's people.</p>
<table><tr><th>table</th><th>person quasi-identifiers</th><th>records</th><th>global risk before</th><th>after</th><th>records below k after</th><th>of them in residual households</th><th>household risk before</th><th>after</th><th>expected households re-identified</th></tr>
{{range .Joint}}<tr><td>{{.Table}}</td><td>{{join .PersonKeys ", "}}</td><td class="n">{{.Records}}</td><td class="n">{{num .Before.Global}}</td><td class="n">{{num .After.Global}}</td><td class="n">{{.After.KViolations}}</td><td class="n">{{.Exposed}}</td><td class="n">{{num .HouseholdBefore.Global}}</td><td class="n">{{num .HouseholdAfter.Global}}</td><td class="n">{{num .HouseholdAfter.ExpectedHouseholds}}</td></tr>
{{end}}</table>
{{with .HouseholdRisk}}<p>Over all person-level tables: {{.Households}} households; expected households re-identified {{num .ExpectedHouseholds}}; highest household risk {{num .MaxHousehold}}; sdcMicro's hier_risk {{num .Global}}.</p>{{end}}
{{end}}

{{range .Tables}}
<h2>Table {{.Table}} ({{.Rows}} records)</h2>
{{if .QuasiIdentifiers}}<p>Quasi-identifiers: {{join .QuasiIdentifiers ", "}}.</p>{{end}}
{{if .ReleasedAsIs}}<p>Released as they are, because other released data give them:</p><ul>
{{$m := .ReleasedAsIs}}{{range sorted .ReleasedAsIs}}<li><code>{{.}}</code>: {{index $m .}}</li>{{end}}</ul>{{end}}
{{if .Carriers}}<p>Where else each quasi-identifier can be read (coarsened and suppressed with it):</p><ul>
{{$c := .Carriers}}{{range sortedCarriers .Carriers}}<li><code>{{.}}</code>: {{join (index $c .) "; "}}</li>{{end}}</ul>{{end}}
{{if .Dropped}}<p>Dropped:</p><ul>{{range .Dropped}}<li><code>{{.Column}}</code>: {{.Reason}}</li>{{end}}</ul>{{end}}
{{if .SuppressedTotal}}<p>Suppressed for k-anonymity: {{.SuppressedTotal}} values ({{$s := .Suppressed}}{{range sortedInts .Suppressed}}{{if index $s .}}<code>{{.}}</code> {{index $s .}} {{end}}{{end}}).</p>{{end}}
{{if .Secondary}}<p>Also set to null because they would give suppressed values back: {{$s := .Secondary}}{{range sortedInts .Secondary}}<code>{{.}}</code> {{index $s .}} {{end}}</p>{{end}}
{{with .Suppression}}{{if .Cells}}<p>Local suppression ({{.Method}}): {{.Cells}} cells; lower bound {{.LowerBound}}; greedy heuristic {{.Greedy}}{{if .GreedyBelowK}} (leaving {{.GreedyBelowK}} records below k){{end}}; {{.Exact}} of {{.Blocks}} blocks solved to optimality; {{.Residual}} records no suppression can bring to k.</p>{{end}}{{end}}
<table><tr><th>risk</th><th>before</th><th>after</th><th>after, a blank matching any value</th><th>after, a blank a value of its own</th></tr>
<tr><td>expected re-identifications</td><td class="n">{{num .Before.ExpectedReidentifications}}</td><td class="n">{{num .After.ExpectedReidentifications}}</td><td class="n">{{num .AfterBlanksMatchAny.ExpectedReidentifications}}</td><td class="n">{{num .AfterBlanksAreValues.ExpectedReidentifications}}</td></tr>
<tr><td>global risk</td><td class="n">{{num .Before.Global}}</td><td class="n">{{num .After.Global}}</td><td class="n">{{num .AfterBlanksMatchAny.Global}}</td><td class="n">{{num .AfterBlanksAreValues.Global}}</td></tr>
<tr><td>highest individual risk</td><td class="n">{{num .Before.MaxIndividual}}</td><td class="n">{{num .After.MaxIndividual}}</td><td class="n">{{num .AfterBlanksMatchAny.MaxIndividual}}</td><td class="n">{{num .AfterBlanksAreValues.MaxIndividual}}</td></tr>
<tr><td>records below k</td><td class="n">{{.Before.KViolations}}</td><td class="n">{{.After.KViolations}}</td><td class="n">{{.AfterBlanksMatchAny.KViolations}}</td><td class="n">{{.AfterBlanksAreValues.KViolations}}</td></tr>
<tr><td>sample uniques</td><td class="n">{{.Before.SampleUniques}}</td><td class="n">{{.After.SampleUniques}}</td><td class="n">{{.AfterBlanksMatchAny.SampleUniques}}</td><td class="n">{{.AfterBlanksAreValues.SampleUniques}}</td></tr>
</table>
{{if .ResidualK}}<p>{{.ResidualK}} records stay below k with every value that may be suppressed suppressed; the profile allows them (residual_k).</p>{{end}}
{{range .Problems}}<p class="fail"><strong>Problem:</strong> {{.}}</p>{{end}}
{{end}}

{{with .InformationLoss}}
<h2>Information loss</h2>
<p>{{.SuppressedCells}} values suppressed in all (local and secondary suppression).</p>
<table><tr><th>table</th><th>cells</th><th>suppressed</th><th>secondary</th><th>categories merged (distinct values before → after)</th></tr>
{{range .Tables}}<tr><td>{{.Table}}</td><td class="n">{{.Cells}}</td><td class="n">{{.Suppressed}}</td><td class="n">{{.Secondary}}</td><td>{{range .Merged}}<code>{{.Column}}</code> {{.Before}}→{{.After}} {{end}}</td></tr>
{{end}}</table>
{{if .IndicatorsError}}<p class="fail"><strong>Key indicators not compared:</strong> {{.IndicatorsError}}</p>{{end}}
{{if .Checked}}
<p>Key indicators estimated on the released file (released weights and design) and on the full file: {{.Inside}} of {{.Checked}} released estimates inside the full data's 95% confidence interval.</p>
{{indicatorChart .Indicators}}
<table><tr><th>indicator</th><th>domain</th><th>full</th><th>95% CI</th><th>released</th><th>difference</th><th>inside the CI</th></tr>
{{range .Indicators}}<tr><td>{{.Variable}}</td><td>{{.Domain}}</td><td class="n">{{num .Full}}</td><td class="n">[{{num (index .FullCI 0)}}, {{num (index .FullCI 1)}}]</td><td class="n">{{num .Released}}</td><td class="n">{{num .Difference}}</td><td>{{if .Inside}}yes{{else}}<strong class="fail">no</strong>{{end}}</td></tr>
{{end}}</table>
{{end}}
{{end}}

<table class="sign"><tr><th>Approved for release by</th><th>Role</th><th>Date</th><th>Signature</th></tr><tr><td></td><td></td><td></td><td></td></tr><tr><td></td><td></td><td></td><td></td></tr></table>
</body></html>
`))

// riskSVG draws each bar pair (global risk before in grey, after in blue)
// and the max_risk line, as inline SVG.
func riskSVG(bars []bar, maxRisk float64) template.HTML {
	top := maxRisk
	for _, b := range bars {
		top = math.Max(top, math.Max(b.Before, b.After))
	}
	if top <= 0 {
		top = 1
	}
	const left, rowH, width = 170, 34, 420
	var s strings.Builder
	h := len(bars)*rowH + 30
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="global risk before and after, per table">`, left+width+80, h)
	for i, b := range bars {
		y := i*rowH + 4
		fmt.Fprintf(&s, `<text x="%d" y="%d" font-size="12" text-anchor="end">%s</text>`, left-6, y+20, template.HTMLEscapeString(b.Label))
		wb, wa := b.Before/top*width, b.After/top*width
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%.1f" height="12" fill="#bbb"><title>before %.4g</title></rect>`, left, y+4, wb, b.Before)
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%.1f" height="12" fill="#2a6ebb"><title>after %.4g</title></rect>`, left, y+17, wa, b.After)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" font-size="11">%.4g → %.4g</text>`, float64(left)+math.Max(wb, wa)+4, y+20, b.Before, b.After)
	}
	if maxRisk > 0 {
		x := float64(left) + maxRisk/top*width
		fmt.Fprintf(&s, `<line x1="%.1f" x2="%.1f" y1="0" y2="%d" stroke="#b00" stroke-dasharray="4 3"/><text x="%.1f" y="%d" font-size="11" fill="#b00">max_risk %g</text>`, x, x, h-14, x+3, h-3, maxRisk)
	}
	s.WriteString(`<text x="0" y="` + fmt.Sprint(h-3) + `" font-size="11"><tspan fill="#888">■</tspan> before <tspan fill="#2a6ebb">■</tspan> after (global risk)</text></svg>`)
	return template.HTML(s.String())
}

// indicatorSVG draws, per indicator and domain, the full data's confidence
// interval as a line, its estimate as a tick and the released estimate as a
// dot, each row on its own scale.
func indicatorSVG(ind []IndicatorLoss) template.HTML {
	const left, rowH, width = 260, 22, 360
	var s strings.Builder
	h := len(ind)*rowH + 24
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="key indicators, released against the full data's confidence interval">`, left+width+20, h)
	for i, x := range ind {
		y := float64(i*rowH) + 12
		lo, hi := x.FullCI[0], x.FullCI[1]
		pad := (hi - lo) * 0.6
		if pad == 0 || math.IsNaN(pad) {
			pad = math.Max(math.Abs(x.Full)*0.1, 1e-9)
		}
		a, b := math.Min(lo, x.Released)-pad, math.Max(hi, x.Released)+pad
		pos := func(v float64) float64 { return float64(left) + (v-a)/(b-a)*width }
		color := "#2a6ebb"
		if !x.Inside {
			color = "#b00"
		}
		fmt.Fprintf(&s, `<text x="%d" y="%.1f" font-size="12" text-anchor="end">%s, %s</text>`, left-8, y+4, template.HTMLEscapeString(x.Variable), template.HTMLEscapeString(x.Domain))
		fmt.Fprintf(&s, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#888" stroke-width="3"/>`, pos(lo), pos(hi), y, y)
		fmt.Fprintf(&s, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#222"/>`, pos(x.Full), pos(x.Full), y-6, y+6)
		fmt.Fprintf(&s, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>released %.4g, full %.4g [%.4g, %.4g]</title></circle>`, pos(x.Released), y, color, x.Released, x.Full, lo, hi)
	}
	fmt.Fprintf(&s, `<text x="0" y="%d" font-size="11">grey: full data's 95%% CI; tick: full estimate; dot: released estimate</text></svg>`, h-4)
	return template.HTML(s.String())
}
