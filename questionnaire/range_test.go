package questionnaire

import (
	"strings"
	"testing"
)

// TestRange: a range of whole numbers takes whole numbers, a range with a
// decimal step decimals; an answer outside start..end or off the steps is
// refused; bad parameters are refused as pyxform refuses them.
func TestRange(t *testing.T) {
	f, err := Decode([]byte(`
survey:
  - {type: range, name: score, label: Score, parameters: "start=0 end=10 step=2"}
  - {type: range, name: weight, label: Weight, parameters: "start=1.5 end=3 step=0.5"}
  - {type: range, name: down, label: Down, parameters: "start=10 end=0 step=5"}
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, fd := range f.Fields() {
		types[fd.Name] = fd.Type
	}
	if types["score"] != "integer" || types["weight"] != "decimal" {
		t.Errorf("types %v, want score integer, weight decimal", types)
	}
	for _, tc := range []struct {
		answers map[string]any
		want    string // path:code of the one problem, "" for none
	}{
		{map[string]any{"score": 4.0, "weight": 2.5, "down": 5.0}, ""},
		{map[string]any{"score": 10.0, "weight": "1.5", "down": 0.0}, ""},
		{map[string]any{"score": 3.0}, "score:constraint"},
		{map[string]any{"score": 12.0}, "score:constraint"},
		{map[string]any{"score": 4.5}, "score:type"},
		{map[string]any{"weight": 2.2}, "weight:constraint"},
		{map[string]any{"weight": 1.0}, "weight:constraint"},
		{map[string]any{"down": 7.0}, "down:constraint"},
	} {
		_, problems := f.Validate(tc.answers, ValidateOptions{})
		var got []string
		for _, p := range problems {
			got = append(got, p.Path+":"+p.Code)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%v: problems %v, want %q", tc.answers, problems, tc.want)
		}
	}
	for params, want := range map[string]string{
		"start=a end=10":                        "the parameter start=a must be a number",
		"start=0 end=10 step=0":                 "step must not be 0",
		"start=0 end=4 step=5":                  "step 5 is wider than the range from 0 to 4",
		"start=0 end=10 step=2 tick_interval=3": "tick_interval 3 is not a multiple of step 2",
		"start=0 end=10 step=2 placeholder=3":   "placeholder 3 is not start plus a multiple of step 2",
		"start=0 end=10 step=2 placeholder=12":  "placeholder 12 is not between start 0 and end 10",
	} {
		_, err := Decode([]byte(`survey: [{type: range, name: r, label: Rate, parameters: "`+params+`"}]`), "yaml")
		if err == nil || !strings.Contains(err.Error(), `row 1, column parameters: range "r" ("Rate"): `+want) {
			t.Errorf("%s: %v, want %q", params, err, want)
		}
	}
}
