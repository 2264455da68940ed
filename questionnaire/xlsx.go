//go:build !js

package questionnaire

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxLimits bound what a (possibly hostile) workbook may expand to.
var xlsxLimits = excelize.Options{UnzipSizeLimit: 256 << 20, UnzipXMLSizeLimit: 64 << 20}

func decodeXLSX(data []byte) (f *Form, err error) {
	defer func() {
		// excelize is not written for hostile input; a malformed workbook
		// must be refused, not crash the server.
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("questionnaire: xlsx: malformed workbook: %v", r)
		}
	}()
	wb, err := excelize.OpenReader(bytes.NewReader(data), xlsxLimits)
	if err != nil {
		return nil, fmt.Errorf("questionnaire: xlsx: %w", err)
	}
	defer wb.Close()
	sheets := map[string]string{} // lower-case name -> name
	for _, s := range wb.GetSheetList() {
		low := strings.ToLower(strings.TrimSpace(s))
		if _, dup := sheets[low]; !dup {
			sheets[low] = s
		}
	}
	cells := cellReader{wb: wb, formats: map[int]string{}}
	if props, err := wb.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		cells.date1904 = *props.Date1904
	}
	read := func(name string) ([][]string, error) {
		rows, err := cells.rows(name)
		if err != nil {
			return nil, fmt.Errorf("questionnaire: xlsx: sheet %s: %w", name, err)
		}
		return rows, nil
	}
	surveyName, ok := sheets["survey"]
	if !ok {
		// A workbook without a survey sheet: use the first sheet that
		// has type and name columns (as pyxform does for one-sheet forms).
		for _, s := range wb.GetSheetList() {
			rows, err := read(s)
			if err != nil || len(rows) == 0 {
				continue
			}
			hasType, hasName := false, false
			for _, h := range rows[0] {
				base, _, _ := splitHeader(h)
				hasType = hasType || base == "type"
				hasName = hasName || base == "name"
			}
			if hasType && hasName {
				surveyName, ok = s, true
				break
			}
		}
		if !ok {
			return nil, FormErrors{{Sheet: "survey", Err: errNoSurvey}}
		}
	}
	b := newBuilder()
	rows, err := read(surveyName)
	if err != nil {
		return nil, err
	}
	b.readSheet(surveyName, rows, b.addQuestion)
	if name, ok := sheets["choices"]; ok {
		rows, err := read(name)
		if err != nil {
			return nil, err
		}
		b.readSheet(name, rows, b.addChoice)
	}
	if name, ok := sheets["settings"]; ok {
		rows, err := read(name)
		if err != nil {
			return nil, err
		}
		if len(rows) >= 2 {
			for i, h := range rows[0] {
				if i < len(rows[1]) && strings.TrimSpace(h) != "" {
					b.setSetting(h, rows[1][i])
				}
			}
		}
	}
	// every other sheet is kept as read, for the writers
	for _, s := range wb.GetSheetList() {
		if s == surveyName || s == sheets["choices"] || s == sheets["settings"] {
			continue
		}
		rows, err := read(s)
		if err != nil {
			return nil, err
		}
		b.f.Sheets = append(b.f.Sheets, keptSheet(s, rows))
	}
	return b.finish()
}

// cellReader reads a sheet's cells as text the way pyxform (through
// openpyxl) does, so that dotm and pyxform see the same form and a
// written workbook gives pyxform the same values: a number as Python
// writes it ("3" for 3.0, "0.30000000000000004", not as its display
// format rounds it), a date or time cell as Python's str() of the
// datetime ("2022-04-11 16:26:28.971000"), a boolean as TRUE or FALSE,
// text as stored.
type cellReader struct {
	wb       *excelize.File
	formats  map[int]string // style id -> number format
	date1904 bool           // the workbook counts dates from 1904
}

