package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/questionnaire"
)

func TestBridge(t *testing.T) {
	js, err := questionnaire.Household().Encode("json")
	if err != nil {
		t.Fatal(err)
	}
	var fs forms
	var loaded struct {
		Handle  int                         `json:"handle"`
		Form    formInfo                    `json:"form"`
		Outline []questionnaire.OutlineItem `json:"outline"`
		Error   string                      `json:"error"`
	}
	if err := json.Unmarshal([]byte(fs.load(string(js))), &loaded); err != nil || loaded.Error != "" {
		t.Fatalf("load: %v %s", err, loaded.Error)
	}
	if loaded.Handle != 1 || loaded.Form.ID != "dotm_household" || len(loaded.Form.Languages) < 2 || len(loaded.Outline) == 0 {
		t.Fatalf("load: %+v", loaded.Form)
	}
	if loaded.Form.Titles["es"] != "Desarrollo en movimiento: cuestionario del hogar" || loaded.Form.Titles["en"] != loaded.Form.Title {
		t.Errorf("titles by language: %v", loaded.Form.Titles)
	}
	tests := []struct {
		name                     string
		handle                   int
		answers, lang, now, want string
	}{
		{"state in Spanish", 1, `{"consent": "yes", "n_members": 0}`, "es", "2026-03-01T10:00:00Z", `"Un hogar tiene de 1 a 40 miembros."`},
		{"problems for an empty interview", 1, `{}`, "en", "", `"code":"required"`},
		{"problems named for a person", 1, `{"consent": "yes", "members": [{"member_name": "Ana", "age": 300}]}`, "en", "", `"members[0].age":"Household member 1 (Ana) › Age in completed years"`},
		{"unknown handle", 7, `{}`, "en", "", `"error":"no form loaded with handle 7"`},
		{"answers not an object", 1, `[1]`, "en", "", `"error":"answers: `},
		{"bad time", 1, `{}`, "en", "yesterday", `"error":"now: `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fs.state(tc.handle, tc.answers, tc.lang, tc.now)
			if !strings.Contains(got, tc.want) {
				t.Errorf("state = %.300s\nwant it to contain %s", got, tc.want)
			}
		})
	}
	if got := fs.load(`{"survey": [{"type": "nonsense", "name": "x"}]}`); !strings.Contains(got, `"error"`) {
		t.Errorf("a broken form loads: %.200s", got)
	}
	fs.unload(1)
	if got := fs.state(1, `{}`, "", ""); !strings.Contains(got, "no form loaded") {
		t.Errorf("state after unload: %.200s", got)
	}
}

// FuzzState feeds arbitrary answers to the bridge: it must answer with one
// JSON object (a State or an error), never panic.
func FuzzState(f *testing.F) {
	js, err := questionnaire.Household().Encode("json")
	if err != nil {
		f.Fatal(err)
	}
	var fs forms
	fs.load(string(js))
	for _, seed := range []string{`{}`, `{"consent":"yes","n_members":2,"members":[{"age":3},{}]}`, `{"members":"x"}`, `{"gps":"1 2 3 4"}`, `[`, `{"remit_uses":["food","food"]}`} {
		f.Add(seed, "es")
	}
	f.Fuzz(func(t *testing.T, answers, lang string) {
		out := fs.state(1, answers, lang, "2026-03-01T00:00:00Z")
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("state(%q) is not a JSON object: %v", answers, err)
		}
		if _, isErr := v["error"]; !isErr {
			if _, ok := v["relevant"]; !ok {
				t.Fatalf("state(%q) has neither error nor relevant: %.200s", answers, out)
			}
		}
	})
}

func BenchmarkStateHousehold(b *testing.B) {
	js, err := questionnaire.Household().Encode("json")
	if err != nil {
		b.Fatal(err)
	}
	answers, err := os.ReadFile("../testdata/household_es.json")
	if err != nil {
		b.Fatal(err)
	}
	var fs forms
	fs.load(string(js))
	b.ReportAllocs()
	for b.Loop() {
		fs.state(1, string(answers), "es", "2026-03-01T00:00:00Z")
	}
}
