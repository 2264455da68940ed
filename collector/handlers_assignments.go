package collector

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
)

// MaxAssignments is the most assignments one POST creates.
const MaxAssignments = 10000

// handleCreateAssignments: POST /api/v1/surveys/{survey}/assignments (admin).
// Until the sample selects households, an admin creates assignments by hand;
// the sampling step creates them in bulk through AssignmentStore.AddAssignments.
func handleCreateAssignments(surveys dotm.SurveyStore, assignments dotm.AssignmentStore) gin.HandlerFunc {
	type item struct {
		ID          string `json:"id"`
		Enumerator  string `json:"enumerator"`
		Supervisor  string `json:"supervisor"`
		HouseholdID string `json:"household_id"`
		Stratum     string `json:"stratum"`
		PSU         string `json:"psu"`
		FormID      string `json:"form_id"`
	}
	type request struct {
		Assignments []item `json:"assignments"`
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
		if len(req.Assignments) == 0 || len(req.Assignments) > MaxAssignments {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "no assignments or too many",
				Problems: []dotm.Problem{{Path: "assignments", Code: "constraint", Message: "1 to " + strconv.Itoa(MaxAssignments) + " assignments"}}})
			return
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		var problems []dotm.Problem
		seen := map[string]bool{}
		out := make([]dotm.Assignment, len(req.Assignments))
		for i, it := range req.Assignments {
			at := "assignments[" + strconv.Itoa(i) + "]."
			if it.ID == "" {
				it.ID = uuid.NewString()
			} else if !dotm.IDPattern.MatchString(it.ID) {
				problems = append(problems, dotm.Problem{Path: at + "id", Code: "format", Message: "1 to 64 letters, digits, '.', '_' or '-'"})
			}
			if seen[it.ID] {
				problems = append(problems, dotm.Problem{Path: at + "id", Code: "constraint", Message: "id " + it.ID + " is listed twice"})
			}
			seen[it.ID] = true
			if !dotm.IDPattern.MatchString(it.Enumerator) {
				problems = append(problems, dotm.Problem{Path: at + "enumerator", Code: "required", Message: "the enumerator's user name"})
			}
			if !dotm.ValidID(it.HouseholdID) {
				problems = append(problems, dotm.Problem{Path: at + "household_id", Code: "format", Message: "the household id: " + dotm.IDRule})
			}
			for _, f := range []struct{ name, v string }{{"supervisor", it.Supervisor}, {"stratum", it.Stratum}, {"psu", it.PSU}, {"form_id", it.FormID}} {
				if len(f.v) > 128 {
					problems = append(problems, dotm.Problem{Path: at + f.name, Code: "constraint", Message: "at most 128 characters"})
				}
			}
			out[i] = dotm.Assignment{ID: it.ID, Survey: sv.ID, Enumerator: it.Enumerator, Supervisor: it.Supervisor, HouseholdID: it.HouseholdID,
				Stratum: it.Stratum, PSU: it.PSU, FormID: it.FormID, Status: dotm.AssignmentAssigned, CreatedAt: now, UpdatedAt: now}
		}
		if problems != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "invalid assignments", Problems: firstProblems(problems)})
			return
		}
		if err := assignments.AddAssignments(c.Request.Context(), out); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, gin.H{"created": len(out), "assignments": out})
	}
}

func firstProblems(ps []dotm.Problem) []dotm.Problem {
	if len(ps) > 100 {
		return ps[:100]
	}
	return ps
}