func (r *cellReader) rows(sheet string) ([][]string, error) {
	shown, err := r.wb.GetRows(sheet)
	if err != nil {
		return nil, err
	}
	raw, err := r.wb.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, err
	}
	for i, row := range shown {
		for j, v := range row {
			if i < len(raw) && j < len(raw[i]) && raw[i][j] != v {
				row[j] = r.text(sheet, j+1, i+1, raw[i][j], v)
			}
			// A non-breaking space (what a spreadsheet often puts in
			// "${a} = 'yes'" or a name copied from a document) is a space,
			// as pyxform reads it (xls2json_backends, pyxform issue 83).
			if strings.ContainsRune(row[j], '\u00a0') {
				row[j] = strings.ReplaceAll(row[j], "\u00a0", " ")
			}
		}
	}
	return shown, nil
}

// text returns a cell's text whose raw value differs from the shown one.
func (r *cellReader) text(sheet string, col, row int, raw, shown string) string {
	cell, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		return shown
	}
	typ, err := r.wb.GetCellType(sheet, cell)
	switch {
	case err != nil, typ == excelize.CellTypeBool, typ == excelize.CellTypeDate:
		return shown // TRUE or FALSE, as pyxform writes booleans
	case typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber:
		return raw // text as stored, whatever its number format shows
	}
	x, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return shown
	}
	id, err := r.wb.GetCellStyle(sheet, cell)
	if err != nil {
		return shown
	}
	format, ok := r.formats[id]
	if !ok {
		if st, err := r.wb.GetStyle(id); err == nil {
			if st.CustomNumFmt != nil {
				format = *st.CustomNumFmt
			} else {
				format = builtinNumFmt[st.NumFmt]
			}
		}
		r.formats[id] = format
	}
	if isDateFormat(format) {
		if isDurationFormat(format) {
			return pythonDuration(x)
		}
		return pythonExcelDate(x, r.date1904)
	}
	if !strings.ContainsAny(raw, ".eE") {
		return strings.TrimPrefix(raw, "+") // an integer, as written
	}
	return pythonFloat(x)
}

// The patterns by which openpyxl 3.1 (the version pyxform requires,
// styles/numbers.py) decides that a number format shows a date, a time or
// a duration: quoted text and bracketed sections other than [h], [hh],
// [m], [mm], [s], [ss] are stripped, then a date letter that does not
// follow _ or a backslash marks a date; [h]:mm:ss and the like mark a
// duration.
var (
	dateFormatStrip = regexp.MustCompile(`".*?"|\[[^\]]*\]`)
	dateFormatChar  = regexp.MustCompile(`(^|[^_\\])[dmhysDMHYS]`)
	durationFormat  = regexp.MustCompile(`(?i)\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?`)
)

// isDateFormat reports whether openpyxl reads a number with this format
// as a date or time (is_date_format).
func isDateFormat(format string) bool {
	format, _, _ = strings.Cut(format, ";")
	format = dateFormatStrip.ReplaceAllStringFunc(format, func(m string) string {
		switch m {
		case "[h]", "[hh]", "[m]", "[mm]", "[s]", "[ss]":
			return m
		}
		return ""
	})
	return dateFormatChar.MatchString(format)
}

// isDurationFormat reports whether openpyxl reads a date-formatted number
// as a duration (is_timedelta_format).
func isDurationFormat(format string) bool {
	format, _, _ = strings.Cut(format, ";")
	return durationFormat.MatchString(format)
}

// builtinNumFmt holds the built-in number formats that openpyxl takes for
// dates, times or durations.
var builtinNumFmt = map[int]string{
	14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM",
	20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm", 45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0",
}

// pythonExcelDate writes an Excel date serial as openpyxl converts it
// (from_excel) and Python's str() writes the result: a time of day for
// serials in [0, 1), else a datetime, rounded to the millisecond.
func pythonExcelDate(x float64, date1904 bool) string {
	day := math.Floor(x)
	ms := int64(math.RoundToEven((x - day) * 86400 * 1000)) // Python's round
	isTime := x >= 0 && x < 1 && ms < 86400*1000
	if ms >= 86400*1000 {
		day, ms = day+1, ms-86400*1000
	}
	clock := time.Duration(ms) * time.Millisecond
	t := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Add(clock)
	frac := ""
	if t.Nanosecond() != 0 {
		frac = fmt.Sprintf(".%06d", t.Nanosecond()/1000)
	}
	if isTime {
		return t.Format("15:04:05") + frac
	}
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if date1904 {
		epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	} else if x > 0 && x < 60 {
		day++ // Excel's 1900 has a 29 February
	}
	d := epoch.AddDate(0, 0, int(day)).Add(clock)
	return d.Format("2006-01-02 15:04:05") + frac
}

