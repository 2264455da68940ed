package collector

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
)

// MaxBatch is the most envelopes POST /api/v1/submissions/batch takes.
const MaxBatch = 500

// MaxSubmissionBytes bounds one envelope: an hour-long household interview is
// tens of kilobytes, so anything near this limit is not an interview.
const MaxSubmissionBytes = 2 << 20

// handlePostSubmission: POST /api/v1/submissions (enumerator). 201 once the
// database acknowledged the write; 200 with the same body for a retry of
// the same content; 409 for the same instance with other content.
func handlePostSubmission(in *ingester) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		raw, err := readJSON(c)
		if err == nil {
			err = checkRepeats(raw)
		}
		var env dotm.Envelope
		if err == nil {
			err = decodeJSONBytes(raw, &env)
		}
		if err != nil {
			fail(c, err)
			return
		}
		result, sub, err := in.ingest(ctx, currentUser(c), env, time.Now())
		if err != nil {
			fail(c, err)
			return
		}
		switch result {
		case dotm.ResultCreated:
			c.JSON(http.StatusCreated, dotm.Receipt{ID: sub.ID, Status: "received"})
		case dotm.ResultDuplicate:
			c.JSON(http.StatusOK, dotm.Receipt{ID: sub.ID, Status: "received"})
		default:
			fail(c, dotm.Errorf(dotm.ECONFLICT, "submission %s exists with different content; a new interview needs a new instance_id", sub.ID))
		}
	}
}

var resultStatus = map[string]int{
	dotm.ResultCreated: http.StatusCreated, dotm.ResultDuplicate: http.StatusOK, dotm.ResultConflict: http.StatusConflict,
	dotm.ResultInvalid: http.StatusUnprocessableEntity, dotm.ResultForbidden: http.StatusForbidden,
}

// handlePostBatch: POST /api/v1/submissions/batch (enumerator). Up to
// MaxBatch envelopes, one result each; one bad item never blocks the others.
// When the database fails the whole request fails (503), and the client
// sends the batch again: what was stored comes back as duplicate.
func handlePostBatch(in *ingester) gin.HandlerFunc {
	type request struct {
		Submissions []json.RawMessage `json:"submissions"`
	}
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		var req request
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
		if req.Submissions == nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "no submissions", Problems: []dotm.Problem{{Path: "submissions", Code: "required", Message: "an array of 1 to 500 envelopes"}}})
			return
		}
		if len(req.Submissions) > MaxBatch {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "too many submissions in one batch",
				Problems: []dotm.Problem{{Path: "submissions", Code: "constraint", Message: "at most " + strconv.Itoa(MaxBatch) + " per batch; send the rest in another"}}})
			return
		}
		u := currentUser(c)
		now := time.Now()
		results := make([]dotm.BatchResult, len(req.Submissions))
		var ready []prepared
		var readyIdx []int
		for i, raw := range req.Submissions {
			results[i].Index = i
			var env dotm.Envelope
			var err error = dotm.Errorf(dotm.ETOOLARGE, "envelope of %d bytes is over the limit of %d", len(raw), MaxSubmissionBytes)
			if len(raw) <= MaxSubmissionBytes {
				if err = checkRepeats(raw); err == nil {
					env, err = decodeEnvelope(raw)
				}
			}
			if err == nil {
				results[i].InstanceID = env.InstanceID
				var p prepared
				if p, err = in.prepare(ctx, u, env, now); err == nil {
					ready = append(ready, p)
					readyIdx = append(readyIdx, i)
					results[i].InstanceID = p.sub.ID
					continue
				}
			}
			result, e, ok := itemResult(err)
			if !ok {
				fail(c, err)
				return
			}
			results[i].Result, results[i].Detail = result, trimMessage(e.Message)
			results[i].Problems, results[i].ProblemsTotal = capProblems(e.Problems)
			results[i].Status = statusOf[e.Code]
		}
		subs := make([]dotm.Submission, len(ready))
		for j, p := range ready {
			subs[j] = p.sub
		}
		var insertErrs []error
		if len(subs) > 0 {
			insertErrs = in.subs.InsertSubmissions(ctx, subs)
		}
		for j, p := range ready {
			result, err := in.settle(ctx, p, insertErrs[j])
			if err != nil {
				fail(c, err)
				return
			}
			i := readyIdx[j]
			results[i].Result = result
			if result == dotm.ResultConflict {
				results[i].Detail = "submission " + p.sub.ID + " exists with different content"
			}
		}
		counts := map[string]int{}
		for i := range results {
			if results[i].Status == 0 {
				results[i].Status = resultStatus[results[i].Result]
			}
			counts[results[i].Result]++
		}
		c.JSON(http.StatusOK, dotm.BatchAnswer{Results: results, Counts: counts})
	}
}

