package collector_test

import (
	"math"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
)

// TestProgress follows the summary through a small round: a listing, three
// assigned households, interviews received, one corrected, reviews; the
// summary's numbers are checked at each step, and its map points are only
// for supervisors, audited.
func TestProgress(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.mustDo("sup", "POST", "/api/v1/surveys/gh-2026/listings", map[string]any{"psu": "p1", "stratum": "north", "households": []map[string]any{
		{"household_id": "hh-001", "class": "current_migrant"}, {"household_id": "hh-002", "class": "non_migrant"},
		{"household_id": "hh-003", "class": "non_migrant"}, {"household_id": "hh-004", "class": "return_migrant"},
	}}, 201)
	progress := func(user string) dotm.Progress {
		t.Helper()
		return decode[dotm.Progress](t, a.mustDo(user, "GET", "/api/v1/surveys/gh-2026/progress", nil, 200))
	}
	p := progress("stat")
	if p.Total.Listed != 4 || p.Total.Assigned != 3 || p.Total.Interviewed != 0 || len(p.PSUs) != 1 || p.PSUs[0].ListedBy["non_migrant"] != 2 {
		t.Fatalf("before interviews: %+v", p.Total)
	}

	// ana: one interview; ben: one that took ten seconds (short).
	id1, id2 := uuid.NewString(), uuid.NewString()
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(id1, "a-ana-1", validAnswers("Kofi")), 201)
	quick := a.envelope(id2, "a-ben-1", validAnswers("Ama"))
	quick["started_at"], quick["ended_at"] = "2026-03-02T09:00:00Z", "2026-03-02T09:00:10Z"
	a.mustDo("ben", "POST", "/api/v1/submissions", quick, 201)
	s := decode[struct{ Flags []string }](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+id2, nil, 200))
	if !slices.Equal(s.Flags, []string{dotm.FlagShort}) {
		t.Fatalf("flags of a 10-second interview: %v", s.Flags)
	}
	p = progress("sup")
	if p.Total.Interviewed != 2 || p.Total.Pending != 2 || p.Total.Flagged != 1 || p.Total.Flags[dotm.FlagShort] != 1 ||
		p.Total.InterviewedBy["current_migrant"] != 1 || p.Total.InterviewedBy["non_migrant"] != 1 || p.Total.DaysInField != 2 {
		t.Fatalf("after two interviews: %+v", p.Total)
	}

	// Return ben's, approve ana's; ben corrects his.
	a.mustDo("sup", "POST", "/api/v1/submissions/"+id2+"/review", map[string]any{"decision": "reject", "comment": "too fast"}, 200)
	a.mustDo("sup", "POST", "/api/v1/submissions/"+id1+"/review", map[string]any{"decision": "approve"}, 200)
	p = progress("admin")
	if p.Total.Interviewed != 2 || p.Total.Approved != 1 || p.Total.Returned != 1 || p.Total.Pending != 0 {
		t.Fatalf("after reviews: %+v", p.Total)
	}
	id3 := uuid.NewString()
	fix := a.envelope(id3, "a-ben-1", validAnswers("Ama"))
	fix["supersedes"] = id2
	a.mustDo("ben", "POST", "/api/v1/submissions", fix, 201)
	p = progress("sup")
	if p.Total.Interviewed != 2 || p.Total.Returned != 0 || p.Total.Pending != 1 || p.Total.Approved != 1 || p.Total.Flagged != 0 {
		t.Fatalf("after the correction: %+v", p.Total)
	}
	byName := map[string]dotm.EnumeratorProgress{}
	for _, e := range p.Enumerators {
		byName[e.Enumerator] = e
	}
	if b := byName["ben"]; b.Interviews != 2 || b.Rejections != 1 || b.Pending != 1 || b.Assigned != 1 || b.Flags[dotm.FlagShort] != 1 {
		t.Fatalf("ben: %+v", b)
	}
	if an := byName["ana"]; an.Interviews != 1 || an.Approved != 1 || math.Abs(an.MedianMinutes-3723.0/60) > 1e-9 || an.Assigned != 2 {
		t.Fatalf("ana: %+v", an)
	}
	// No household draw: RR1 is over the assigned households.
	if p.Total.ResponseRate != 2.0/3 || p.PSUs[0].Centroid != nil || p.Points != nil {
		t.Fatalf("rate over the assigned, no points asked: rate %v, centroid %v, points %v", p.Total.ResponseRate, p.PSUs[0].Centroid, p.Points)
	}

	// Locations: supervisors only, audited.
	a.mustDo("stat", "GET", "/api/v1/surveys/gh-2026/progress?points=true", nil, 403)
	a.mustDo("sup", "GET", "/api/v1/surveys/gh-2026/progress?points=maybe", nil, 400)
	a.mustDo("sup_other", "GET", "/api/v1/surveys/gh-2026/progress", nil, 403)
	pts := decode[dotm.Progress](t, a.mustDo("sup", "GET", "/api/v1/surveys/gh-2026/progress?points=true", nil, 200))
	if len(pts.Points) != 2 || pts.PSUs[0].Centroid == nil {
		t.Fatalf("points %+v, centroid %v", pts.Points, pts.PSUs[0].Centroid)
	}
	entries := decode[struct{ Entries []dotm.AuditEntry }](t, a.mustDo("admin", "GET", "/api/v1/audit?action=read_locations", nil, 200))
	if len(entries.Entries) != 1 || entries.Entries[0].Actor != "sup" {
		t.Fatalf("audit of the locations read: %+v", entries.Entries)
	}
}
