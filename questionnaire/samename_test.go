package questionnaire

import (
	"reflect"
	"strings"
	"testing"
)

// sameNameForm has "age" in two groups of the top level and in a repeat,
// and "info" (a note) in both groups.
const sameNameForm = `
settings: {form_id: same, version: "1"}
survey:
  - {type: begin_group, name: head, label: Head}
  - {type: integer, name: age, label: Age of the head, constraint: ". >= 15"}
  - {type: note, name: info, label: About the head}
  - {type: end_group}
  - {type: begin_group, name: spouse, label: Spouse}
  - {type: integer, name: age, label: Age of the spouse, required: "yes"}
  - {type: note, name: info, label: About the spouse}
  - {type: end_group}
  - {type: integer, name: members, label: Members}
  - {type: begin_repeat, name: member, label: Member, repeat_count: "${members}"}
  - {type: integer, name: age, label: Age}
  - {type: end_repeat}
`

// TestSameNameInGroups: a name used in two groups keys its answers by its
// path of groups ("head/age"), a name used once at its level keeps its
// name (the repeat's "age"), and the XForm instance reads to and from
// those keys.
func TestSameNameInGroups(t *testing.T) {
	f, err := Decode([]byte(sameNameForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fd := range f.Fields() {
		names = append(names, fd.Name)
	}
	if want := []string{"head/age", "spouse/age", "members", "age"}; !reflect.DeepEqual(names, want) {
		t.Errorf("fields %q, want %q", names, want)
	}
	answers := map[string]any{
		"head/age": 40.0, "spouse/age": "38", "members": 1.0,
		"member": []any{map[string]any{"age": 12.0}},
	}
	out, problems := f.Validate(answers, ValidateOptions{})
	if len(problems) > 0 {
		t.Fatalf("problems: %+v", problems)
	}
	if out["head/age"] != int64(40) || out["spouse/age"] != int64(38) {
		t.Errorf("answers %v", out)
	}
	// each copy has its own constraint and requirement
	_, problems = f.Validate(map[string]any{"head/age": 9.0, "members": 0.0, "age": 3.0}, ValidateOptions{})
	got := map[string]string{}
	for _, p := range problems {
		got[p.Path] = p.Code
	}
	if want := map[string]string{"head/age": CodeConstraint, "spouse/age": CodeRequired, "age": CodeUnknownField}; !reflect.DeepEqual(got, want) {
		t.Errorf("problems %v, want %v", got, want)
	}
	doc, err := f.EncodeInstance(answers, "a1", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<head><age>40</age><info></info></head>", "<spouse><age>38</age><info></info></spouse>", "<member><age>12</age></member>"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("instance lacks %s:\n%s", want, doc)
		}
	}
	in, err := f.ReadInstance(doc)
	if err != nil {
		t.Fatal(err)
	}
	back, problems := f.Validate(in.Answers, ValidateOptions{})
	if len(problems) > 0 || !reflect.DeepEqual(back, out) {
		t.Errorf("instance read back as %v (%v), want %v", back, problems, out)
	}
}

// TestSameNameRefused: the same name twice in one group, a reference to a
// name used twice (in an expression or a label) and a repeat sharing its
// name are refused, naming the rows.
func TestSameNameRefused(t *testing.T) {
	for _, tc := range []struct{ name, form, want string }{
		{"siblings", `survey: [{type: begin_group, name: g, label: G}, {type: integer, name: a, label: First}, {type: integer, name: a, label: Second}, {type: end_group}]`,
			`row 3, column name: name "a" ("Second") is used twice in group "g" (row 1), also on row 2`},
		{"reference", `survey: [{type: begin_group, name: g}, {type: integer, name: a}, {type: end_group}, {type: integer, name: a}, {type: text, name: b, relevant: "${a} > 1"}]`,
			`row 5, column relevant: position 0: ${a} is ambiguous: 2 questions have that name (row 2 in group g, row 4)`},
		{"label", `survey: [{type: begin_group, name: g}, {type: integer, name: a}, {type: end_group}, {type: integer, name: a}, {type: note, name: b, label: "Age ${a}"}]`,
			`row 5, column label: ${a} is ambiguous`},
		{"repeat", `survey: [{type: integer, name: r}, {type: begin_group, name: g}, {type: begin_repeat, name: r}, {type: integer, name: x}, {type: end_repeat}, {type: end_group}]`,
			`row 3, column name: name "r" is also the name of row 1: a repeat's name must be unique in the whole form`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.form), "yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestSameNameDescribed: an answer keyed by its group path ("head/age") is
// described by its question's label, not its raw key, at the top level and
// inside a repeat entry.
func TestSameNameDescribed(t *testing.T) {
	f, err := Decode([]byte(sameNameForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"head/age":      "Age of the head",
		"spouse/age":    "Age of the spouse",
		"member[0].age": "Member 1 › Age",
		"nobody/age":    "nobody/age",
	} {
		if got := f.Describe(path, nil, "", false); got != want {
			t.Errorf("Describe(%q) = %q, want %q", path, got, want)
		}
	}
}
