package questionnaire

import (
	"fmt"
	"strings"
	"testing"
)

// problemList prints problems one a line for failure messages.
func problemList(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n  %s %s cause=%q: %s", p.Path, p.Code, p.Cause, p.Message)
	}
	return b.String()
}

// checkRoots checks that the problems start with the roots, in this
// order, each with no cause, and that every other problem names a root
// in causes[path] (paths not listed there must name wantCause).
func checkRoots(t *testing.T, ps []Problem, roots []string, causeOf func(path string) string) {
	t.Helper()
	if len(ps) <= len(roots) {
		t.Fatalf("%d problems, want the roots %v and their consequences:%s", len(ps), roots, problemList(ps))
	}
	for i, r := range roots {
		if ps[i].Path != r || ps[i].Cause != "" {
			t.Errorf("problem %d is %s (cause %q), want the root %s:%s", i, ps[i].Path, ps[i].Cause, r, problemList(ps))
		}
	}
	for _, p := range ps[len(roots):] {
		if want := causeOf(p.Path); p.Cause != want {
			t.Errorf("%s %s: cause %q, want %q", p.Path, p.Code, p.Cause, want)
		}
	}
}

// TestConsentMaybe: one wrong answer that turns off most of the
// questionnaire gives one root problem, first, with the value given and
// the allowed values, and every other problem names it as its cause.
func TestConsentMaybe(t *testing.T) {
	f := Household()
	s := loadExample(t)
	s.Answers["consent"] = "maybe"
	_, ps := f.Validate(s.Answers, ValidateOptions{Now: s.EndedAt})
	if len(ps) < 30 {
		t.Fatalf("only %d problems:%s", len(ps), problemList(ps))
	}
	if p := ps[0]; p.Path != "consent" || p.Code != CodeChoice || p.Message != `consent: "maybe" is not one of: yes, no` {
		t.Errorf("first problem %+v, want consent's choice problem naming the value and the choices", p)
	}
	checkRoots(t, ps, []string{"consent"}, func(string) string { return "consent" })
	codes := map[string]int{}
	for _, p := range ps {
		codes[p.Code]++
	}
	if codes[CodeNotRelevant] < 30 || codes[CodeNotRelevant] != len(ps)-1 {
		t.Errorf("codes %v, want one choice and the rest not_relevant", codes)
	}

	// Consent missing: the root is a required problem, found after the
	// not-relevant answers it explains, and still listed first.
	s = loadExample(t)
	delete(s.Answers, "consent")
	_, ps = f.Validate(s.Answers, ValidateOptions{Now: s.EndedAt})
	if len(ps) > 0 && (ps[0].Path != "consent" || ps[0].Code != CodeRequired) {
		t.Errorf("first problem %+v, want consent required", ps[0])
	}
	checkRoots(t, ps, []string{"consent"}, func(string) string { return "consent" })
}

// TestIndependentMistakes: two mistakes give two roots in form order,
// each with its own consequences, also inside a repeat entry and
// through a repeat_count and a constraint that read the wrong answer.
func TestIndependentMistakes(t *testing.T) {
	f := Household()
	s := loadExample(t)
	member(s.Answers, 0)["age"] = "old" // a type problem: education and activity depend on age
	s.Answers["has_migrants"] = "perhaps"
	_, ps := f.Validate(s.Answers, ValidateOptions{Now: s.EndedAt})
	checkRoots(t, ps, []string{"members[0].age", "has_migrants"}, func(path string) string {
		if strings.HasPrefix(path, "members[0].") {
			return "members[0].age"
		}
		return "has_migrants"
	})
	want := map[string]string{
		"members[0].education": "members[0].age", "members[0].activity": "members[0].age",
		"n_migrants_reported": "has_migrants", "migrants": "has_migrants",
	}
	for _, p := range ps {
		delete(want, p.Path)
	}
	if len(want) > 0 {
		t.Errorf("missing consequences %v:%s", want, problemList(ps))
	}
	if m := ps[1].Message; m != `has_migrants: "perhaps" is not one of: yes, no` {
		t.Errorf("has_migrants message %q", m)
	}

	// The number of members is not a number: the roster's count and the
	// returnees' constraint that read it follow from it; a wrong age in
	// the roster stays a root of its own, and the child's school
	// enrolment (dropped, as not relevant at 200) and the question on
	// remittances paying for school (through the count of enrolled
	// children) follow from it.
	s = loadExample(t)
	s.Answers["n_members"] = "four"
	member(s.Answers, 2)["age"] = 200
	_, ps = f.Validate(s.Answers, ValidateOptions{Now: s.EndedAt})
	checkRoots(t, ps, []string{"n_members", "members[2].age"}, func(path string) string {
		if path == "members[2].enrolled" || path == "remit_school" {
			return "members[2].age"
		}
		return "n_members"
	})
	got := map[string]string{}
	for _, p := range ps {
		got[p.Path] = p.Code
	}
	if got["members"] != CodeRepeatCount || got["n_returnees"] != CodeConstraint {
		t.Errorf("want members repeat_count and n_returnees constraint following n_members:%s", problemList(ps))
	}
}

