package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/questionnaire"
	"github.com/xuri/excelize/v2"
)

func runForTest(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"dotm", "forms"}, args...), func(string) string { return "" }, &out, &errb)
	code := 0
	if err != nil {
		var ex exitError
		if !errors.As(err, &ex) {
			t.Fatalf("dotm forms %v: %v", args, err)
		}
		code = ex.code
	}
	return out.String(), code
}

func TestFormsCommands(t *testing.T) {
	form := filepath.Join("..", "..", "questionnaire", "forms", "dotm_household.yaml")
	valid := filepath.Join("..", "..", "questionnaire", "testdata", "household_valid.json")
	dir := t.TempDir()
	bad := questionnaire.HouseholdExample()
	bad.Answers["members"].([]any)[1].(map[string]any)["age"] = 130
	badJSON, _ := json.Marshal(bad)
	badPath := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badPath, badJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	brokenForm := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(brokenForm, []byte("survey:\n  - {type: integer, name: a, constraint: '. >'}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runForTest(t, "validate", form)
	if code != 0 || !strings.Contains(out, "dotm_household") || !strings.Contains(out, "English (en), Español (es)") || !strings.Contains(out, "direct") {
		t.Errorf("validate: %d\n%s", code, out)
	}
	out, code = runForTest(t, "validate", brokenForm)
	if code != 1 || !strings.Contains(out, "sheet survey, row 1, column constraint: position 3") {
		t.Errorf("validate broken: %d\n%s", code, out)
	}
	// pyxform's warnings are printed; the form is still valid
	warnForm := filepath.Join(dir, "warn.yaml")
	if err := os.WriteFile(warnForm, []byte("survey:\n  - {type: begin_repeat, name: r}\n  - {type: text, name: a, label: A}\n  - {type: end_repeat}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = runForTest(t, "validate", warnForm)
	if code != 0 || !strings.Contains(out, `1 warning(s)`) || !strings.Contains(out, `warning: sheet survey, row 1, column label: repeat "r" has no label`) {
		t.Errorf("validate with a warning: %d\n%s", code, out)
	}
	for _, c := range []struct {
		sub   string
		lang  string
		code  int
		valid bool
		msg   string
	}{
		{valid, "", 0, true, ""},
		{badPath, "", 1, false, "Age must be between 0 and 110 years."},
		{badPath, "es", 1, false, "La edad debe estar entre 0 y 110 años."},
	} {
		out, code := runForTest(t, "check", form, "--submission", c.sub, "--format", "json", "--lang", c.lang)
		var res struct {
			Valid    bool                    `json:"valid"`
			Problems []questionnaire.Problem `json:"problems"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("check output is not JSON: %v\n%s", err, out)
		}
		if code != c.code || res.Valid != c.valid || res.Problems == nil || (c.msg != "" && (len(res.Problems) != 1 || res.Problems[0].Message != c.msg || res.Problems[0].Path != "members[1].age")) {
			t.Errorf("check %s %s: exit %d %+v", c.sub, c.lang, code, res)
		}
	}
	if _, code := runForTest(t, "check", form); code != 2 {
		t.Errorf("check without --submission: exit %d", code)
	}
	xlsx := filepath.Join(dir, "h.xlsx")
	if _, code := runForTest(t, "convert", form, "--to", "xlsx", "--out", xlsx); code != 0 {
		t.Fatalf("convert to xlsx: exit %d", code)
	}
	y1, _ := runForTest(t, "convert", form, "--to", "yaml")
	y2, code := runForTest(t, "convert", xlsx, "--to", "yaml")
	if code != 0 || y1 != y2 || !strings.Contains(y1, "form_id: dotm_household") {
		t.Errorf("YAML -> XLSX -> YAML differs (exit %d)", code)
	}
	if _, code := runForTest(t, "convert", form, "--to", "csv"); code != 2 {
		t.Errorf("convert --to csv: exit %d", code)
	}
}

// TestFormsConvertKeepsTheWorkbook: converting an XLSForm to xlsx keeps
// the sheets dotm does not model and the spelling of the columns it keeps
// without modelling them, and writes each sheet's used range as its
// dimension (readers such as openpyxl in read-only mode trust it).
func TestFormsConvertKeepsTheWorkbook(t *testing.T) {
	in := filepath.Join("..", "..", "questionnaire", "testdata", "pyxform", "xlsform_spec_test.xlsx")
	out := filepath.Join(t.TempDir(), "out.xlsx")
	if msg, code := runForTest(t, "convert", in, "--to", "xlsx", "--out", out); code != 0 {
		t.Fatalf("convert: exit %d %s", code, msg)
	}
	wb, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if got := strings.Join(wb.GetSheetList(), " "); got != "survey choices settings columns" {
		t.Errorf("sheets %s", got)
	}
	for sheet, want := range map[string]string{"survey": "A1:X57", "choices": "A1:E5", "settings": "A1:I2", "columns": "A1:C3"} {
		if got, err := wb.GetSheetDimension(sheet); err != nil || got != want {
			t.Errorf("sheet %s: dimension %q (%v), want %s", sheet, got, err, want)
		}
	}
	header, err := wb.GetRows("survey")
	if err != nil || len(header) != 57 {
		t.Fatalf("survey: %d rows, %v", len(header), err)
	}
	if h := strings.Join(header[0], ","); !strings.Contains(h, ",buttonText,") || !strings.Contains(h, ",noAppErrorString") {
		t.Errorf("survey header %s", h)
	}
	if v, _ := wb.GetCellValue("columns", "C3"); v == "" {
		t.Errorf("columns sheet lost its cells")
	}
}

// TestFormsCheckTakesTheAPIEnvelope: forms check reads the same envelope
// the API takes, assignment_id and supersedes included, and still refuses
// a field the API does not know.
func TestFormsCheckTakesTheAPIEnvelope(t *testing.T) {
	ok := `{"instance_id": "i1", "form_id": "f", "form_version": "1", "started_at": "2026-01-01T10:00:00Z",
	  "ended_at": "2026-01-01T11:00:00Z", "assignment_id": "s:p:h", "supersedes": "i0", "answers": {"a": 1}}`
	answers, _, err := formsReadSubmission([]byte(ok))
	if err != nil || answers["a"] != 1.0 {
		t.Fatalf("API envelope: %v %v", answers, err)
	}
	if _, _, err := formsReadSubmission([]byte(`{"answers": {}, "assignmnet_id": "x"}`)); err == nil || !strings.Contains(err.Error(), "assignmnet_id") {
		t.Fatalf("unknown field accepted: %v", err)
	}
}

// TestFormsValidateMedia: --media files are checked as the server checks
// them at upload; a needed file not given is a warning.
func TestFormsValidateMedia(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	form := write("towns.yaml", `settings: {form_id: towns, version: "1"}
survey:
  - {type: select_one_from_file towns.csv, name: town, label: Town}
  - {type: calculate, name: pop, calculation: "pulldata('towns', 'population', 'name', ${town})"}
  - {type: csv-external, name: prices}
`)
	good := write("towns.csv", "name,label,population\nkal,Kalamu,120\n")
	out, code := runForTest(t, "validate", form, "--media", good)
	if code != 0 || !strings.Contains(out, "towns.csv (columns name, label, population)") || !strings.Contains(out, "warning: media file prices.csv is not given") {
		t.Errorf("validate with media: %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "towns.csv")
	os.WriteFile(bad, []byte("name,label\nkal,Kalamu\n"), 0o644)
	out, code = runForTest(t, "validate", form, "--media", bad)
	if code != 1 || !strings.Contains(out, `error: media file towns.csv: column "population": missing`) {
		t.Errorf("validate with a bad file: %d\n%s", code, out)
	}
}
