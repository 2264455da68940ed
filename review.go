package dotm

import (
	"context"
	"fmt"
	"time"
)

// ReviewRequest is a supervisor's decision on a submission; it is also the
// body of POST /submissions/{id}/review.
type ReviewRequest struct {
	Decision string `json:"decision"` // approve or reject
	Comment  string `json:"comment"`  // required to reject: what to correct
}

// MaxReviewComment bounds a review comment (bytes).
const MaxReviewComment = 2000

// Valid lists what is wrong with r.
func (r ReviewRequest) Valid(context.Context) []Problem {
	var ps []Problem
	if r.Status() == "" {
		ps = append(ps, Problem{Path: "decision", Code: "choice", Message: "approve or reject"})
	}
	if r.Decision == "reject" && r.Comment == "" {
		ps = append(ps, Problem{Path: "comment", Code: "required", Message: "say what the enumerator must correct"})
	}
	if len(r.Comment) > MaxReviewComment {
		ps = append(ps, Problem{Path: "comment", Code: "constraint", Message: fmt.Sprintf("at most %d bytes", MaxReviewComment)})
	}
	return ps
}

// Status is the submission status the decision leads to ("" for an
// unknown decision).
func (r ReviewRequest) Status() SubmissionStatus {
	switch r.Decision {
	case "approve":
		return SubmissionApproved
	case "reject":
		return SubmissionRejected
	}
	return ""
}

// AssignmentStatusAfter is where a reviewed submission's assignment goes:
// approved with its submission, or returned to the enumerator.
func AssignmentStatusAfter(s SubmissionStatus) AssignmentStatus {
	if s == SubmissionApproved {
		return AssignmentApproved
	}
	return AssignmentReturned
}

// AssignmentNotMovedError says a review was recorded but its assignment
// could not follow (it was moved or deleted meanwhile, or the store
// failed). The review stands; the assignment keeps its status.
type AssignmentNotMovedError struct {
	Assignment string
	Err        error
}

func (e *AssignmentNotMovedError) Error() string {
	return "assignment " + e.Assignment + " did not follow the review: " + e.Err.Error()
}

func (e *AssignmentNotMovedError) Unwrap() error { return e.Err }

// ReviewSubmission records reviewer's decision r on submission id at time
// at: the submission leaves "received" for approved or rejected (ECONFLICT
// when it is not waiting for review), and its assignment, if any, becomes
// approved or returned with the comment. A reviewer sees only the surveys
// of their scope (EFORBIDDEN). When the review is stored but the assignment
// cannot follow, the stored submission comes back with an
// *AssignmentNotMovedError.
func ReviewSubmission(ctx context.Context, subs SubmissionStore, assignments AssignmentStore, reviewer User, id string, r ReviewRequest, at time.Time) (Submission, error) {
	if ps := r.Valid(ctx); ps != nil {
		return Submission{}, &Error{Code: EUNPROCESSABL, Message: "invalid review", Problems: ps}
	}
	s, err := subs.Submission(ctx, id)
	if err != nil {
		return Submission{}, err
	}
	if !reviewer.InSurvey(s.Survey) {
		return Submission{}, Errorf(EFORBIDDEN, "submission %s belongs to survey %s, which is not in your scope", s.ID, s.Survey)
	}
	status := r.Status()
	s, err = subs.ReviewSubmission(ctx, s.ID, Review{Decision: r.Decision, Comment: r.Comment, By: reviewer.Name, At: at.UTC().Truncate(time.Millisecond)}, status)
	if err != nil {
		return Submission{}, err
	}
	if s.AssignmentID != "" {
		from := []AssignmentStatus{AssignmentSubmitted, AssignmentAssigned}
		if err := assignments.MoveAssignment(ctx, s.AssignmentID, from, AssignmentStatusAfter(status), s.ID, r.Comment); err != nil {
			return s, &AssignmentNotMovedError{Assignment: s.AssignmentID, Err: err}
		}
	}
	return s, nil
}
