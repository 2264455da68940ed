package mongodb

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
)

// BenchmarkStoreGrowth grows one store step by step to 50,000 submissions
// (with as many assignments and their moves), 100,000 listed households and
// 200,000 audit entries, and at each size times the API requests whose cost
// used to grow with the stored documents, through the real HTTP handlers
// (collector.Server.ServeHTTP, no network). The answer to each request has
// the same size at every step, so a flat row means a cost independent of
// the store's size. On the embedded store the first size's requests are
// also timed over the old path (finds through the wire, which scan) for
// comparison.
//
//	go test -run '^$' -bench StoreGrowth -benchtime 20x ./mongodb
//
// DOTM_BENCH_SIZES overrides the steps (comma-separated submission counts).
func BenchmarkStoreGrowth(b *testing.B) {
	sizes := []int{1000, 5000, 10000, 25000, 50000}
	if v := os.Getenv("DOTM_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1000 {
				b.Fatalf("DOTM_BENCH_SIZES: %q is not a count of at least 1000", f)
			}
			sizes = append(sizes, n)
		}
	}
	s := openTestStore(b)
	g := newGrowth(b, s)
	type row struct {
		size    int
		insert  float64 // submissions per second while growing to size
		perReq  map[string]time.Duration
		oldPath map[string]time.Duration
		bytes   map[string]int // size of the answer
	}
	var rows []row
	for _, n := range sizes {
		start := time.Now()
		added := g.growTo(b, n)
		r := row{size: n, insert: float64(added) / time.Since(start).Seconds(), perReq: map[string]time.Duration{}, oldPath: map[string]time.Duration{}, bytes: map[string]int{}}
		for _, q := range g.requests() {
			b.Run(fmt.Sprintf("%s/submissions=%d", q.name, n), func(b *testing.B) {
				// Once untimed: the first request after the store grew
				// brings the progress summary's views up to date.
				r.bytes[q.name] = g.do(b, q)
				t0 := time.Now()
				for b.Loop() {
					g.do(b, q)
				}
				r.perReq[q.name] = time.Since(t0) / time.Duration(b.N)
			})
			if n == sizes[0] && s.sq != nil {
				sq := s.sq
				s.sq = nil
				t0 := time.Now()
				g.do(b, q)
				r.oldPath[q.name] = time.Since(t0)
				s.sq = sq
			}
		}
		rows = append(rows, r)
	}
	fmt.Printf("\nstore growth: request latency (ms, mean over the benchmark's iterations) by stored submissions\n")
	fmt.Printf("(audit entries = 4 x submissions, listed households = 2 x submissions, assignments = submissions)\n\n")
	fmt.Printf("| request |")
	for _, r := range rows {
		fmt.Printf(" %d |", r.size)
	}
	if len(rows) > 0 && len(rows[0].oldPath) > 0 {
		fmt.Printf(" old path at %d |", rows[0].size)
	}
	fmt.Printf("\n|---|")
	for range rows {
		fmt.Printf("---:|")
	}
	if len(rows) > 0 && len(rows[0].oldPath) > 0 {
		fmt.Printf("---:|")
	}
	fmt.Println()
	for _, q := range g.requests() {
		fmt.Printf("| %s |", q.name)
		for _, r := range rows {
			fmt.Printf(" %.1f |", float64(r.perReq[q.name])/1e6)
		}
		if d, ok := rows[0].oldPath[q.name]; ok {
			fmt.Printf(" %.0f |", float64(d)/1e6)
		}
		fmt.Println()
	}
	fmt.Printf("| (answer of the progress summary, KB) |")
	for _, r := range rows {
		fmt.Printf(" %.0f |", float64(r.bytes["GET /surveys/{id}/progress (console)"])/1e3)
	}
	fmt.Println()
	fmt.Printf("| (insert rate while growing, submissions/s) |")
	for _, r := range rows {
		fmt.Printf(" %.0f |", r.insert)
	}
	fmt.Println()
	if s.sq != nil {
		// The first start of a data directory written before the listing
		// indexes: building them over what is stored.
		db, err := openWritable(filepath.Join(s.embeddedDir, s.db.Name()+".sqlite"))
		if err != nil {
			b.Fatal(err)
		}
		var tables []string
		rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%\_dotm\_%' ESCAPE '\' AND name NOT LIKE '%\_id\_lookup' ESCAPE '\'`)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var n string
			_ = rows.Scan(&n)
			tables = append(tables, n)
		}
		rows.Close()
		for _, n := range tables {
			if _, err := db.Exec(fmt.Sprintf("DROP INDEX %q", n)); err != nil {
				b.Fatal(err)
			}
		}
		db.Close()
		start := time.Now()
		if err := s.EnsureIndexes(context.Background()); err != nil {
			b.Fatal(err)
		}
		fmt.Printf("\nbuilding the %d listing indexes over this store (a first start on older data): %.1f s\n", len(tables), time.Since(start).Seconds())
	}
}

