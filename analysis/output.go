package analysis

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/dotm-survey/dotm/internal/csvsafe"
)

// Row is one line of the flat (CSV, table, HTML) form of [Results].
type Row struct {
	ID, Item                    string
	Estimate, SE, CILow, CIHigh float64
	DEff                        float64
	N                           int
	Stat, DF1, DF2, P           float64
}

var nan = func() float64 { var z float64; return z / z }()

func val(n *Num) float64 {
	if n == nil {
		return nan
	}
	return float64(*n)
}

func ci(c []Num, k int) float64 {
	if len(c) != 2 {
		return nan
	}
	return float64(c[k])
}

// Rows flattens results: one row per estimate, domain, level, quantile,
// coefficient or test.
func (r *Results) Rows() []Row {
	var rows []Row
	blank := Row{Estimate: nan, SE: nan, CILow: nan, CIHigh: nan, DEff: nan, Stat: nan, DF1: nan, DF2: nan, P: nan}
	group := func(id, item string, g Group) Row {
		x := blank
		x.ID, x.Item = id, item
		x.Estimate, x.SE, x.CILow, x.CIHigh, x.DEff, x.N = val(g.Estimate), val(g.SE), ci(g.CI, 0), ci(g.CI, 1), val(g.DEff), g.N
		return x
	}
	var addGroup func(id, prefix string, g Group)
	addGroup = func(id, prefix string, g Group) {
		switch {
		case len(g.Levels) > 0:
			for _, l := range g.Levels {
				rows = append(rows, group(id, prefix+l.Level, l))
			}
		case len(g.Quantiles) > 0:
			for _, q := range g.Quantiles {
				x := blank
				x.ID, x.Item = id, fmt.Sprintf("%sq%s", prefix, strconv.FormatFloat(float64(q.P), 'g', -1, 64))
				x.Estimate, x.SE, x.CILow, x.CIHigh = float64(q.Estimate), float64(q.SE), ci(q.CI, 0), ci(q.CI, 1)
				rows = append(rows, x)
			}
		default:
			rows = append(rows, group(id, prefix, g))
		}
	}
	for _, res := range r.Results {
		switch res.Type {
		case "compare":
			x := blank
			x.ID, x.Item = res.ID, fmt.Sprintf("%s: %s − %s", res.Variable, res.Groups[1], res.Groups[0])
			x.Estimate, x.SE, x.CILow, x.CIHigh, x.N = val(res.Difference), val(res.SE), ci(res.CI, 0), ci(res.CI, 1), res.N
			x.Stat, x.DF1, x.P = val(res.T), float64(*res.DF), val(res.P)
			rows = append(rows, x)
		case "chisq":
			x := blank
			x.ID, x.Item = res.ID, res.Variable+" ("+chisqLabel[res.Statistic]+")"
			x.Stat, x.DF1, x.DF2, x.P = val(res.F), val(res.NDF), val(res.DDF), val(res.P)
			if res.Statistic == "Chisq" {
				x.Stat = val(res.Chisq)
			}
			rows = append(rows, x)
		case "lm", "logit", "glm":
			for _, c := range res.Coefficients {
				x := blank
				x.ID, x.Item = res.ID, c.Term
				x.Estimate, x.SE, x.Stat, x.DF1, x.P, x.N = float64(c.Estimate), float64(c.SE), float64(c.T), float64(*res.DF), float64(c.P), res.N
				x.DEff = val(c.Meff)
				rows = append(rows, x)
			}
			rows = append(rows, extraRows(res, blank)...)
		default:
			if len(res.Domains) > 0 {
				for _, g := range res.Domains {
					addGroup(res.ID, res.Variable+" | "+res.By+"="+g.Level+" ", g)
				}
				rows = append(rows, extraRows(res, blank)...)
				continue
			}
			g := Group{Estimate: res.Estimate, SE: res.SE, CI: res.CI, DEff: res.DEff, N: res.N, Levels: res.Levels, Quantiles: res.Quantiles}
			addGroup(res.ID, res.Variable+" ", g)
		}
		if res.Type != "lm" && res.Type != "logit" && res.Type != "glm" {
			rows = append(rows, extraRows(res, blank)...)
		}
	}
	for i := range rows {
		if n := len(rows[i].Item); n > 0 && rows[i].Item[n-1] == ' ' {
			rows[i].Item = rows[i].Item[:n-1]
		}
	}
	return rows
}

