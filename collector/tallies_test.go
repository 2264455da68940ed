package collector_test

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/mongodb"
)

// TestTallyReconcile: a store whose submissions have no tallies (written
// before tallies were kept: tallies and fingerprints deleted) gets them
// back at start-up, equal field by field to those ingest and review wrote,
// so the progress summary is the same; a second start writes nothing; a
// rebuild cut short is finished; and tallies made stale on purpose (a lost
// review update, a lost correction) are set right.
func TestTallyReconcile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAPIEnv(t)
	a.mustDo("sup", "POST", "/api/v1/surveys/gh-2026/listings", map[string]any{"psu": "p1", "stratum": "north", "households": []map[string]any{
		{"household_id": "hh-001", "class": "current_migrant"}, {"household_id": "hh-002", "class": "non_migrant"},
		{"household_id": "hh-003", "class": "non_migrant"},
	}}, 201)
	id1, id2, id3, id4 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(id1, "a-ana-1", validAnswers("Kofi")), 201)
	quick := a.envelope(id2, "a-ben-1", validAnswers("Ama"))
	quick["started_at"], quick["ended_at"] = "2026-03-02T09:00:00Z", "2026-03-02T09:00:10Z"
	a.mustDo("ben", "POST", "/api/v1/submissions", quick, 201)
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(id4, "a-ana-2", validAnswers("Esi")), 201)
	a.mustDo("sup", "POST", "/api/v1/submissions/"+id2+"/review", map[string]any{"decision": "reject", "comment": "too fast"}, 200)
	a.mustDo("sup", "POST", "/api/v1/submissions/"+id1+"/review", map[string]any{"decision": "approve"}, 200)
	fix := a.envelope(id3, "a-ben-1", validAnswers("Ama"))
	fix["supersedes"] = id2
	a.mustDo("ben", "POST", "/api/v1/submissions", fix, 201)

	progress := func(e *apiEnv) dotm.Progress {
		t.Helper()
		return decode[dotm.Progress](t, e.mustDo("sup", "GET", "/api/v1/surveys/gh-2026/progress?points=true", nil, 200))
	}
	tallies := func() []dotm.Tally {
		t.Helper()
		ts, err := a.store.Tallies(ctx, dotm.TallyFilter{Survey: "gh-2026"})
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	wantTallies, want := tallies(), progress(a)
	if len(wantTallies) != 4 || want.Total.Interviewed != 3 || want.Total.Approved != 1 || want.Total.Pending != 2 || want.Total.Flags[dotm.FlagShort] != 0 {
		t.Fatalf("at ingest: %d tallies, %+v", len(wantTallies), want.Total)
	}
	if _, fixed, err := a.api.ReconcileTallies(ctx); err != nil || fixed != 0 {
		t.Fatalf("reconcile of tallies written at ingest: fixed %d, %v", fixed, err)
	}

	// The store as it was before tallies: none, and no fingerprints.
	raw := a.rawDB()
	for _, col := range []string{"tallies", "fingerprints"} {
		if _, err := raw.Collection(col).DeleteMany(ctx, bson.D{}); err != nil {
			t.Fatal(err)
		}
	}
	// Reopen the store, start a server on it. (A running process finds
	// tallies deleted by hand at its next count of them, within 30 s;
	// a new one reads them whole.)
	st, err := mongodb.Open(ctx, mongodb.Config{URI: testServer.URI, Database: a.store.Database(), EmbeddedDir: testServer.Dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	b := newAPIEnvOn(t, st, a.keys, false)
	b.tokens = a.tokens
	if p := progress(b); p.Total.Interviewed != 0 {
		t.Fatalf("without tallies the summary counts %d interviews", p.Total.Interviewed)
	}
	if built, fixed, err := b.api.ReconcileTallies(ctx); err != nil || built != 4 || fixed != 0 {
		t.Fatalf("first start: built %d, fixed %d, %v", built, fixed, err)
	}
	if got := tallies(); !reflect.DeepEqual(got, wantTallies) {
		t.Fatalf("rebuilt tallies\n%+v\nwant those of ingest\n%+v", got, wantTallies)
	}
	if got := progress(b); !reflect.DeepEqual(got, want) {
		t.Fatalf("summary from rebuilt tallies\n%+v\nwant\n%+v", got, want)
	}
	if built, fixed, err := b.api.ReconcileTallies(ctx); err != nil || built != 0 || fixed != 0 {
		t.Fatalf("second start: built %d, fixed %d, %v", built, fixed, err)
	}

	// A rebuild cut short (two tallies written of four) is finished.
	if _, err := raw.Collection("tallies").DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{id1, id3}}}}}); err != nil {
		t.Fatal(err)
	}
	if built, fixed, err := b.api.ReconcileTallies(ctx); err != nil || built != 2 || fixed != 0 {
		t.Fatalf("after a crash: built %d, fixed %d, %v", built, fixed, err)
	}
	if got := tallies(); !reflect.DeepEqual(got, wantTallies) {
		t.Fatalf("tallies after a crash\n%+v\nwant\n%+v", got, wantTallies)
	}

	// Stale on purpose: the approval's update lost, the correction's too.
	if err := a.store.SetTallyStatus(ctx, id1, dotm.SubmissionReceived); err != nil {
		t.Fatal(err)
	}
	// (Stamped with seq as the store stamps its writes: an edit by hand
	// that is not reaches a running process's summary at its next full
	// read, within 10 minutes; docs/ARCHITECTURE.md, "Progress".)
	if _, err := raw.Collection("tallies").UpdateOne(ctx, bson.D{{Key: "_id", Value: id2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "superseded", Value: false}, {Key: "seq", Value: time.Now().UnixNano()}}}}); err != nil {
		t.Fatal(err)
	}
	if p := progress(b); p.Total.Approved != 0 || p.Total.Interviewed != 4 {
		t.Fatalf("stale tallies: %+v", p.Total)
	}
	if built, fixed, err := b.api.ReconcileTallies(ctx); err != nil || built != 0 || fixed != 2 {
		t.Fatalf("stale tallies: built %d, fixed %d, %v", built, fixed, err)
	}
	if got := progress(b); !reflect.DeepEqual(got, want) {
		t.Fatalf("summary after reconciling\n%+v\nwant\n%+v", got, want)
	}
}

