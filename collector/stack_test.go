package collector_test

import (
	"math"
	"testing"
)

// TestStackedAnalyses: an analysis plan naming several stored surveys runs
// on their stack, survey a domain like any other: a survey stacked with
// itself under two names gives, in each name's domain, the survey's own
// estimate and standard error (its strata are kept apart from the other
// copy's). A data file in a server stack or a stack of one is the client's
// mistake (422); a survey outside the caller's scope is forbidden (403).
func TestStackedAnalyses(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	surveyRound(t, a, "MARKERstack", "+1234567890125")
	a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/weights", map[string]any{}, 200)
	type result struct {
		Results []struct {
			Estimate float64 `json:"estimate"`
			SE       float64 `json:"se"`
			Domains  []struct {
				Level    string  `json:"level"`
				Estimate float64 `json:"estimate"`
				SE       float64 `json:"se"`
			} `json:"domains"`
		} `json:"results"`
	}
	single := decode[result](t, a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", map[string]any{
		"estimates": []any{map[string]any{"id": "bank", "mean": "bank_account"}}}, 200))
	stack := map[string]any{
		"surveys":   []any{map[string]any{"name": "round1", "survey": "gh-2026"}, map[string]any{"name": "round2", "survey": "gh-2026"}},
		"rescale":   "equal",
		"estimates": []any{map[string]any{"id": "bank", "mean": "bank_account", "by": "survey"}},
	}
	got := decode[result](t, a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", stack, 200))
	if len(got.Results) != 1 || len(got.Results[0].Domains) != 2 {
		t.Fatalf("stacked result: %+v", got)
	}
	want := single.Results[0]
	for _, d := range got.Results[0].Domains {
		if math.Abs(d.Estimate-want.Estimate) > 1e-12 || math.Abs(d.SE/want.SE-1) > 1e-9 {
			t.Errorf("%s: %g (SE %g); the survey alone: %g (SE %g)", d.Level, d.Estimate, d.SE, want.Estimate, want.SE)
		}
	}
	stack["surveys"] = []any{map[string]any{"name": "a", "survey": "gh-2026"}, map[string]any{"name": "b", "data": "x.csv"}}
	a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", stack, 422)
	stack["surveys"] = []any{map[string]any{"name": "a", "survey": "nowhere"}, map[string]any{"name": "b", "survey": "gh-2026"}}
	a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", stack, 403) // the statistician's scope is gh-2026
	stack["surveys"] = []any{map[string]any{"name": "a", "survey": "gh-2026"}}
	a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", stack, 422)
}
