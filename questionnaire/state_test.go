package questionnaire

import (
	"reflect"
	"testing"
	"time"
)

const stateForm = `
settings: {form_id: st, version: "1", default_language: en}
languages: [{code: en, name: English}, {code: es, name: Español}]
survey:
  - {type: select_one yes_no, name: q1, label: {en: Q1, es: P1}}
  - {type: begin group, name: outer, label: {en: Outer}, relevant: "${q1} = 'yes'"}
  - {type: begin group, name: inner, relevant: "${q1} = 'yes'"}
  - {type: note, name: n1, label: {en: Note}}
  - {type: integer, name: k, required: "${q1} = 'yes'"}
  - {type: end group}
  - {type: end group}
  - {type: begin repeat, name: r, repeat_count: "${k}"}
  - {type: select_one fruit or_other, name: pick, choice_filter: "kind = 'sweet' or position(..) = 2"}
  - {type: begin repeat, name: rr}
  - {type: text, name: deep, relevant: "${pick} = 'lemon'"}
  - {type: end repeat}
  - {type: end repeat}
  - {type: calculate, name: c, calculation: "${k} * 2"}
choices:
  - {list_name: yes_no, name: "yes", label: {en: "Yes"}}
  - {list_name: yes_no, name: "no", label: {en: "No"}}
  - {list_name: fruit, name: apple, kind: sweet}
  - {list_name: fruit, name: lemon, kind: sour}
`

func TestState(t *testing.T) {
	f, err := Decode([]byte(stateForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		answers  map[string]any
		relevant map[string]bool
		required map[string]bool
		choices  map[string][]string
		counts   map[string]int
		calc     any
	}{
		{
			name:     "hidden groups hide what they hold",
			answers:  map[string]any{"q1": "no"},
			relevant: map[string]bool{"q1": true, "outer": false, "r": true, "c": true},
			required: map[string]bool{},
			choices:  map[string][]string{},
			counts:   map[string]int{"r": 0},
		},
		{
			name: "shown groups, repeat instances, filters by position, nested repeats",
			answers: map[string]any{"q1": "yes", "k": 2.0, "r": []any{
				map[string]any{"pick": "apple"},
				map[string]any{"pick": "lemon", "rr": []any{map[string]any{"deep": "x"}}},
			}},
			relevant: map[string]bool{"q1": true, "outer": true, "inner": true, "n1": true, "k": true, "r": true, "c": true,
				"r[0].pick": true, "r[0].rr": true, "r[1].pick": true, "r[1].rr": true, "r[1].rr[0].deep": true},
			required: map[string]bool{"k": true},
			choices:  map[string][]string{"r[0].pick": {"apple", "other"}, "r[1].pick": {"apple", "lemon", "other"}},
			counts:   map[string]int{"r": 2},
			calc:     int64(4),
		},
		{
			name:     "a relevant inside a nested repeat sees its own instance",
			answers:  map[string]any{"q1": "yes", "k": 1.0, "r": []any{map[string]any{"pick": "apple", "rr": []any{map[string]any{}}}}},
			relevant: map[string]bool{"q1": true, "outer": true, "inner": true, "n1": true, "k": true, "r": true, "c": true, "r[0].pick": true, "r[0].rr": true, "r[0].rr[0].deep": false},
			required: map[string]bool{"k": true},
			choices:  map[string][]string{"r[0].pick": {"apple", "other"}},
			counts:   map[string]int{"r": 1},
			calc:     int64(2),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := f.State(tc.answers, ValidateOptions{Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
			if !reflect.DeepEqual(s.Relevant, tc.relevant) {
				t.Errorf("relevant\n got %v\nwant %v", s.Relevant, tc.relevant)
			}
			if !reflect.DeepEqual(s.Required, tc.required) {
				t.Errorf("required: got %v, want %v", s.Required, tc.required)
			}
			if !reflect.DeepEqual(s.Choices, tc.choices) {
				t.Errorf("choices: got %v, want %v", s.Choices, tc.choices)
			}
			if !reflect.DeepEqual(s.RepeatCounts, tc.counts) {
				t.Errorf("repeat counts: got %v, want %v", s.RepeatCounts, tc.counts)
			}
			if got := s.Answers["c"]; got != tc.calc {
				t.Errorf("calculation c = %#v, want %#v", got, tc.calc)
			}
			_, problems := f.Validate(tc.answers, ValidateOptions{Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
			if !reflect.DeepEqual(s.Problems, problems) {
				t.Errorf("problems differ from Validate: %v vs %v", s.Problems, problems)
			}
		})
	}
}

func TestOutline(t *testing.T) {
	f, err := Decode([]byte(stateForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := f.Outline()
	var kinds []string
	var walk func([]OutlineItem, string)
	walk = func(items []OutlineItem, indent string) {
		for _, it := range items {
			kinds = append(kinds, indent+it.Kind+":"+it.Name+":"+it.Type)
			walk(it.Children, indent+" ")
		}
	}
	walk(out, "")
	want := []string{"field:q1:select_one", "group:outer:group", " group:inner:group", "  note:n1:note", "  field:k:integer",
		"repeat:r:repeat", " field:pick:select_one", " repeat:rr:repeat", "  field:deep:text", "field:c:calculate"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("outline\n got %q\nwant %q", kinds, want)
	}
	if !out[2].HasRepeatCount || out[2].Children[0].ListName != "fruit" || !out[2].Children[0].OrOther || len(out[2].Children[0].Choices) != 2 {
		t.Errorf("repeat r: %+v", out[2])
	}
	if out[0].Label["es"] != "P1" || out[0].Choices[0].Label["en"] != "Yes" {
		t.Errorf("labels: %+v", out[0])
	}
	if (&Form{}).Outline() != nil {
		t.Error("an uncompiled form has an outline")
	}
}
