package collector

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/round"
	"github.com/dotm-survey/dotm/sampling"
)

// surveyData is the SurveyData view of the server's stores.
func (s *Server) surveyData() round.SurveyData {
	d := s.deps
	return round.SurveyData{Forms: d.Forms, Assignments: d.Assignments, Design: d.Design, Weights: d.Weights, Approved: d.Approved}
}

// handleDrawPSUs draws a survey's first-stage sample from a frame CSV sent as
// the body (text/csv): PPS systematic within strata with certainty units.
// Query: id, stratum, size (frame column names; defaults psu_id, stratum,
// size), n, allocation (proportional, equal, power:ALPHA), seed, random_sort.
func handleDrawPSUs(surveys dotm.SurveyStore, design dotm.DesignStore, audit dotm.Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		ctx := c.Request.Context()
		q := func(name, def string) string {
			if v := c.Query(name); v != "" {
				return v
			}
			return def
		}
		d := dotm.PSUDraw{Allocation: q("allocation", "proportional"), RandomSort: c.Query("random_sort") == "true", IDColumn: q("id", "psu_id")}
		if n, err := strconv.Atoi(c.Query("n")); err == nil {
			d.N = n
		}
		if seed, err := strconv.ParseUint(c.Query("seed"), 10, 64); err == nil {
			d.Seed = &seed
		}
		if ps := d.Valid(ctx); ps != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "invalid draw parameters", Problems: ps})
			return
		}
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			fail(c, jsonError(err))
			return
		}
		frame, err := sampling.ReadFrame(bytes.NewReader(body), sampling.FrameColumns{ID: d.IDColumn, Stratum: q("stratum", "stratum"), Size: q("size", "size")})
		if err != nil {
			fail(c, round.InputProblems("frame", err))
			return
		}
		u := currentUser(c)
		sample, err := round.DrawPSUs(ctx, design, sv.ID, frame, d, u.Name, now())
		if err != nil {
			fail(c, err)
			return
		}
		if err := record(c, audit, dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "sample_psus", Survey: sv.ID,
			Detail: fmt.Sprintf("%d PSUs from %d, seed %d", len(sample.PSUs), len(frame.Units), sample.Seed)}); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, sample)
	}
}

func handleGetPSUSample(surveys dotm.SurveyStore, design dotm.DesignStore) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		s, err := design.PSUSample(c.Request.Context(), sv.ID)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, s)
	}
}

// handleDrawHouseholds draws households in every sampled PSU that has a
// listing and no draw yet (round.DrawHouseholds) and audits the draw.
func handleDrawHouseholds(surveys dotm.SurveyStore, design dotm.DesignStore, listings dotm.ListingStore, assignments dotm.AssignmentStore, audit dotm.Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		var req dotm.HouseholdDraw
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
		ctx := c.Request.Context()
		res, err := round.DrawHouseholds(ctx, round.DesignStores{Design: design, Listings: listings, Assignments: assignments}, sv.ID, req, now())
		if err != nil {
			fail(c, err)
			return
		}
		u := currentUser(c)
		if err := record(c, audit, dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "sample_households", Survey: sv.ID,
			Detail: fmt.Sprintf("%d PSUs, %d households, quota %s", res.PSUsDrawn, res.Selected, res.Quota)}); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, res)
	}
}

// handleComputeWeights computes and stores the survey's weights.
func handleComputeWeights(s *Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, s.deps.Surveys)
		if !ok {
			return
		}
		var spec dotm.WeightSpec
		if err := decodeJSON(c, &spec); err != nil {
			fail(c, err)
			return
		}
		w, err := s.surveyData().ComputeWeights(c.Request.Context(), sv.ID, spec)
		if err != nil {
			fail(c, err)
			return
		}
		u := currentUser(c)
		w.ComputedAt, w.ComputedBy = now(), u.Name
		if err := s.deps.Weights.PutWeights(c.Request.Context(), w); err != nil {
			fail(c, err)
			return
		}
		if err := record(c, s.deps.Auditor, dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "weights", Survey: sv.ID,
			Detail: fmt.Sprintf("%d respondents of %d selected", w.Report.Respondents, w.Report.Selected)}); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, w.Report)
	}
}

func handleGetWeights(surveys dotm.SurveyStore, weights dotm.WeightStore) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		w, err := weights.Weights(c.Request.Context(), sv.ID)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, w)
	}
}
