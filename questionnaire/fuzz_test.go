package questionnaire

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzExpr checks that parsing and evaluating any expression never panics,
// in a form context with repeats (the household questionnaire and its
// example answers).
func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		"${age} >= 6 and ${age} <= 17", "count(${members})", "sum(${is_child_6_17}) div 2",
		"indexed-repeat(${sex}, ${members}, 1)", "selected-at(., 3) <= 100", "position(..) = 1",
		"regex(., '^[0-9]+$')", "format-date(today(), '%Y-%m-%d')", "substr('abc', -1, 99)",
		"concat(${member_name}, ' ', string(${age}))", "if(${x} = '', 1, 0)", "round(1 div 3, 400)",
		"date(99999999999)", "decimal-date-time('2025-01-01T00:00:00Z')", "max(${age}) - min(${mig_age_left})",
		"/data/a/b | ${age}", "coalesce(${phone}, 'none')", "not(selected(${remit_uses}, 'dont_know'))",
	} {
		f.Add(s)
	}
	form := Household()
	ex := HouseholdExample()
	out, _ := form.Validate(ex.Answers, ValidateOptions{Now: ex.EndedAt})
	st := &vstate{f: form, c: form.c, lang: "en", now: ex.EndedAt, root: out, bad: map[string]bool{}}
	members := out["members"].([]any)
	env := &evalEnv{st: st, frames: []frame{{rep: form.c.byName["members"], idx: 1, m: members[1].(map[string]any)}},
		m: members[1].(map[string]any), cur: form.c.byName["age"]}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseExpr(src)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		_ = toString(e.eval(env))
		_ = toBool(e.eval(&evalEnv{st: st, m: out}))
	})
}

// FuzzDecodeYAML checks that the YAML and JSON readers never panic and
// that whatever they accept validates and encodes without panicking.
func FuzzDecodeYAML(f *testing.F) {
	f.Add([]byte(testFormYAML))
	f.Add(HouseholdYAML())
	f.Add([]byte(`survey: [{type: integer, name: a, constraint: ". > 1"}]`))
	f.Add([]byte(`{"survey": [{"type": "select_one l", "name": "a"}], "choices": [{"list_name": "l", "name": "x"}]}`))
	f.Add([]byte("survey: [{type: text, name: a, Body::X: 1}]\nsheets: [{name: external_choices, rows: [[list_name, name], [], [l, 01]]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []string{"yaml", "json"} {
			form, err := Decode(data, format)
			if err != nil {
				continue
			}
			exercise(t, form)
		}
	})
}

// FuzzDecodeXLSX checks that the XLSForm reader never panics on any bytes.
func FuzzDecodeXLSX(f *testing.F) {
	files, _ := filepath.Glob("testdata/pyxform/*.xlsx")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		form, err := Decode(data, "xlsx")
		if err != nil {
			return
		}
		exercise(t, form)
	})
}

// FuzzValidate checks that Validate never panics on any answers JSON.
func FuzzValidate(f *testing.F) {
	f.Add(HouseholdExampleJSON())
	f.Add([]byte(`{"answers": {"members": [{"age": "x"}], "migrants": 3, "gps": "1 2 3 4 5"}}`))
	form := Household()
	f.Fuzz(func(t *testing.T, data []byte) {
		var s struct {
			Answers map[string]any `json:"answers"`
		}
		if json.Unmarshal(data, &s) != nil {
			return
		}
		_, ps := form.Validate(s.Answers, ValidateOptions{Lang: "es", Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
		// Roots come first, and every cause is the path of a root.
		roots := map[string]bool{}
		for i, p := range ps {
			if p.Cause == "" {
				if i > 0 && ps[i-1].Cause != "" {
					t.Fatalf("root %s after a consequence: %v", p.Path, ps)
				}
				roots[p.Path] = true
			}
		}
		for _, p := range ps {
			if p.Cause != "" && (!roots[p.Cause] || p.Cause == p.Path) {
				t.Fatalf("%s: cause %q is not another problem's root: %v", p.Path, p.Cause, ps)
			}
		}
	})
}

func exercise(t *testing.T, form *Form) {
	t.Helper()
	_ = form.Fields()
	answers := map[string]any{}
	for _, fd := range form.Fields() {
		if fd.Repeat == "" {
			answers[fd.Name] = "1"
		}
	}
	_, _ = form.Validate(answers, ValidateOptions{})
	for _, format := range []string{"yaml", "json"} {
		data, err := form.Encode(format)
		if err != nil {
			t.Fatalf("encode %s: %v", format, err)
		}
		if _, err := Decode(data, format); err != nil {
			t.Fatalf("re-decode %s of an accepted form: %v\n%s", format, err, data)
		}
	}
}
