package collector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/round"
)

// stackedAnalysis answers an analysis plan that names several surveys
// (surveys: [{name: ghana, survey: gh-2026}, {name: senegal, survey:
// sn-2026}], one per country round): the path's survey must be one of
// them and every one must be in the caller's scope. Each survey's design is
// its stored design as drawn, its weights taken as fixed; the stack keeps
// each survey's strata apart and has survey as a domain.
func stackedAnalysis(c *gin.Context, s *Server, sv dotm.Survey, raw map[string]any) {
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
	u := currentUser(c)
	var ids []string
	for i, e := range plan.Surveys {
		path := fmt.Sprintf("surveys[%d]", i)
		if e.Data != "" {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "a stack on the server names stored surveys",
				Problems: []dotm.Problem{{Path: path + ".data", Code: "unknown_field", Message: "give survey: ID instead of data"}}})
			return
		}
		if !u.InSurvey(e.Survey) {
			fail(c, dotm.Errorf(dotm.EFORBIDDEN, "survey %s is not in your scope", e.Survey))
			return
		}
		if _, err := s.deps.Surveys.Survey(c.Request.Context(), e.Survey); err != nil {
			fail(c, err)
			return
		}
		ids = append(ids, e.Survey)
	}
	if !slices.Contains(ids, sv.ID) {
		fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "the stack does not include survey " + sv.ID,
			Problems: []dotm.Problem{{Path: "surveys", Code: "constraint", Message: "include " + sv.ID + " (the survey of the request's path)"}}})
		return
	}
	data := s.surveyData()
	open := func(ctx context.Context, e analysis.StackEntry) (analysis.Source, *analysis.PlanDesign, error) {
		pd, err := data.CalibratedDesign(ctx, e.Survey, plan.Design.LonelyPSU)
		if err != nil {
			return nil, nil, err
		}
		pd.Calibration = nil // a stack takes each survey's weights as fixed
		return round.SurveySource{Data: data, Survey: e.Survey}, &pd, nil
	}
	res, err := analysis.RunStacked(c.Request.Context(), plan, open)
	if err != nil {
		var e *dotm.Error
		if errors.As(err, &e) {
			fail(c, err)
			return
		}
		fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: err.Error(), Err: err})
		return
	}
	c.JSON(http.StatusOK, res)
}
