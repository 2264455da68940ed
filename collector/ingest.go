package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/quality"
	"github.com/dotm-survey/dotm/questionnaire"
)

// ingester turns envelopes into stored submissions.
type ingester struct {
	forms       *formCache
	odkKeys     dotm.ODKKeyStore // nil: encrypted ODK submissions are refused
	subs        dotm.SubmissionStore
	assignments dotm.AssignmentStore
	keys        func() *dotm.Keyring // the server's current keys
	logger      *slog.Logger
	// tallies and prints keep what the progress summary and the duplicate
	// checks read; either may be nil (then the checks that need it are
	// not run).
	tallies dotm.ProgressStore
	prints  dotm.FingerprintStore
	// behind is set when a tally write fails (Server.tallyBehind).
	behind *atomic.Bool
}

// prepared is a checked submission ready to insert: its answers are the
// plain part, its direct answers sealed; its tally and the keys of its
// fingerprints are stored once it is.
type prepared struct {
	sub    dotm.Submission
	tally  dotm.Tally
	prints []string
}

// decodeEnvelope reads one envelope strictly (unknown fields, wrong types).
func decodeEnvelope(raw []byte) (dotm.Envelope, error) {
	var env dotm.Envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return env, jsonError(err)
	}
	if dec.More() {
		return env, dotm.Errorf(dotm.EINVALID, "malformed JSON: data after the envelope")
	}
	return env, nil
}

