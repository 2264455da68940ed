package collector

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/sampling"
)

// surveyData is the SurveyData view of the server's stores.
func (s *Server) surveyData() SurveyData {
	d := s.deps
	return SurveyData{Forms: d.Forms, Assignments: d.Assignments, Design: d.Design, Weights: d.Weights, Approved: d.Approved}
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
		var problems []dotm.Problem
		q := func(name, def string) string {
			if v := c.Query(name); v != "" {
				return v
			}
			return def
		}
		n, err := strconv.Atoi(c.Query("n"))
		if err != nil || n < 1 {
			problems = append(problems, dotm.Problem{Path: "n", Code: "required", Message: "the number of PSUs to select, a whole number ≥ 1"})
		}
		seed, err := strconv.ParseUint(c.Query("seed"), 10, 64)
		if err != nil {
			problems = append(problems, dotm.Problem{Path: "seed", Code: "required", Message: "the random seed, a whole number ≥ 0 (recorded with the sample)"})
		}
		alloc, err := sampling.ParseAllocation(q("allocation", "proportional"))
		if err != nil {
			problems = append(problems, dotm.Problem{Path: "allocation", Code: "choice", Message: err.Error()})
		}
		if problems != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "invalid draw parameters", Problems: problems})
			return
		}
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			fail(c, jsonError(err))
			return
		}
		frame, err := sampling.ReadFrame(bytes.NewReader(body), sampling.FrameColumns{ID: q("id", "psu_id"), Stratum: q("stratum", "stratum"), Size: q("size", "size")})
		if err != nil {
			fail(c, inputProblems("frame", err))
			return
		}
		var bad []dotm.Problem
		for i, u := range frame.Units {
			if !dotm.ValidID(u.ID) {
				bad = append(bad, dotm.Problem{Path: "frame row " + strconv.Itoa(i+1) + " column " + q("id", "psu_id"), Code: "format", Message: "a PSU id: " + dotm.IDRule})
			}
		}
		if bad != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "frame: " + strconv.Itoa(len(bad)) + " invalid PSU id(s)", Problems: bad})
			return
		}
		strata := frame.Strata()
		sizes, err := sampling.Allocate(strata, n, alloc)
		if err != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "allocation: " + err.Error(), Err: err})
			return
		}
		draws, err := sampling.SelectPSUs(frame, sizes, seed, sampling.SelectOptions{RandomSort: c.Query("random_sort") == "true"})
		if err != nil {
			fail(c, inputProblems("frame", err))
			return
		}
		sample := dotm.PSUSample{Survey: sv.ID, Allocation: q("allocation", "proportional"), Seed: seed, DrawnAt: now(), DrawnBy: currentUser(c).Name}
		for _, st := range strata {
			sample.Strata = append(sample.Strata, dotm.StratumFrame{Stratum: st.Name, FramePSUs: st.Units, Size: st.Size, Selected: sizes[st.Name]})
		}
		for _, d := range draws {
			if !d.Selected {
				continue
			}
			p := dotm.SampledPSU{PSU: d.ID, Stratum: d.Stratum, Size: d.Size, Pi1: d.Pi, Certainty: d.Certainty}
			if len(frame.ExtraColumns) > 0 {
				p.Extra = map[string]string{}
				for j, col := range frame.ExtraColumns {
					p.Extra[col] = d.Extra[j]
				}
			}
			sample.PSUs = append(sample.PSUs, p)
		}
		if err := design.PutPSUSample(c.Request.Context(), sample); err != nil {
			fail(c, err)
			return
		}
		u := currentUser(c)
		if err := audit.Record(c.Request.Context(), dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "sample_psus", Survey: sv.ID,
			Detail: fmt.Sprintf("%d PSUs from %d, seed %d", len(sample.PSUs), len(frame.Units), seed)}); err != nil {
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
// listing and no draw yet, by screening-class quota, and makes each selected
// household an assignment of one of the PSU's enumerators.
func handleDrawHouseholds(surveys dotm.SurveyStore, design dotm.DesignStore, listings dotm.ListingStore, assignments dotm.AssignmentStore, audit dotm.Auditor) gin.HandlerFunc {
	type request struct {
		Quota       map[string]int `json:"quota"`
		Method      string         `json:"method"` // srs (default) or systematic
		Seed        *uint64        `json:"seed"`
		Enumerators []string       `json:"enumerators"`
		PerPSU      int            `json:"enumerators_per_psu"` // default 2
		Supervisor  string         `json:"supervisor"`
		FormID      string         `json:"form_id"`
	}
	type response struct {
		PSUsDrawn   int            `json:"psus_drawn"`
		PSUsWaiting []string       `json:"psus_without_listing"`
		Selected    int            `json:"households_selected"`
		ByClass     map[string]int `json:"selected_by_class"`
		Assignments int            `json:"assignments_created"`
	}
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		var req request
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
		var problems []dotm.Problem
		if len(req.Quota) == 0 {
			problems = append(problems, dotm.Problem{Path: "quota", Code: "required", Message: "households per screening class, e.g. {\"current_migrant\": 6, \"return_migrant\": 3, \"non_migrant\": 6}"})
		}
		for k, v := range req.Quota {
			if v < 0 {
				problems = append(problems, dotm.Problem{Path: "quota." + k, Code: "constraint", Message: "a whole number ≥ 0"})
			}
		}
		if req.Seed == nil {
			problems = append(problems, dotm.Problem{Path: "seed", Code: "required", Message: "the random seed (recorded with the draw)"})
		}
		if len(req.Enumerators) == 0 {
			problems = append(problems, dotm.Problem{Path: "enumerators", Code: "required", Message: "the enumerators who will interview the selected households"})
		}
		for i, e := range req.Enumerators {
			if !dotm.IDPattern.MatchString(e) {
				problems = append(problems, dotm.Problem{Path: "enumerators[" + strconv.Itoa(i) + "]", Code: "format", Message: "a user name"})
			}
		}
		method := sampling.SimpleRandom
		if req.Method != "" {
			m, err := sampling.ParseHouseholdMethod(req.Method)
			if err != nil {
				problems = append(problems, dotm.Problem{Path: "method", Code: "choice", Message: err.Error()})
			}
			method = m
		}
		if problems != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "invalid household draw", Problems: problems})
			return
		}
		if req.PerPSU <= 0 {
			req.PerPSU = 2
		}
		ctx := c.Request.Context()
		psus, err := design.PSUSample(ctx, sv.ID)
		if err != nil {
			if dotm.ErrorCode(err) == dotm.ENOTFOUND {
				err = dotm.Errorf(dotm.EUNPROCESSABL, "survey %s has no PSU sample: draw PSUs first", sv.ID)
			}
			fail(c, err)
			return
		}
		done, err := design.HouseholdSamples(ctx, sv.ID)
		if err != nil {
			fail(c, err)
			return
		}
		drawn := map[string]bool{}
		for _, d := range done {
			drawn[d.PSU] = true
		}
		ls, err := listings.Listings(ctx, sv.ID)
		if err != nil {
			fail(c, err)
			return
		}
		listingOf := map[string]dotm.Listing{}
		for _, l := range ls {
			listingOf[l.PSU] = l
		}
		quota := sampling.Quota(req.Quota)
		res := response{ByClass: map[string]int{}, PSUsWaiting: []string{}}
		for k, p := range psus.PSUs {
			if drawn[p.PSU] {
				continue
			}
			l, ok := listingOf[p.PSU]
			if !ok {
				res.PSUsWaiting = append(res.PSUsWaiting, p.PSU)
				continue
			}
			listed := make([]sampling.ListedHousehold, len(l.Households))
			for i, h := range l.Households {
				if !dotm.ValidID(h.HouseholdID) { // stored before ids were checked
					fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "the listing of PSU " + p.PSU + " has an invalid household id; correct the listing",
						Problems: []dotm.Problem{{Path: "listings." + p.PSU + ".households[" + strconv.Itoa(i) + "].household_id", Code: "format", Message: "the household id: " + dotm.IDRule}}})
					return
				}
				listed[i] = sampling.ListedHousehold{PSU: p.PSU, ID: h.HouseholdID, Class: string(h.Class), Order: i + 1}
			}
			draws, err := sampling.SelectHouseholds(listed, quota, method, *req.Seed)
			if err != nil {
				fail(c, inputProblems("listing of PSU "+p.PSU, err))
				return
			}
			hs := dotm.HouseholdSample{Survey: sv.ID, PSU: p.PSU, Stratum: p.Stratum, Quota: quota.String(), Method: req.Method, Seed: *req.Seed, DrawnAt: now()}
			team := make([]string, 0, req.PerPSU)
			for j := 0; j < req.PerPSU && j < len(req.Enumerators); j++ {
				team = append(team, req.Enumerators[(k*req.PerPSU+j)%len(req.Enumerators)])
			}
			var as []dotm.Assignment
			for _, d := range draws {
				hs.Households = append(hs.Households, dotm.SampledHousehold{HouseholdID: d.ID, Class: d.Class, Pi2: d.Pi2, Listed: d.Listed, Taken: d.Taken, Selected: d.Selected})
				if !d.Selected {
					continue
				}
				res.Selected++
				res.ByClass[d.Class]++
				t := now()
				as = append(as, dotm.Assignment{ID: dotm.AssignmentID(sv.ID, p.PSU, d.ID), Survey: sv.ID, Enumerator: team[len(as)%len(team)], Supervisor: req.Supervisor,
					HouseholdID: d.ID, Stratum: p.Stratum, PSU: p.PSU, FormID: req.FormID, Status: dotm.AssignmentAssigned, CreatedAt: t, UpdatedAt: t})
			}
			// The draw is stored first: it is what makes the PSU drawn, and a
			// retry after a failure below re-creates only missing assignments.
			if err := design.PutHouseholdSample(ctx, hs); err != nil {
				fail(c, err)
				return
			}
			if len(as) > 0 {
				if err := assignments.AddAssignments(ctx, as); err != nil {
					if dotm.ErrorCode(err) != dotm.ECONFLICT {
						fail(c, err)
						return
					}
					// Ids that exist already: only this draw's own (a retry)
					// count as created.
					for _, want := range as {
						got, err := assignments.Assignment(ctx, want.ID)
						if err != nil || got.Survey != want.Survey || got.PSU != want.PSU || got.HouseholdID != want.HouseholdID {
							fail(c, dotm.Errorf(dotm.ECONFLICT, "assignment id %s is taken by another assignment", want.ID))
							return
						}
					}
				}
			}
			res.PSUsDrawn++
			res.Assignments += len(as)
		}
		sort.Strings(res.PSUsWaiting)
		u := currentUser(c)
		if err := audit.Record(ctx, dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "sample_households", Survey: sv.ID,
			Detail: fmt.Sprintf("%d PSUs, %d households, quota %s", res.PSUsDrawn, res.Selected, quota)}); err != nil {
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
		if err := s.deps.Auditor.Record(c.Request.Context(), dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "weights", Survey: sv.ID,
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

// inputProblems turns sampling's row-level input errors into a 422 whose
// problems name the line and column.
func inputProblems(what string, err error) error {
	var list sampling.InputErrors
	switch e := err.(type) {
	case sampling.InputErrors:
		list = e
	case *sampling.InputError:
		list = sampling.InputErrors{e}
	default:
		return &dotm.Error{Code: dotm.EUNPROCESSABL, Message: what + ": " + err.Error(), Err: err}
	}
	e := &dotm.Error{Code: dotm.EUNPROCESSABL, Message: what + ": " + strconv.Itoa(len(list)) + " problem(s)"}
	for _, ie := range list {
		path := what
		if ie.Line > 0 {
			path += " line " + strconv.Itoa(ie.Line)
		}
		if ie.Column != "" {
			path += " column " + ie.Column
		}
		e.Problems = append(e.Problems, dotm.Problem{Path: path, Code: "invalid", Message: ie.Msg})
	}
	e.Problems = firstProblems(e.Problems)
	return e
}