// submissionView is a submission as the API shows it.
type submissionView struct {
	ID           string         `json:"id"`
	Survey       string         `json:"survey"`
	FormID       string         `json:"form_id"`
	FormVersion  string         `json:"form_version"`
	AssignmentID string         `json:"assignment_id,omitempty"`
	Enumerator   string         `json:"enumerator"`
	Status       string         `json:"status"`
	Supersedes   string         `json:"supersedes,omitempty"`
	SupersededBy string         `json:"superseded_by,omitempty"`
	StartedAt    time.Time      `json:"started_at"`
	EndedAt      time.Time      `json:"ended_at"`
	ReceivedAt   time.Time      `json:"received_at"`
	Reviews      []dotm.Review  `json:"reviews"`
	Flags        []string       `json:"flags"` // quality flags found on receipt
	Answers      map[string]any `json:"answers,omitempty"`
	// Identifiers tells whether answers include the direct questions.
	Identifiers bool `json:"identifiers_included"`
}

func viewOf(s dotm.Submission) submissionView {
	r := s.Reviews
	if r == nil {
		r = []dotm.Review{}
	}
	flags := s.Flags
	if flags == nil {
		flags = []string{}
	}
	return submissionView{Flags: flags, ID: s.ID, Survey: s.Survey, FormID: s.FormID, FormVersion: s.FormVersion, AssignmentID: s.AssignmentID,
		Enumerator: s.Enumerator, Status: string(s.Status), Supersedes: s.Supersedes, SupersededBy: s.SupersededBy,
		StartedAt: s.StartedAt, EndedAt: s.EndedAt, ReceivedAt: s.ReceivedAt, Reviews: r}
}

// handleGetSubmission: GET /api/v1/submissions/{id}. Answers to direct
// questions only with ?include=identifiers, for those allowed, and each such
// read is audited before the answer leaves.
func handleGetSubmission(subs dotm.SubmissionStore, keys func() *dotm.Keyring, audit dotm.Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		u := currentUser(c)
		include := c.Query("include")
		if include != "" && include != "identifiers" {
			fail(c, dotm.Errorf(dotm.EINVALID, "include=%s: the only choice is include=identifiers", include))
			return
		}
		s, err := subs.Submission(ctx, c.Param("id"))
		if err != nil {
			fail(c, err)
			return
		}
		if err := dotm.MayRead(u, s); err != nil {
			fail(c, err)
			return
		}
		v := viewOf(s)
		v.Answers = s.Answers
		if v.Answers == nil {
			v.Answers = map[string]any{}
		}
		if include == "identifiers" {
			if err := dotm.MayReadIdentifiers(u, s); err != nil {
				fail(c, err)
				return
			}
			if err := record(c, audit, dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "read_identifiers",
				Survey: s.Survey, Target: s.ID, Detail: strconv.Itoa(len(s.Sealed)) + " values"}); err != nil {
				fail(c, err)
				return
			}
			if v.Answers, err = dotm.UnsealAnswers(keys(), s.ID, s.Answers, s.Sealed); err != nil {
				fail(c, &dotm.Error{Code: dotm.EINTERNAL, Err: err})
				return
			}
			v.Identifiers = true
		}
		c.JSON(http.StatusOK, v)
	}
}