// TestCauseThroughCalculation: a problem follows from a wrong answer read
// through a calculation and through a question that is not relevant
// because of it; a problem whose expressions read only valid answers is
// a root.
func TestCauseThroughCalculation(t *testing.T) {
	f, err := Decode([]byte(`
settings: {form_id: t, version: "1"}
survey:
  - {type: integer, name: a}
  - {type: calculate, name: double, calculation: "${a} * 2"}
  - {type: text, name: b, relevant: "${double} > 4"}
  - {type: integer, name: c, relevant: "${a} > 0"}
  - {type: text, name: d, relevant: "${c} != ''"}
  - {type: text, name: e, required: "${double} > 4 or ${a} = ''"}
  - {type: text, name: f, relevant: "${a} = 3"}
  - {type: integer, name: g, constraint: ". < 10"}
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, ps := f.Validate(map[string]any{"a": "x", "b": "shown", "d": "shown", "f": "y", "g": 11}, ValidateOptions{})
	want := []Problem{
		{Path: "a", Code: CodeType},
		{Path: "g", Code: CodeConstraint},
		{Path: "b", Code: CodeNotRelevant, Cause: "a"}, // through double
		{Path: "d", Code: CodeNotRelevant, Cause: "a"}, // c is empty because not relevant
		{Path: "e", Code: CodeRequired, Cause: "a"},
		{Path: "f", Code: CodeNotRelevant, Cause: "a"},
	}
	if len(ps) != len(want) {
		t.Fatalf("got%s\nwant %v", problemList(ps), want)
	}
	for i, w := range want {
		if ps[i].Path != w.Path || ps[i].Code != w.Code || ps[i].Cause != w.Cause {
			t.Errorf("problem %d: got %+v, want %+v", i, ps[i], w)
		}
	}

	// A valid a: the answers given to b, d and f are roots.
	_, ps = f.Validate(map[string]any{"a": 1, "b": "shown", "d": "shown", "e": "z", "f": "y"}, ValidateOptions{})
	for _, p := range ps {
		if p.Cause != "" {
			t.Errorf("%s: cause %q, want a root:%s", p.Path, p.Cause, problemList(ps))
		}
	}
	if len(ps) != 3 {
		t.Errorf("want b, d, f not relevant:%s", problemList(ps))
	}
}

// TestChoiceMessages: a choice problem names the value given and the
// allowed values (at most 20), except for a direct identifier.
func TestChoiceMessages(t *testing.T) {
	var choices strings.Builder
	for i := 1; i <= 25; i++ {
		fmt.Fprintf(&choices, "  - {list_name: many, name: c%d, label: C%d}\n", i, i)
	}
	f, err := Decode([]byte(`
settings: {form_id: t, version: "1"}
survey:
  - {type: select_one yn, name: one}
  - {type: select_multiple yn, name: multi}
  - {type: select_one many, name: big}
  - {type: select_one yn or_other, name: other}
  - {type: select_one yn, name: secret_one, sensitivity: direct}
  - {type: select_multiple yn, name: secret_multi, sensitivity: direct}
  - {type: select_one area, name: where, choice_filter: "${one} = 'yes'", sensitivity: direct}
choices:
  - {list_name: yn, name: "yes", label: "Yes"}
  - {list_name: yn, name: "no", label: "No"}
  - {list_name: area, name: a1, label: "A1"}
`+choices.String()), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		answers map[string]any
		path    string
		msg     string
	}{
		{map[string]any{"one": "maybe"}, "one", `one: "maybe" is not one of: yes, no`},
		{map[string]any{"multi": []any{"yes", "x", "y"}}, "multi", `multi: "x", "y" are not among: yes, no`},
		{map[string]any{"multi": "no z"}, "multi", `multi: "z" is not one of: yes, no`},
		{map[string]any{"big": "c26"}, "big", `big: "c26" is not one of: c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20, …`},
		{map[string]any{"other": "maybe"}, "other", `other: "maybe" is not one of: yes, no, other`},
		{map[string]any{"one": strings.Repeat("long", 20)}, "one", `one: "` + strings.Repeat("long", 10) + `…" is not one of: yes, no`},
		{map[string]any{"secret_one": "Ana Morales"}, "secret_one", `secret_one: the answer is not one of the allowed values`},
		{map[string]any{"secret_multi": []any{"Ana", "Morales"}}, "secret_multi", `secret_multi: 2 choices are not among the allowed values`},
		{map[string]any{"secret_multi": []any{"Ana", "Ana"}}, "secret_multi", `secret_multi: a choice is selected twice`},
		{map[string]any{"one": "no", "where": "a1"}, "where", `where: the answer is not offered here (choice_filter ${one} = 'yes')`},
	} {
		_, ps := f.Validate(tc.answers, ValidateOptions{})
		if len(ps) != 1 || ps[0].Path != tc.path || ps[0].Message != tc.msg {
			t.Errorf("%v:%s\nwant %s: %s", tc.answers, problemList(ps), tc.path, tc.msg)
		}
	}
}
