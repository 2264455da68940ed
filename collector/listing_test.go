package collector_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
)

// TestListingHouseholdIDs: household ids of listings and assignments follow
// the one id pattern; the problem names the household.
func TestListingHouseholdIDs(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	for _, bad := range []string{"=HYPERLINK(\"http://x\")", "a b", "../x", "h/1", "-h", strings.Repeat("h", 65), "h:1", ""} {
		l := map[string]any{"psu": uniq("p"), "households": []map[string]any{{"household_id": "ok1", "class": "non_migrant"}, {"household_id": bad, "class": "non_migrant"}}}
		p := decode[problemDoc](t, a.mustDo("sup", "POST", "/api/v1/surveys/gh-2026/listings", l, 422))
		if len(p.Problems) != 1 || p.Problems[0].Path != "households[1].household_id" {
			t.Errorf("listing household %q: problems %+v", bad, p.Problems)
		}
		as := map[string]any{"assignments": []map[string]any{{"enumerator": "ana", "household_id": bad}}}
		p = decode[problemDoc](t, a.mustDo("admin", "POST", "/api/v1/surveys/gh-2026/assignments", as, 422))
		if len(p.Problems) != 1 || p.Problems[0].Path != "assignments[0].household_id" {
			t.Errorf("assignment household %q: problems %+v", bad, p.Problems)
		}
	}
}

// TestListingReplacement: an enumerator lists new PSUs and corrects the
// listings of its own PSUs (those it listed or is assigned to), not others';
// supervisors correct any in their surveys.
func TestListingReplacement(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	listing := func(psu string, hh ...string) map[string]any {
		var hs []map[string]any
		for _, h := range hh {
			hs = append(hs, map[string]any{"household_id": h, "class": "non_migrant"})
		}
		return map[string]any{"psu": psu, "households": hs}
	}
	post := func(user string, l map[string]any, want int) {
		t.Helper()
		a.mustDo(user, "POST", "/api/v1/surveys/gh-2026/listings", l, want)
	}
	post("ben", listing("p9", "h1"), 201)       // a new PSU
	post("ana", listing("p9", "h1", "h2"), 403) // ben's listing, ana not assigned there
	post("ben", listing("p9", "h1", "h2"), 201) // ben corrects his own
	post("sup", listing("p9", "h1", "h3"), 201) // a supervisor corrects any
	post("ben", listing("p9", "h1", "h4"), 201) // still ben's PSU: he listed it first
	post("sup", listing("p1", "h1"), 201)       // p1: ana and ben hold assignments there
	post("ana", listing("p1", "h1", "h2"), 201)
	post("ben", listing("p1", "h1", "h3"), 201)
	post("sup", listing("p7", "h1"), 201) // a supervisor's PSU
	post("ana", listing("p7", "h2"), 403)
}

// TestAssignmentIDsAcrossSurveys: the ids of drawn assignments are
// unambiguous across surveys (svC + h.1 and svC.h + 1 once both made
// "svC.h.1"), every assignment the draw reports exists, with the answers
// its PSU's frame row gives the form (prefill), and each can be submitted
// against.
func TestAssignmentIDsAcrossSurveys(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	const frame = "psu_id,stratum,size,region,urban\nn1,north,120,north,no\n"
	type drawJSON struct {
		Assignments int `json:"assignments_created"`
	}
	got := map[string]dotm.Assignment{}
	for _, c := range []struct{ survey, household, enumerator string }{{"svC", "h.1", "ana"}, {"svC.h", "1", "ana"}, {"gh-2026", "h.1", "ana"}} {
		if c.survey != "gh-2026" {
			a.mustDo("admin", "POST", "/api/v1/surveys", map[string]any{"id": c.survey, "country": "Ghana", "languages": []string{"en"}}, 201)
		}
		a.mustDoRaw("admin", "POST", "/api/v1/surveys/"+c.survey+"/sample/psus?n=1&seed=1", "text/csv", []byte(frame), 201)
		a.mustDo("admin", "POST", "/api/v1/surveys/"+c.survey+"/listings", listing1("n1", c.household), 403) // admins do not list
		a.tokens["lister-"+c.survey] = decode[struct {
			Token string `json:"token"`
		}](t, a.mustDo("admin", "POST", "/api/v1/users", map[string]any{"name": "lister-" + c.survey, "role": "supervisor", "surveys": []string{c.survey}}, 201)).Token
		a.mustDo("lister-"+c.survey, "POST", "/api/v1/surveys/"+c.survey+"/listings", listing1("n1", c.household), 201)
		d := decode[drawJSON](t, a.mustDo("admin", "POST", "/api/v1/surveys/"+c.survey+"/sample/households",
			map[string]any{"quota": map[string]int{"current_migrant": 1}, "seed": 1, "enumerators": []string{c.enumerator}}, 200))
		list := decode[assignmentsJSON](t, a.mustDo("admin", "GET", "/api/v1/assignments?survey="+c.survey, nil, 200)).Assignments
		var drawn []dotm.Assignment
		for _, as := range list {
			if as.PSU == "n1" {
				drawn = append(drawn, as)
			}
		}
		if d.Assignments != 1 || len(drawn) != 1 {
			t.Fatalf("%s: the draw reports %d assignments, %d exist: %+v", c.survey, d.Assignments, len(drawn), drawn)
		}
		as := drawn[0]
		if as.Survey != c.survey || as.HouseholdID != c.household {
			t.Fatalf("%s: assignment %+v", c.survey, as)
		}
		prefill := decode[struct {
			Assignments []struct {
				PSU     string            `json:"psu"`
				Prefill map[string]string `json:"prefill"`
			} `json:"assignments"`
		}](t, a.mustDo("admin", "GET", "/api/v1/assignments?survey="+c.survey, nil, 200))
		want := map[string]string{"household_id": c.household, "psu": "n1", "stratum": "north", "region": "north", "urban": "no"}
		for _, x := range prefill.Assignments {
			if x.PSU == "n1" && !maps.Equal(x.Prefill, want) {
				t.Errorf("%s: prefill %v, want %v", c.survey, x.Prefill, want)
			}
		}
		if prev, ok := got[as.ID]; ok {
			t.Fatalf("assignment id %s of %s is also %s's", as.ID, c.survey, prev.Survey)
		}
		got[as.ID] = as
	}
	// A drawn id is accepted by the submission endpoint.
	for id, as := range got {
		if as.Survey == "gh-2026" {
			a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(uuid.NewString(), id, validAnswers("x")), 201)
		}
	}
}

func listing1(psu, household string) map[string]any {
	return map[string]any{"psu": psu, "households": []map[string]any{{"household_id": household, "class": "current_migrant"}}}
}

// TestFramePSUIDs: PSU ids of a sampling frame follow the one id pattern
// (a PSU drawn with another id could never be listed).
func TestFramePSUIDs(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	frame := "psu_id,stratum,size\nn1,north,120\nEA 12,north,80\n=cmd,south,90\n"
	st, b, _ := a.doRaw("admin", "POST", "/api/v1/surveys/gh-2026/sample/psus?n=2&seed=1", "text/csv", strings.NewReader(frame), nil)
	p := decode[problemDoc](t, b)
	if st != 422 || len(p.Problems) != 2 || !strings.Contains(p.Problems[0].Path, "row 2") || !strings.Contains(p.Problems[1].Path, "row 3") {
		t.Errorf("frame with bad PSU ids: %d %s", st, b)
	}
}
