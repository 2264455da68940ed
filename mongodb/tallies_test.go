package mongodb

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
)

// TestProgressReadsMatchWire stores tallies, listings, draws and
// assignments, and checks that the progress summary's reads answer the
// same through the embedded store's SQL and through the finds (what a
// real MongoDB runs), also for a listing stored before its counts were.
func TestProgressReadsMatchWire(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	if s.sq == nil {
		t.Fatal("the test store is not the embedded one")
	}
	classes := []dotm.HouseholdClass{dotm.CurrentMigrant, dotm.ReturnMigrant, dotm.NonMigrant}
	var assignments []dotm.Assignment
	for p := range 6 {
		psu, stratum := fmt.Sprintf("ea-%d", p), fmt.Sprintf("st-%d", p%2)
		var hh []dotm.ListedHousehold
		sample := dotm.HouseholdSample{Survey: "sv", PSU: psu, Stratum: stratum, Quota: "current_migrant=2,non_migrant=2", Method: "srs", DrawnAt: time.Now()}
		for i := range 5 + p {
			h := dotm.ListedHousehold{HouseholdID: fmt.Sprintf("%s-%d", psu, i), Class: classes[(i+p)%3]}
			hh = append(hh, h)
			sample.Households = append(sample.Households, dotm.SampledHousehold{HouseholdID: h.HouseholdID, Class: string(h.Class), Selected: i%2 == 0})
			if i%2 == 0 {
				assignments = append(assignments, dotm.Assignment{ID: "sv:" + psu + ":" + h.HouseholdID, Survey: "sv", Enumerator: fmt.Sprintf("e%d", i%3),
					HouseholdID: h.HouseholdID, PSU: psu, Stratum: stratum, CreatedAt: time.Now(), UpdatedAt: time.Now()})
			}
		}
		if _, err := s.PutListing(ctx, dotm.Listing{Survey: "sv", PSU: psu, Stratum: stratum, Households: hh, SubmittedBy: "sup", SubmittedAt: time.Now()}, dotm.AnyRevision); err != nil {
			t.Fatal(err)
		}
		if p < 5 { // the last EA is listed, not drawn
			if err := s.PutHouseholdSample(ctx, sample); err != nil {
				t.Fatal(err)
			}
		}
		tl := dotm.Tally{ID: fmt.Sprintf("sub-%d", p), Survey: "sv", Enumerator: "e1", PSU: psu, Stratum: stratum, HouseholdID: hh[0].HouseholdID,
			Class: hh[0].Class, Status: dotm.SubmissionReceived, Day: "2026-03-02", Seconds: 3000 + p, Flags: []string{dotm.FlagShort}[:p%2],
			HasGPS: p%3 != 0, Lat: 4.5 + float64(p)/10, Lon: -74.25, Ages: []int{30 + p, 5}[:p%3], Amounts: p, RoundAmount: p / 2}
		if err := s.PutTally(ctx, tl); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddAssignments(ctx, assignments); err != nil {
		t.Fatal(err)
	}
	if ps, err := s.SampledPSUs(ctx, "sv"); err != nil || ps != nil {
		t.Fatalf("EAs sampled before the draw: %v %v", ps, err)
	}
	sample := dotm.PSUSample{Survey: "sv", Allocation: "proportional", DrawnAt: time.Now()}
	for p := range 7 {
		sample.PSUs = append(sample.PSUs, dotm.SampledPSU{PSU: fmt.Sprintf("ea-%d", p), Stratum: fmt.Sprintf("st-%d", p%2), Size: 10, Pi1: 0.5})
	}
	if err := s.PutPSUSample(ctx, sample); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTallyStatus(ctx, "sub-2", dotm.SubmissionRejected); err != nil {
		t.Fatal(err)
	}
	if err := s.SupersedeTally(ctx, "sub-2"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTallyStatus(ctx, "nope", dotm.SubmissionApproved); dotm.ErrorCode(err) != dotm.ENOTFOUND {
		t.Fatalf("status of a missing tally: %v", err)
	}
	// A listing as stored before its counts were kept.
	if _, err := s.collection(colListings).UpdateOne(ctx, bson.D{{Key: "_id", Value: "sv/ea-3"}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "class_counts", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	read := func() []any {
		t.Helper()
		all, err1 := s.Tallies(ctx, dotm.TallyFilter{Survey: "sv"})
		one, err2 := s.Tallies(ctx, dotm.TallyFilter{Survey: "sv", PSU: "ea-4", GPS: true})
		listed, err3 := s.ListedCounts(ctx, "sv")
		sel, err4 := s.Selections(ctx, "sv")
		as, err5 := s.AssignedCounts(ctx, "sv")
		cl, err6 := s.HouseholdClass(ctx, "sv", "ea-2", "ea-2-1")
		sampled, err7 := s.SampledPSUs(ctx, "sv")
		for _, err := range []error{err1, err2, err3, err4, err5, err6, err7} {
			if err != nil {
				t.Fatal(err)
			}
		}
		slices.SortFunc(listed, func(a, b dotm.ClassCount) int { return strings.Compare(a.PSU+a.Class, b.PSU+b.Class) })
		slices.SortFunc(sel, func(a, b dotm.PSUSelection) int { return strings.Compare(a.PSU, b.PSU) })
		slices.SortFunc(as, func(a, b dotm.AssignedCount) int { return strings.Compare(a.PSU+a.Enumerator, b.PSU+b.Enumerator) })
		return []any{all, one, listed, sel, as, cl, sampled}
	}
	viaSQL := read()
	sq := s.sq
	s.sq = nil
	viaFind := read()
	s.sq = sq
	for i := range viaSQL {
		if !reflect.DeepEqual(viaSQL[i], viaFind[i]) {
			t.Errorf("read %d:\nSQL  %+v\nfind %+v", i, viaSQL[i], viaFind[i])
		}
	}
	all := viaSQL[0].([]dotm.Tally)
	if len(all) != 6 || all[2].Status != dotm.SubmissionRejected || !all[2].Superseded || all[4].Lat != 4.9 || !slices.Equal(all[4].Ages, []int{34}) || all[1].Flags[0] != dotm.FlagShort {
		t.Fatalf("tallies: %+v", all)
	}
	if one := viaSQL[1].([]dotm.Tally); len(one) != 1 || one[0].ID != "sub-4" {
		t.Fatalf("EA ea-4's located tallies: %+v", one)
	}
	if n := len(viaSQL[3].([]dotm.PSUSelection)); n != 5 {
		t.Fatalf("%d draws", n)
	}
	if cl := viaSQL[5].(dotm.HouseholdClass); cl != classes[0] {
		t.Fatalf("class of ea-2-1: %q", cl)
	}
	if n := len(viaSQL[6].([]dotm.SampledPSU)); n != 7 {
		t.Fatalf("%d sampled EAs, want 7", n)
	}
	p := dotm.ComputeProgress(dotm.ProgressInput{Survey: "sv", Tallies: all, Listed: viaSQL[2].([]dotm.ClassCount),
		Selections: viaSQL[3].([]dotm.PSUSelection), Assigned: viaSQL[4].([]dotm.AssignedCount), Sampled: viaSQL[6].([]dotm.SampledPSU)})
	if p.Total.Listed != 5+6+7+8+9+10 || p.Total.Assigned != len(assignments) || p.Total.Selected != 3+3+4+4+5 || p.Total.Interviewed != 5 || p.Total.Quota["non_migrant"] != 10 ||
		p.Total.PSUs != 7 || p.Total.PSUsListed != 6 || len(p.PSUs) != 7 {
		t.Fatalf("summary: %+v", p.Total)
	}
}

// TestTallyRepairs: the submissions without a tally come in the order
// they were received, those whose tally's status or correction differs
// with the submission's state, and agreeing ones not at all; alike from
// the embedded store's indexes (SQL) and through finds.
func TestTallyRepairs(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ids := []string{"00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
		"00000000-0000-4000-8000-000000000004", "00000000-0000-4000-8000-000000000005"}
	for i, id := range ids {
		sub := dotm.Submission{ID: id, Survey: "sv", FormID: "hh", FormVersion: "1", Enumerator: "ana", Status: dotm.SubmissionReceived,
			ReceivedAt: t0.Add(time.Duration(i) * time.Minute), Answers: map[string]any{}}
		if err := s.InsertSubmission(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ReviewSubmission(ctx, ids[3], dotm.Review{By: "sup", Decision: "approve", At: t0}, dotm.SubmissionApproved); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSuperseded(ctx, ids[4], ids[0]); err != nil {
		t.Fatal(err)
	}
	// Tallies of the last three, as they were at receipt.
	for _, id := range ids[2:] {
		if err := s.PutTally(ctx, dotm.Tally{ID: id, Survey: "sv", Status: dotm.SubmissionReceived, Day: "2026-03-02"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.TallyRepairs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []dotm.TallyRepair{
		{ID: ids[0], Missing: true, Status: dotm.SubmissionReceived},
		{ID: ids[1], Missing: true, Status: dotm.SubmissionReceived},
		{ID: ids[3], Status: dotm.SubmissionApproved},
		{ID: ids[4], Status: dotm.SubmissionReceived, Superseded: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("repairs\n%+v\nwant\n%+v", got, want)
	}
	// The same through the finds (what a real MongoDB runs).
	sq := s.sq
	s.sq = nil
	viaFind, err := s.TallyRepairs(ctx)
	s.sq = sq
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(viaFind, want) {
		t.Fatalf("repairs through finds\n%+v\nwant\n%+v", viaFind, want)
	}
}