// handleListAssignments: GET /api/v1/assignments?survey=&status=&enumerator=
// Enumerators get their own (returned ones with the supervisor's comment),
// supervisors their team's (the surveys of their scope), admins all.
func handleListAssignments(assignments dotm.AssignmentStore) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := currentUser(c)
		f := dotm.AssignmentFilter{Survey: c.Query("survey"), Enumerator: c.Query("enumerator")}
		switch st := dotm.AssignmentStatus(c.Query("status")); st {
		case "", dotm.AssignmentAssigned, dotm.AssignmentSubmitted, dotm.AssignmentReturned, dotm.AssignmentApproved:
			f.Status = st
		default:
			fail(c, dotm.Errorf(dotm.EINVALID, "status %q: one of assigned, submitted, returned, approved", st))
			return
		}
		if u.Role == dotm.RoleEnumerator {
			if f.Enumerator != "" && f.Enumerator != u.Name {
				fail(c, dotm.Errorf(dotm.EFORBIDDEN, "enumerators see only their own assignments"))
				return
			}
			f.Enumerator = u.Name
		}
		if f.Survey == "" {
			f.Surveys = u.Surveys
		}
		if f.Survey != "" && !u.InSurvey(f.Survey) {
			fail(c, dotm.Errorf(dotm.EFORBIDDEN, "survey %s is not in your scope", f.Survey))
			return
		}
		list, err := assignments.Assignments(c.Request.Context(), f)
		if err != nil {
			fail(c, err)
			return
		}
		if list == nil {
			list = []dotm.Assignment{}
		}
		c.JSON(http.StatusOK, gin.H{"assignments": list})
	}
}

// MaxListing is the most households one PSU listing may hold.
const MaxListing = 20000

// handlePostListing: POST /api/v1/surveys/{survey}/listings (supervisor,
// enumerator): the screened household listing of one PSU. A second listing
// of the PSU replaces the first (a correction) with the next revision.
func handlePostListing(surveys dotm.SurveyStore, listings dotm.ListingStore, assignments dotm.AssignmentStore) gin.HandlerFunc {
	type request struct {
		PSU        string                 `json:"psu"`
		Stratum    string                 `json:"stratum"`
		Households []dotm.ListedHousehold `json:"households"`
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
		if !dotm.IDPattern.MatchString(req.PSU) {
			problems = append(problems, dotm.Problem{Path: "psu", Code: "required", Message: "the PSU id: 1 to 64 letters, digits, '.', '_' or '-'"})
		}
		if len(req.Stratum) > 128 {
			problems = append(problems, dotm.Problem{Path: "stratum", Code: "constraint", Message: "at most 128 characters"})
		}
		if len(req.Households) == 0 || len(req.Households) > MaxListing {
			problems = append(problems, dotm.Problem{Path: "households", Code: "constraint", Message: "1 to " + strconv.Itoa(MaxListing) + " households"})
		}
		seen := make(map[string]bool, len(req.Households))
		counts := map[dotm.HouseholdClass]int{dotm.CurrentMigrant: 0, dotm.ReturnMigrant: 0, dotm.NonMigrant: 0}
		for i, h := range req.Households {
			at := "households[" + strconv.Itoa(i) + "]."
			if !dotm.ValidID(h.HouseholdID) {
				problems = append(problems, dotm.Problem{Path: at + "household_id", Code: "format", Message: "the household id: " + dotm.IDRule})
			} else if seen[h.HouseholdID] {
				problems = append(problems, dotm.Problem{Path: at + "household_id", Code: "constraint", Message: "household " + h.HouseholdID + " is listed twice"})
			}
			seen[h.HouseholdID] = true
			if _, ok := counts[h.Class]; !ok {
				problems = append(problems, dotm.Problem{Path: at + "class", Code: "choice", Message: "current_migrant, return_migrant or non_migrant"})
				continue
			}
			counts[h.Class]++
		}
		if problems != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "invalid listing", Problems: firstProblems(problems)})
			return
		}
		u := currentUser(c)
		if u.Role == dotm.RoleEnumerator {
			if err := mayReplaceListing(c.Request.Context(), listings, assignments, sv.ID, req.PSU, u); err != nil {
				fail(c, err)
				return
			}
		}
		l := dotm.Listing{Survey: sv.ID, PSU: req.PSU, Stratum: req.Stratum, Households: req.Households,
			SubmittedBy: u.Name, SubmittedAt: time.Now().UTC().Truncate(time.Millisecond)}
		rev, err := listings.PutListing(c.Request.Context(), l)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, gin.H{"survey": sv.ID, "psu": req.PSU, "revision": rev, "households": len(req.Households), "classes": counts})
	}
}

