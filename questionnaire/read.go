package questionnaire

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// FormError is one problem in a form's definition, located by sheet, row
// (the 1-based spreadsheet row; for YAML and JSON, the 1-based position of
// the item in its list) and column.
type FormError struct {
	Sheet  string
	Row    int // 0 when the problem is not tied to a row
	Column string
	Err    error
}

func (e *FormError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sheet %s", e.Sheet)
	if e.Row > 0 {
		fmt.Fprintf(&b, ", row %d", e.Row)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %s", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *FormError) Unwrap() error { return e.Err }

// FormErrors lists every problem found in a form; Decode and Compile return
// it (as error) when there is at least one.
type FormErrors []*FormError

func (es FormErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return "questionnaire: invalid form:\n  " + strings.Join(parts, "\n  ")
}

// Unwrap gives errors.Is and errors.As access to every problem.
func (es FormErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// cell is one non-empty cell of a survey or choices row, its header
// already split into base column and language.
type cell struct {
	header string // as written, for messages and Extra keys
	base   string // canonical column name: "label", "relevant", ...
	lang   string // language code for translated columns, else ""
	value  string
}

type rawRow struct {
	row   int
	cells []cell
}

// translatable lists the columns that take a ::language suffix and go to a
// Text field.
var translatable = map[string]bool{"label": true, "hint": true, "required_message": true, "constraint_message": true}

// columnAliases maps the spellings XLSForm tools accept to canonical names.
var columnAliases = map[string]string{
	"bind::relevant": "relevant", "relevance": "relevant",
	"bind::constraint": "constraint", "bind::calculate": "calculation", "calculate": "calculation",
	"bind::required": "required", "bind::jr:constraintmsg": "constraint_message", "jr:constraintmsg": "constraint_message",
	"constraint message": "constraint_message", "constraintmsg": "constraint_message",
	"bind::jr:requiredmsg": "required_message", "jr:requiredmsg": "required_message", "requiredmsg": "required_message",
	"required message": "required_message", "jr:count": "repeat_count", "repeat count": "repeat_count",
	"count": "repeat_count", "readonly": "read_only", "bind::readonly": "read_only", "read only": "read_only",
	"control::appearance": "appearance", "caption": "label", "choice filter": "choice_filter",
	"list name": "list_name", "value": "name", "default value": "default",
}

var langCodeRE = regexp.MustCompile(`^(.*?)\s*\(([^()]+)\)\s*$`)

// splitHeader turns a column header into its canonical base name and
// language: "LABEL::English (en)" -> ("label", "en", "English");
// "label:English" -> ("label", "English", "English").
func splitHeader(h string) (base, code, name string) {
	h = strings.TrimSpace(h)
	low := strings.ToLower(h)
	if a, ok := columnAliases[low]; ok {
		return a, "", ""
	}
	var langPart string
	if i := strings.LastIndex(low, "::"); i >= 0 {
		base, langPart = low[:i], strings.TrimSpace(h[i+2:])
	} else if i := strings.Index(low, ":"); i >= 0 && translatable[low[:i]] {
		base, langPart = low[:i], strings.TrimSpace(h[i+1:])
	} else {
		return low, "", ""
	}
	if a, ok := columnAliases[base]; ok {
		base = a
	}
	if !translatable[base] {
		return low, "", ""
	}
	code, name = parseLanguage(langPart)
	return base, code, name
}

// parseLanguage reads "English (en)" -> ("en", "English"); "English" ->
// ("English", "English").
func parseLanguage(s string) (code, name string) {
	s = strings.TrimSpace(s)
	if m := langCodeRE.FindStringSubmatch(s); m != nil {
		return strings.TrimSpace(m[2]), strings.TrimSpace(m[1])
	}
	return s, s
}

// builder accumulates a form from raw rows and collects errors.
type builder struct {
	f    *Form
	errs FormErrors
	seen map[string]bool // languages seen
}

func newBuilder() *builder {
	return &builder{f: &Form{LanguageNames: map[string]string{}, Settings: map[string]string{}}, seen: map[string]bool{}}
}

func (b *builder) fail(sheet string, row int, col string, format string, args ...any) {
	b.errs = append(b.errs, &FormError{Sheet: sheet, Row: row, Column: col, Err: fmt.Errorf(format, args...)})
}

func (b *builder) addLanguage(code, name string) {
	if !b.seen[code] {
		b.seen[code] = true
		b.f.Languages = append(b.f.Languages, code)
	}
	if name != "" && name != code {
		b.f.LanguageNames[code] = name
	} else if _, ok := b.f.LanguageNames[code]; !ok && code != "" {
		b.f.LanguageNames[code] = name
	}
}

// checkHeader reports duplicate columns of a sheet.
func (b *builder) checkHeader(sheet string, headerRow int, headers []string) {
	seen := map[string]string{}
	for _, h := range headers {
		if strings.TrimSpace(h) == "" {
			continue
		}
		base, code, _ := splitHeader(h)
		key := base + "::" + code
		if prev, ok := seen[key]; ok {
			b.fail(sheet, headerRow, h, "duplicate column (same as %q)", prev)
			continue
		}
		seen[key] = h
	}
}

func (b *builder) addQuestion(sheet string, r rawRow) {
	q := Question{Row: r.row}
	for _, c := range r.cells {
		if translatable[c.base] {
			b.addLanguage(c.lang, "")
			var t *Text
			switch c.base {
			case "label":
				t = &q.Label
			case "hint":
				t = &q.Hint
			case "required_message":
				t = &q.RequiredMessage
			case "constraint_message":
				t = &q.ConstraintMessage
			}
			if *t == nil {
				*t = Text{}
			}
			(*t)[c.lang] = c.value
			continue
		}
		switch c.base {
		case "type":
			q.Type = c.value
		case "name":
			q.Name = c.value
		case "required":
			q.Required = c.value
		case "relevant":
			q.Relevant = c.value
		case "constraint":
			q.Constraint = c.value
		case "calculation":
			q.Calculation = c.value
		case "choice_filter":
			q.ChoiceFilter = c.value
		case "repeat_count":
			q.RepeatCount = c.value
		case "default":
			q.Default = c.value
		case "read_only":
			q.ReadOnly = c.value
		case "appearance":
			q.Appearance = c.value
		case "sensitivity":
			q.Sensitivity = strings.ToLower(c.value)
		default:
			if q.Extra == nil {
				q.Extra = map[string]string{}
			}
			q.Extra[b.spelling("survey", c.header)] = c.value
		}
	}
	if q.Type == "" {
		if q.Name != "" || q.Label != nil {
			b.fail(sheet, r.row, "type", "question %q has no type", q.Name)
		}
		return
	}
	b.f.Survey = append(b.f.Survey, q)
}

func (b *builder) addChoice(sheet string, r rawRow) {
	c := ChoiceRow{Row: r.row}
	for _, x := range r.cells {
		switch {
		case x.base == "label":
			b.addLanguage(x.lang, "")
			if c.Label == nil {
				c.Label = Text{}
			}
			c.Label[x.lang] = x.value
		case x.base == "list_name":
			c.ListName = x.value
		case x.base == "name":
			c.Name = x.value
		default:
			if c.Extra == nil {
				c.Extra = map[string]string{}
			}
			c.Extra[b.spelling("choices", x.header)] = x.value
		}
	}
	if c.ListName == "" && c.Name == "" {
		return // a row of media or notes only
	}
	if c.ListName == "" {
		b.fail(sheet, r.row, "list_name", "choice %q has no list_name", c.Name)
		return
	}
	if c.Name == "" {
		b.fail(sheet, r.row, "name", "choice of list %q has no name", c.ListName)
		return
	}
	b.f.Choices = append(b.f.Choices, c)
}

// spelling returns the key of an Extra or Settings column, its header in
// lower case, and notes the header's spelling in Form.Headers when it is
// not all lower case.
func (b *builder) spelling(sheet, header string) string {
	header = strings.TrimSpace(header)
	key := strings.ToLower(header)
	if header != key {
		if b.f.Headers == nil {
			b.f.Headers = map[string]map[string]string{}
		}
		if b.f.Headers[sheet] == nil {
			b.f.Headers[sheet] = map[string]string{}
		}
		b.f.Headers[sheet][key] = header
	}
	return key
}

// header returns the header to write for the Extra or Settings key of a
// sheet: as it was read (see Form.Headers), else the key.
func (f *Form) header(sheet, key string) string {
	if h := f.Headers[sheet][key]; h != "" {
		return h
	}
	return key
}

// setSetting stores one settings column.
func (b *builder) setSetting(header, value string) {
	value = strings.TrimSpace(value)
	if value == "" {
		return
	}
	key := strings.ToLower(strings.TrimSpace(header))
	switch key {
	case "form_id", "id_string", "version", "form_title", "title", "default_language":
	default:
		key = b.spelling("settings", header)
	}
	switch key {
	case "form_id", "id_string":
		b.f.ID = value
	case "version":
		b.f.Version = value
	case "form_title", "title":
		b.f.Title = value
	case "default_language":
		code, name := parseLanguage(value)
		b.f.DefaultLanguage = code
		if name != code {
			b.f.LanguageNames[code] = name
		}
	default:
		b.f.Settings[key] = value
	}
}

// finish resolves the default language against language names ("English"
// -> "en") and returns the form or the errors.
func (b *builder) finish() (*Form, error) {
	f := b.f
	if d := f.DefaultLanguage; d != "" && !b.seen[d] {
		for code, name := range f.LanguageNames {
			if strings.EqualFold(name, d) || strings.EqualFold(code, d) {
				f.DefaultLanguage = code
				break
			}
		}
	}
	if f.DefaultLanguage == "" && len(f.Languages) > 0 {
		f.DefaultLanguage = inferDefaultLanguage(f.Languages)
		f.defaultInferred = true
	}
	// the untranslated language ("") goes last, whatever the source, so
	// that every encoding gives back the same order
	for i, code := range f.Languages {
		if code == "" {
			f.Languages = append(append(f.Languages[:i:i], f.Languages[i+1:]...), "")
			break
		}
	}
	for code, name := range f.LanguageNames {
		if name == "" || name == code {
			delete(f.LanguageNames, code)
		}
	}
	seen := map[string]string{"survey": "survey", "choices": "choices", "settings": "settings"}
	for i, sh := range f.Sheets {
		low := strings.ToLower(sh.Name)
		if prev, dup := seen[low]; dup {
			b.fail(sh.Name, 0, "", "sheet %d has the name of sheet %s (sheet names are compared in any case)", i+1, prev)
			continue
		}
		seen[low] = sh.Name
	}
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	return f, nil
}

// inferDefaultLanguage is the default language of a form whose settings
// name none: its first language with a code, else "".
func inferDefaultLanguage(languages []string) string {
	for _, code := range languages {
		if code != "" {
			return code
		}
	}
	return ""
}

// defaultLanguageSetting returns the default_language setting the writers
// write: "" when the reader inferred DefaultLanguage and would infer it
// again from the written form, so that a form read without the setting is
// written without it.
func (f *Form) defaultLanguageSetting() string {
	if f.defaultInferred && inferDefaultLanguage(f.Languages) == f.DefaultLanguage {
		return ""
	}
	return f.DefaultLanguage
}

// keptSheet returns a sheet as Form.Sheets holds it: trailing empty cells
// and rows dropped, every row a non-nil slice.
func keptSheet(name string, rows [][]string) Sheet {
	s := Sheet{Name: name, Rows: [][]string{}}
	last := -1
	for i, r := range rows {
		n := len(r)
		for n > 0 && r[n-1] == "" {
			n--
		}
		s.Rows = append(s.Rows, append([]string{}, r[:n]...))
		if n > 0 {
			last = i
		}
	}
	s.Rows = s.Rows[:last+1]
	return s
}

var errNoSurvey = errors.New("the form has no survey sheet (a sheet named survey with type and name columns)")