// failingTallies is the test store whose tally status updates fail while
// fail is set (a store that refuses one write; everything else is the
// real store).
type failingTallies struct {
	*mongodb.Store
	fail *atomic.Bool
}

func (f failingTallies) SetTallyStatus(ctx context.Context, id string, status dotm.SubmissionStatus) error {
	if f.fail.Load() {
		return &dotm.Error{Code: dotm.EUNAVAILABLE, Message: "store tally: refused for the test"}
	}
	return f.Store.SetTallyStatus(ctx, id, status)
}

// TestTallyReconcileAfterFailedReview: a review whose tally update fails
// is still answered 200; the summary is behind until the reconciler's
// next tick sets the tally, without a restart.
func TestTallyReconcileAfterFailedReview(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	a := newAPIEnvWith(t, func(d *collector.Deps) {
		st := d.Submissions.(*mongodb.Store)
		d.Tallies = failingTallies{Store: st, fail: &fail}
	})
	id := uuid.NewString()
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(id, "a-ana-1", validAnswers("Kofi")), 201)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.api.KeepTalliesReconciled(ctx, 20*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })

	fail.Store(true)
	a.mustDo("sup", "POST", "/api/v1/submissions/"+id+"/review", map[string]any{"decision": "approve"}, 200)
	approved := func() int {
		return decode[dotm.Progress](t, a.mustDo("sup", "GET", "/api/v1/surveys/gh-2026/progress", nil, 200)).Total.Approved
	}
	if n := approved(); n != 0 {
		t.Fatalf("the failed update counted: %d approved", n)
	}
	fail.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for approved() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the tally of the approved submission was not reconciled within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
