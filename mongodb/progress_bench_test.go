package mongodb

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
)

// BenchmarkProgress times GET /surveys/{id}/progress, through the real
// HTTP handler, for a survey round of 20,000 submissions (each with a
// household interview's 150 answers, 60% approved, 20% waiting, 10%
// returned and corrected), their tallies, 20,000 assignments with their
// moves, 400 EAs listed (60 households each, 24,000 in all) and drawn.
//
//	go test -run '^$' -bench Progress -benchtime 20x ./mongodb
func BenchmarkProgress(b *testing.B) {
	const (
		survey = "big"
		perPSU = 60
	)
	nSubs := 20000
	if v, err := strconv.Atoi(os.Getenv("DOTM_BENCH_SUBMISSIONS")); err == nil && v >= 500 && v%500 == 0 {
		nSubs = v // a smaller round while working on it
	}
	nPSUs := nSubs / 50
	ctx := context.Background()
	s := openTestStore(b)
	if err := s.CreateSurvey(ctx, dotm.Survey{ID: survey, Country: "GH", Languages: []string{"en"}, CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	token, hash, err := dotm.NewToken()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.AddUser(ctx, dotm.User{Name: "sup", Role: dotm.RoleSupervisor, Surveys: []string{survey}}, hash); err != nil {
		b.Fatal(err)
	}
	classes := []dotm.HouseholdClass{dotm.CurrentMigrant, dotm.ReturnMigrant, dotm.NonMigrant}
	ps := dotm.PSUSample{Survey: survey, Allocation: "proportional", DrawnAt: time.Now()}
	for p := range nPSUs {
		psu, stratum := fmt.Sprintf("ea-%03d", p), fmt.Sprintf("stratum-%d", p%10)
		ps.PSUs = append(ps.PSUs, dotm.SampledPSU{PSU: psu, Stratum: stratum, Size: perPSU, Pi1: 0.1})
		hh := make([]dotm.ListedHousehold, perPSU)
		sample := dotm.HouseholdSample{Survey: survey, PSU: psu, Stratum: stratum, Quota: "current_migrant=20,non_migrant=20,return_migrant=10", Method: "srs", DrawnAt: time.Now()}
		for i := range hh {
			hh[i] = dotm.ListedHousehold{HouseholdID: fmt.Sprintf("%s-%03d", psu, i), Class: classes[i%3]}
			sample.Households = append(sample.Households, dotm.SampledHousehold{HouseholdID: hh[i].HouseholdID, Class: string(hh[i].Class), Selected: i < 50})
		}
		if _, err := s.PutListing(ctx, dotm.Listing{Survey: survey, PSU: psu, Stratum: stratum, Households: hh, SubmittedBy: "sup", SubmittedAt: time.Now()}, dotm.AnyRevision); err != nil {
			b.Fatal(err)
		}
		if err := s.PutHouseholdSample(ctx, sample); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.PutPSUSample(ctx, ps); err != nil {
		b.Fatal(err)
	}
	answers := map[string]any{}
	for i := range 150 {
		answers[fmt.Sprintf("q%03d", i)] = []any{"an answer of a few words", int64(i), float64(i) / 3, []any{"a", "b"}}[i%4]
	}
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for start := 0; start < nSubs; start += 500 {
		var subs []dotm.Submission
		var assignments []dotm.Assignment
		var moves, tallies []any
		for i := start; i < start+500; i++ {
			p := i / 50
			psu, stratum := fmt.Sprintf("ea-%03d", p), fmt.Sprintf("stratum-%d", p%10)
			id := fmt.Sprintf("%08x-0000-4000-8000-%012d", uint32(i)*2654435761, i)
			aid := fmt.Sprintf("%s:%s:%s-%03d", survey, psu, psu, i%50)
			enum := fmt.Sprintf("enum-%03d", i%200)
			status := []dotm.SubmissionStatus{dotm.SubmissionApproved, dotm.SubmissionApproved, dotm.SubmissionReceived, dotm.SubmissionRejected, dotm.SubmissionApproved,
				dotm.SubmissionApproved, dotm.SubmissionReceived, dotm.SubmissionApproved, dotm.SubmissionApproved, dotm.SubmissionApproved}[i%10]
			at := base.Add(time.Duration(i) * 2 * time.Minute)
			subs = append(subs, dotm.Submission{ID: id, Survey: survey, FormID: "dotm_household", FormVersion: "1", AssignmentID: aid, Enumerator: enum,
				StartedAt: at.Add(-time.Hour), EndedAt: at, ReceivedAt: at, Status: status, Answers: answers})
			assignments = append(assignments, dotm.Assignment{ID: aid, Survey: survey, Enumerator: enum, HouseholdID: fmt.Sprintf("%s-%03d", psu, i%50),
				PSU: psu, Stratum: stratum, FormID: "dotm_household", CreatedAt: base, UpdatedAt: base})
			moves = append(moves, moveDoc{ID: moveID(aid, 1), Assignment: aid, Survey: survey, Seq: 1, Status: string(dotm.AssignmentSubmitted), SubmissionID: id, At: at})
			t := dotm.Tally{ID: id, Survey: survey, Enumerator: enum, Assignment: aid, PSU: psu, Stratum: stratum, HouseholdID: fmt.Sprintf("%s-%03d", psu, i%50),
				Status: status, Class: classes[i%3], Refused: i%25 == 0, Day: at.Format(time.DateOnly), Seconds: 2400 + i%2400,
				HasGPS: true, Lat: 5 + float64(p)/100, Lon: -1 + float64(i%50)/1000, Ages: []int{20 + i%50, i % 18, 44}, Amounts: 3, RoundAmount: i % 2}
			if i%40 == 0 {
				t.Flags = []string{dotm.FlagShort}
			}
			tallies = append(tallies, tallyDoc{ID: t.ID, Survey: t.Survey, PSU: t.PSU, Status: string(t.Status), GPS: t.HasGPS, Row: packRow(t)})
		}
		for i, err := range s.InsertSubmissions(ctx, subs) {
			if err != nil {
				b.Fatalf("insert %s: %v", subs[i].ID, err)
			}
		}
		if err := s.AddAssignments(ctx, assignments); err != nil {
			b.Fatal(err)
		}
		for _, col := range []struct {
			name string
			docs []any
		}{{colAssignmentMoves, moves}, {colTallies, tallies}} {
			for i, err := range s.insertMany(ctx, col.name, col.docs) {
				if err != nil {
					b.Fatalf("insert into %s, %d: %v", col.name, i, err)
				}
			}
		}
	}
	srv := collector.NewServer(collector.Deps{DB: s, Users: s, Accounts: s, Auditor: s, Surveys: s, Forms: s, Assignments: s,
		Submissions: s, Listings: s, AuditLog: s, Design: s, Weights: s, Approved: s, Releases: s, Tallies: s, Fingerprints: s})
	get := func(b *testing.B) dotm.Progress {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/surveys/"+survey+"/progress", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("progress: %d %s", w.Code, w.Body.String())
		}
		var p dotm.Progress
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			b.Fatal(err)
		}
		return p
	}
	for _, step := range []struct {
		name string
		fn   func() error
	}{
		{"tallies", func() error { _, err := s.Tallies(ctx, dotm.TallyFilter{Survey: survey}); return err }},
		{"listed", func() error { _, err := s.ListedCounts(ctx, survey); return err }},
		{"selections", func() error { _, err := s.Selections(ctx, survey); return err }},
		{"sampled EAs", func() error { _, err := s.SampledPSUs(ctx, survey); return err }},
		{"assigned", func() error { _, err := s.AssignedCounts(ctx, survey); return err }},
		// Start-up reconciliation, from the indexes and as through finds.
		{"tally repairs (SQL)", func() error { _, err := s.TallyRepairs(ctx); return err }},
		{"tally repairs (finds)", func() error {
			sq := s.sq
			s.sq = nil
			defer func() { s.sq = sq }()
			_, err := s.TallyRepairs(ctx)
			return err
		}},
	} {
		for range 2 {
			t0 := time.Now()
			if err := step.fn(); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: %v", step.name, time.Since(t0))
		}
	}
	p := get(b)
	if body, err := json.Marshal(p); err == nil {
		b.Logf("answer: %d bytes (%d EAs, %d strata, %d enumerators)", len(body), len(p.PSUs), len(p.Strata), len(p.Enumerators))
	}
	if p.Total.Interviewed != nSubs || p.Total.Listed != nPSUs*perPSU || p.Total.Assigned != nSubs || len(p.PSUs) != nPSUs || len(p.Enumerators) != 200 {
		b.Fatalf("summary: interviewed %d, listed %d, assigned %d, %d EAs, %d enumerators", p.Total.Interviewed, p.Total.Listed, p.Total.Assigned, len(p.PSUs), len(p.Enumerators))
	}
	// CPU time of the process per request (user + system): on a shared
	// machine the wall time counts the other processes' turns too; the
	// embedded server runs in this process, so its work is counted.
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	// view: the summary from the survey's views in memory (tallies,
	// their ProgressState, assignment counts), refreshed by what was
	// written since (tallies_view.go, progress_view.go), with one tally
	// written between requests as in the field; store: tallies and
	// assignments read and ComputeProgress at each request. cpu-ms/op
	// counts the write too (outside the timer); request-cpu-ms/op only the
	// request (the handler, the embedded server's work for it, and the
	// benchmark's decoding of the answer).
	for _, mode := range []struct {
		name   string
		noView bool
	}{{"view", false}, {"store", true}} {
		b.Run(mode.name, func(b *testing.B) {
			s.noTallyView = mode.noView
			get(b)
			c0 := cpu()
			var inRequests time.Duration // the CPU of the requests alone, without the writes
			i := 0
			for b.Loop() {
				b.StopTimer()
				id := fmt.Sprintf("%08x-0000-4000-8000-%012d", uint32(i)*2654435761, i)
				if err := s.SetTallyStatus(ctx, id, []dotm.SubmissionStatus{dotm.SubmissionApproved, dotm.SubmissionRejected}[i%2]); err != nil {
					b.Fatal(err)
				}
				i++
				b.StartTimer()
				r0 := cpu()
				get(b)
				inRequests += cpu() - r0
			}
			b.ReportMetric(float64(cpu()-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(inRequests)/float64(time.Millisecond)/float64(b.N), "request-cpu-ms/op")
		})
	}
}
