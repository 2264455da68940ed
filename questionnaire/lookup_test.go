package questionnaire

import (
	"testing"
)

const lookupForm = `
settings: {form_id: t1, version: "1"}
survey:
  - {type: select_one district, name: d, label: District}
  - {type: calculate, name: pop, calculation: "instance('district')/root/item[name=${d}]/population"}
  - {type: calculate, name: n, calculation: "count(instance('district')/root/item[population > 1000])"}
  - {type: calculate, name: ext, calculation: "instance('features')/root/item[id=${d}]/id"}
  - {type: begin_repeat, name: r, label: R}
  - {type: integer, name: a, label: A}
  - {type: integer, name: b, label: B, constraint: ". <= ../a"}
  - {type: end_repeat}
choices:
  - {list_name: district, name: x, label: X, population: "500"}
  - {list_name: district, name: y, label: Y, population: "2000"}
`

// TestLookupsAndRelativePaths: instance('list')/root/item[filter]/field
// reads the choices sheet's columns, a relative path (../a) names a
// question of the same repeat entry, and a calculation reading an
// attachment the server does not hold keeps the device's value.
func TestLookupsAndRelativePaths(t *testing.T) {
	f, err := Decode([]byte(lookupForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, problems := f.Validate(map[string]any{
		"d":   "y",
		"ext": "F-17",
		"r":   []any{map[string]any{"a": 3.0, "b": 2.0}, map[string]any{"a": 1.0, "b": 5.0}},
	}, ValidateOptions{})
	if out["pop"] != "2000" {
		t.Errorf("pop = %#v, want 2000 (the population column of district y)", out["pop"])
	}
	if out["n"] != int64(1) {
		t.Errorf("n = %#v, want 1 (one district over 1000)", out["n"])
	}
	if out["ext"] != "F-17" {
		t.Errorf("ext = %#v, want the device's value F-17 (features is an attachment)", out["ext"])
	}
	if len(problems) != 1 || problems[0].Path != "r[1].b" || problems[0].Code != CodeConstraint {
		t.Errorf("problems %+v, want one constraint problem at r[1].b (5 > ../a = 1)", problems)
	}
	for _, src := range []string{"instance('x')/root/item[name = 'a'", "instance('x')/root/item[]"} {
		if _, err := ParseExpr(src); err == nil {
			t.Errorf("%s: parsed, want an error", src)
		}
	}
}