// pythonDuration writes a number of days as openpyxl converts it to a
// timedelta (rounded to the millisecond) and Python's str() writes it:
// "1 day, 2:03:04.500000".
func pythonDuration(x float64) string {
	us := int64(math.RoundToEven(x * 86400e6)) // timedelta(days=x) keeps microseconds
	if frac := floorMod(us, 1e6); frac != 0 {
		us += int64(math.RoundToEven(float64(frac)/1e3))*1e3 - frac
	}
	days := (us - floorMod(us, 86400e6)) / 86400e6
	rest := us - days*86400e6
	s := fmt.Sprintf("%d:%02d:%02d", rest/3600e6, rest/60e6%60, rest/1e6%60)
	if rest%1e6 != 0 {
		s += fmt.Sprintf(".%06d", rest%1e6)
	}
	if days != 0 {
		unit := "days"
		if days == 1 || days == -1 {
			unit = "day"
		}
		s = fmt.Sprintf("%d %s, %s", days, unit, s)
	}
	return s
}

func floorMod(a, b int64) int64 { return ((a % b) + b) % b }

// pythonFloat writes a float as Python's str(): an integral value as an
// integer (pyxform's rule), else the shortest representation, in
// exponent form below 1e-4 and from 1e16.
func pythonFloat(x float64) string {
	if x == 0 {
		return "0"
	}
	if x == math.Trunc(x) && math.Abs(x) < 1e300 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	e := strconv.FormatFloat(x, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	n, _ := strconv.Atoi(exp)
	if n < -4 || n >= 16 {
		return mant + "e" + exp
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// readSheet turns a sheet's rows (row 1 the header) into raw rows.
func (b *builder) readSheet(sheet string, rows [][]string, add func(string, rawRow)) {
	if len(rows) == 0 {
		return
	}
	header := rows[0]
	b.checkHeader(sheet, 1, header)
	type col struct {
		header, base, lang string
	}
	cols := make([]col, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		base, code, name := splitHeader(h)
		if translatable[base] && name != code {
			b.addLanguage(code, name)
		}
		cols[i] = col{header: h, base: base, lang: code}
	}
	filled := make([]bool, len(cols))
	defer func() {
		// a translated column (label::French (fr), hint::fr, …) with no
		// text in any row: pyxform warns of it (see Form.Warnings)
		for i, c := range cols {
			if c.header != "" && c.lang != "" && translatable[c.base] && !filled[i] {
				b.f.emptyColumns = append(b.f.emptyColumns, emptyColumn{sheet: sheet, header: c.header, base: c.base, lang: c.lang})
			}
		}
	}()
	for r := 1; r < len(rows); r++ {
		rr := rawRow{row: r + 1}
		for i, v := range rows[r] {
			v = strings.TrimSpace(v)
			if v == "" || i >= len(cols) || cols[i].header == "" {
				continue // cells without a header are ignored, as pyxform does
			}
			filled[i] = true
			rr.cells = append(rr.cells, cell{header: cols[i].header, base: cols[i].base, lang: cols[i].lang, value: v})
		}
		if len(rr.cells) > 0 {
			add(sheet, rr)
		}
	}
}

// languageHeader writes a translated column header: "label::English (en)",
// "label::en" when the language has no name, "label" when untranslated.
func (f *Form) languageHeader(base, code string) string {
	if code == "" {
		return base
	}
	if n := f.LanguageNames[code]; n != "" {
		return base + "::" + n + " (" + code + ")"
	}
	return base + "::" + code
}

func encodeXLSX(f *Form) ([]byte, error) {
	wb := excelize.NewFile()
	defer wb.Close()
	// the untranslated columns ("label") come first, as XLSForms write
	// them: pyxform's translations depend on the order of the columns
	langs := f.textLanguages()
	for i, code := range langs {
		if code == "" {
			langs = append(append([]string{""}, langs[:i]...), langs[i+1:]...)
			break
		}
	}
	// survey
	cols := []string{"type", "name"}
	getters := []func(q *Question) string{
		func(q *Question) string { return q.Type },
		func(q *Question) string { return q.Name },
	}
	addText := func(base string, get func(q *Question) Text) {
		for _, code := range langs {
			used := false
			for i := range f.Survey {
				if get(&f.Survey[i])[code] != "" {
					used = true
					break
				}
			}
			if !used {
				continue
			}
			code := code
			cols = append(cols, f.languageHeader(base, code))
			getters = append(getters, func(q *Question) string { return get(q)[code] })
		}
	}
	addPlain := func(name string, get func(q *Question) string) {
		for i := range f.Survey {
			if get(&f.Survey[i]) != "" {
				cols = append(cols, name)
				getters = append(getters, get)
				return
			}
		}
	}
	addText("label", func(q *Question) Text { return q.Label })
	addText("hint", func(q *Question) Text { return q.Hint })
	addPlain("sensitivity", func(q *Question) string { return q.Sensitivity })
	addPlain("required", func(q *Question) string { return q.Required })
	addText("required_message", func(q *Question) Text { return q.RequiredMessage })
	addPlain("relevant", func(q *Question) string { return q.Relevant })
	addPlain("constraint", func(q *Question) string { return q.Constraint })
	addText("constraint_message", func(q *Question) Text { return q.ConstraintMessage })
	addPlain("calculation", func(q *Question) string { return q.Calculation })
	addPlain("choice_filter", func(q *Question) string { return q.ChoiceFilter })
	addPlain("repeat_count", func(q *Question) string { return q.RepeatCount })
	addPlain("default", func(q *Question) string { return q.Default })
	addPlain("read_only", func(q *Question) string { return q.ReadOnly })
	addPlain("appearance", func(q *Question) string { return q.Appearance })
	extra := map[string]bool{}
	for _, q := range f.Survey {
		for k := range q.Extra {
			extra[k] = true
		}
	}
	for _, k := range sortedSet(extra) {
		k := k
		cols = append(cols, f.header("survey", k))
		getters = append(getters, func(q *Question) string { return q.Extra[k] })
	}
	rows := [][]string{cols}
	at := sheetRows(len(f.Survey), func(i int) int { return f.Survey[i].Row })
	for i := range f.Survey {
		row := make([]string, len(getters))
		for j, g := range getters {
			row[j] = g(&f.Survey[i])
		}
		rows = placeRow(rows, at[i], row)
	}
	if err := wb.SetSheetName("Sheet1", "survey"); err != nil {
		return nil, fmt.Errorf("questionnaire: encode xlsx: %w", err)
	}
	if err := writeRows(wb, "survey", rows); err != nil {
		return nil, err
	}
	// choices
	ccols := []string{"list_name", "name"}
	for _, code := range langs {
		for _, c := range f.Choices {
			if c.Label[code] != "" {
				ccols = append(ccols, f.languageHeader("label", code))
				break
			}
		}
	}
	nLabel := len(ccols) - 2
	cextra := map[string]bool{}
	for _, c := range f.Choices {
		for k := range c.Extra {
			cextra[k] = true
		}
	}
	cext := sortedSet(cextra)
	for _, k := range cext {
		ccols = append(ccols, f.header("choices", k))
	}
	crows := [][]string{ccols}
	at = sheetRows(len(f.Choices), func(i int) int { return f.Choices[i].Row })
	for i, c := range f.Choices {
		row := []string{c.ListName, c.Name}
		for _, code := range langs {
			for _, h := range ccols[2 : 2+nLabel] {
				if h == f.languageHeader("label", code) {
					row = append(row, c.Label[code])
				}
			}
		}
		for _, k := range cext {
			row = append(row, c.Extra[k])
		}
		crows = placeRow(crows, at[i], row)
	}
	if _, err := wb.NewSheet("choices"); err != nil {
		return nil, fmt.Errorf("questionnaire: encode xlsx: %w", err)
	}
	if err := writeRows(wb, "choices", crows); err != nil {
		return nil, err
	}
	// settings
	scols := []string{"form_id", "version", "form_title"}
	svals := []string{f.ID, f.Version, f.Title}
	if d := f.defaultLanguageSetting(); d != "" {
		if n := f.LanguageNames[d]; n != "" {
			d = n + " (" + d + ")"
		}
		scols, svals = append(scols, "default_language"), append(svals, d)
	}
	for _, k := range sortedKeys(f.Settings) {
		scols = append(scols, f.header("settings", k))
		svals = append(svals, f.Settings[k])
	}
	if _, err := wb.NewSheet("settings"); err != nil {
		return nil, fmt.Errorf("questionnaire: encode xlsx: %w", err)
	}
	if err := writeRows(wb, "settings", [][]string{scols, svals}); err != nil {
		return nil, err
	}
	// the sheets dotm keeps without interpreting them
	for _, sh := range f.Sheets {
		if _, err := wb.NewSheet(sh.Name); err != nil {
			return nil, fmt.Errorf("questionnaire: encode xlsx: sheet %q: %w", sh.Name, err)
		}
		if err := writeRows(wb, sh.Name, sh.Rows); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := wb.Write(&buf); err != nil {
		return nil, fmt.Errorf("questionnaire: encode xlsx: %w", err)
	}
	return buf.Bytes(), nil
}

// sheetRows returns the 1-based sheet row of each of n survey or choices
// rows: the rows they were read from when they came from a spreadsheet
// (Row 2 or more, increasing), so that blank rows stay where they were
// (pyxform names some generated nodes after row positions); else one after
// the other from row 2.
func sheetRows(n int, row func(i int) int) []int {
	at := make([]int, n)
	read := n > 0 && row(0) >= 2
	for i := range n {
		at[i] = i + 2
		if read && i > 0 && row(i) <= row(i-1) {
			read = false
		}
	}
	if read {
		for i := range n {
			at[i] = row(i)
		}
	}
	return at
}

// placeRow appends row to rows as 1-based row number at, after blank rows
// as needed.
func placeRow(rows [][]string, at int, row []string) [][]string {
	for len(rows) < at-1 {
		rows = append(rows, nil)
	}
	return append(rows, row)
}

// writeRows writes a sheet's rows from A1, leaving empty cells out, and
// sets the sheet's dimension (its used range, e.g. A1:H57): excelize
// leaves it at A1, and readers that trust it, such as openpyxl in
// read-only mode (used by pyxform, pandas and ODK Central), would see a
// one-cell sheet.
func writeRows(wb *excelize.File, sheet string, rows [][]string) error {
	maxRow, maxCol := 0, 0
	for i, r := range rows {
		for j, v := range r {
			if v == "" {
				continue
			}
			cellName, err := excelize.CoordinatesToCellName(j+1, i+1)
			if err != nil {
				return fmt.Errorf("questionnaire: encode xlsx: sheet %s: %w", sheet, err)
			}
			// strings stay strings: "01" and "yes" must not become numbers
			if err := wb.SetCellStr(sheet, cellName, v); err != nil {
				return fmt.Errorf("questionnaire: encode xlsx: sheet %s, cell %s: %w", sheet, cellName, err)
			}
			maxRow, maxCol = max(maxRow, i+1), max(maxCol, j+1)
		}
	}
	ref := "A1"
	if maxRow > 0 {
		last, err := excelize.CoordinatesToCellName(maxCol, maxRow)
		if err != nil {
			return fmt.Errorf("questionnaire: encode xlsx: sheet %s: %w", sheet, err)
		}
		ref = "A1:" + last
	}
	if err := wb.SetSheetDimension(sheet, ref); err != nil {
		return fmt.Errorf("questionnaire: encode xlsx: sheet %s: %w", sheet, err)
	}
	return nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
