package mongodb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
)

// listingsBothWays runs fn on the embedded store's SQL reader and again on
// the wire protocol (the finds a real MongoDB answers), and fails when the
// two differ. With DOTM_TEST_MONGO_URI set there is no SQL reader: fn runs
// once and the test checks the finds against the test's own expectations.
func listingsBothWays[T any](t *testing.T, s *Store, what string, fn func() (T, error)) T {
	t.Helper()
	got, err := fn()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if s.sq == nil {
		return got
	}
	sq := s.sq
	s.sq = nil
	want, err := fn()
	s.sq = sq
	if err != nil {
		t.Fatalf("%s over the wire: %v", what, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: SQL and wire differ\nsql:  %+v\nwire: %+v", what, got, want)
	}
	return got
}

// TestListingsSQLMatchWire fills a store with submissions (reviewed,
// corrected, with odd ids), audit entries (many in the same millisecond),
// assignments with moves and listings, and checks that every listing
// answers the same through the embedded store's SQL reader as through
// finds, for filters drawn at random, page by page, and that pages join
// into the whole ordered list.
func TestListingsSQLMatchWire(t *testing.T) {
	if testDir == "" {
		t.Log("real MongoDB: checks the finds against the expected order and filters only")
	}
	ctx := context.Background()
	s := openTestStore(t)
	if testDir != "" && s.sq == nil {
		t.Fatal("the embedded store has no SQL reader")
	}
	rng := rand.New(rand.NewPCG(19, 3))
	surveys := []string{"gh-2026", "sn-2026", "ml"}
	enums := []string{"ana", "kofi", "zoé"}
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var subs []dotm.Submission
	for i := range 160 {
		id := fmt.Sprintf("uuid:%04x-%d", rng.IntN(1<<16), i)
		switch i % 40 {
		case 7:
			id = "uuid:é-" + fmt.Sprint(i) // beyond ASCII: ordered by UTF-8 bytes
		case 8:
			id = `uuid:"<&>` + fmt.Sprint(i) // characters JSON escapes
		case 9:
			id = "Z" + fmt.Sprint(i)
		}
		sub := dotm.Submission{ID: id, Survey: surveys[rng.IntN(3)], FormID: []string{"hh", "ind"}[rng.IntN(2)], FormVersion: "1",
			AssignmentID: fmt.Sprint("a", i), Enumerator: enums[rng.IntN(3)], Status: dotm.SubmissionReceived,
			StartedAt: base.Add(time.Duration(i) * time.Minute), EndedAt: base.Add(time.Duration(i)*time.Minute + 90*time.Second + 123*time.Millisecond),
			ReceivedAt: base.Add(time.Duration(i) * time.Hour), Answers: map[string]any{"q": int64(i)}}
		if i%11 == 0 {
			sub.EndedAt = time.Time{}
		}
		subs = append(subs, sub)
	}
	for i, err := range s.InsertSubmissions(ctx, subs) {
		if err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	for i, sub := range subs {
		switch i % 5 {
		case 1:
			if _, err := s.ReviewSubmission(ctx, sub.ID, dotm.Review{Decision: "approve", By: "sup", At: base.Add(time.Duration(i) * time.Second)}, dotm.SubmissionApproved); err != nil {
				t.Fatal(err)
			}
		case 2:
			if _, err := s.ReviewSubmission(ctx, sub.ID, dotm.Review{Decision: "reject", Comment: "age \"42\" → check", By: "sup", At: base}, dotm.SubmissionRejected); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkSuperseded(ctx, sub.ID, subs[(i+1)%len(subs)].ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	allIDs := make([]string, len(subs))
	for i, sub := range subs {
		allIDs[i] = sub.ID
	}
	slices.Sort(allIDs)

	for n := range 60 {
		f := dotm.SubmissionFilter{
			Survey:     []string{"", "", surveys[0], surveys[1], "nowhere"}[rng.IntN(5)],
			Status:     []dotm.SubmissionStatus{"", "", dotm.SubmissionReceived, dotm.SubmissionApproved, dotm.SubmissionRejected}[rng.IntN(5)],
			Enumerator: []string{"", "", enums[0], enums[2]}[rng.IntN(4)],
			FormID:     []string{"", "", "hh"}[rng.IntN(3)],
			Limit:      []int{0, 1, 7, 500}[rng.IntN(4)],
		}
		switch rng.IntN(4) {
		case 1:
			f.Surveys = []string{surveys[0]}
		case 2:
			f.Surveys = []string{surveys[2], surveys[0], surveys[2]}
		}
		if rng.IntN(2) == 0 {
			f.After = allIDs[rng.IntN(len(allIDs))]
		}
		got := listingsBothWays(t, s, fmt.Sprintf("submissions %d %+v", n, f), func() ([]dotm.Submission, error) { return s.Submissions(ctx, f) })
		// The expectations of the contract, independently of either path.
		for i, g := range got {
			if i > 0 && got[i-1].ID >= g.ID || g.ID <= f.After || g.Answers != nil || g.Sealed != nil ||
				f.Survey != "" && g.Survey != f.Survey || len(f.Surveys) > 0 && !slices.Contains(f.Surveys, g.Survey) ||
				f.Status != "" && g.Status != f.Status || f.Enumerator != "" && g.Enumerator != f.Enumerator || f.FormID != "" && g.FormID != f.FormID {
				t.Fatalf("filter %+v: item %d %+v out of order or not matching", f, i, g)
			}
		}
		if f.Limit > 0 && len(got) > f.Limit {
			t.Fatalf("filter %+v: %d items", f, len(got))
		}
	}
	// Paging through everything gives every submission once, in id order,
	// with its review history and correction.
	var paged []dotm.Submission
	after := ""
	for {
		page := listingsBothWays(t, s, "page after "+after, func() ([]dotm.Submission, error) {
			return s.Submissions(ctx, dotm.SubmissionFilter{After: after, Limit: 61})
		})
		paged = append(paged, page...)
		if len(page) < 61 {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(paged) != len(subs) {
		t.Fatalf("paging gave %d submissions, want %d", len(paged), len(subs))
	}
	for i, p := range paged {
		full, err := s.Submission(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		full.Answers, full.Sealed = nil, nil
		if p.ID != allIDs[i] || !reflect.DeepEqual(p, full) {
			t.Fatalf("page item %d: %+v, want %+v", i, p, full)
		}
	}

	// Audit: entries in few distinct milliseconds, so that pages split ties.
	for i := range 100 {
		e := dotm.AuditEntry{Time: base.Add(time.Duration(rng.IntN(12)) * time.Millisecond), Actor: enums[rng.IntN(3)], Role: dotm.RoleSupervisor,
			Action: []string{"read_identifiers", "review", "sign_in_failed"}[rng.IntN(3)], Survey: surveys[rng.IntN(3)], Target: fmt.Sprint("t", i), Detail: "d"}
		if err := s.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for n := range 25 {
		f := dotm.AuditFilter{Action: []string{"", "", "review"}[rng.IntN(3)], Actor: []string{"", "", "zoé"}[rng.IntN(3)],
			Survey: []string{"", "", "ml"}[rng.IntN(3)], Limit: []int{0, 5, 100}[rng.IntN(3)]}
		if rng.IntN(2) == 0 {
			f.Before = base.Add(time.Duration(rng.IntN(13))*time.Millisecond + 300*time.Microsecond)
		}
		listingsBothWays(t, s, fmt.Sprintf("audit %d %+v", n, f), func() ([]dotm.AuditEntry, error) { return s.AuditEntries(ctx, f) })
	}
	var entries []dotm.AuditEntry
	f := dotm.AuditFilter{Limit: 9}
	for {
		page := listingsBothWays(t, s, fmt.Sprintf("audit page %+v", f), func() ([]dotm.AuditEntry, error) { return s.AuditEntries(ctx, f) })
		entries = append(entries, page...)
		if len(page) < f.Limit {
			break
		}
		f.Before, f.BeforeID = page[len(page)-1].Time, page[len(page)-1].ID
	}
	if len(entries) != 100 {
		t.Fatalf("audit pages gave %d entries, want 100", len(entries))
	}
	for i := 1; i < len(entries); i++ {
		a, b := entries[i-1], entries[i]
		if a.Time.Before(b.Time) || a.Time.Equal(b.Time) && a.ID <= b.ID {
			t.Fatalf("audit entries %d and %d out of order: %+v %+v", i-1, i, a, b)
		}
	}

	// Assignments with moves, and listings.
	var as []dotm.Assignment
	for i := range 60 {
		as = append(as, dotm.Assignment{ID: fmt.Sprintf("as-%03d", i), Survey: surveys[i%2], Enumerator: enums[i%3], HouseholdID: fmt.Sprint("h", i),
			PSU: fmt.Sprint("p", i%4), FormID: "hh", CreatedAt: base, UpdatedAt: base})
	}
	if err := s.AddAssignments(ctx, as); err != nil {
		t.Fatal(err)
	}
	for i, a := range as {
		if i%3 == 0 {
			continue
		}
		if err := s.MoveAssignment(ctx, a.ID, []dotm.AssignmentStatus{dotm.AssignmentAssigned}, dotm.AssignmentSubmitted, "sub-"+a.ID, ""); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 {
			if err := s.MoveAssignment(ctx, a.ID, []dotm.AssignmentStatus{dotm.AssignmentSubmitted}, dotm.AssignmentReturned, "", "redo q4"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for n := range 20 {
		f := dotm.AssignmentFilter{Survey: []string{"", surveys[0], surveys[1]}[rng.IntN(3)], Enumerator: []string{"", enums[1]}[rng.IntN(2)],
			Status: []dotm.AssignmentStatus{"", dotm.AssignmentReturned, dotm.AssignmentAssigned}[rng.IntN(3)]}
		if rng.IntN(3) == 0 {
			f.Surveys = []string{surveys[1], surveys[2]}
		}
		got := listingsBothWays(t, s, fmt.Sprintf("assignments %d %+v", n, f), func() ([]dotm.Assignment, error) { return s.Assignments(ctx, f) })
		for _, a := range got {
			if f.Enumerator != "" && a.Enumerator != f.Enumerator || f.Status != "" && a.Status != f.Status {
				t.Fatalf("assignments %+v: %+v", f, a)
			}
		}
	}
	for i, sv := range surveys[:2] {
		for p := range 3 {
			hh := []dotm.ListedHousehold{{HouseholdID: fmt.Sprint("h", p), Class: dotm.CurrentMigrant}, {HouseholdID: "h\"x", Class: dotm.NonMigrant}}
			if _, err := s.PutListing(ctx, dotm.Listing{Survey: sv, PSU: fmt.Sprint("psu-", p), Stratum: "s", Households: hh[:1+(p+i)%2], SubmittedBy: "ana", SubmittedAt: base}, dotm.AnyRevision); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.PutListing(ctx, dotm.Listing{Survey: surveys[0], PSU: "psu-1", Households: []dotm.ListedHousehold{{HouseholdID: "new", Class: dotm.ReturnMigrant}}, SubmittedBy: "kofi", SubmittedAt: base}, dotm.AnyRevision); err != nil {
		t.Fatal(err)
	}
	for _, sv := range append(surveys, "none") {
		ls := listingsBothWays(t, s, "listings of "+sv, func() ([]dotm.Listing, error) { return s.Listings(ctx, sv) })
		for _, l := range ls {
			if l.Survey != sv {
				t.Fatalf("listing of %s in %s", l.Survey, sv)
			}
			if sv == surveys[0] && l.PSU == "psu-1" && (l.Revision != 2 || len(l.Households) != 1 || l.Households[0].HouseholdID != "new") {
				t.Fatalf("corrected listing: %+v", l)
			}
		}
	}
	if !strings.HasPrefix(allIDs[len(allIDs)-1], "uuid:é") {
		t.Fatalf("ids sort by bytes: last is %q", allIDs[len(allIDs)-1])
	}
}

// TestListingsSQLUseIndexes checks SQLite's plan of every listing query:
// each reads its table through one of dotm's indexes, never by a scan of
// the table, and needs no sort of its own when it has a limit (the index
// gives the order, so a page stops after its last row).
func TestListingsSQLUseIndexes(t *testing.T) {
	if testDir == "" {
		t.Log("real MongoDB: no SQL reader; the finds use the indexes of mongoIndexes")
		return
	}
	ctx := context.Background()
	s := openTestStore(t)
	type query struct {
		q    string
		args []any
	}
	var queries []query
	queryHook = func(q string, args []any) { queries = append(queries, query{q, args}) }
	defer func() { queryHook = nil }()
	oid := "0123456789abcdef01234567"
	for _, f := range []dotm.SubmissionFilter{
		{Limit: 100}, {Survey: "a", Limit: 100}, {Survey: "a", Status: "received", After: "x", Limit: 100},
		{Status: "approved", Limit: 100}, {Enumerator: "ana", Limit: 100}, {Surveys: []string{"a", "b"}, Limit: 100},
		{Survey: "a", FormID: "hh", Enumerator: "ana", Limit: 100},
	} {
		if _, err := s.Submissions(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for _, f := range []dotm.AuditFilter{
		{Limit: 100}, {Action: "review", Limit: 100}, {Actor: "ana", Before: now, Limit: 100}, {Survey: "a", Before: now, BeforeID: oid, Limit: 100},
	} {
		if _, err := s.AuditEntries(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddAssignments(ctx, []dotm.Assignment{{ID: "a1", Survey: "a", Enumerator: "ana"}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []dotm.AssignmentFilter{{Enumerator: "ana"}, {Survey: "a"}, {Surveys: []string{"a"}, Enumerator: "ana"}} {
		if _, err := s.Assignments(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Listings(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if len(queries) < 15 {
		t.Fatalf("%d queries seen", len(queries))
	}
	for _, q := range queries {
		rows, err := s.sq.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.q, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, p := range plan {
			if strings.HasPrefix(p, "SCAN ") && !strings.Contains(p, " USING ") ||
				strings.Contains(q.q, " LIMIT ") && strings.Contains(p, "TEMP B-TREE") {
				t.Errorf("query %s\nplan: %s", q.q, strings.Join(plan, "; "))
			}
		}
	}
}

// TestListIndexesOnOldData: a data directory written before the listing
// indexes existed (simulated by dropping them) gets them at the next
// start, and its listings answer the same before and after.
func TestListIndexesOnOldData(t *testing.T) {
	if testDir == "" {
		t.Log("real MongoDB: the indexes are mongoIndexes, created by EnsureIndexes")
		return
	}
	ctx := context.Background()
	s := openTestStore(t)
	var subs []dotm.Submission
	for i := range 300 {
		subs = append(subs, dotm.Submission{ID: fmt.Sprintf("uuid:%05d", i), Survey: "gh", Enumerator: fmt.Sprint("e", i%7),
			Status: dotm.SubmissionReceived, ReceivedAt: time.Date(2026, 3, 1, 0, 0, i, 0, time.UTC), Answers: map[string]any{"q": "a"}})
	}
	for _, err := range s.InsertSubmissions(ctx, subs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	f := dotm.SubmissionFilter{Survey: "gh", Enumerator: "e3", After: "uuid:00100", Limit: 20}
	before, err := s.Submissions(ctx, f)
	if err != nil || len(before) != 20 {
		t.Fatalf("%d submissions, %v", len(before), err)
	}
	countIndexes := func() int {
		var n int
		if err := s.sq.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE '%\_dotm\_%' ESCAPE '\' AND name NOT LIKE '%\_id\_lookup' ESCAPE '\'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := countIndexes(); n != len(listIndexes) {
		t.Fatalf("%d listing indexes, want %d", n, len(listIndexes))
	}
	db, err := openWritable(filepath.Join(s.embeddedDir, s.db.Name()+".sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%\_dotm\_%' ESCAPE '\' AND name NOT LIKE '%\_id\_lookup' ESCAPE '\'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("DROP INDEX %q", n)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if n := countIndexes(); n != 0 {
		t.Fatalf("%d listing indexes left", n)
	}
	// Without its indexes a listing is still right (SQLite scans).
	if got, err := s.Submissions(ctx, f); err != nil || !reflect.DeepEqual(got, before) {
		t.Fatalf("without indexes: %v, %v", got, err)
	}
	start := time.Now()
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("indexes of 300 submissions built in %s", time.Since(start))
	if n := countIndexes(); n != len(listIndexes) {
		t.Fatalf("%d listing indexes after the start, want %d", n, len(listIndexes))
	}
	if got, err := s.Submissions(ctx, f); err != nil || !reflect.DeepEqual(got, before) {
		t.Fatalf("after: %v, %v", got, err)
	}
}
