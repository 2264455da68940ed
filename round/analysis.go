package round

import (
	"strings"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/dataset"
	"github.com/dotm-survey/dotm/sampling"
)

// SurveyDesignColumns are the columns of a survey's households table that
// carry its design as drawn (pi1 and pi2 come from the stored weights, not
// the dataset: see SurveySource.Load).
var SurveyDesignColumns = sampling.DesignColumns{Stratum: "stratum", PSU: "psu", Household: "household_id",
	Class: dataset.ScreeningClass, Certainty: dataset.Certainty, Pi1: "pi1", Pi2: "pi2", Weight: "weight"}

// drawnDesign is the design as drawn of stored weights (see
// sampling.DrawnDesign), or false for weights stored before dotm kept the
// draw. lonely "" is the drawn design's "adjust".
func drawnDesign(ws dotm.Weights, lonely string) (analysis.PlanDesign, bool) {
	for _, h := range ws.Households {
		if h.Responded && h.Final > 0 && (h.Class == "" || !(h.Pi1 > 0) || !(h.Pi2 > 0)) {
			return analysis.PlanDesign{}, false
		}
	}
	c := SurveyDesignColumns
	if lonely == "" {
		lonely = analysis.LonelyAdjust
	}
	pd := analysis.PlanDesign{Strata: c.Stratum, StageStrata: []string{c.Class}, PSU: []string{c.PSU, c.Household},
		Certainty: c.Certainty, Weight: c.Weight, Nest: true, LonelyPSU: lonely}
	if ws.Report.Spec.Variance == sampling.Brewer {
		pd.FPC, pd.PPS = []string{c.Pi1, c.Pi2}, analysis.PPSBrewer
	}
	return pd, true
}

// SurveyDesign is the design every survey dataset carries: strata, PSUs,
// final weights and the first stage's fpc; lonely is the lonely-PSU rule.
// It has no calibration: [SurveyData.CalibratedDesign] adds the one that
// made a survey's stored weights.
func SurveyDesign(lonely string) analysis.PlanDesign {
	return analysis.PlanDesign{Strata: "stratum", PSU: []string{"psu"}, Weight: "weight", FPC: []string{"fpc"}, LonelyPSU: lonely}
}

// calibrationStep describes the calibration of stored weights for
// analysis, or reports false when there was none (or the weights predate
// the stored calibrated weights).
func calibrationStep(ws dotm.Weights) (analysis.CalibrationStep, bool) {
	spec := ws.Report.Spec.Calibration
	if spec == nil {
		return analysis.CalibrationStep{}, false
	}
	for _, h := range ws.Households {
		if h.Responded && h.Final > 0 && !(h.Calibrated > 0) {
			return analysis.CalibrationStep{}, false
		}
	}
	categorical := map[string]bool{}
	var order []string
	for _, m := range spec.Margins {
		if _, seen := categorical[m.Variable]; !seen {
			order = append(order, m.Variable)
		}
		categorical[m.Variable] = categorical[m.Variable] || m.Category != ""
	}
	step := analysis.CalibrationStep{Method: strings.ToLower(spec.Method), Before: dataset.WeightUncalibrated, After: dataset.WeightCalibrated}
	anyCategorical := false
	for _, v := range order {
		switch {
		case !categorical[v]:
			step.Variables = append(step.Variables, v)
		case step.Method == analysis.CalLinear || step.Method == analysis.CalRaking || step.Method == analysis.CalLogit:
			// Margins by category: the variable enters the model as a factor
			// even when its values are numbers.
			step.Variables = append(step.Variables, "factor("+v+")")
			anyCategorical = true
		default:
			step.Variables = append(step.Variables, v)
			anyCategorical = true
		}
	}
	if !anyCategorical && (step.Method == analysis.CalLinear || step.Method == analysis.CalRaking) {
		// sampling.Calibrate's model has an intercept only with a
		// categorical variable.
		step.Variables = append(step.Variables, "-1")
	}
	return step, true
}
