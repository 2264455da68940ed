package analysis

import (
	"fmt"
	"html/template"
	"math"
)

// CountryComparison is the cross-country page of the indicator report of a
// stack of surveys (one per country round): every indicator by country ×
// household migration status, the migrant gap (current-migrant minus
// non-migrant households) in each country, and the test of the difference
// between a country's gap and the reference (first) country's gap.
type CountryComparison struct {
	Countries  []string           `json:"countries"`
	Reference  string             `json:"reference"`
	Indicators []CountryIndicator `json:"indicators"`
}

// CountryIndicator is one indicator of the cross-country page.
type CountryIndicator struct {
	ID        string       `json:"id"`
	Label     string       `json:"label"`
	Unit      string       `json:"unit"`
	Countries []CountryRow `json:"countries"`
}

// CountryRow is one country's indicator by migration status. Gap is
// current − non-migrant in the country (R: svyttest on the country's
// subset); GapVsReference is the difference of differences, the country's
// gap minus the reference country's (R: the interaction coefficient of
// svyglm(y ~ survey * current, subset to the two countries and the two
// groups), a linear combination of the four domain means whose variance
// comes from their joint linearization, as svycontrast's).
type CountryRow struct {
	Country        string          `json:"country"`
	ByMigrant      []GroupEstimate `json:"by_migrant"`
	Gap            *DiffTest       `json:"gap,omitempty"`
	GapVsReference *DiffTest       `json:"gap_vs_reference,omitempty"`
	// NoTest says why a gap or its comparison is missing.
	NoTest string `json:"no_test,omitempty"`
}

// migrantGap names the groups of the gap.
var migrantGap = [2]string{"non_migrant", "current_migrant"}

// crossCountry builds the cross-country page when t holds a stack (a
// survey column with at least two levels); nil otherwise.
func (d *Design) crossCountry(t *Table, rep *Report) (*CountryComparison, error) {
	sc, err := t.Column(StackColumn)
	if err != nil {
		return nil, nil
	}
	sf := asFactor(sc)
	if len(sf.levels) < 2 {
		return nil, nil
	}
	// Countries in the order of the stack (first rows first).
	var countries []string
	seen := map[int32]bool{}
	for _, c := range sf.codes {
		if c >= 0 && !seen[c] {
			seen[c] = true
			countries = append(countries, sf.levels[c])
		}
	}
	mig, err := t.Column("migrant")
	if err != nil {
		return nil, err
	}
	mf := asFactor(mig)
	mask := func(f factor, level string) []bool {
		m := make([]bool, d.n)
		for i, c := range f.codes {
			m[i] = c >= 0 && f.levels[c] == level
		}
		return m
	}
	and := func(ms ...[]bool) []bool {
		out := make([]bool, d.n)
		for i := range out {
			out[i] = true
			for _, m := range ms {
				if m != nil && !m[i] {
					out[i] = false
				}
			}
		}
		return out
	}
	cc := &CountryComparison{Countries: countries, Reference: countries[0]}
	rep.Design.Variance += "; " + stackNote(countries, "")
	df := d.DF(nil)
	for k, ind := range indicators {
		res := rep.Indicators[k]
		ci := CountryIndicator{ID: res.ID, Label: res.Label, Unit: res.Unit}
		var y, x []float64
		if ind.num != "" {
			y, _ = t.numeric(ind.num)
			x, _ = t.numeric(ind.den)
		} else {
			y, _ = t.numeric(ind.mean)
		}
		var sub []bool
		if ind.subset != "" {
			s, _ := t.numeric(ind.subset)
			sub = make([]bool, d.n)
			for i, v := range s {
				sub[i] = v == 1
			}
		}
		for _, country := range countries {
			cm := mask(sf, country)
			row := CountryRow{Country: country}
			for _, lv := range []string{"current_migrant", "return_migrant", "non_migrant"} {
				dom := and(cm, mask(mf, lv), sub)
				g := GroupEstimate{Group: lv}
				var e Estimate
				var err error
				switch {
				case ind.median:
					var qs []Quantile
					if qs, err = d.Quantiles(ind.mean, y, []float64{0.5}, dom, true, d.DF(dom)); err == nil {
						g.Estimate, g.SE, g.CI = Num(qs[0].Estimate), Num(qs[0].SE), [2]Num{Num(qs[0].CI[0]), Num(qs[0].CI[1])}
					}
				case ind.num != "":
					e, err = d.Ratio(ind.num, ind.den, y, x, dom, true, df)
				default:
					e, err = d.Mean(ind.mean, y, dom, true, df)
				}
				if err != nil {
					nan := Num(math.NaN())
					g = GroupEstimate{Group: lv, Estimate: nan, SE: nan, CI: [2]Num{nan, nan}, NoTest: "no estimate: " + err.Error()}
				} else if !ind.median {
					g.Estimate, g.SE, g.CI, g.N = Num(e.Estimate), Num(e.SE), [2]Num{Num(e.CI[0]), Num(e.CI[1])}, e.N
				}
				row.ByMigrant = append(row.ByMigrant, g)
			}
			if ind.median {
				row.NoTest = "no test for medians"
				ci.Countries = append(ci.Countries, row)
				continue
			}
			gap, err := d.difference(ind, y, x, mig, migrantGap[0], migrantGap[1], and(cm, sub))
			if err != nil {
				row.NoTest = "no test: " + err.Error()
			} else {
				row.Gap = gap
			}
			if country != cc.Reference && row.Gap != nil {
				did, err := d.gapDifference(ind, y, x, sf, mf, cc.Reference, country, sub)
				if err != nil {
					row.NoTest = "no test of the gaps: " + err.Error()
				} else {
					row.GapVsReference = did
				}
			}
			ci.Countries = append(ci.Countries, row)
		}
		cc.Indicators = append(cc.Indicators, ci)
	}
	return cc, nil
}

