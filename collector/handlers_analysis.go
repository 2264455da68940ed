package collector

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/round"
)

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
		if _, ok := raw["surveys"]; ok {
			stackedAnalysis(c, s, sv, raw)
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
		res, err := analysis.Run(c.Request.Context(), plan, round.SurveySource{Data: s.surveyData(), Survey: sv.ID})
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
