package collector

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"

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

// CalibratedDesign is SurveyDesign(lonely) with the calibration that made
// the survey's stored weights, so that every variance is the calibrated
// design's (R: the design as calibrate/rake/postStratify return it, then
// trimWeights) without the user repeating how the weights were made.
// Weights computed without a calibration, or stored before dotm kept the
// calibrated weights, give the plain design.
func (d SurveyData) CalibratedDesign(ctx context.Context, survey, lonely string) (analysis.PlanDesign, error) {
	pd := SurveyDesign(lonely)
	ws, err := d.Weights.Weights(ctx, survey)
	if err != nil {
		if dotm.ErrorCode(err) == dotm.ENOTFOUND {
			return pd, dotm.Errorf(dotm.EUNPROCESSABL, "survey %s has no weights yet: compute them first (dotm weights compute --survey %s)", survey, survey)
		}
		return pd, err
	}
	if step, ok := calibrationStep(ws); ok {
		pd.Calibration = append(pd.Calibration, step)
	}
	return pd, nil
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

// handleAnalyses: POST /api/v1/surveys/{survey}/analyses (statistician,
// admin). The body is an analysis plan (YAML or JSON) without data: the data
// are the survey's approved interviews with their final weights, and the
// design is the survey's unless the plan names one. The answer is the same
// JSON as `dotm analyze`.
func handleAnalyses(s *Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, s.deps.Surveys)
		if !ok {
			return
		}
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			fail(c, jsonError(err))
			return
		}
		var raw map[string]any
		if err := yaml.Unmarshal(body, &raw); err != nil || raw == nil {
			fail(c, dotm.Errorf(dotm.EINVALID, "the body must be an analysis plan in YAML or JSON"))
			return
		}
		if _, ok := raw["data"]; ok {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "a survey's analysis reads the survey's data",
				Problems: []dotm.Problem{{Path: "data", Code: "unknown_field", Message: "leave data out: the survey's approved interviews are the data"}}})
			return
		}
		if v, ok := raw["survey"]; ok && v != sv.ID {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "the plan names another survey",
				Problems: []dotm.Problem{{Path: "survey", Code: "constraint", Message: "leave survey out or give " + sv.ID}}})
			return
		}
		raw["survey"] = sv.ID
		normalized, err := yaml.Marshal(raw)
		if err != nil {
			fail(c, dotm.Errorf(dotm.EINVALID, "the body must be an analysis plan in YAML or JSON"))
			return
		}
		plan, err := analysis.ParsePlan(normalized)
		if err != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: err.Error(), Err: err})
			return
		}
		if plan.Design.Weight == "" && plan.Design.Prob == "" {
			if plan.Design, err = s.surveyData().CalibratedDesign(c.Request.Context(), sv.ID, plan.Design.LonelyPSU); err != nil {
				fail(c, err)
				return
			}
		}
		res, err := analysis.Run(c.Request.Context(), plan, SurveySource{Data: s.surveyData(), Survey: sv.ID})
		if err != nil {
			var e *dotm.Error
			if errors.As(err, &e) {
				fail(c, err)
				return
			}
			// The plan does not fit the data (unknown column, lonely PSU
			// under fail, …): the analysis says which, in its own words.
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: err.Error(), Err: err})
			return
		}
		c.JSON(http.StatusOK, res)
	}
}
