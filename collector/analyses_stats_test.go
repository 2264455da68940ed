package collector_test

import (
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/fieldsim"
)

// TestAnalysesStatistics: the statistics R survey users reach for work
// through the analyses API on a survey whose weights were raked on the
// server: every region's total (a raking margin) is its census total with
// standard error ~0, a by over two variables answers one domain per
// combination, svychisq's Wald statistic, a Poisson regression with an
// interaction, its term test and a contrast, svyciprop and svyvar come
// back; a plan's mistake is a 422 naming it.
func TestAnalysesStatistics(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	surveyRound(t, a, "MARKERstats", "+1234567890124")
	var margins []map[string]any
	census := map[string]float64{}
	for _, m := range fieldsim.NewCountry(60, 3).Margins() {
		margins = append(margins, map[string]any{"variable": m.Variable, "category": m.Category, "total": m.Total})
		if m.Variable == "region" {
			census[m.Category] = m.Total
		}
	}
	a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/weights", map[string]any{
		"calibration": map[string]any{"method": "rake", "margins": margins, "max_iter": 200, "tol": 1e-12},
	}, 200)
	type group struct {
		Level    string    `json:"level"`
		Values   []string  `json:"values"`
		Estimate float64   `json:"estimate"`
		SE       float64   `json:"se"`
		CI       []float64 `json:"ci"`
		DEff     *float64  `json:"deff"`
		DEft     *float64  `json:"deft"`
	}
	type result struct {
		Results []struct {
			ID           string  `json:"id"`
			Statistic    string  `json:"statistic"`
			F            float64 `json:"F"`
			P            float64 `json:"p"`
			Estimate     float64 `json:"estimate"`
			SE           float64 `json:"se"`
			CI           []float64
			Levels       []group `json:"levels"`
			Domains      []group `json:"domains"`
			Coefficients []struct {
				Term string   `json:"term"`
				Meff *float64 `json:"meff"`
			} `json:"coefficients"`
			Tests     []struct{ F, P float64 } `json:"tests"`
			Contrasts []struct {
				Name string  `json:"name"`
				SE   float64 `json:"se"`
			} `json:"contrasts"`
		} `json:"results"`
	}
	plan := map[string]any{"design": map[string]any{"lonely_psu": "adjust"}, "estimates": []any{
		map[string]any{"id": "regions", "total": "region", "deff": "replace", "deft": true},
		map[string]any{"id": "by2", "mean": "bank_account", "by": []string{"migrant", "urban"}},
		map[string]any{"id": "wald", "chisq": []string{"migrant", "bank_account"}, "statistic": "Wald"},
		map[string]any{"id": "pois", "glm": "children_6_17 ~ migrant * urban + I(cons_pc/1000)", "family": "poisson", "meff": true,
			"tests":     []any{map[string]any{"terms": "migrant:urban"}},
			"contrasts": []any{map[string]any{"name": "gap", "weights": map[string]float64{"migrantnon_migrant": 1, "migrantreturn_migrant": -1}}}},
		map[string]any{"id": "cip", "ciprop": "bank_account", "method": "beta"},
		map[string]any{"id": "var", "var": "cons_pc"},
	}}
	res := decode[result](t, a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", plan, 200))
	if len(res.Results) != 6 {
		t.Fatalf("%d results, want 6", len(res.Results))
	}
	regions := res.Results[0]
	if len(regions.Levels) != len(census) {
		t.Fatalf("region totals: %d levels, the census has %d", len(regions.Levels), len(census))
	}
	for _, l := range regions.Levels {
		if math.Abs(l.Estimate-census[l.Level]) > 1e-6*census[l.Level] || !(l.SE < 1e-6*census[l.Level]) || l.DEft == nil {
			t.Errorf("region %s: total %g (census %g), SE %g, deft %v; a raking margin's total is the census total with SE ~0", l.Level, l.Estimate, census[l.Level], l.SE, l.DEft)
		}
	}
	by2 := res.Results[1]
	if len(by2.Domains) < 4 {
		t.Errorf("by [migrant, urban]: %d domains", len(by2.Domains))
	}
	for _, g := range by2.Domains {
		if len(g.Values) != 2 || g.Level != g.Values[0]+"."+g.Values[1] || !(g.SE > 0) {
			t.Errorf("by [migrant, urban]: domain %+v", g)
		}
	}
	if w := res.Results[2]; w.Statistic != "Wald" || !(w.F >= 0) || !(w.P >= 0 && w.P <= 1) {
		t.Errorf("Wald test: %+v", w)
	}
	pois := res.Results[3]
	terms := map[string]bool{}
	for _, c := range pois.Coefficients {
		terms[c.Term] = true
		if c.Meff == nil || !(*c.Meff > 0) {
			t.Errorf("poisson %s: meff %v", c.Term, c.Meff)
		}
	}
	if !terms["migrantnon_migrant:urban"] || !terms["I(cons_pc/1000)"] || len(pois.Tests) != 1 || len(pois.Contrasts) != 1 || !(pois.Contrasts[0].SE > 0) {
		t.Errorf("poisson: terms %v, tests %v, contrasts %v", terms, pois.Tests, pois.Contrasts)
	}
	if c := res.Results[4]; !(c.CI[0] < c.Estimate && c.Estimate < c.CI[1] && c.CI[0] >= 0 && c.CI[1] <= 1) {
		t.Errorf("ciprop: %g %v", c.Estimate, c.CI)
	}
	if v := res.Results[5]; !(v.Estimate > 0 && v.SE > 0) {
		t.Errorf("svyvar: %g (SE %g)", v.Estimate, v.SE)
	}

	bad := map[string]any{"estimates": []any{map[string]any{"id": "c", "chisq": []string{"migrant", "urban"}, "statistic": "Pearson"}}}
	body := a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", bad, 422)
	if !strings.Contains(string(body), "statistic") {
		t.Errorf("bad statistic: %s", body)
	}
}

// TestOpenAPIPlanEstimate: the API description lists every key of a plan
// entry (analysis.EstimateSpec) and no other.
func TestOpenAPIPlanEstimate(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(collector.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for k := range doc.Components.Schemas["AnalysisEstimate"].Properties {
		documented = append(documented, k)
	}
	var keys []string
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for f := range rt.Fields() {
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch {
			case opts == "inline":
				walk(f.Type)
			case f.IsExported() && name != "" && name != "-":
				keys = append(keys, name)
			}
		}
	}
	walk(reflect.TypeFor[analysis.EstimateSpec]())
	sort.Strings(documented)
	sort.Strings(keys)
	if !reflect.DeepEqual(documented, keys) {
		t.Errorf("openapi.json AnalysisEstimate documents %v; plan entries have %v", documented, keys)
	}
}
