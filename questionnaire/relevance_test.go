package questionnaire

import (
	"reflect"
	"testing"
)

// TestGroupRelevanceChanges checks that a group's relevant is evaluated
// again for the items after an answer it depends on changed in the same
// pass: an answer inside the group dropped as not relevant, and a
// calculation inside the group recomputed.
func TestGroupRelevanceChanges(t *testing.T) {
	form, err := Decode([]byte(`
settings: {form_id: t, version: "1"}
survey:
  - {type: text, name: a}
  - {type: text, name: f, relevant: "${a} = 'show'"}
  - {type: begin group, name: g, relevant: "${b} = ''"}
  - {type: text, name: c}
  - {type: text, name: b, relevant: "${a} = 'show'"}
  - {type: text, name: d}
  - {type: end group}
  - {type: begin group, name: h, relevant: "${k} != ''"}
  - {type: text, name: e}
  - {type: calculate, name: k, calculation: "${f}"}
  - {type: text, name: g2}
  - {type: end group}
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, probs := form.Validate(map[string]any{"a": "hide", "f": "z", "b": "y", "c": "1", "d": "2", "e": "3", "g2": "4"}, ValidateOptions{})
	want := map[string]any{"a": "hide", "d": "2"} // e is dropped by the last pass, once k is empty
	if !reflect.DeepEqual(out, want) {
		t.Errorf("answers %v, want %v", out, want)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.Path+" "+p.Code)
	}
	wantProbs := []string{"f not_relevant", "b not_relevant", "c not_relevant", "g2 not_relevant"} // roots, then what follows from them
	if !reflect.DeepEqual(got, wantProbs) {
		t.Errorf("problems %v, want %v", got, wantProbs)
	}
}

// TestCalculationRelevantAgain checks that a calculation dropped as not
// relevant in one pass is computed again in a later pass where it is
// relevant, though nothing it reads has changed.
func TestCalculationRelevantAgain(t *testing.T) {
	form, err := Decode([]byte(`
settings: {form_id: t, version: "1"}
survey:
  - {type: text, name: a}
  - {type: begin group, name: g, relevant: "${b} = ''"}
  - {type: calculate, name: x, calculation: "'v'"}
  - {type: end group}
  - {type: text, name: b, relevant: "${a} = 'show'"}
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, probs := form.Validate(map[string]any{"a": "hide", "b": "y"}, ValidateOptions{})
	want := map[string]any{"a": "hide", "x": "v"}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("answers %v, want %v", out, want)
	}
	if len(probs) != 1 || probs[0].Path != "b" || probs[0].Code != CodeNotRelevant {
		t.Errorf("problems %v, want b not_relevant", probs)
	}
}
