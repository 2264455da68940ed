//go:build !js

package questionnaire

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// sheetXML reads every worksheet of an xlsx package straight from the zip
// (not through excelize): sheet name -> its dimension ref and the used
// range of the cells it holds, both as A1:B2.
type sheetXML struct {
	dimension string
	used      string // "" when the sheet holds no cell
}

func readSheetXML(t *testing.T, data []byte) map[string]sheetXML {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("unzip: %v", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	unmarshal := func(name string, v any) {
		t.Helper()
		f, ok := files[name]
		if !ok {
			t.Fatalf("%s is not in the package", name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var wbk struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	unmarshal("xl/workbook.xml", &wbk)
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	unmarshal("xl/_rels/workbook.xml.rels", &rels)
	target := map[string]string{}
	for _, r := range rels.Rel {
		target[r.ID] = path.Join("xl", strings.TrimPrefix(r.Target, "/xl/"))
	}
	out := map[string]sheetXML{}
	for _, s := range wbk.Sheets {
		var ws struct {
			Dimension struct {
				Ref string `xml:"ref,attr"`
			} `xml:"dimension"`
			Cells []struct {
				R string `xml:"r,attr"`
			} `xml:"sheetData>row>c"`
		}
		unmarshal(target[s.RID], &ws)
		var maxCol, maxRow int
		for _, c := range ws.Cells {
			col, row, err := excelize.CellNameToCoordinates(c.R)
			if err != nil {
				t.Fatalf("sheet %s: cell %q: %v", s.Name, c.R, err)
			}
			maxCol, maxRow = max(maxCol, col), max(maxRow, row)
		}
		sx := sheetXML{dimension: ws.Dimension.Ref}
		if maxRow > 0 {
			last, _ := excelize.CoordinatesToCellName(maxCol, maxRow)
			sx.used = "A1:" + last
		}
		out[s.Name] = sx
	}
	return out
}

// checkDimensions fails unless every sheet's dimension is its used range.
func checkDimensions(t *testing.T, data []byte) map[string]sheetXML {
	t.Helper()
	sheets := readSheetXML(t, data)
	for name, s := range sheets {
		want := s.used
		if want == "" {
			want = "A1"
		}
		if s.dimension != want {
			t.Errorf("sheet %s: dimension %q, cells span %q", name, s.dimension, want)
		}
	}
	return sheets
}

func TestXLSXDimension(t *testing.T) {
	f := Household()
	x, err := f.Encode("xlsx")
	if err != nil {
		t.Fatal(err)
	}
	sheets := checkDimensions(t, x)
	wb, err := excelize.OpenReader(bytes.NewReader(x))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	for _, c := range []struct {
		sheet string
		rows  int
	}{{"survey", len(f.Survey) + 1}, {"choices", len(f.Choices) + 1}, {"settings", 2}} {
		rows, err := wb.GetRows(c.sheet)
		if err != nil {
			t.Fatal(err)
		}
		width := 0
		for _, r := range rows {
			width = max(width, len(r))
		}
		last, _ := excelize.CoordinatesToCellName(width, c.rows)
		if want, got := "A1:"+last, sheets[c.sheet].dimension; got != want || len(rows) != c.rows {
			t.Errorf("sheet %s: dimension %s, want %s (%d rows of %d)", c.sheet, got, want, len(rows), c.rows)
		}
	}
}

// xlsxCells reads a workbook as lower-case sheet name -> rows of cells
// keyed by column, for comparing two workbooks whatever the order of their
// columns. The survey, choices and settings columns are keyed by their
// meaning (aliases and "label:English" / "label::English" resolved); other
// columns by their header as written; other sheets by column letter.
// Empty rows and cells are left out, cells are trimmed, and the sheet a
// form reader takes for the survey (the first, when none is named survey)
// is called survey.
func xlsxCells(t *testing.T, data []byte) map[string][]map[string]string {
	t.Helper()
	wb, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	out := map[string][]map[string]string{}
	list := wb.GetSheetList()
	hasSurvey := false
	for _, s := range list {
		hasSurvey = hasSurvey || strings.EqualFold(s, "survey")
	}
	cr := cellReader{wb: wb, formats: map[int]string{}}
	for i, s := range list {
		rows, err := cr.rows(s) // cells as pyxform reads them
		if err != nil {
			t.Fatal(err)
		}
		low := strings.ToLower(s)
		if !hasSurvey && i == 0 {
			low = "survey"
		}
		form := low == "survey" || low == "choices" || low == "settings"
		var keys []string
		if form && len(rows) > 0 {
			for _, h := range rows[0] {
				h = strings.TrimSpace(h)
				base, code, _ := splitHeader(h)
				switch {
				case h == "":
				case translatable[base]:
					h = base + "::" + code
				case modelled[base]:
					h = base
				}
				keys = append(keys, h)
			}
			rows = rows[1:]
		}
		var cells []map[string]string
		for r, row := range rows {
			m := map[string]string{}
			for j, v := range row {
				key, _ := excelize.ColumnNumberToName(j + 1)
				if form {
					if j >= len(keys) || keys[j] == "" {
						continue
					}
					key = keys[j]
				}
				if v = strings.TrimSpace(v); v != "" {
					m[key] = v
				}
			}
			if len(m) > 0 {
				if !form {
					m["row"] = fmt.Sprint(r + 1)
				}
				cells = append(cells, m)
			}
		}
		out[low] = cells
	}
	return out
}

// modelled lists the columns dotm reads into Form fields (canonical names).
var modelled = map[string]bool{
	"type": true, "name": true, "list_name": true, "required": true, "relevant": true, "constraint": true,
	"calculation": true, "choice_filter": true, "repeat_count": true, "default": true, "read_only": true,
	"appearance": true, "sensitivity": true, "form_id": true, "id_string": true, "version": true,
	"form_title": true, "title": true, "default_language": true,
}

// TestXLSXLossless reads every XLSForm of the corpus and the household
// form, writes it as xlsx and reads that again: the form must be the same,
// the written workbook must hold every sheet, column and cell value of the
// one read, and every sheet's dimension must be its used range.
func TestXLSXLossless(t *testing.T) {
	files, err := filepath.Glob("testdata/pyxform/*.xlsx")
	if err != nil || len(files) < 20 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	household, err := Household().Encode("xlsx")
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{"household": household}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs[strings.TrimSuffix(filepath.Base(p), ".xlsx")] = data
	}
	tripped := 0
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			// Decode as dotm forms convert does; for a form that does
			// not compile, the reader alone
			decode := func(data []byte) (*Form, error) { return Decode(data, "xlsx") }
			f, err := decode(in)
			if err != nil {
				decode = decodeXLSX
				f, err = decode(in)
			}
			if err != nil {
				if _, refused := refusedHere[name]; refused {
					return // a workbook the reader itself refuses (duplicate columns)
				}
				t.Fatalf("read: %v", err)
			}
			tripped++
			out, err := f.Encode("xlsx")
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			checkDimensions(t, out)
			g, err := decode(out)
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if !sameForm(f, g) {
				t.Errorf("xlsx -> form -> xlsx -> form changed the form")
			}
			// rows stay where they were (blank rows kept)
			for i := range min(len(f.Survey), len(g.Survey)) {
				if f.Survey[i].Row != g.Survey[i].Row {
					t.Errorf("survey row %d written as row %d", f.Survey[i].Row, g.Survey[i].Row)
				}
			}
			for i := range min(len(f.Choices), len(g.Choices)) {
				if f.Choices[i].Row != g.Choices[i].Row {
					t.Errorf("choices row %d written as row %d", f.Choices[i].Row, g.Choices[i].Row)
				}
			}
			for _, format := range []string{"yaml", "json"} {
				doc, err := f.Encode(format)
				if err != nil {
					t.Fatalf("encode %s: %v", format, err)
				}
				h, err := decodeYAMLOrJSON(doc, format)
				if err != nil {
					t.Fatalf("decode %s: %v", format, err)
				}
				if !sameForm(f, h) {
					t.Errorf("%s round trip changed the form", format)
				}
			}
			before, after := xlsxCells(t, in), xlsxCells(t, out)
			for sheet, rows := range before {
				got, ok := after[sheet]
				if !ok {
					t.Errorf("sheet %s is lost", sheet)
					continue
				}
				if sheet == "settings" {
					compareSettings(t, f, rows, got)
					continue
				}
				if len(got) != len(rows) {
					t.Errorf("sheet %s: %d rows with values, %d written", sheet, len(rows), len(got))
				}
				for i := range min(len(rows), len(got)) {
					for col, v := range rows[i] {
						if got[i][col] != v {
							t.Errorf("sheet %s, row %d, column %s: %q written as %q", sheet, i+2, col, v, got[i][col])
						}
					}
				}
			}
		})
	}
	if tripped < 20 {
		t.Errorf("only %d workbooks went through the round trip", tripped)
	}
}