func parseTime(field, s string, problems *[]dotm.Problem) time.Time {
	if s == "" {
		*problems = append(*problems, dotm.Problem{Path: field, Code: "required", Message: "an RFC 3339 time, e.g. 2026-03-01T09:30:00Z"})
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 || t.Year() > 2200 {
		*problems = append(*problems, dotm.Problem{Path: field, Code: "type", Message: "an RFC 3339 time between the years 2000 and 2200, e.g. 2026-03-01T09:30:00Z"})
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// checkUUID accepts the canonical 36-character form only and returns it in
// lower case, so that one instance has one id.
func checkUUID(field, s string, required bool, problems *[]dotm.Problem) string {
	if s == "" {
		if required {
			*problems = append(*problems, dotm.Problem{Path: field, Code: "required", Message: "a UUID, e.g. 0b6e1c2a-8f7d-4f5e-9a1b-2c3d4e5f6a7b"})
		}
		return ""
	}
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		*problems = append(*problems, dotm.Problem{Path: field, Code: "format", Message: "not a UUID in the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"})
		return ""
	}
	return u.String()
}

// ingest checks env from user u, stores it and tells a retry of the same
// content (duplicate) from another interview under the same id
// (conflict): the one sequence behind POST /submissions and the OpenRosa
// submission. The batch endpoint prepares and inserts many at once.
func (in *ingester) ingest(ctx context.Context, u dotm.User, env dotm.Envelope, now time.Time) (string, dotm.Submission, error) {
	p, err := in.prepare(ctx, u, env, now)
	if err != nil {
		return "", dotm.Submission{}, err
	}
	result, err := in.settle(ctx, p, in.subs.InsertSubmission(ctx, p.sub))
	return result, p.sub, err
}

// prepare checks an envelope from user u and builds the submission to store.
// Client mistakes come back as *Error with EUNPROCESSABL, EFORBIDDEN or
// EINVALID; anything else is a storage failure.
func (in *ingester) prepare(ctx context.Context, u dotm.User, env dotm.Envelope, now time.Time) (prepared, error) {
	var problems []dotm.Problem
	id := checkUUID("instance_id", env.InstanceID, true, &problems)
	if env.FormID == "" {
		problems = append(problems, dotm.Problem{Path: "form_id", Code: "required", Message: "the form's id"})
	}
	if env.FormVersion == "" {
		problems = append(problems, dotm.Problem{Path: "form_version", Code: "required", Message: "the form's version"})
	}
	started := parseTime("started_at", env.StartedAt, &problems)
	ended := parseTime("ended_at", env.EndedAt, &problems)
	if !started.IsZero() && !ended.IsZero() && ended.Before(started) {
		problems = append(problems, dotm.Problem{Path: "ended_at", Code: "constraint", Message: "ended_at is before started_at"})
	}
	if env.Answers == nil {
		problems = append(problems, dotm.Problem{Path: "answers", Code: "required", Message: "an object of answers"})
	}
	if env.AssignmentID != "" && !assignmentIDPattern.MatchString(env.AssignmentID) {
		problems = append(problems, dotm.Problem{Path: "assignment_id", Code: "format", Message: "not an assignment id"})
	}
	supersedes := checkUUID("supersedes", env.Supersedes, false, &problems)
	if supersedes != "" && supersedes == id {
		problems = append(problems, dotm.Problem{Path: "supersedes", Code: "constraint", Message: "a submission cannot correct itself"})
	}
	if problems != nil {
		return prepared{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "invalid submission envelope", Problems: problems}
	}

	cf, err := in.forms.get(ctx, env.FormID, env.FormVersion)
	if dotm.ErrorCode(err) == dotm.ENOTFOUND {
		return prepared{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "unknown form " + env.FormID + " version " + env.FormVersion,
			Problems: []dotm.Problem{{Path: "form_version", Code: "unknown_form", Message: "no form " + env.FormID + " with version " + env.FormVersion + " was uploaded"}}}
	}
	if err != nil {
		return prepared{}, err
	}
	if !u.InSurvey(cf.survey) {
		return prepared{}, dotm.Errorf(dotm.EFORBIDDEN, "form %s belongs to survey %s, which is not in your scope", env.FormID, cf.survey)
	}
	sub := dotm.Submission{ID: id, Survey: cf.survey, FormID: env.FormID, FormVersion: env.FormVersion, AssignmentID: env.AssignmentID,
		Enumerator: u.Name, Supersedes: supersedes, StartedAt: started, EndedAt: ended, ReceivedAt: now.UTC().Truncate(time.Millisecond),
		Status: dotm.SubmissionReceived}

	if supersedes != "" {
		old, err := in.subs.Submission(ctx, supersedes)
		if dotm.ErrorCode(err) == dotm.ENOTFOUND {
			return prepared{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "supersedes an unknown submission",
				Problems: []dotm.Problem{{Path: "supersedes", Code: "unknown_submission", Message: "no submission " + supersedes}}}
		}
		if err != nil {
			return prepared{}, err
		}
		if old.Enumerator != u.Name {
			return prepared{}, dotm.Errorf(dotm.EFORBIDDEN, "submission %s is not yours to correct", supersedes)
		}
		var why string
		switch {
		case old.Status != dotm.SubmissionRejected:
			why = "only a rejected submission can be corrected; " + supersedes + " is " + string(old.Status)
		case old.SupersededBy != "" && old.SupersededBy != id:
			why = "submission " + supersedes + " is already corrected by " + old.SupersededBy
		case sub.AssignmentID == "":
			sub.AssignmentID = old.AssignmentID
		case old.AssignmentID != "" && old.AssignmentID != sub.AssignmentID:
			why = "a correction keeps the assignment " + old.AssignmentID
		}
		if why != "" {
			return prepared{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "cannot correct " + supersedes,
				Problems: []dotm.Problem{{Path: "supersedes", Code: "constraint", Message: why}}}
		}
	}
	var assignment dotm.Assignment
	if sub.AssignmentID != "" {
		a, err := in.assignments.Assignment(ctx, sub.AssignmentID)
		if dotm.ErrorCode(err) == dotm.ENOTFOUND {
			return prepared{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "unknown assignment",
				Problems: []dotm.Problem{{Path: "assignment_id", Code: "unknown_assignment", Message: "no assignment " + sub.AssignmentID}}}
		}
		if err != nil {
			return prepared{}, err
		}
		if a.Enumerator != u.Name {
			return prepared{}, dotm.Errorf(dotm.EFORBIDDEN, "assignment %s is not yours", a.ID)
		}
		if a.Survey != cf.survey {
			return prepared{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "assignment of another survey",
				Problems: []dotm.Problem{{Path: "assignment_id", Code: "constraint", Message: "assignment " + a.ID + " belongs to survey " + a.Survey + ", the form to " + cf.survey}}}
		}
		assignment = a
	}

	normalized, vprobs := cf.form.Validate(env.Answers, questionnaire.ValidateOptions{Now: ended})
	if len(vprobs) > 0 {
		return prepared{}, answerProblems(cf.form, env.Answers, vprobs)
	}
	if normalized == nil {
		normalized = map[string]any{}
	}
	p, err := in.check(ctx, cf, sub, assignment, normalized)
	if err != nil {
		return prepared{}, err
	}
	sealed, err := dotm.SealAnswers(in.keys(), id, normalized, cf.direct)
	if err != nil {
		return prepared{}, &dotm.Error{Code: dotm.EINTERNAL, Err: err}
	}
	p.sub.Answers, p.sub.Sealed = normalized, sealed
	return p, nil
}

// check runs the quality checks of a submission (package quality) on its
// answers before they are sealed, and makes its tally: the flags go with
// the submission, the fingerprints' keys are claimed once it is stored.
// Fingerprints are keyed hashes (Keyring.Fingerprint): no identifier is
// kept or compared in the clear.
func (in *ingester) check(ctx context.Context, cf *cachedForm, sub dotm.Submission, a dotm.Assignment, answers map[string]any) (prepared, error) {
	household := a.HouseholdID
	if household == "" {
		household, _ = answers["household_id"].(string)
	}
	var eaPoints []dotm.Point
	if in.tallies != nil && a.PSU != "" {
		ts, err := in.tallies.Tallies(ctx, dotm.TallyFilter{Survey: sub.Survey, PSU: a.PSU, GPS: true})
		if err != nil {
			return prepared{}, err
		}
		for _, t := range ts {
			if t.ID != sub.ID && t.HouseholdID != household && !t.Superseded {
				eaPoints = append(eaPoints, dotm.Point{Lat: t.Lat, Lon: t.Lon})
			}
		}
	}
	var class dotm.HouseholdClass
	if in.tallies != nil && a.PSU != "" && household != "" {
		var err error
		if class, err = in.tallies.HouseholdClass(ctx, sub.Survey, a.PSU, household); err != nil {
			return prepared{}, err
		}
	}
	res := quality.Check(cf.form, answers, sub.StartedAt, sub.EndedAt, eaPoints)
	flags := res.Flags
	var prints []string
	if keys := in.keys(); in.prints != nil && keys != nil {
		kinds := map[string]string{quality.PrintAnswers: dotm.FlagDupAnswers, quality.PrintRespondent: dotm.FlagDupRespondent, quality.PrintPhone: dotm.FlagDupPhone}
		for kind, b := range res.Fingerprints {
			key := sub.Survey + "/" + kind + "/" + keys.Fingerprint(sub.Survey, kind, b)
			prints = append(prints, key)
			owner, err := in.prints.FingerprintOwner(ctx, key)
			if err != nil {
				return prepared{}, err
			}
			if owner == "" || owner == sub.ID || owner == sub.Supersedes {
				continue
			}
			firstAssignment, err := in.ownerAssignment(ctx, owner)
			if dotm.ErrorCode(err) == dotm.ENOTFOUND {
				continue // claimed by an interview that was never stored
			}
			if err != nil {
				return prepared{}, err
			}
			if sub.AssignmentID != "" && firstAssignment == sub.AssignmentID {
				continue // the same household again: a correction
			}
			flags = append(flags, kinds[kind])
		}
		slices.Sort(prints)
	}
	slices.Sort(flags)
	sub.Flags = slices.Compact(flags)
	t := dotm.Tally{ID: sub.ID, Survey: sub.Survey, Enumerator: sub.Enumerator, Assignment: sub.AssignmentID, PSU: a.PSU, Stratum: a.Stratum,
		HouseholdID: household, Class: class, Status: sub.Status, Refused: res.Refused, Day: sub.EndedAt.UTC().Format(time.DateOnly), Seconds: res.Seconds,
		Flags: sub.Flags, Ages: res.Ages, Amounts: res.Amounts, RoundAmount: res.Round}
	if res.GPS != nil {
		t.HasGPS, t.Lat, t.Lon = true, res.GPS.Lat, res.GPS.Lon
	}
	return prepared{sub: sub, tally: t, prints: prints}, nil
}

// ownerAssignment is the assignment of the stored submission id: read
// alone when the store can (the MongoDB store), else from the whole
// submission.
func (in *ingester) ownerAssignment(ctx context.Context, id string) (string, error) {
	if la, ok := in.subs.(interface {
		SubmissionAssignment(ctx context.Context, id string) (string, error)
	}); ok {
		return la.SubmissionAssignment(ctx, id)
	}
	first, err := in.subs.Submission(ctx, id)
	return first.AssignmentID, err
}

func jsonPlain(v map[string]any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// contentOf is the canonical JSON of what a client decides in a submission;
// two posts of one instance are the same when their contents are equal.
// The answers first go through one JSON round trip, so that values compare
// the same whatever Go types hold them (the validator's int64 and []string,
// the database's float64 and []any); encoding/json sorts map keys, so the
// encoding is canonical. It is only computed when an instance comes twice.
func contentOf(s dotm.Submission, answers map[string]any) ([]byte, error) {
	answers, err := jsonPlain(answers)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Enumerator, FormID, FormVersion, AssignmentID, Supersedes string
		StartedAt, EndedAt                                        time.Time
		Answers                                                   map[string]any
	}{s.Enumerator, s.FormID, s.FormVersion, s.AssignmentID, s.Supersedes, s.StartedAt.UTC(), s.EndedAt.UTC(), answers})
}

// settle finishes one insert: created, a safe retry (duplicate) or a
// conflict; then moves the assignment and marks the corrected submission.
func (in *ingester) settle(ctx context.Context, p prepared, insertErr error) (string, error) {
	result := dotm.ResultCreated
	if insertErr != nil {
		if dotm.ErrorCode(insertErr) != dotm.ECONFLICT {
			return "", insertErr
		}
		old, err := in.subs.Submission(ctx, p.sub.ID)
		if err != nil {
			return "", err
		}
		answers, err := dotm.UnsealAnswers(in.keys(), old.ID, old.Answers, old.Sealed)
		if err != nil {
			return "", &dotm.Error{Code: dotm.EINTERNAL, Err: err}
		}
		stored, err := contentOf(old, answers)
		if err != nil {
			return "", &dotm.Error{Code: dotm.EINTERNAL, Err: err}
		}
		// The incoming answers whole again, from a copy of the plain part
		// and the sealed values, as the stored ones were just rebuilt.
		mine, err := jsonPlain(p.sub.Answers)
		if err != nil {
			return "", &dotm.Error{Code: dotm.EINTERNAL, Err: err}
		}
		if mine, err = dotm.UnsealAnswers(in.keys(), p.sub.ID, mine, p.sub.Sealed); err != nil {
			return "", &dotm.Error{Code: dotm.EINTERNAL, Err: err}
		}
		incoming, err := contentOf(p.sub, mine)
		if err != nil {
			return "", &dotm.Error{Code: dotm.EINTERNAL, Err: err}
		}
		if !bytes.Equal(stored, incoming) {
			return dotm.ResultConflict, nil
		}
		result = dotm.ResultDuplicate
		p.sub = old
	}
	in.effects(ctx, p, result == dotm.ResultCreated)
	return result, nil
}

// effects updates what a stored submission changes elsewhere: its tally
// and fingerprints, the submission it corrects, its assignment. They run
// again on a retry, so a failure here (logged) heals when the client
// retries.
func (in *ingester) effects(ctx context.Context, p prepared, created bool) {
	s := p.sub
	if in.tallies != nil {
		t := p.tally
		t.Status, t.Flags, t.Superseded = s.Status, s.Flags, s.SupersededBy != ""
		if err := in.tallies.PutTally(ctx, t); err != nil {
			in.markBehind()
			in.logger.Warn("store tally", "submission", s.ID, "error", err.Error())
		}
		if s.Supersedes != "" {
			if err := in.tallies.SupersedeTally(ctx, s.Supersedes); err != nil && dotm.ErrorCode(err) != dotm.ENOTFOUND {
				in.markBehind()
				in.logger.Warn("supersede tally", "submission", s.Supersedes, "error", err.Error())
			}
		}
	}
	if in.prints != nil && created {
		for _, key := range p.prints {
			if err := in.prints.ClaimFingerprint(ctx, key, s.ID); err != nil {
				in.logger.Warn("store fingerprint", "submission", s.ID, "error", err.Error())
			}
		}
	}
	if s.Supersedes != "" {
		if err := in.subs.MarkSuperseded(ctx, s.Supersedes, s.ID); err != nil {
			in.logger.Warn("mark superseded", "submission", s.ID, "supersedes", s.Supersedes, "error", err.Error())
		}
	}
	if s.AssignmentID == "" || s.Status != dotm.SubmissionReceived {
		return
	}
	from := []dotm.AssignmentStatus{dotm.AssignmentAssigned}
	if created || s.Supersedes != "" {
		from = append(from, dotm.AssignmentReturned)
	}
	if err := in.assignments.MoveAssignment(ctx, s.AssignmentID, from, dotm.AssignmentSubmitted, s.ID, ""); err != nil && dotm.ErrorCode(err) != dotm.ECONFLICT {
		in.logger.Warn("move assignment", "assignment", s.AssignmentID, "submission", s.ID, "error", err.Error())
	}
}

func (in *ingester) markBehind() {
	if in.behind != nil {
		in.behind.Store(true)
	}
}

// itemError turns a prepare error into a batch result, or reports that it
// is not the item's fault (storage down: the whole batch fails).
func itemResult(err error) (result string, e *dotm.Error, ok bool) {
	errors.As(err, &e)
	switch dotm.ErrorCode(err) {
	case dotm.EUNPROCESSABL, dotm.EINVALID, dotm.ETOOLARGE:
		return dotm.ResultInvalid, e, true
	case dotm.EFORBIDDEN:
		return dotm.ResultForbidden, e, true
	}
	return "", nil, false
}

// trimMessage keeps a client-visible message short.
func trimMessage(s string) string {
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.ToValidUTF8(s, "")
}

// answerProblems is the 422 of answers that fail the form's checks: each
// problem with its question's label (no answer value in it), values
// redacted (redactAnswerValues), root causes first and the others naming
// their root in Cause; the detail counts the roots and what follows from
// them.
func answerProblems(f *questionnaire.Form, answers map[string]any, vprobs []questionnaire.Problem) *dotm.Error {
	var names map[string]bool
	isChoice := func(s string) bool {
		if names == nil {
			names = make(map[string]bool, len(f.Choices))
			for _, c := range f.Choices {
				names[c.Name] = true
			}
		}
		return names[s]
	}
	ps := make([]dotm.Problem, len(vprobs))
	roots := 0
	for i, p := range vprobs {
		ps[i] = dotm.Problem{Path: p.Path, Label: f.Describe(p.Path, answers, "", false), Code: p.Code,
			Message: redactAnswerValues(p.Code, p.Message, isChoice), Cause: p.Cause}
		if p.Cause == "" {
			roots++
		}
	}
	msg := "the answers do not pass the form's checks: " + plural(roots, "problem", "problems") + " to fix"
	if n := len(ps) - roots; n > 0 {
		msg += " (" + plural(n, "problem follows", "problems follow") + " from " + map[bool]string{true: "it", false: "them"}[roots == 1] + ")"
	}
	return &dotm.Error{Code: dotm.EUNPROCESSABL, Message: msg, Problems: ps}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
