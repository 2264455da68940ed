package webclient_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/questionnaire"
)

var update = flag.Bool("update", false, "rewrite the expected results of testdata/vectors from the Go evaluator")

// vector is one rule-parity case: a form, answers, the language and the
// time of today(), and the questionnaire.State expected for them. The same
// files are run against package questionnaire here and against the
// WebAssembly build in the browser (TestBrowserEndToEnd).
type vector struct {
	Name    string          `json:"name"`
	Form    string          `json:"form"` // a file in testdata/vectors, or "dotm_household" for the built-in form
	Lang    string          `json:"lang"`
	Now     string          `json:"now"`
	Answers json.RawMessage `json:"answers"`
	Expect  json.RawMessage `json:"expect"`
	file    string
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	files, err := filepath.Glob("testdata/vectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in testdata/vectors (%v)", err)
	}
	var out []vector
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vector
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		v.file = f
		out = append(out, v)
	}
	return out
}

// vectorForm returns the vector's form as the JSON the API serves.
func vectorForm(t *testing.T, v vector) (*questionnaire.Form, []byte) {
	t.Helper()
	var f *questionnaire.Form
	if v.Form == "dotm_household" {
		f = questionnaire.Household()
	} else {
		var err error
		if f, err = questionnaire.Load(filepath.Join("testdata/vectors", v.Form)); err != nil {
			t.Fatalf("%s: %v", v.file, err)
		}
	}
	js, err := f.Encode("json")
	if err != nil {
		t.Fatalf("%s: encode form: %v", v.file, err)
	}
	// the client gets the form through JSON: evaluate what it evaluates
	g, err := questionnaire.Decode(js, "json")
	if err != nil {
		t.Fatalf("%s: decode encoded form: %v", v.file, err)
	}
	return g, js
}

// goState runs the vector through package questionnaire, decoding the
// answers as the collector decodes a submission.
func goState(t *testing.T, v vector, f *questionnaire.Form) []byte {
	t.Helper()
	var answers map[string]any
	if err := json.Unmarshal(v.Answers, &answers); err != nil {
		t.Fatalf("%s: answers: %v", v.file, err)
	}
	now, err := time.Parse(time.RFC3339, v.Now)
	if err != nil {
		t.Fatalf("%s: now: %v", v.file, err)
	}
	b, err := json.Marshal(f.State(answers, questionnaire.ValidateOptions{Lang: v.Lang, Now: now}))
	if err != nil {
		t.Fatal(err)
	}
	return canonical(t, b)
}

// canonical re-encodes JSON with sorted keys and no spacing.
func canonical(t *testing.T, b []byte) []byte {
	t.Helper()
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatalf("canonical: %v: %.200s", err, b)
	}
	out, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVectorsGo(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			f, _ := vectorForm(t, v)
			got := goState(t, v, f)
			if *update {
				v.Expect = got
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", " ")
				if err := enc.Encode(v); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(v.file, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if len(v.Expect) == 0 || string(v.Expect) == "null" {
				t.Fatalf("%s has no expected state; run go test -run TestVectorsGo -update and review the result", v.file)
			}
			if want := canonical(t, v.Expect); !bytes.Equal(got, want) {
				t.Errorf("state differs from %s\n got: %s\nwant: %s", v.file, got, want)
			}
		})
	}
}

// TestVectorsCoverRules makes sure the vectors exercise every kind of rule
// the client relies on, so that parity means something.
func TestVectorsCoverRules(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range loadVectors(t) {
		var st struct {
			Relevant     map[string]bool     `json:"relevant"`
			Choices      map[string][]string `json:"choices"`
			RepeatCounts map[string]int      `json:"repeat_counts"`
			Problems     []questionnaire.Problem
		}
		if err := json.Unmarshal(v.Expect, &st); err != nil {
			t.Fatalf("%s: %v", v.file, err)
		}
		for _, r := range st.Relevant {
			if !r {
				seen["hidden item"] = true
			}
		}
		if len(st.Choices) > 0 {
			seen["choice filter"] = true
		}
		if len(st.RepeatCounts) > 0 {
			seen["repeat count"] = true
		}
		for _, p := range st.Problems {
			seen["problem "+p.Code] = true
			if v.Lang == "es" && p.Code == questionnaire.CodeConstraint && !strings.Contains(p.Message, "constraint") {
				seen["spanish message"] = true
			}
		}
		if len(st.Problems) == 0 {
			seen["valid"] = true
		}
	}
	for _, want := range []string{"hidden item", "choice filter", "repeat count", "valid", "spanish message",
		"problem required", "problem constraint", "problem choice", "problem type", "problem not_relevant", "problem repeat_count", "problem unknown_field"} {
		if !seen[want] {
			t.Errorf("no vector covers %s", want)
		}
	}
}