// extraRows are the rows of a result's term tests and contrasts.
func extraRows(res Result, blank Row) []Row {
	var rows []Row
	for _, tt := range res.Tests {
		x := blank
		x.ID, x.Item = res.ID, "test "+tt.Terms+" ("+tt.Statistic+")"
		x.Stat, x.DF1, x.DF2, x.P = val(tt.F), float64(tt.DF), val(tt.DDF), float64(tt.P)
		if tt.Statistic == "Chisq" {
			x.Stat = float64(tt.Chisq)
		}
		rows = append(rows, x)
	}
	for _, c := range res.Contrasts {
		x := blank
		x.ID, x.Item = res.ID, "contrast "+c.Name
		x.Estimate, x.SE, x.CILow, x.CIHigh = float64(c.Estimate), float64(c.SE), ci(c.CI, 0), ci(c.CI, 1)
		rows = append(rows, x)
	}
	return rows
}

var chisqLabel = map[string]string{"": "Rao–Scott F", "F": "Rao–Scott F", "Chisq": "Rao–Scott X²", "Wald": "Wald F", "adjWald": "adjusted Wald F"}

var rowHeader = []string{"id", "item", "estimate", "se", "ci_low", "ci_high", "deff", "n", "statistic", "df1", "df2", "p"}

func (x Row) fields(format func(float64) string) []string {
	n := ""
	if x.N > 0 {
		n = strconv.Itoa(x.N)
	}
	return []string{x.ID, x.Item, format(x.Estimate), format(x.SE), format(x.CILow), format(x.CIHigh), format(x.DEff), n, format(x.Stat), format(x.DF1), format(x.DF2), format(x.P)}
}

func full(f float64) string {
	if f != f {
		return ""
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func short(f float64) string {
	if f != f {
		return ""
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// WriteCSV writes the flat form with full float precision.
func (r *Results) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(rowHeader); err != nil {
		return err
	}
	for _, x := range r.Rows() {
		if err := cw.Write(csvsafe.Row(x.fields(full))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the flat form as an aligned text table (6 digits).
func (r *Results) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(f []string) {
		for i, s := range f {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, s)
		}
		fmt.Fprintln(tw)
	}
	line(rowHeader)
	for _, x := range r.Rows() {
		line(x.fields(short))
	}
	fmt.Fprintf(tw, "\ndesign: %d rows, %d PSUs, %d strata, df %d\n", r.Design.Rows, r.Design.PSUs, r.Design.Strata, r.Design.DF)
	return tw.Flush()
}

var resultsHTML = template.Must(template.New("r").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dotm analysis</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}
th{background:#f3f3f3}</style></head><body>
<h1>Design-based estimates</h1>
<p>{{.D.Rows}} rows, {{.D.PSUs}} PSUs, {{.D.Strata}} strata, {{.D.DF}} design degrees of freedom. 95% intervals use Student t.</p>
<table><tr>{{range .H}}<th>{{.}}</th>{{end}}</tr>
{{range .R}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table></body></html>
`))

// WriteHTML writes the flat form as a standalone HTML page.
func (r *Results) WriteHTML(w io.Writer) error {
	var rows [][]string
	for _, x := range r.Rows() {
		rows = append(rows, x.fields(short))
	}
	return resultsHTML.Execute(w, map[string]any{"D": r.Design, "H": rowHeader, "R": rows})
}
