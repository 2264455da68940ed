package dotm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
)

// TestProgressStateMatchesCompute changes tallies one at a time (new
// submissions, reviews, corrections, tallies rebuilt whole, some moved to
// another EA, stratum or enumerator, some removed) and checks after each
// change that the incremental summary is ComputeProgress's, struct and
// JSON, with and without points and assignments summed either way.
func TestProgressStateMatchesCompute(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 7))
	statuses := []SubmissionStatus{SubmissionReceived, SubmissionApproved, SubmissionRejected}
	classes := []HouseholdClass{CurrentMigrant, ReturnMigrant, NonMigrant, ""}
	flags := []string{FlagShort, FlagGPSFar, FlagDupPhone}
	newTally := func(id string) Tally {
		p := rng.IntN(6)
		enum := rng.IntN(5)
		tl := Tally{ID: id, Survey: "sv", Enumerator: fmt.Sprintf("e%d", enum), PSU: fmt.Sprintf("ea-%d", p), Stratum: fmt.Sprintf("st-%d", p%3),
			Status: statuses[rng.IntN(3)], Class: classes[rng.IntN(4)], Day: fmt.Sprintf("2026-03-%02d", 1+rng.IntN(20)),
			Seconds: 1200 + rng.IntN(600) + 2000*min(enum, 1)*(enum%2), Refused: rng.IntN(8) == 0 || (enum == 4 && rng.IntN(2) == 0),
			HasGPS: rng.IntN(4) > 0, Lat: float64(rng.IntN(50)) / 10, Lon: float64(rng.IntN(50)) / 10, Amounts: rng.IntN(4)}
		tl.RoundAmount = rng.IntN(tl.Amounts + 1)
		for range rng.IntN(6) {
			a := 20 + rng.IntN(50)
			if enum == 3 {
				a = 25 + 5*rng.IntN(8) // heaping
			}
			tl.Ages = append(tl.Ages, a)
		}
		if rng.IntN(5) == 0 {
			tl.Flags = []string{flags[rng.IntN(3)]}
		}
		switch rng.IntN(30) {
		case 0:
			tl.Stratum = "" // an EA's tallies without stratum, or naming another
		case 1:
			tl.Stratum = "st-x"
		case 2:
			tl.PSU = ""
		case 3:
			tl.Day = ""
		}
		return tl
	}
	sampled := []SampledPSU{}
	var listed []ClassCount
	var sels []PSUSelection
	for p := range 5 {
		psu, st := fmt.Sprintf("ea-%d", p), fmt.Sprintf("st-%d", p%3)
		sampled = append(sampled, SampledPSU{PSU: psu, Stratum: st})
		if p < 3 {
			listed = append(listed, ClassCount{PSU: psu, Stratum: st, Class: string(NonMigrant), N: 10 + p})
			sels = append(sels, PSUSelection{PSU: psu, Stratum: st, Quota: "current_migrant=2,non_migrant=3", Selected: map[string]int{"non_migrant": 3}})
		}
	}
	assigned := []AssignedCount{{PSU: "ea-0", Stratum: "st-0", Enumerator: "e0", N: 4}, {PSU: "ea-1", Stratum: "st-1", Enumerator: "e1", N: 2},
		{PSU: "ea-1", Stratum: "st-1", Enumerator: "e9", N: 3}, {PSU: "ea-9", Stratum: "st-2", Enumerator: "e2", N: 1}}
	totals := &AssignedTotals{ByEnumerator: map[string]int{}}
	byPSU := map[[2]string]int{}
	for _, a := range assigned {
		byPSU[[2]string{a.PSU, a.Stratum}] += a.N
		totals.ByEnumerator[a.Enumerator] += a.N
	}
	for _, k := range slices.SortedFunc(maps.Keys(byPSU), func(a, b [2]string) int {
		return slices.Compare(a[:], b[:])
	}) {
		totals.ByPSU = append(totals.ByPSU, AssignedCount{PSU: k[0], Stratum: k[1], N: byPSU[k]})
	}

	truth := map[string]Tally{}
	state := NewProgressState(nil)
	var ids []string
	check := func(step int) {
		t.Helper()
		all := make([]Tally, 0, len(truth))
		for _, id := range slices.Sorted(maps.Keys(truth)) {
			all = append(all, truth[id])
		}
		if state.Len() != len(all) {
			t.Fatalf("step %d: state has %d tallies, want %d", step, state.Len(), len(all))
		}
		for _, in := range []ProgressInput{
			{Survey: "sv"},
			{Survey: "sv", WithPoints: true, Sampled: sampled, Listed: listed, Selections: sels, Assigned: assigned},
		} {
			full := in
			full.Tallies = all
			want := ComputeProgress(full)
			for _, tot := range []*AssignedTotals{nil, totals} {
				if tot != nil && in.Assigned == nil {
					continue
				}
				got := state.Summary(in, tot)
				wj, _ := json.Marshal(want)
				gj, _ := json.Marshal(got)
				if !bytes.Equal(wj, gj) {
					t.Fatalf("step %d (points %v, totals %v): incremental\n%s\nfull\n%s", step, in.WithPoints, tot != nil, gj, wj)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("step %d: same JSON, different values", step)
				}
			}
		}
	}
	check(0)
	flagged := 0
	for step := 1; step <= 3000; step++ {
		op := rng.IntN(10)
		if len(ids) == 0 {
			op = 0
		}
		id := ""
		if len(ids) > 0 {
			id = ids[rng.IntN(len(ids))]
		}
		switch {
		case op < 4: // a new submission
			id = fmt.Sprintf("sub-%05d", rng.IntN(1_000_000))
			if _, ok := truth[id]; !ok {
				ids = append(ids, id)
			}
			truth[id] = newTally(id)
		case op < 6: // a review
			tl := truth[id]
			tl.Status = statuses[rng.IntN(3)]
			truth[id] = tl
		case op < 8: // a correction (or its reversal by a repair)
			tl := truth[id]
			tl.Superseded = !tl.Superseded
			truth[id] = tl
		case op < 9: // a tally rebuilt whole, maybe elsewhere
			truth[id] = newTally(id)
		default: // gone from the store (a restore)
			delete(truth, id)
			ids = slices.DeleteFunc(ids, func(s string) bool { return s == id })
			state.Remove(id)
			if step%7 == 0 {
				check(step)
			}
			continue
		}
		state.Put(truth[id])
		if step%7 == 0 || step > 2900 {
			check(step)
		}
	}
	// A state built at once from the same tallies answers the same.
	all := slices.Collect(maps.Values(truth))
	sort.Slice(all, func(i, j int) bool { return all[i].ID > all[j].ID })
	state = NewProgressState(all)
	check(-1)
	p := state.Summary(ProgressInput{Survey: "sv"}, nil)
	outliers := 0
	for _, e := range p.Enumerators {
		flagged += len(e.EnumeratorFlags)
		for _, f := range e.EnumeratorFlags {
			if f == FlagDurationOut || f == FlagRefusalOut {
				outliers++
			}
		}
	}
	if flagged == 0 || outliers == 0 || len(p.PSUs) < 5 || len(p.Strata) < 3 {
		t.Fatalf("the test's tallies do not exercise the enumerator flags or the rows: %d flags (%d outliers), %d EAs, %d strata", flagged, outliers, len(p.PSUs), len(p.Strata))
	}
}
