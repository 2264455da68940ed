package mongodb

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
)

// TestTallyViewMatchesStore writes tallies through two stores on one
// database (two dotm processes on one server), interleaving receipts,
// reviews, corrections and repairs (a tally written again whole), and
// checks after each round that every store's view (one reading through
// SQL, one through finds, as on MongoDB) answers what a full read of the
// store answers, and so does the progress summary computed from it.
func TestTallyViewMatchesStore(t *testing.T) {
	ctx := context.Background()
	a := openTestStore(t)
	open := func() *Store {
		s, err := Open(ctx, Config{URI: testURI, Database: a.db.Name(), EmbeddedDir: testDir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	b := open()
	viaFind := open()
	viaFind.sq = nil
	truth := open()
	truth.noTallyView = true
	if a.sq == nil || b.sq == nil {
		t.Fatal("the test stores are not the embedded one")
	}
	rng := rand.New(rand.NewPCG(19, 3))
	statuses := []dotm.SubmissionStatus{dotm.SubmissionReceived, dotm.SubmissionApproved, dotm.SubmissionRejected}
	var ids []string
	nAssigned := 0
	tally := func(id string) dotm.Tally {
		p := rng.IntN(4)
		return dotm.Tally{ID: id, Survey: "sv", Enumerator: fmt.Sprintf("e%d", rng.IntN(3)), PSU: fmt.Sprintf("ea-%d", p), Stratum: fmt.Sprintf("st-%d", p%2),
			Status: dotm.SubmissionReceived, Class: dotm.NonMigrant, Day: "2026-03-02", Seconds: 1000 + rng.IntN(3000), HasGPS: true,
			Lat: rng.Float64(), Lon: rng.Float64(), Ages: []int{rng.IntN(90)}, Amounts: rng.IntN(4), RoundAmount: rng.IntN(2)}
	}
	// Another survey's tallies stay out of sv's view.
	if err := b.PutTally(ctx, dotm.Tally{ID: "other-1", Survey: "other", Status: dotm.SubmissionReceived, Day: "2026-03-02"}); err != nil {
		t.Fatal(err)
	}
	check := func(round int) {
		t.Helper()
		want, err := truth.Tallies(ctx, dotm.TallyFilter{Survey: "sv"})
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != len(ids) {
			t.Fatalf("round %d: the store holds %d tallies of sv, want %d", round, len(want), len(ids))
		}
		for name, s := range map[string]*Store{"a": a, "b": b, "find": viaFind} {
			got, err := s.Tallies(ctx, dotm.TallyFilter{Survey: "sv"})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, store %s: view\n%+v\nstore\n%+v", round, name, got, want)
			}
			pg := dotm.ComputeProgress(dotm.ProgressInput{Survey: "sv", Tallies: got})
			pw := dotm.ComputeProgress(dotm.ProgressInput{Survey: "sv", Tallies: want})
			if !reflect.DeepEqual(pg, pw) {
				t.Fatalf("round %d, store %s: summaries differ", round, name)
			}
		}
		checkSummary(t, round, truth, map[string]*Store{"a": a, "b": b, "find": viaFind})
	}
	addAssignments := func(w *Store, n int) {
		t.Helper()
		var as []dotm.Assignment
		for range n {
			p := rng.IntN(5)
			as = append(as, dotm.Assignment{ID: fmt.Sprintf("sv:a%04d", nAssigned), Survey: "sv", Enumerator: fmt.Sprintf("e%d", rng.IntN(4)),
				PSU: fmt.Sprintf("ea-%d", p), Stratum: fmt.Sprintf("st-%d", p%2), HouseholdID: fmt.Sprintf("h%d", nAssigned), FormID: "f", CreatedAt: time.Now(), UpdatedAt: time.Now()})
			nAssigned++
		}
		if err := w.AddAssignments(ctx, as); err != nil {
			t.Fatal(err)
		}
	}
	check(0)
	for round := 1; round <= 12; round++ {
		for range 8 {
			w := []*Store{a, b}[rng.IntN(2)]
			switch op := rng.IntN(6); {
			case op == 5: // assignments made
				addAssignments(w, 1+rng.IntN(3))
			case op < 2 || len(ids) == 0: // a new submission
				id := fmt.Sprintf("sub-%03d", len(ids))
				ids = append(ids, id)
				if err := w.PutTally(ctx, tally(id)); err != nil {
					t.Fatal(err)
				}
			case op == 2: // a review
				if err := w.SetTallyStatus(ctx, ids[rng.IntN(len(ids))], statuses[rng.IntN(3)]); err != nil {
					t.Fatal(err)
				}
			case op == 3: // a correction
				if err := w.SupersedeTally(ctx, ids[rng.IntN(len(ids))]); err != nil {
					t.Fatal(err)
				}
			default: // a repair: the tally rebuilt whole
				tl := tally(ids[rng.IntN(len(ids))])
				tl.Status = dotm.SubmissionApproved
				if err := w.PutTally(ctx, tl); err != nil {
					t.Fatal(err)
				}
			}
		}
		check(round)
	}
	// A write committed after a later one was read (a slow concurrent
	// writer, or another process whose clock is a little behind): its seq
	// is below the highest seen but within the window, so it is read.
	late := func(id string, behind time.Duration) {
		t.Helper()
		tl := tally(id)
		tl.Seconds = 7
		d := tallyDoc{ID: tl.ID, Survey: tl.Survey, PSU: tl.PSU, Status: string(tl.Status), GPS: tl.HasGPS, Row: packRow(tl),
			Seq: tallyClock.Load() - int64(behind)}
		if _, err := a.collection(colTallies).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, d, options.Replace().SetUpsert(true)); err != nil {
			t.Fatal(err)
		}
	}
	// Assignments: one stored before seq was kept (none), one late
	// within the window, one deleted by hand (a restore): the counts
	// converge.
	for i, seq := range []int64{0, tallyClock.Load() - int64(tallyWindow/2)} {
		d := assignmentDoc{ID: fmt.Sprintf("sv:raw%d", i), Survey: "sv", Enumerator: "e9", PSU: "ea-9", Stratum: "st-1", Seq: seq}
		if _, err := a.collection(colAssignments).InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	recount := func() { // as if tallyCountEvery had passed
		for _, s := range []*Store{a, b, viaFind} {
			s.views.get("sv").countAt = time.Time{}
			s.assigned.get("sv").countAt = time.Time{}
		}
	}
	recount()
	checkSummary(t, 98, truth, map[string]*Store{"a": a, "b": b, "find": viaFind})
	if _, err := b.collection(colAssignments).DeleteOne(ctx, bson.D{{Key: "_id", Value: "sv:a0000"}}); err != nil {
		t.Fatal(err)
	}
	recount()
	checkSummary(t, 99, truth, map[string]*Store{"a": a, "b": b, "find": viaFind})
	late(ids[0], tallyWindow/3)
	ids = append(ids, "sub-late")
	late("sub-late", tallyWindow/2)
	check(100)
	// One stamped before the window (a clock stepped back): the periodic
	// full read brings it in.
	late(ids[1], 2*tallyWindow)
	for _, s := range []*Store{a, b, viaFind} {
		s.views.get("sv").fullAt = time.Now().Add(-tallyFullEvery - time.Second)
	}
	check(101)
	// A tally gone from the store (a restore, a repair by hand): the
	// next count finds it.
	if _, err := b.collection(colTallies).DeleteOne(ctx, bson.D{{Key: "_id", Value: ids[2]}}); err != nil {
		t.Fatal(err)
	}
	ids = slices.Delete(ids, 2, 3)
	recount()
	check(102)
}

// checkSummary checks that every store's progress summary (its views, kept
// up to date incrementally) is the one computed from truth's full reads of
// the tallies and assignment counts, as JSON and as values, with and
// without points.
func checkSummary(t *testing.T, round int, truth *Store, stores map[string]*Store) {
	t.Helper()
	ctx := context.Background()
	tallies, err := truth.Tallies(ctx, dotm.TallyFilter{Survey: "sv"})
	if err != nil {
		t.Fatal(err)
	}
	assigned, err := truth.AssignedCounts(ctx, "sv")
	if err != nil {
		t.Fatal(err)
	}
	// ComputeProgress takes an EA's stratum from its first row; the views
	// sum by EA and stratum in that order.
	slices.SortFunc(assigned, func(x, y dotm.AssignedCount) int {
		return cmp.Or(cmp.Compare(x.PSU, y.PSU), cmp.Compare(x.Stratum, y.Stratum), cmp.Compare(x.Enumerator, y.Enumerator))
	})
	for _, points := range []bool{false, true} {
		in := dotm.ProgressInput{Survey: "sv", WithPoints: points, Sampled: []dotm.SampledPSU{{PSU: "ea-0", Stratum: "st-0"}, {PSU: "ea-7", Stratum: "st-1"}},
			Listed: []dotm.ClassCount{{PSU: "ea-0", Stratum: "st-0", Class: "non_migrant", N: 9}}}
		full := in
		full.Tallies, full.Assigned = tallies, assigned
		want := dotm.ComputeProgress(full)
		wj, _ := json.Marshal(want)
		for name, s := range stores {
			got, err := s.SurveyProgress(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.Marshal(got)
			if !bytes.Equal(gj, wj) || !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, store %s, points %v: summary\n%s\nfull computation\n%s", round, name, points, gj, wj)
			}
		}
	}
}

// TestViewsSettle: the views re-read only writes that may still be
// committing. Writes stamped more than a window before a view's last read
// are settled: the next refresh does not read them again (a round whose
// writes have stopped costs nothing per request), while a write stamped
// since is read, and the periodic full read still converges to the store.
// On both the embedded store's SQL reads and the finds MongoDB gets.
func TestViewsSettle(t *testing.T) {
	ctx := context.Background()
	for _, viaFinds := range []bool{false, true} {
		s := openTestStore(t)
		if viaFinds {
			s.sq = nil
		}
		old := time.Now().UnixNano() - 3*int64(tallyWindow)
		for i := range 5 {
			d := assignmentDoc{ID: fmt.Sprintf("sv:a%d", i), Survey: "sv", Enumerator: "e1", PSU: "ea-1", Stratum: "st-1", Seq: old + int64(i)}
			if _, err := s.collection(colAssignments).InsertOne(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		counts := func() map[string]int {
			t.Helper()
			a, err := s.assignedTotals(ctx, "sv")
			if err != nil {
				t.Fatal(err)
			}
			return a.ByEnumerator
		}
		if got := counts(); got["e1"] != 5 {
			t.Fatalf("finds %v: first read %v", viaFinds, got)
		}
		// A settled assignment changed without a new stamp (a repair by
		// hand) is not read again by the refresh ...
		if _, err := s.collection(colAssignments).UpdateOne(ctx, bson.D{{Key: "_id", Value: "sv:a0"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "enumerator", Value: "e2"}}}}); err != nil {
			t.Fatal(err)
		}
		if got := counts(); got["e1"] != 5 || got["e2"] != 0 {
			t.Fatalf("finds %v: a settled assignment was read again: %v", viaFinds, got)
		}
		// ... one stamped now is ...
		d := assignmentDoc{ID: "sv:new", Survey: "sv", Enumerator: "e3", PSU: "ea-1", Stratum: "st-1", Seq: nextTallySeq()}
		if _, err := s.collection(colAssignments).InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
		if got := counts(); got["e3"] != 1 {
			t.Fatalf("finds %v: a new assignment was not read: %v", viaFinds, got)
		}
		// ... and the periodic full read converges to the store.
		s.assigned.get("sv").fullAt = time.Now().Add(-tallyFullEvery - time.Second)
		if got := counts(); got["e1"] != 4 || got["e2"] != 1 || got["e3"] != 1 {
			t.Fatalf("finds %v: after the full read %v", viaFinds, got)
		}
	}
}