// growth is the store under the benchmark and what it holds so far.
type growth struct {
	s                *Store
	srv              *collector.Server
	admin, ana       string // tokens
	subs             int
	ids              []string // of the measured survey's submissions, sorted when read
	auditMid         dotm.AuditEntry
	answers          map[string]any
	listedHouseholds int
}

// Surveys of the benchmark: most submissions go to the measured survey, a
// fifth to another; the listings measured are a pilot's 20 PSUs of 100
// households each, while the other surveys' listings grow.
const (
	growthSurvey = "gh-2026"
	growthOther  = "sn-2026"
	growthPilot  = "pilot"
)

func newGrowth(b *testing.B, s *Store) *growth {
	ctx := context.Background()
	g := &growth{s: s, answers: map[string]any{}}
	for i := range 150 { // the size of a household interview's answers
		switch i % 4 {
		case 0:
			g.answers[fmt.Sprintf("q%03d", i)] = "an answer of a few words"
		case 1:
			g.answers[fmt.Sprintf("q%03d", i)] = int64(i)
		case 2:
			g.answers[fmt.Sprintf("q%03d", i)] = float64(i) / 3
		default:
			g.answers[fmt.Sprintf("q%03d", i)] = []any{"a", "b"}
		}
	}
	for _, sv := range []string{growthSurvey, growthOther, growthPilot} {
		if err := s.CreateSurvey(ctx, dotm.Survey{ID: sv, Country: "GH", Title: sv, CreatedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	var hash string
	var err error
	g.admin, hash, err = dotm.NewToken()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.AddUser(ctx, dotm.User{Name: "adm", Role: dotm.RoleAdmin}, hash); err != nil {
		b.Fatal(err)
	}
	g.ana, hash, _ = dotm.NewToken()
	if err := s.AddUser(ctx, dotm.User{Name: "ana", Role: dotm.RoleEnumerator, Surveys: []string{growthSurvey}}, hash); err != nil {
		b.Fatal(err)
	}
	g.srv = collector.NewServer(collector.Deps{DB: s, Users: s, Accounts: s, Auditor: s, Surveys: s, Forms: s, Assignments: s,
		Submissions: s, Listings: s, AuditLog: s, Design: s, Weights: s, Approved: s, Releases: s, Tallies: s})
	// The pilot's listings, fixed from the start.
	for p := range 20 {
		hh := make([]dotm.ListedHousehold, 100)
		for i := range hh {
			hh[i] = dotm.ListedHousehold{HouseholdID: fmt.Sprintf("pilot-%02d-%03d", p, i), Class: dotm.NonMigrant}
		}
		if _, err := s.PutListing(ctx, dotm.Listing{Survey: growthPilot, PSU: fmt.Sprintf("psu-%02d", p), Households: hh, SubmittedBy: "ana", SubmittedAt: time.Now()}, dotm.AnyRevision); err != nil {
			b.Fatal(err)
		}
	}
	g.listedHouseholds = 2000
	return g
}

// growTo adds submissions (and with them assignments, moves, listings and
// audit entries) until the store holds n submissions; it returns how many
// it added. Enumerator ana gets 100 submissions and assignments in the
// first step and none later, as a field enumerator's workload stays the
// same while the survey grows.
func (g *growth) growTo(b *testing.B, n int) int {
	ctx := context.Background()
	added := 0
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for g.subs < n {
		k := min(500, n-g.subs)
		subs := make([]dotm.Submission, k)
		assignments := make([]dotm.Assignment, k)
		moves := make([]any, k)
		tallies := make([]any, k)
		audit := make([]any, 0, 4*k)
		for j := range subs {
			i := g.subs + j
			enum := fmt.Sprintf("enum-%03d", i%499)
			if i < 1000 && i%10 == 0 {
				enum = "ana"
			}
			survey := growthSurvey
			if i%5 == 4 && enum != "ana" {
				survey = growthOther
			}
			status := dotm.SubmissionApproved
			var reviews []dotm.Review
			switch i % 10 {
			case 1, 2:
				status = dotm.SubmissionReceived
			case 3:
				status = dotm.SubmissionRejected
			}
			at := base.Add(time.Duration(i) * time.Second)
			if status != dotm.SubmissionReceived {
				reviews = []dotm.Review{{Decision: string(status), By: "sup", At: at.Add(time.Hour)}}
			}
			id := fmt.Sprintf("uuid:%08x-%04x-4000-8000-%012d", uint32(i)*2654435761, i%65536, i)
			aid := fmt.Sprintf("as-%07d", i)
			subs[j] = dotm.Submission{ID: id, Survey: survey, FormID: "dotm_household", FormVersion: "1", AssignmentID: aid,
				Enumerator: enum, StartedAt: at.Add(-time.Hour), EndedAt: at.Add(-time.Minute), ReceivedAt: at, Status: status,
				Reviews: reviews, Answers: g.answers}
			assignments[j] = dotm.Assignment{ID: aid, Survey: survey, Enumerator: enum, HouseholdID: fmt.Sprintf("hh-%07d", i),
				PSU: fmt.Sprintf("psu-%04d", i%400), FormID: "dotm_household", CreatedAt: base, UpdatedAt: base}
			moves[j] = moveDoc{ID: moveID(aid, 1), Assignment: aid, Survey: survey, Seq: 1, Status: string(dotm.AssignmentSubmitted), SubmissionID: id, At: at}
			t := dotm.Tally{ID: id, Survey: survey, Enumerator: enum, Assignment: aid, PSU: assignments[j].PSU, HouseholdID: assignments[j].HouseholdID,
				Status: status, Class: dotm.NonMigrant, Refused: i%25 == 0, Day: at.Format(time.DateOnly), Seconds: 2400 + i%2400,
				HasGPS: true, Lat: 5 + float64(i%400)/100, Lon: -1 + float64(i%50)/1000, Ages: []int{20 + i%50, i % 18, 44}, Amounts: 3, RoundAmount: i % 2}
			tallies[j] = tallyDoc{ID: t.ID, Survey: t.Survey, PSU: t.PSU, Status: string(t.Status), GPS: t.HasGPS, Row: packRow(t), Seq: nextTallySeq()}
			if survey == growthSurvey {
				g.ids = append(g.ids, id)
			}
			for e := range 4 {
				action := []string{"review", "read_identifiers", "review", "sign_in_failed"}[e]
				audit = append(audit, auditDocOf(dotm.AuditEntry{Time: at.Add(time.Duration(e) * time.Millisecond), Actor: "sup", Role: dotm.RoleSupervisor,
					Action: action, Survey: survey, Target: id}))
			}
		}
		for i, err := range g.s.InsertSubmissions(ctx, subs) {
			if err != nil {
				b.Fatalf("insert submission %s: %v", subs[i].ID, err)
			}
		}
		if err := g.s.AddAssignments(ctx, assignments); err != nil {
			b.Fatal(err)
		}
		for _, col := range []struct {
			name string
			docs []any
		}{{colAssignmentMoves, moves}, {colAudit, audit}, {colTallies, tallies}} {
			for i, err := range g.s.insertMany(ctx, col.name, col.docs) {
				if err != nil {
					b.Fatalf("insert into %s, %d: %v", col.name, i, err)
				}
			}
		}
		g.subs += k
		added += k
		// Listings of the other surveys: 2 listed households per submission,
		// 100 to a PSU.
		for g.listedHouseholds+100 <= 2*g.subs+2000 {
			p := g.listedHouseholds / 100
			hh := make([]dotm.ListedHousehold, 100)
			for i := range hh {
				hh[i] = dotm.ListedHousehold{HouseholdID: fmt.Sprintf("hh-%05d-%03d", p, i), Class: dotm.HouseholdClass([]string{"current_migrant", "return_migrant", "non_migrant"}[i%3])}
			}
			if _, err := g.s.PutListing(ctx, dotm.Listing{Survey: []string{growthSurvey, growthOther}[p%2], PSU: fmt.Sprintf("psu-%05d", p), Households: hh, SubmittedBy: "sup", SubmittedAt: base}, dotm.AnyRevision); err != nil {
				b.Fatal(err)
			}
			g.listedHouseholds += 100
		}
	}
	slices.Sort(g.ids)
	// The audit entry in the middle, to page from there.
	es, err := g.s.AuditEntries(ctx, dotm.AuditFilter{Before: base.Add(time.Duration(g.subs/2) * time.Second), Limit: 1})
	if err != nil || len(es) != 1 {
		b.Fatalf("middle audit entry: %v %v", es, err)
	}
	g.auditMid = es[0]
	return added
}

// growthRequest is one API request of the benchmark.
type growthRequest struct {
	name, token, path string
	min               int // at least this many items in the answer
}

func (g *growth) requests() []growthRequest {
	mid := g.ids[len(g.ids)/2]
	before := url.Values{"action": {"sign_in_failed"}, "before": {g.auditMid.Time.Format(time.RFC3339Nano)}, "before_id": {g.auditMid.ID}, "limit": {"100"}}
	return []growthRequest{
		{"GET /submissions?survey&limit=100", g.admin, "/api/v1/submissions?survey=" + growthSurvey + "&limit=100", 100},
		{"GET /submissions?survey&status=received", g.admin, "/api/v1/submissions?survey=" + growthSurvey + "&status=received&limit=100", 100},
		{"GET /submissions?survey&after=(middle)", g.admin, "/api/v1/submissions?survey=" + growthSurvey + "&after=" + url.QueryEscape(mid) + "&limit=100", 100},
		{"GET /submissions (enumerator's own)", g.ana, "/api/v1/submissions?limit=100", 100},
		{"GET /assignments (enumerator's own)", g.ana, "/api/v1/assignments", 100},
		{"GET /assignments?survey (a page of 500)", g.admin, "/api/v1/assignments?survey=" + growthSurvey, 500},
		{"GET /surveys/pilot/listings (2,000 households)", g.admin, "/api/v1/surveys/" + growthPilot + "/listings", 20},
		{"GET /audit?limit=100", g.admin, "/api/v1/audit?limit=100", 100},
		{"GET /audit?action&before&before_id (middle)", g.admin, "/api/v1/audit?" + before.Encode(), 100},
		// The console's summary: its answer grows with the survey's
		// listed EAs (a row each), printed below the table.
		{"GET /surveys/{id}/progress (console)", g.admin, "/api/v1/surveys/" + growthSurvey + "/progress", 300},
	}
}

// do sends q to the server and checks that it answered 200 with at least
// q.min items.
func (g *growth) do(b *testing.B, q growthRequest) int {
	req := httptest.NewRequest(http.MethodGet, q.path, nil)
	req.Header.Set("Authorization", "Bearer "+q.token)
	w := httptest.NewRecorder()
	g.srv.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", q.path, w.Code, w.Body.String())
	}
	if n := strings.Count(w.Body.String(), `"id":`) + strings.Count(w.Body.String(), `"psu":`); n < q.min {
		b.Fatalf("%s: %d items, want at least %d: %.300s", q.path, n, q.min, w.Body.String())
	}
	return w.Body.Len()
}
