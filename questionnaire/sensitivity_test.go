package questionnaire

import (
	"strings"
	"testing"
)

// TestCalculationsCarrySensitivity: a calculation or a dynamic default
// that reads a direct identifier is refused unless its field is direct
// itself (whatever function wraps the reference: once(), concat(), …; the
// same holds for pulldata() once the form engine has it); one that reads a
// quasi-identifier becomes quasi.
func TestCalculationsCarrySensitivity(t *testing.T) {
	form := func(calcSens, expr string, extra string) string {
		return `form_id: f
version: "1"
title: t
survey:
  - {type: text, name: respondent_name, label: Name, sensitivity: direct}
  - {type: integer, name: age, label: Age, sensitivity: quasi}
  - {type: calculate, name: name_copy, calculation: "` + expr + `", sensitivity: ` + calcSens + `}
` + extra
	}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"copy", form("", "${respondent_name}", ""), "copies the direct identifier ${respondent_name}"},
		{"once", form("", "once(concat('x', ${respondent_name}))", ""), "copies the direct identifier"},
		{"chain", form("direct", "${respondent_name}", "  - {type: calculate, name: copy2, calculation: \"${name_copy}\"}\n"), "copies the direct identifier ${name_copy}"},
		{"default", form("", "1", "  - {type: text, name: nick, label: Nick, default: \"${respondent_name}\"}\n"), "default copies the direct identifier"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.src), "yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// Marked direct: accepted, and the field is direct (encrypted).
	f, err := Decode([]byte(form("direct", "${respondent_name}", "")), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	// A copy of a quasi-identifier becomes quasi (a value computed from one
	// does not: the household form's cons_pc stays unclassed, TestFields).
	g, err := Decode([]byte(form("", "once(${age})", "")), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    *Form
		want string
	}{{f, "direct"}, {g, "quasi"}} {
		for _, fld := range c.f.Fields() {
			if fld.Name == "name_copy" && fld.Sensitivity != c.want {
				t.Errorf("name_copy: sensitivity %q, want %q", fld.Sensitivity, c.want)
			}
		}
	}
}