// mayReplaceListing lets an enumerator list a PSU nobody listed yet, and
// replace the listing of a PSU that is its own: one whose first listing it
// made, or where it holds an assignment. Supervisors replace any listing of
// their surveys (the caller does not ask for them).
func mayReplaceListing(ctx context.Context, listings dotm.ListingStore, assignments dotm.AssignmentStore, survey, psu string, u dotm.User) error {
	ls, err := listings.Listings(ctx, survey)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ls, func(l dotm.Listing) bool { return l.PSU == psu })
	if i < 0 || ls[i].SubmittedBy == u.Name || ls[i].ListedBy == u.Name {
		return nil
	}
	mine, err := assignments.Assignments(ctx, dotm.AssignmentFilter{Survey: survey, Enumerator: u.Name})
	if err != nil {
		return err
	}
	if slices.ContainsFunc(mine, func(a dotm.Assignment) bool { return a.PSU == psu }) {
		return nil
	}
	return dotm.Errorf(dotm.EFORBIDDEN, "PSU %s was listed by someone else and you hold no assignment in it; ask a supervisor to correct its listing", psu)
}

// handleGetListings: GET /api/v1/surveys/{survey}/listings (supervisor,
// statistician, admin): every PSU's current listing.
func handleGetListings(surveys dotm.SurveyStore, listings dotm.ListingStore) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		ls, err := listings.Listings(c.Request.Context(), sv.ID)
		if err != nil {
			fail(c, err)
			return
		}
		if ls == nil {
			ls = []dotm.Listing{}
		}
		c.JSON(http.StatusOK, gin.H{"listings": ls})
	}
}

// handleAudit: GET /api/v1/audit?action=&actor=&survey=&before=&limit= (admin),
// newest first; next_before continues the list.
var auditIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

func handleAudit(log dotm.AuditLog) gin.HandlerFunc {
	return func(c *gin.Context) {
		f := dotm.AuditFilter{Action: c.Query("action"), Actor: c.Query("actor"), Survey: c.Query("survey")}
		// A scoped admin reads only the entries of its surveys.
		u := currentUser(c)
		if f.Survey != "" && !u.InSurvey(f.Survey) {
			fail(c, dotm.Errorf(dotm.EFORBIDDEN, "survey %s is not in your scope", f.Survey))
			return
		}
		f.Surveys = u.Surveys
		if b := c.Query("before"); b != "" {
			t, err := time.Parse(time.RFC3339Nano, b)
			if err != nil {
				fail(c, dotm.Errorf(dotm.EINVALID, "before: an RFC 3339 time"))
				return
			}
			f.Before = t
		}
		if id := c.Query("before_id"); id != "" {
			if f.Before.IsZero() {
				fail(c, dotm.Errorf(dotm.EINVALID, "before_id: only together with before"))
				return
			}
			if !auditIDPattern.MatchString(id) {
				fail(c, dotm.Errorf(dotm.EINVALID, "before_id: an audit entry id (24 hexadecimal digits)"))
				return
			}
			f.BeforeID = id
		}
		limit, err := queryLimit(c, 100, 1000)
		if err != nil {
			fail(c, err)
			return
		}
		f.Limit = limit
		entries, err := log.AuditEntries(c.Request.Context(), f)
		if err != nil {
			fail(c, err)
			return
		}
		if entries == nil {
			entries = []dotm.AuditEntry{}
		}
		out := gin.H{"entries": entries}
		if len(entries) == limit {
			last := entries[len(entries)-1]
			out["next_before"] = last.Time.Format(time.RFC3339Nano)
			out["next_before_id"] = last.ID
		}
		c.JSON(http.StatusOK, out)
	}
}
