//go:build !js

package questionnaire

import (
	"strings"
	"testing"
)

// TestWarnings: what pyxform warns about is reported, naming sheet, row
// and column, and the form still loads.
func TestWarnings(t *testing.T) {
	f, err := Decode([]byte(`
survey:
  - {type: integer, name: n, "label::English (en)": Members, "label::Igbo": Ndị otu, "hint::English (en)": Count everyone}
  - {type: begin_repeat, name: member}
  - {type: text, name: who, "label::English (en)": Who, "label::Igbo": Onye}
  - {type: end_repeat}
  - {type: select_one yn, name: ok, "label::English (en)": OK, "label::Igbo": Ọ dị mma}
  - {type: text, name: code, "label::Klingon (xx-nothing-1234567)": Code}
choices:
  - {list_name: yn, name: "yes", "label::English (en)": "Yes", "label::Igbo": Ee}
  - {list_name: yn, name: "no"}
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range f.Warnings() {
		got = append(got, w.Error())
	}
	for _, want := range []string{
		`sheet survey, column label::Igbo: language "Igbo" has no machine-readable code`,
		`sheet survey, column label::Klingon (xx-nothing-1234567): language Klingon: "xx-nothing-1234567" is not a known IANA language code`,
		`sheet survey, column hint::Igbo: language "Igbo" has no hint column`,
		`sheet survey, row 2, column label: repeat "member" has no label`,
		`sheet choices, row 2, column label: choice "no" of list "yn" has no label`,
	} {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, want)
		}
		if !found {
			t.Errorf("no warning %q in\n  %s", want, strings.Join(got, "\n  "))
		}
	}
	if strings.Contains(strings.Join(got, "\n"), `"English"`) {
		t.Errorf("English (en) warned about:\n  %s", strings.Join(got, "\n  "))
	}
	h := Household()
	if ws := h.Warnings(); len(ws) > 0 {
		t.Errorf("the household form: %v", ws)
	}
}
