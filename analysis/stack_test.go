package analysis

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// tableSource serves a loaded table.
type tableSource struct{ t *Table }

func (s tableSource) Load(context.Context, []string) (*Table, error) { return s.t, nil }

func stackOpener(t *testing.T) StackOpener {
	files := map[string]*Table{}
	return func(_ context.Context, e StackEntry) (Source, *PlanDesign, error) {
		if files[e.Data] == nil {
			files[e.Data] = loadCSV(t, "testdata/r-stack/"+e.Data)
		}
		return tableSource{files[e.Data]}, nil, nil
	}
}

const stackPlan = `
surveys:
  - {name: a, data: country_a.csv}
  - {name: b, data: country_b.csv}
design: {strata: stratum, psu: psu, weight: weight, fpc: fpc, lonely_psu: adjust}
estimates:
  - {id: mean.bank, mean: bank_account}
  - {id: total.remit, total: remit_received}
  - {id: by.bank, mean: bank_account, by: survey}
  - {id: by.cons, total: cons_pc, by: survey, na_rm: true}
  - {id: a.bank, mean: bank_account, by: migrant, subset: "survey = 'a'"}
  - {id: b.bank, mean: bank_account, by: migrant, subset: "survey = 'b'"}
  - {id: a.enrolled, ratio: {numerator: children_enrolled, denominator: children_6_17}, by: migrant, subset: "survey = 'a'"}
  - {id: b.enrolled, ratio: {numerator: children_enrolled, denominator: children_6_17}, by: migrant, subset: "survey = 'b'"}
`

// TestStackMatchesR: two country rounds stacked (strata kept apart by
// survey), with raw and equally rescaled weights, give R's estimates on
// the rbind-ed design to 1e-9 relative: overall, by survey, by country ×
// migrant status; and the indicator report's cross-country page gives R's
// migrant gaps and their difference between countries (svyglm
// interaction).
func TestStackMatchesR(t *testing.T) {
	want := readGolden(t, "testdata/r-stack/expected.tsv")
	for _, rescale := range []string{"raw", "equal"} {
		t.Run(rescale, func(t *testing.T) {
			src := stackPlan
			if rescale == "equal" {
				src += "rescale: equal\n"
			}
			plan, err := ParsePlan([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			open := stackOpener(t)
			res, err := RunStacked(context.Background(), plan, open)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]float64{}
			for _, r := range res.Results {
				if r.By == "" {
					got[r.ID] = []float64{val(r.Estimate), val(r.SE)}
					continue
				}
				for _, d := range r.Domains {
					got[r.ID+"."+d.Level] = []float64{val(d.Estimate), val(d.SE)}
				}
			}
			t2, spec, err := LoadStack(context.Background(), plan, IndicatorColumns(DesignSpec{}), open)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := IndicatorReport(t2, spec)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Countries == nil || strings.Join(rep.Countries.Countries, ",") != "a,b" || rep.Countries.Reference != "a" {
				t.Fatalf("cross-country page: %+v", rep.Countries)
			}
			var page bytes.Buffer
			if err := rep.WriteHTML(&page); err != nil || !strings.Contains(page.String(), "<h2>Comparing countries</h2>") || !strings.Contains(page.String(), "Gap − a") {
				t.Errorf("the report page has no cross-country section (%v)", err)
			}
			var csvOut bytes.Buffer
			if err := rep.WriteCSV(&csvOut); err != nil || !strings.Contains(csvOut.String(), "b: gap − a") {
				t.Errorf("the report's CSV has no cross-country rows (%v)", err)
			}
			did := map[string]string{"bank": "bank_account", "remit_share": "remit_received", "women_decide": "women_decide"}
			for _, ind := range rep.Countries.Indicators {
				for _, c := range ind.Countries {
					if ind.ID == "bank" || ind.ID == "enrolled" {
						for _, g := range c.ByMigrant {
							got[fmt.Sprintf("%s.%s.%s", c.Country, ind.ID, g.Group)] = []float64{float64(g.Estimate), float64(g.SE)}
						}
					}
					if ind.ID == "bank" && c.Gap != nil {
						got[c.Country+".gap.bank"] = []float64{float64(c.Gap.Difference), float64(c.Gap.SE), float64(c.Gap.DF)}
					}
					if v, ok := did[ind.ID]; ok && c.Country == "b" {
						if c.GapVsReference == nil {
							t.Errorf("%s: no test of the gaps: %s", ind.ID, c.NoTest)
							continue
						}
						g := c.GapVsReference
						got["did."+v] = []float64{float64(g.Difference), float64(g.SE), float64(g.P), float64(g.DF)}
					}
				}
			}
			checked := 0
			for key, w := range want {
				short, ok := strings.CutPrefix(key, rescale+".")
				if !ok {
					continue
				}
				g, ok := got[short]
				if !ok {
					t.Errorf("%s: no result", key)
					continue
				}
				for i := range w {
					if !closeRel(g[i], w[i], relTol, 1e-12) {
						t.Errorf("%s[%d] = %.15g, R %.15g", key, i, g[i], w[i])
					}
				}
				checked++
			}
			if checked < 20 {
				t.Errorf("%d values checked", checked)
			}
		})
	}
}

// TestStackErrors: a stack names its surveys and rescaling clearly.
func TestStackErrors(t *testing.T) {
	for _, tc := range []struct{ plan, want string }{
		{"surveys: [{name: a, data: x.csv}]\nestimates: [{id: m, mean: y}]", "at least two surveys"},
		{"surveys: [{name: a, data: x.csv}, {name: a, data: y.csv}]\nestimates: [{id: m, mean: y}]", `name "a" used twice`},
		{"surveys: [{name: a, data: x.csv}, {name: b}]\nestimates: [{id: m, mean: y}]", "give data: FILE or survey: ID"},
		{"data: x.csv\nsurveys: [{name: a, data: x.csv}, {name: b, data: y.csv}]\nestimates: [{id: m, mean: y}]", "not both"},
		{"surveys: [{name: a, data: x.csv}, {name: b, data: y.csv}]\nrescale: population\nestimates: [{id: m, mean: y}]", "the only rescaling is equal"},
	} {
		if _, err := ParsePlan([]byte(tc.plan)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.plan, err, tc.want)
		}
	}
	// A column of one survey only.
	a, b := NewTable(2), NewTable(2)
	a.AddNumeric("y", []float64{1, 2})
	a.AddNumeric("w", []float64{1, 1})
	b.AddStrings("y", []string{"x", "z"})
	b.AddNumeric("w", []float64{1, 1})
	spec := DesignSpec{Weight: "w"}
	if _, _, err := Stack([]string{"a", "b"}, []*Table{a, b}, []DesignSpec{spec, spec}, []string{"y"}, "", ""); err == nil || !strings.Contains(err.Error(), "column y is numeric in survey a and text in survey b") {
		t.Errorf("mixed column: %v", err)
	}
}