// handleListSubmissions: GET /api/v1/submissions?survey=&status=&enumerator=&form=&limit=&after=
// Summaries without answers, in id order; next_after continues the list.
func handleListSubmissions(subs dotm.SubmissionStore) gin.HandlerFunc {
	type response struct {
		Submissions []submissionView `json:"submissions"`
		NextAfter   string           `json:"next_after,omitempty"`
	}
	return func(c *gin.Context) {
		u := currentUser(c)
		f := dotm.SubmissionFilter{Survey: c.Query("survey"), Enumerator: c.Query("enumerator"), FormID: c.Query("form"), After: c.Query("after")}
		switch st := dotm.SubmissionStatus(c.Query("status")); st {
		case "", dotm.SubmissionReceived, dotm.SubmissionApproved, dotm.SubmissionRejected:
			f.Status = st
		default:
			fail(c, dotm.Errorf(dotm.EINVALID, "status %q: one of received, approved, rejected", st))
			return
		}
		limit, err := queryLimit(c, 100, 500)
		if err != nil {
			fail(c, err)
			return
		}
		f.Limit = limit
		switch u.Role {
		case dotm.RoleEnumerator:
			if f.Enumerator != "" && f.Enumerator != u.Name {
				fail(c, dotm.Errorf(dotm.EFORBIDDEN, "enumerators see only their own submissions"))
				return
			}
			f.Enumerator = u.Name
		default:
			f.Surveys = u.Surveys
		}
		if f.Survey != "" && !u.InSurvey(f.Survey) {
			fail(c, dotm.Errorf(dotm.EFORBIDDEN, "survey %s is not in your scope", f.Survey))
			return
		}
		list, err := subs.Submissions(c.Request.Context(), f)
		if err != nil {
			fail(c, err)
			return
		}
		out := response{Submissions: make([]submissionView, len(list))}
		for i, s := range list {
			out.Submissions[i] = viewOf(s)
		}
		if len(list) == limit {
			out.NextAfter = list[len(list)-1].ID
		}
		c.JSON(http.StatusOK, out)
	}
}

func queryLimit(c *gin.Context, def, max int) (int, error) {
	s := c.Query("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, dotm.Errorf(dotm.EINVALID, "limit %q: a whole number from 1 to %d", s, max)
	}
	return n, nil
}

// handleReview: POST /api/v1/submissions/{id}/review (supervisor).
// A rejection returns the assignment to its enumerator with the comment.
func handleReview(subs dotm.SubmissionStore, assignments dotm.AssignmentStore, tallies dotm.TallyStore, behind *atomic.Bool, audit dotm.Auditor, logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := currentUser(c)
		var req dotm.ReviewRequest
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
		s, err := dotm.ReviewSubmission(c.Request.Context(), subs, assignments, u, c.Param("id"), req, now())
		var notMoved *dotm.AssignmentNotMovedError
		if errors.As(err, &notMoved) {
			logger.Warn("move assignment after review", "assignment", notMoved.Assignment, "submission", s.ID, "error", notMoved.Err.Error())
		} else if err != nil {
			fail(c, err)
			return
		}
		if tallies != nil {
			// The progress summary follows; a failure leaves it behind by
			// one decision (logged), never the review, until the next
			// reconciliation (Server.KeepTalliesReconciled) sets it.
			if err := tallies.SetTallyStatus(c.Request.Context(), s.ID, s.Status); err != nil {
				behind.Store(true)
				logger.Warn("update tally after review", "submission", s.ID, "error", err.Error())
			}
		}
		if err := record(c, audit, dotm.AuditEntry{Action: "review", Survey: s.Survey, Target: s.ID, Detail: req.Decision}); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, viewOf(s))
	}
}
