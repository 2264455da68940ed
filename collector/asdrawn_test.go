package collector_test

import (
	"strings"
	"testing"
)

// TestAnalysesUseDesignAsDrawn: weights computed on the server store the
// design as drawn (the report says which), and the analysis API uses it:
// with replacement by default, Brewer's PPS approximation when the
// weights ask for it (different standard errors, same estimates); an
// unknown variance is the client's mistake (422).
func TestAnalysesUseDesignAsDrawn(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	surveyRound(t, a, "MARKERasdrawn", "+1234567890124")
	type report struct {
		Design struct {
			Variance      string `json:"variance"`
			Specification string `json:"specification"`
			R             string `json:"r"`
		} `json:"design"`
	}
	type result struct {
		Design struct {
			Variance string `json:"variance"`
		} `json:"design"`
		Results []struct {
			Estimate float64 `json:"estimate"`
			SE       float64 `json:"se"`
		} `json:"results"`
	}
	plan := map[string]any{"estimates": []any{
		map[string]any{"id": "bank", "mean": "bank_account"},
		map[string]any{"id": "size", "total": "hh_size"},
	}}
	hh := decode[report](t, a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/weights", map[string]any{}, 200))
	if hh.Design.Variance != "with-replacement" || !strings.Contains(hh.Design.Specification, "certainty") || !strings.Contains(hh.Design.R, "svydesign(") {
		t.Fatalf("weights report design: %+v", hh.Design)
	}
	wr := decode[result](t, a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", plan, 200))
	if v := wr.Design.Variance; !strings.Contains(v, "with replacement") || !strings.Contains(v, "certainty PSUs") || !strings.Contains(v, "screening_class") {
		t.Fatalf("default weights: variance %q", v)
	}
	br := decode[report](t, a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/weights", map[string]any{"variance": "brewer"}, 200))
	if br.Design.Variance != "brewer" {
		t.Fatalf("weights report design: %+v", br.Design)
	}
	bres := decode[result](t, a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", plan, 200))
	if v := bres.Design.Variance; !strings.Contains(v, "Brewer") {
		t.Fatalf("brewer weights: variance %q", v)
	}
	for i := range wr.Results {
		w, b := wr.Results[i], bres.Results[i]
		if w.Estimate != b.Estimate || !(b.SE > 0) || b.SE == w.SE {
			t.Errorf("estimate %d: with replacement %g (SE %g), Brewer %g (SE %g): want the same estimate and another positive SE", i, w.Estimate, w.SE, b.Estimate, b.SE)
		}
	}
	a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/weights", map[string]any{"variance": "bootstrap"}, 422)
}
