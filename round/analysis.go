package round

import (
	"strings"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/dataset"
)

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
