package collector_test

import (
	"math"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/fieldsim"
)

// TestAnalysesUseStoredCalibration: weights computed on the server with a
// calibration carry it to every analysis of the survey, so the analysis
// API answers with the calibrated design's variance (its JSON says so) —
// the share of a raking margin then has a standard error of ~0, as R's
// rake() design gives — while weights computed without a calibration give
// the fixed-weights variance.
func TestAnalysesUseStoredCalibration(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	surveyRound(t, a, "MARKERcalibrate", "+1234567890123")
	type result struct {
		Design struct {
			Variance string `json:"variance"`
		} `json:"design"`
		Results []struct {
			ID     string `json:"id"`
			Levels []struct {
				Level    string  `json:"level"`
				Estimate float64 `json:"estimate"`
				SE       float64 `json:"se"`
			} `json:"levels"`
			SE float64 `json:"se"`
		} `json:"results"`
	}
	plan := map[string]any{"design": map[string]any{"lonely_psu": "adjust"}, "estimates": []any{
		map[string]any{"id": "region", "proportion": "region"},
		map[string]any{"id": "bank", "mean": "bank_account"},
	}}
	fixed := decode[result](t, a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", plan, 200))
	if !strings.Contains(fixed.Design.Variance, "weights treated as fixed") {
		t.Fatalf("uncalibrated weights: variance %q", fixed.Design.Variance)
	}
	for _, l := range fixed.Results[0].Levels {
		if !(l.SE > 1e-4) {
			t.Fatalf("fixed weights: region %s share has SE %g; want a positive sampling error", l.Level, l.SE)
		}
	}

	var margins []map[string]any
	for _, m := range fieldsim.NewCountry(60, 3).Margins() {
		margins = append(margins, map[string]any{"variable": m.Variable, "category": m.Category, "total": m.Total})
	}
	a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/weights", map[string]any{
		"calibration": map[string]any{"method": "rake", "margins": margins, "max_iter": 200, "tol": 1e-12},
	}, 200)
	cal := decode[result](t, a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/analyses", plan, 200))
	if !strings.Contains(cal.Design.Variance, "calibrated design") || !strings.Contains(cal.Design.Variance, "rake on region, urban") {
		t.Fatalf("calibrated weights: variance %q", cal.Design.Variance)
	}
	for _, l := range cal.Results[0].Levels {
		if !(l.SE < 1e-9) {
			t.Errorf("raked to region: region %s share %g has SE %g; a raking margin's share has no sampling error", l.Level, l.Estimate, l.SE)
		}
	}
	if se := cal.Results[1].SE; !(se > 0) || math.Abs(se-fixed.Results[1].SE) < 1e-12 {
		t.Errorf("bank account SE: calibrated %g, fixed %g; want a positive SE that differs", se, fixed.Results[1].SE)
	}
}