// compareSettings checks the settings row; default_language may be
// written with the language's name and code ("English (en)").
func compareSettings(t *testing.T, f *Form, rows, got []map[string]string) {
	t.Helper()
	if len(rows) == 0 {
		return
	}
	if len(got) == 0 {
		t.Errorf("settings are lost")
		return
	}
	for col, v := range rows[0] {
		w := got[0][col]
		if col == "id_string" || col == "title" {
			w = got[0][map[string]string{"id_string": "form_id", "title": "form_title"}[col]]
		}
		if col == "default_language" && w != v {
			code, name := parseLanguage(w)
			if code == f.DefaultLanguage && (strings.EqualFold(v, name) || strings.EqualFold(v, code)) {
				continue
			}
		}
		if w != v {
			t.Errorf("settings, column %s: %q written as %q", col, v, w)
		}
	}
}

func decodeYAMLOrJSON(data []byte, format string) (*Form, error) {
	if format == "json" {
		return decodeJSON(data)
	}
	return decodeYAML(data)
}

// TestKeptSheetsInDocuments checks that YAML and JSON documents carry the
// kept sheets and header spellings, and that a kept sheet may not take the
// name of a form sheet.
func TestKeptSheetsInDocuments(t *testing.T) {
	doc := `
settings: {form_id: x, omit_instanceID: "true"}
survey:
  - {type: select_one_external city, name: c, label: City, "body::accuracyThreshold": "5"}
choices: []
sheets:
  - name: external_choices
    rows: [[list_name, name, label, state], [city, "01", Dumont, texas], [], [city, x]]
  - name: Changelog
    rows: []
`
	f, err := decodeYAML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Sheet{
		{Name: "external_choices", Rows: [][]string{{"list_name", "name", "label", "state"}, {"city", "01", "Dumont", "texas"}, {}, {"city", "x"}}},
		{Name: "Changelog", Rows: [][]string{}},
	}
	if fmt.Sprint(f.Sheets) != fmt.Sprint(want) {
		t.Errorf("sheets %q", f.Sheets)
	}
	if f.Headers["survey"]["body::accuracythreshold"] != "body::accuracyThreshold" || f.Headers["settings"]["omit_instanceid"] != "omit_instanceID" {
		t.Errorf("headers %v", f.Headers)
	}
	x, err := encodeXLSX(f)
	if err != nil {
		t.Fatal(err)
	}
	sheets := checkDimensions(t, x)
	if d := sheets["external_choices"].dimension; d != "A1:D4" {
		t.Errorf("external_choices dimension %s", d)
	}
	wb, err := excelize.OpenReader(bytes.NewReader(x))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if got := wb.GetSheetList(); strings.Join(got, " ") != "survey choices settings external_choices Changelog" {
		t.Errorf("sheets %v", got)
	}
	if h, _ := wb.GetRows("survey"); !strings.Contains(strings.Join(h[0], " "), "body::accuracyThreshold") {
		t.Errorf("survey header %q", h[0])
	}
	if v, _ := wb.GetCellValue("external_choices", "B2"); v != "01" {
		t.Errorf("external_choices B2 = %q", v)
	}
	for _, format := range []string{"json", "yaml"} {
		out, err := f.Encode(format)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "body::accuracyThreshold") || !strings.Contains(string(out), "omit_instanceID") {
			t.Errorf("%s lost a header's spelling:\n%s", format, out)
		}
	}

	for _, bad := range []string{
		"survey: []\nsheets: [{name: Choices, rows: []}]",
		"survey: []\nsheets: [{name: a, rows: []}, {name: A, rows: []}]",
		"survey: []\nsheets: [{name: a, rows: [[{x: 1}]]}]",
		"survey: []\nsheets: [{rows: []}]",
		"survey: []\nsheets: {a: b}",
	} {
		if _, err := decodeYAML([]byte(bad)); err == nil {
			t.Errorf("%s: decoded", bad)
		} else if !strings.Contains(err.Error(), "sheet") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	// a name a workbook cannot hold is kept in YAML and JSON, and refused
	// by the xlsx writer with the name
	g, err := decodeYAML([]byte("survey: []\nsheets: [{name: \"a/b\", rows: [[x]]}]"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := encodeXLSX(g); err == nil || !strings.Contains(err.Error(), `sheet "a/b"`) {
		t.Errorf("xlsx with sheet a/b: %v", err)
	}
}

// TestXLSXCellText checks that numbers, dates, times and durations are read
// as pyxform reads them (openpyxl's conversion, then Python's str()); the
// expected values were printed by testdata/xlsx_cell_text.py (Python 3.11,
// openpyxl 3.0.9: from_excel, is_date_format) and checked against pyxform
// 4.5.0's xlsx_value_to_str, except where openpyxl 3.1, which
// pyxform requires, differs from 3.0.9: it reads a format whose first
// letter is a date letter ("d") as a date but not "_d0", and reads
// durations ([h]:mm:ss) as durations also in read-only mode.
func TestXLSXCellText(t *testing.T) {
	a, b := 0.1, 0.2
	sum := a + b // 0.30000000000000004 (a constant 0.1 + 0.2 would be exact)
	for x, want := range map[float64]string{
		sum: "0.30000000000000004", 1e-05: "1e-05", 1.5e16: "15000000000000000", 123.456: "123.456",
		2: "2", -0.5: "-0.5", 1e22: "10000000000000000000000", 0.0001: "0.0001", 0: "0",
	} {
		if got := pythonFloat(x); got != want {
			t.Errorf("pythonFloat(%v) = %q, want %q", x, got, want)
		}
	}
	for x, want := range map[float64]string{
		1: "1900-01-01 00:00:00", 59: "1900-02-28 00:00:00", 60: "1900-02-28 00:00:00", 61: "1900-03-01 00:00:00",
		0.5: "12:00:00", 0.999999999: "1900-01-01 00:00:00", 44662.68505753472: "2022-04-11 16:26:28.971000",
		45000.25: "2023-03-15 06:00:00", 1e-07: "00:00:00.009000", 36526: "2000-01-01 00:00:00",
	} {
		if got := pythonExcelDate(x, false); got != want {
			t.Errorf("pythonExcelDate(%v) = %q, want %q", x, got, want)
		}
	}
	for x, want := range map[float64]string{
		1.5: "1 day, 12:00:00", 0.25: "6:00:00", -0.5: "-1 day, 12:00:00", 2.000000011: "2 days, 0:00:00.001000",
		1.5 / 86400 / 1000: "0:00:00.002000", 3: "3 days, 0:00:00",
	} {
		if got := pythonDuration(x); got != want {
			t.Errorf("pythonDuration(%v) = %q, want %q", x, got, want)
		}
	}
	for format, want := range map[string]bool{
		"yyyy-mm-dd": true, "mm-dd-yy": true, "0.00": false, "[Red]0.00": false, "[h]:mm:ss": true, `"day" 0`: false,
		"[$-409]General": false, "#,##0_);[Red](#,##0)": false, "General": false, `\d0`: false, "_d0": false,
		"h:mm AM/PM": true, "[hh]": true, "[hhh]0": false, "": false, "d": true,
	} {
		if got := isDateFormat(format); got != want {
			t.Errorf("isDateFormat(%q) = %v, want %v", format, got, want)
		}
	}
	// the corpus: what pyxform writes in the XForm
	for _, c := range []struct{ file, want string }{
		{"UCL_Biomass_Plot_Form", "2022-04-11 16:26:28.971000"}, // settings version, a datetime cell
		{"xl_date_ambiguous_v1", "1900-01-01 00:00:00"},         // survey default, a date cell
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "pyxform", c.file+".xlsx"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := decodeXLSX(data)
		if err != nil {
			t.Fatal(err)
		}
		got := f.Version
		for _, q := range f.Survey {
			if q.Default != "" {
				got = q.Default
			}
		}
		if got != c.want {
			t.Errorf("%s: read %q, pyxform reads %q", c.file, got, c.want)
		}
	}
	// a workbook with typed cells in a choices column
	wb := excelize.NewFile()
	defer wb.Close()
	style := func(s *excelize.Style) int {
		id, err := wb.NewStyle(s)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	custom := func(f string) *excelize.Style { return &excelize.Style{CustomNumFmt: &f} }
	cells := []struct {
		value any
		style int
		want  string
	}{
		{2.5, style(&excelize.Style{NumFmt: 2}), "2.5"}, // shown as 2.50
		{3, 0, "3"},
		{sum, 0, "0.30000000000000004"}, // shown as 0.3
		{true, 0, "TRUE"},
		{0.5, style(&excelize.Style{NumFmt: 20}), "12:00:00"},
		{1.5, style(custom("[h]:mm:ss")), "1 day, 12:00:00"},
		{36526, style(custom("dd/mm/yyyy")), "2000-01-01 00:00:00"},
		{"01", 0, "01"},
		{"5", style(custom(`@" kg"`)), "5"}, // text as stored, not as shown
	}
	if err := wb.SetSheetName("Sheet1", "survey"); err != nil {
		t.Fatal(err)
	}
	if err := wb.SetSheetRow("survey", "A1", &[]any{"type", "name"}); err != nil {
		t.Fatal(err)
	}
	if err := wb.SetSheetRow("survey", "A2", &[]any{"select_one l", "q"}); err != nil {
		t.Fatal(err)
	}
	if _, err := wb.NewSheet("choices"); err != nil {
		t.Fatal(err)
	}
	if err := wb.SetSheetRow("choices", "A1", &[]any{"list_name", "name", "x"}); err != nil {
		t.Fatal(err)
	}
	for i, c := range cells {
		row := i + 2
		if err := wb.SetSheetRow("choices", fmt.Sprintf("A%d", row), &[]any{"l", fmt.Sprintf("c%d", i), c.value}); err != nil {
			t.Fatal(err)
		}
		if x, ok := c.value.(float64); ok { // 17 decimals: SetSheetRow keeps 15 digits
			if err := wb.SetCellFloat("choices", fmt.Sprintf("C%d", row), x, 17, 64); err != nil {
				t.Fatal(err)
			}
		}
		if c.style != 0 {
			if err := wb.SetCellStyle("choices", fmt.Sprintf("C%d", row), fmt.Sprintf("C%d", row), c.style); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if err := wb.Write(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Decode(buf.Bytes(), "xlsx")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cells {
		if got := f.Choices[i].Extra["x"]; got != c.want {
			t.Errorf("cell %v: read %q, pyxform reads %q", c.value, got, c.want)
		}
	}
}

// TestXLSXNonBreakingSpaces: non-breaking spaces in a workbook's cells
// (around operators, in a type, trailing a name) read as spaces, as
// pyxform reads them, so the form compiles.
func TestXLSXNonBreakingSpaces(t *testing.T) {
	wb := excelize.NewFile()
	defer wb.Close()
	wb.SetSheetName("Sheet1", "survey")
	nb := "\u00a0"
	for i, row := range [][]any{
		{"type", "name", "label", "relevant"},
		{"select_one" + nb + "yn", "a", "A?", ""},
		{"integer", "b" + nb, "How" + nb + "many?", "${a}" + nb + "=" + nb + "'y'"},
	} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := wb.SetSheetRow("survey", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	wb.NewSheet("choices")
	for i, row := range [][]any{{"list_name", "name", "label"}, {"yn", "y", "Yes"}, {"yn", "n", "No"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		wb.SetSheetRow("choices", cell, &row)
	}
	var buf bytes.Buffer
	if err := wb.Write(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Decode(buf.Bytes(), "xlsx")
	if err != nil {
		t.Fatalf("a workbook with non-breaking spaces: %v", err)
	}
	if q := f.Survey[1]; q.Name != "b" || q.Label[""] != "How many?" || q.Relevant != "${a} = 'y'" {
		t.Fatalf("row 3 read as %+v", q)
	}
}

// TestXLSXEmptyTranslatedColumn: a translated column the workbook has but
// leaves empty is warned about, naming sheet and column, and the form
// loads; it is not also reported as a missing column.
func TestXLSXEmptyTranslatedColumn(t *testing.T) {
	wb := excelize.NewFile()
	defer wb.Close()
	wb.SetSheetName("Sheet1", "survey")
	for i, row := range [][]any{
		{"type", "name", "label::English (en)", "label::French (fr)", "hint::English (en)", "hint::French (fr)"},
		{"integer", "n", "Members", "Membres", "Count everyone", ""},
		{"text", "who", "Who", "Qui", "", ""},
	} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := wb.SetSheetRow("survey", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := wb.Write(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Decode(buf.Bytes(), "xlsx")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range f.Warnings() {
		got = append(got, w.Error())
	}
	want := []string{`sheet survey, column hint::French (fr): column hint::French (fr) is empty: language "French" has no hint text in it`}
	if len(got) != 1 || !strings.HasPrefix(got[0], want[0]) {
		t.Errorf("warnings\n  %s\nwant\n  %s", strings.Join(got, "\n  "), want[0])
	}
}
