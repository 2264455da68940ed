package collector

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
)

// handleCreateAssignments: POST /api/v1/surveys/{survey}/assignments (admin).
// Until the sample selects households, an admin creates assignments by hand;
// the sampling step creates them in bulk through AssignmentStore.AddAssignments.
func handleCreateAssignments(surveys dotm.SurveyStore, assignments dotm.AssignmentStore) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		var req dotm.AssignmentsRequest
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
		if ps := req.Valid(c.Request.Context()); ps != nil {
			msg := "invalid assignments"
			if len(req.Assignments) == 0 || len(req.Assignments) > dotm.MaxAssignments {
				msg = "no assignments or too many"
			}
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: msg, Problems: firstProblems(ps)})
			return
		}
		out := req.Make(sv.ID, now())
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

// handleListAssignments: GET /api/v1/assignments?survey=&status=&enumerator=&limit=&after=
// Enumerators get their own (returned ones with the supervisor's comment),
// supervisors their team's (the surveys of their scope), admins all.
// Supervisors and admins get a page (limit, 500 unless asked, at most
// 1,000) in id order, and next_after to continue from, so the request costs
// a page whatever the survey's size; an enumerator gets all of theirs
// unless they ask for a limit.
//
// Each assignment comes with prefill: the answers the assignment itself
// gives the form, so the client fills them in and locks them: household_id,
// psu and stratum, and the frame's other columns for its PSU (region,
// urban, …) once the survey's PSU sample is drawn (design may be nil).
func handleListAssignments(assignments dotm.AssignmentStore, design dotm.DesignStore) gin.HandlerFunc {
	type assignmentView struct {
		dotm.Assignment
		Prefill map[string]string `json:"prefill"`
	}
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
		def := 500
		if u.Role == dotm.RoleEnumerator {
			def = 0 // all of their own
		}
		limit, err := queryLimit(c, def, 1000)
		if err != nil {
			fail(c, err)
			return
		}
		f.Limit, f.After = limit, c.Query("after")
		if f.Survey != "" && !u.InSurvey(f.Survey) {
			fail(c, dotm.Errorf(dotm.EFORBIDDEN, "survey %s is not in your scope", f.Survey))
			return
		}
		list, err := assignments.Assignments(c.Request.Context(), f)
		if err != nil {
			fail(c, err)
			return
		}
		frames := map[string]map[string]map[string]string{} // survey -> PSU -> frame columns
		out := make([]assignmentView, len(list))
		for i, a := range list {
			p := map[string]string{"household_id": a.HouseholdID}
			if a.PSU != "" {
				p["psu"] = a.PSU
			}
			if a.Stratum != "" {
				p["stratum"] = a.Stratum
			}
			if design != nil && a.PSU != "" {
				psus, seen := frames[a.Survey]
				if !seen {
					s, err := design.PSUSample(c.Request.Context(), a.Survey)
					if err != nil && dotm.ErrorCode(err) != dotm.ENOTFOUND {
						fail(c, err)
						return
					}
					psus = map[string]map[string]string{}
					for _, x := range s.PSUs {
						psus[x.PSU] = x.Extra
					}
					frames[a.Survey] = psus
				}
				for k, v := range psus[a.PSU] {
					if _, set := p[k]; !set {
						p[k] = v
					}
				}
			}
			out[i] = assignmentView{Assignment: a, Prefill: p}
		}
		answer := gin.H{"assignments": out}
		if limit > 0 && len(list) == limit {
			answer["next_after"] = list[len(list)-1].ID
		}
		c.JSON(http.StatusOK, answer)
	}
}

// handlePostListing: POST /api/v1/surveys/{survey}/listings (supervisor,
// enumerator): the screened household listing of one PSU. A second listing
// of the PSU replaces the first (a correction) with the next revision.
func handlePostListing(surveys dotm.SurveyStore, listings dotm.ListingStore, assignments dotm.AssignmentStore) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		var req dotm.ListingRequest
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
		if ps := req.Valid(c.Request.Context()); ps != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "invalid listing", Problems: firstProblems(ps)})
			return
		}
		counts := req.Counts()
		u := currentUser(c)
		ifRevision := dotm.AnyRevision
		if u.Role == dotm.RoleEnumerator {
			rev, err := mayReplaceListing(c.Request.Context(), listings, assignments, sv.ID, req.PSU, u)
			if err != nil {
				fail(c, err)
				return
			}
			ifRevision = rev // the permission holds for the revision it was checked on
		}
		l := dotm.Listing{Survey: sv.ID, PSU: req.PSU, Stratum: req.Stratum, Households: req.Households,
			SubmittedBy: u.Name, SubmittedAt: time.Now().UTC().Truncate(time.Millisecond)}
		rev, err := listings.PutListing(c.Request.Context(), l, ifRevision)
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
// their surveys (the caller does not ask for them). It returns the revision
// the permission was checked on (0: none yet).
func mayReplaceListing(ctx context.Context, listings dotm.ListingStore, assignments dotm.AssignmentStore, survey, psu string, u dotm.User) (int, error) {
	ls, err := listings.Listings(ctx, survey)
	if err != nil {
		return 0, err
	}
	i := slices.IndexFunc(ls, func(l dotm.Listing) bool { return l.PSU == psu })
	if i < 0 {
		return 0, nil
	}
	if ls[i].SubmittedBy == u.Name || ls[i].ListedBy == u.Name {
		return ls[i].Revision, nil
	}
	mine, err := assignments.Assignments(ctx, dotm.AssignmentFilter{Survey: survey, Enumerator: u.Name})
	if err != nil {
		return 0, err
	}
	if slices.ContainsFunc(mine, func(a dotm.Assignment) bool { return a.PSU == psu }) {
		return ls[i].Revision, nil
	}
	return 0, dotm.Errorf(dotm.EFORBIDDEN, "PSU %s was listed by someone else and you hold no assignment in it; ask a supervisor to correct its listing", psu)
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
