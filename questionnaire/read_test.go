package questionnaire

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// mustLoad lists the pyxform forms issue 3 requires to load.
var mustLoad = map[string]bool{
	"case_insensitivity": true, "choice_filter_test": true, "extra_sheet_names": true, "field-list": true,
	"flat_xlsform_test": true, "group": true, "or_other": true, "specify_other": true, "survey_no_name": true,
	"text_and_integer": true, "yes_or_no_question": true, "xlsform_spec_test": true,
}

// refusedHere lists the corpus forms this package refuses, with a piece of
// the expected reason (each must also name sheet and row).
var refusedHere = map[string]string{
	"xl_date_ambiguous": `row 5, column choice_filter: position 0: "label::English" is a column header, not a name`,
	"bad_calc":          "sheet survey, row 2, column calculation: position 21: unterminated string",
	"duplicate_columns": "row 1, column label: duplicate column",
	"include":           `row 3, column type: unknown question type "include"`,
	"include_json":      `row 2, column type: unknown question type "include"`,
	"loop":              "row 3, column type: loops (begin loop) are not supported",
}

func TestPyxformCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/pyxform/*.xlsx")
	if err != nil || len(files) < 20 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	loaded := map[string]bool{}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".xlsx")
		t.Run(name, func(t *testing.T) {
			f, err := Load(path)
			if err == nil {
				loaded[name] = true
				if want, ok := refusedHere[name]; ok {
					t.Fatalf("loaded, want refused with %q", want)
				}
				if len(f.Fields()) == 0 {
					t.Errorf("loaded with no fields")
				}
				// what loads must survive a round trip
				for _, format := range []string{"yaml", "json", "xlsx"} {
					data, err := f.Encode(format)
					if err != nil {
						t.Fatalf("encode %s: %v", format, err)
					}
					g, err := Decode(data, format)
					if err != nil {
						t.Fatalf("decode %s: %v", format, err)
					}
					if !sameForm(f, g) {
						t.Errorf("%s round trip changed the form", format)
					}
				}
				return
			}
			if mustLoad[name] {
				t.Fatalf("must load: %v", err)
			}
			var fe FormErrors
			if !errors.As(err, &fe) {
				t.Fatalf("refused without sheet/row: %v", err)
			}
			for _, e := range fe {
				if e.Sheet == "" || e.Row == 0 || e.Err == nil {
					t.Errorf("error without sheet or row: %v", e)
				}
			}
			want, ok := refusedHere[name]
			if !ok {
				t.Fatalf("refused unexpectedly: %v", err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q\ndoes not contain %q", err, want)
			}
		})
	}
	for name := range mustLoad {
		if !loaded[name] {
			t.Errorf("must-load form %s did not load (or is missing from testdata)", name)
		}
	}
}

// sameForm compares two forms' content, ignoring row numbers.
func sameForm(a, b *Form) bool {
	strip := func(f *Form) *Form {
		g := *f
		g.c = nil
		g.emptyColumns = nil // diagnostics of the workbook read (see Warnings)
		g.Survey = append([]Question(nil), f.Survey...)
		for i := range g.Survey {
			g.Survey[i].Row = 0
		}
		g.Choices = append([]ChoiceRow(nil), f.Choices...)
		for i := range g.Choices {
			g.Choices[i].Row = 0
		}
		if len(g.LanguageNames) == 0 {
			g.LanguageNames = nil
		}
		if len(g.Settings) == 0 {
			g.Settings = nil
		}
		return &g
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

func TestPyxformDetails(t *testing.T) {
	cases := []struct {
		file  string
		check func(t *testing.T, f *Form)
	}{
		{"case_insensitivity", func(t *testing.T, f *Form) {
			if f.ID != "YesNo" || f.Title != "Yes or no" || f.DefaultLanguage != "EN" {
				t.Errorf("settings: %q %q %q", f.ID, f.Title, f.DefaultLanguage)
			}
			if got := f.Fields()[0].Labels["EN"]; got != "Are you good?" {
				t.Errorf("label: %q", got)
			}
		}},
		{"choice_filter_test", func(t *testing.T, f *Form) {
			_, probs := f.Validate(map[string]any{"state": "texas", "county": "king", "city": "dumont"}, ValidateOptions{})
			if len(probs) != 0 {
				t.Errorf("texas/king/dumont: %v", probs)
			}
			_, probs = f.Validate(map[string]any{"state": "texas", "county": "pierce"}, ValidateOptions{})
			if len(probs) != 1 || probs[0].Code != CodeChoice || probs[0].Path != "county" {
				t.Errorf("pierce is not in texas: %v", probs)
			}
		}},
		{"or_other", func(t *testing.T, f *Form) {
			_, probs := f.Validate(map[string]any{"fav_color": "other", "fav_pastel": "mauve"}, ValidateOptions{})
			// pastel=yes compares with a choice column named "yes", which does not exist (as in ODK)
			if len(probs) != 1 || probs[0].Path != "fav_pastel" || probs[0].Code != CodeChoice {
				t.Errorf("got %v", probs)
			}
		}},
		{"specify_other", func(t *testing.T, f *Form) {
			fd := f.Fields()[0]
			if fd.Type != "select_one" || fd.ListName != "sexes" || len(fd.Choices) != 2 || fd.Labels["English"] != "What sex are you?" {
				t.Errorf("field %+v", fd)
			}
		}},
		{"survey_no_name", func(t *testing.T, f *Form) {
			if fs := f.Fields(); len(fs) != 1 || fs[0].Name != "state" {
				t.Errorf("fields %+v", fs)
			}
		}},
		{"xlsform_spec_test", func(t *testing.T, f *Form) {
			var types []string
			for _, fd := range f.Fields() {
				types = append(types, fd.Type)
			}
			got := strings.Join(types, " ")
			for _, want := range []string{"acknowledge", "geopoint", "barcode", "image", "calculate", "start", "deviceid"} {
				if !strings.Contains(got, want) {
					t.Errorf("types %s lack %s", got, want)
				}
			}
			if f.Survey[15].RequiredMessage[""] != "Custom required message." {
				t.Errorf("requiredMsg alias: %+v", f.Survey[15])
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			f, err := Load(filepath.Join("testdata/pyxform", c.file+".xlsx"))
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, f)
		})
	}
}

func TestHouseholdRoundTrip(t *testing.T) {
	f := Household()
	y1, err := f.Encode("yaml")
	if err != nil {
		t.Fatal(err)
	}
	x, err := f.Encode("xlsx")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Decode(x, "xlsx")
	if err != nil {
		t.Fatal(err)
	}
	if !sameForm(f, g) {
		t.Fatalf("YAML -> XLSX -> form changed")
	}
	y2, err := g.Encode("yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(y1) != string(y2) {
		t.Errorf("YAML -> XLSX -> YAML differs")
	}
	j, err := f.Encode("json")
	if err != nil {
		t.Fatal(err)
	}
	h, err := Decode(j, "json")
	if err != nil {
		t.Fatal(err)
	}
	if !sameForm(f, h) {
		t.Errorf("JSON round trip changed the form")
	}
	if !strings.Contains(string(x), "") || !strings.Contains(string(y1), "label:") {
		t.Errorf("unexpected encoding")
	}
}

func TestXLSXHeaders(t *testing.T) {
	x, err := Household().Encode("xlsx")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "h.xlsx"), x, 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := Decode(x, "xlsx")
	if err != nil {
		t.Fatal(err)
	}
	if g.LanguageNames["es"] != "Español" || g.DefaultLanguage != "en" {
		t.Errorf("languages %v default %q", g.LanguageNames, g.DefaultLanguage)
	}
}

func TestFormErrors(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"parse error", `survey: [{type: integer, name: a}, {type: integer, name: b, constraint: ". > "}]`,
			"sheet survey, row 2, column constraint: position 3: unexpected end of expression"},
		{"unknown ref", `survey: [{type: integer, name: a, relevant: "${zz} = 1"}]`,
			"sheet survey, row 1, column relevant: position 0: unknown question ${zz}"},
		{"duplicate name", `survey: [{type: text, name: a}, {type: text, name: a}]`,
			`sheet survey, row 2, column name: name "a" is used twice at the top of the survey, also on row 1`},
		{"missing list", `survey: [{type: select_one nope, name: a}]`,
			`sheet survey, row 1, column type: choice list "nope" is not in the choices sheet`},
		{"unclosed group", `survey: [{type: begin group, name: g}, {type: text, name: a}]`,
			`sheet survey, row 1, column type: begin group "g" has no matching end group`},
		{"bad end", `survey: [{type: text, name: a}, {type: end repeat}]`,
			`sheet survey, row 2, column type: end repeat without a matching begin repeat`},
		{"bad sensitivity", `survey: [{type: text, name: a, sensitivity: secret}]`,
			`sheet survey, row 1, column sensitivity: sensitivity "secret" is not one of direct, quasi, sensitive or empty`},
		{"unknown type", `survey: [{type: selfie, name: a}]`,
			`sheet survey, row 1, column type: unknown question type "selfie"`},
		{"bad name", `survey: [{type: text, name: "1a"}]`,
			`sheet survey, row 1, column name: "1a" is not a valid name`},
		{"duplicate choice", "survey: [{type: select_one l, name: a}]\nchoices: [{list_name: l, name: x}, {list_name: l, name: x}]",
			`sheet choices, row 2, column name: choice "x" appears twice in list "l"`},
		{"no survey", `settings: {form_id: x}`, "no survey sheet"},
		{"bad arity", `survey: [{type: calculate, name: c, calculation: "if(1, 2)"}]`,
			"sheet survey, row 1, column calculation: position 0: if() takes 3 arguments, got 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.yaml), "yaml")
			if err == nil {
				t.Fatalf("decoded, want error %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\ndoes not contain %q", err, c.want)
			}
		})
	}
}

func TestCaseInsensitiveYAML(t *testing.T) {
	f, err := Decode([]byte(`
SETTINGS: {FORM_ID: x, Default_Language: "Français (fr)"}
Survey:
  - {TYPE: Integer, NAME: a, "LABEL::Français (fr)": "A ?", Bind::Relevant: "1 = 1", Rows: "3"}
Choices: []
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != "x" || f.DefaultLanguage != "fr" || f.LanguageNames["fr"] != "Français" {
		t.Errorf("settings %+v", f)
	}
	q := f.Survey[0]
	if q.Label["fr"] != "A ?" || q.Relevant != "1 = 1" || q.Extra["rows"] != "3" {
		t.Errorf("question %+v", q)
	}
}