// gapDifference is (current − non-migrant in country) − (current −
// non-migrant in ref) for a mean or ratio indicator: the contrast of the
// four domain estimates, each linearized as w(y − θ_k·x)/X_k on its rows
// (x = 1 for a mean), with the variance of their sum over the four
// domains' rows, on the design df of those rows minus 3 (svyglm's residual
// df for four coefficients).
func (d *Design) gapDifference(ind indicator, y, x []float64, survey, migrant factor, ref, country string, sub []bool) (*DiffTest, error) {
	type cell struct {
		country, group string
		coef           float64
	}
	cells := []cell{{country, migrantGap[1], 1}, {country, migrantGap[0], -1}, {ref, migrantGap[1], -1}, {ref, migrantGap[0], 1}}
	z := make([]float64, d.n)
	used := make([]bool, d.n)
	est := 0.0
	for _, c := range cells {
		m := make([]bool, d.n)
		var sy, sx float64
		for i := range m {
			sc, mc := survey.codes[i], migrant.codes[i]
			ok := sc >= 0 && mc >= 0 && survey.levels[sc] == c.country && migrant.levels[mc] == c.group &&
				(sub == nil || sub[i]) && !math.IsNaN(y[i]) && (x == nil || !math.IsNaN(x[i]))
			if !ok {
				continue
			}
			m[i], used[i] = true, true
			xi := 1.0
			if x != nil {
				xi = x[i]
			}
			sy += d.w[i] * y[i]
			sx += d.w[i] * xi
		}
		if sx == 0 {
			return nil, fmt.Errorf("%s households of %s: no rows with positive weight", c.group, c.country)
		}
		theta := sy / sx
		est += c.coef * theta
		for i, in := range m {
			if in {
				xi := 1.0
				if x != nil {
					xi = x[i]
				}
				z[i] = c.coef * d.w[i] * (y[i] - theta*xi) / sx
			}
		}
	}
	v, err := d.vcov([][]float64{z}, used)
	if err != nil {
		return nil, err
	}
	dt := &DiffTest{Versus: ref, Difference: Num(est), SE: Num(math.Sqrt(v[0])), DF: d.DF(used) - 3}
	dt.T = dt.Difference / dt.SE
	dt.P = Num(tPValue(float64(dt.T), dt.DF))
	return dt, nil
}

// The cross-country section of the report page.
var _ = template.Must(reportTmpl.New("countries").Parse(`
<h2>Comparing countries</h2>
<p class="sub">Each indicator by country and household migration status. Gap: current-migrant minus non-migrant households in the country, with its design-based t test. Versus {{.Reference}}: the country's gap minus {{.Reference}}'s (difference of differences), a linear combination of the four domain estimates with their joint design-based variance; strata are kept apart by country.</p>
{{range .Indicators}}{{$u := .Unit}}
<h3 style="font-size:15px;margin:18px 0 2px">{{.Label}} <span style="font-weight:normal;color:#666">({{.Unit}})</span></h3>
<table><tr><th>Country</th><th>Current migrant</th><th>Return migrant</th><th>Non-migrant</th><th>Gap</th><th>SE</th><th>p</th><th>Gap − {{$.Reference}}</th><th>SE</th><th>p</th></tr>
{{range .Countries}}<tr><td>{{.Country}}</td>{{range .ByMigrant}}<td>{{f $u .Estimate}} ± {{f $u .SE}}</td>{{end}}{{if .Gap}}<td>{{fd $u .Gap.Difference}}{{star .Gap.P}}</td><td>{{fs $u .Gap.SE}}</td><td>{{safe (p .Gap.P)}}</td>{{else}}<td colspan="3" class="c">{{.NoTest}}</td>{{end}}{{if .GapVsReference}}<td>{{fd $u .GapVsReference.Difference}}{{star .GapVsReference.P}}</td><td>{{fs $u .GapVsReference.SE}}</td><td>{{safe (p .GapVsReference.P)}}</td>{{else}}<td colspan="3" class="c">{{if eq .Country $.Reference}}reference{{else}}{{.NoTest}}{{end}}</td>{{end}}</tr>
{{end}}</table>
{{end}}`))

// rows lists the cross-country page one per row, as Report.reportRows:
// by "survey × migrant" for each country's groups, then the gap (group
// "<country>: gap") and its difference from the reference's (group
// "<country>: gap − <reference>"), whose estimate and p are the test's.
func (cc *CountryComparison) rows(f func(Num) string) [][]string {
	if cc == nil {
		return nil
	}
	var rows [][]string
	for _, ind := range cc.Indicators {
		for _, c := range ind.Countries {
			for _, g := range c.ByMigrant {
				rows = append(rows, []string{ind.ID, ind.Label, "survey × migrant", c.Country + ": " + g.Group, f(g.Estimate), f(g.SE), f(g.CI[0]), f(g.CI[1]), fmt.Sprint(g.N), "", ""})
			}
			for _, t := range []struct {
				name string
				d    *DiffTest
			}{{"gap", c.Gap}, {"gap − " + cc.Reference, c.GapVsReference}} {
				if t.d != nil {
					rows = append(rows, []string{ind.ID, ind.Label, "survey × migrant", c.Country + ": " + t.name, "", f(t.d.SE), "", "", "", f(t.d.Difference), f(t.d.P)})
				}
			}
		}
	}
	return rows
}
