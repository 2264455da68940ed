package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/questionnaire"
)

// tallyOf rebuilds the tally of a stored submission as ingest made it:
// its answers unsealed and validated again (the validator's types), then
// the same checks (ingester.check) on the same assignment and listing, and
// the fingerprints claimed (the first owner stays). The submission's
// status, correction and stored flags are what ingest and review left.
func (in *ingester) tallyOf(ctx context.Context, sub dotm.Submission) (dotm.Tally, error) {
	cf, err := in.forms.get(ctx, sub.FormID, sub.FormVersion)
	if err != nil {
		return dotm.Tally{}, err
	}
	answers, err := dotm.UnsealAnswers(in.keys(), sub.ID, sub.Answers, sub.Sealed)
	if err != nil {
		return dotm.Tally{}, err
	}
	if normalized, vprobs := cf.form.Validate(answers, questionnaire.ValidateOptions{Now: sub.EndedAt}); len(vprobs) == 0 && normalized != nil {
		answers = normalized
	}
	var a dotm.Assignment
	if sub.AssignmentID != "" {
		if a, err = in.assignments.Assignment(ctx, sub.AssignmentID); err != nil && dotm.ErrorCode(err) != dotm.ENOTFOUND {
			return dotm.Tally{}, err
		}
	}
	p, err := in.check(ctx, cf, sub, a, answers)
	if err != nil {
		return dotm.Tally{}, err
	}
	t := p.tally
	t.Status, t.Superseded = sub.Status, sub.SupersededBy != ""
	if len(sub.Flags) > 0 {
		t.Flags = sub.Flags
	}
	if in.prints != nil {
		for _, key := range p.prints {
			if err := in.prints.ClaimFingerprint(ctx, key, sub.ID); err != nil {
				return dotm.Tally{}, err
			}
		}
	}
	return t, nil
}

// ReconcileTallies makes every submission's tally agree with it: it builds
// the missing ones (submissions stored before tallies were kept, or whose
// tally write failed) with tallyOf, in the order they were received, and
// sets the status of those a failed update left behind. Each repair is one
// write by submission id, so a run cut short is finished by the next; a
// run with nothing to repair writes nothing. It returns how many tallies
// it built and fixed; without a store that lists repairs it does nothing.
func (s *Server) ReconcileTallies(ctx context.Context) (built, fixed int, err error) {
	rec, ok := s.deps.Tallies.(dotm.TallyReconciler)
	if s.deps.Tallies == nil || !ok {
		return 0, 0, nil
	}
	repairs, err := rec.TallyRepairs(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range repairs {
		// The submission as it is now: a review since the list was made
		// is not undone.
		sub, err := s.deps.Submissions.Submission(ctx, r.ID)
		if err != nil {
			return built, fixed, err
		}
		if r.Missing {
			t, err := s.ingest.tallyOf(ctx, sub)
			if err != nil {
				return built, fixed, fmt.Errorf("tally of submission %s: %w", r.ID, err)
			}
			if err := s.deps.Tallies.PutTally(ctx, t); err != nil {
				return built, fixed, err
			}
			built++
			continue
		}
		if err := s.deps.Tallies.SetTallyStatus(ctx, r.ID, sub.Status); err != nil {
			return built, fixed, err
		}
		if sub.SupersededBy != "" {
			if err := s.deps.Tallies.SupersedeTally(ctx, r.ID); err != nil {
				return built, fixed, err
			}
		}
		fixed++
	}
	return built, fixed, nil
}

// KeepTalliesReconciled runs ReconcileTallies now, then every interval
// after a tally write failed (tallyBehind), until ctx ends; failures are
// logged and retried at the next interval.
func (s *Server) KeepTalliesReconciled(ctx context.Context, interval time.Duration) {
	run := func() {
		built, fixed, err := s.ReconcileTallies(ctx)
		if err != nil {
			s.tallyBehind.Store(true)
			if ctx.Err() == nil {
				s.deps.Logger.Warn("reconcile tallies", "built", built, "fixed", fixed, "error", err.Error())
			}
			return
		}
		if built+fixed > 0 {
			s.deps.Logger.Info("reconciled tallies", "built", built, "fixed", fixed)
		}
	}
	run()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if s.tallyBehind.Swap(false) {
				run()
			}
		}
	}
}
