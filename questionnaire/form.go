package questionnaire

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Form is one questionnaire: the rows of the XLSForm survey and choices
// sheets and its settings, as written, plus what Decode compiled from them
// (parsed expressions, the item tree, choice lists). Build a Form with
// Decode, Load or Household; a Form built by hand must be passed through
// Compile before Fields or Validate are used.
//
// A Form is safe for concurrent use once compiled: Fields, Encode and
// Validate do not modify it.
type Form struct {
	// ID, Version, Title and DefaultLanguage are the settings form_id,
	// version, form_title and default_language.
	ID, Version, Title, DefaultLanguage string
	// Languages lists the language codes the form's labels use, in the
	// order of their first column, e.g. ["en", "es"]. A label column
	// without a language ("label") has the code "".
	Languages []string
	// LanguageNames maps a language code to its name as written in the
	// column header: "label::English (en)" gives "en" -> "English".
	LanguageNames map[string]string
	// Survey holds the survey sheet's rows in order (blank rows dropped).
	Survey []Question
	// Choices holds the choices sheet's rows in order.
	Choices []ChoiceRow
	// Settings holds settings other than the four above, keyed by lower-case
	// column name (e.g. "instance_name", "style"), kept for round trips.
	Settings map[string]string
	// Headers keeps the spelling of the columns kept in Extra (survey and
	// choices) and Settings when it is not all lower case: sheet ("survey",
	// "choices" or "settings") -> lower-case key -> header as written, e.g.
	// "survey" -> "body::accuracythreshold" -> "body::accuracyThreshold".
	// XLSForm tools read attribute and language names case-sensitively, so
	// the writers give the headers back as written. Nil when every such
	// header is in lower case.
	Headers map[string]map[string]string
	// Sheets keeps, in workbook order, the sheets other than survey,
	// choices and settings (external_choices, entities, osm, a changelog,
	// anything else) with their cells as read. dotm does not interpret
	// them; every writer gives them back, so xlsx -> dotm -> xlsx loses no
	// sheet.
	Sheets []Sheet

	// defaultInferred is set when the document gave no default_language
	// and DefaultLanguage was taken from Languages; the writers then leave
	// the setting out, as it was read (pyxform, unlike dotm, has no default
	// translation then).
	defaultInferred bool

	// emptyColumns are translated columns of the workbook without text in
	// any row (see Warnings).
	emptyColumns []emptyColumn

	c *compiled // built by Compile
}

// emptyColumn is a translated column a sheet has but leaves empty.
type emptyColumn struct{ sheet, header, base, lang string }

// Question is one row of the survey sheet, including begin/end group and
// repeat rows.
type Question struct {
	// Type is the type as written with its list name, e.g. "integer",
	// "select_one yes_no", "begin repeat".
	Type string
	Name string
	// Label, Hint, RequiredMessage and ConstraintMessage are translated:
	// language code -> text.
	Label, Hint, RequiredMessage, ConstraintMessage Text
	// Required is "yes"/"true"/"true()" (or an expression); empty or "no"
	// is optional.
	Required string
	// Relevant, Constraint, Calculation, ChoiceFilter and RepeatCount are
	// expressions in the ODK XPath subset (see Parse).
	Relevant, Constraint, Calculation, ChoiceFilter, RepeatCount string
	// Default, ReadOnly and Appearance are kept as written.
	Default, ReadOnly, Appearance string
	// Sensitivity is dotm's confidentiality class: "direct", "quasi",
	// "sensitive" or "" (none). A group's or repeat's class applies to its
	// questions that have none of their own.
	Sensitivity string
	// Extra keeps every other column, keyed by its header as written in
	// lower case (e.g. "media::image::english (en)", "guidance_hint").
	Extra map[string]string
	// Row is the 1-based spreadsheet row (or list position + 1 for YAML and
	// JSON) the question came from; 0 for questions built in code. It is not
	// encoded.
	Row int
}

// ChoiceRow is one row of the choices sheet.
type ChoiceRow struct {
	ListName string
	Name     string
	Label    Text
	// Extra keeps every other column (e.g. the columns a choice_filter
	// tests, such as "region"), keyed by lower-case header.
	Extra map[string]string
	// Row is the 1-based spreadsheet row (see Question.Row).
	Row int
}

// Sheet is a workbook sheet kept as read (see Form.Sheets).
type Sheet struct {
	// Name is the sheet's name as written.
	Name string
	// Rows holds the sheet's rows from the first (usually the header) as
	// text, each cell read as for the survey sheet (as pyxform reads it);
	// a row has no trailing empty cells and empty rows are empty slices,
	// so the cells keep their positions.
	Rows [][]string
}

// Text is a translated text: language code -> text. The code "" holds text
// from a column without a language.
type Text map[string]string

// In returns the text in language lang, falling back to def, to the
// untranslated text and then to any translation (the one of the smallest
// code, so the result is deterministic).
func (t Text) In(lang, def string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	if s, ok := t[def]; ok && s != "" {
		return s
	}
	if s, ok := t[""]; ok && s != "" {
		return s
	}
	best, found := "", false
	for code, s := range t {
		if s != "" && (!found || code < best) {
			best, found = code, true
		}
	}
	if found {
		return t[best]
	}
	return ""
}

// Field is one answerable item (a question, a calculation or metadata; not
// a group, a repeat or a note) as Fields lists it.
type Field struct {
	// Name is the question name (unique in the form).
	Name string
	// Type is the base type: "integer", "decimal", "text", "select_one",
	// "select_multiple", "date", "datetime", "time", "geopoint",
	// "calculate", "acknowledge", or a metadata or media type ("start",
	// "end", "today", "deviceid", "image", ...).
	Type string
	// ListName is the choice list of a select.
	ListName string
	// Repeat is the name of the innermost enclosing repeat, "" at top level.
	Repeat string
	// Repeats lists every enclosing repeat, outermost first (nil at top
	// level); the last element equals Repeat.
	Repeats []string
	// Sensitivity is "direct", "quasi", "sensitive" or "" (inherited from
	// the enclosing group or repeat when the question has none).
	Sensitivity string
	// Labels maps a language code to the label.
	Labels map[string]string
	// Choices are the select's choices in list order.
	Choices []Choice
	// Required reports a static required (yes/true); a question required by
	// an expression reports false here and is checked by Validate.
	Required bool
}

// Choice is one choice of a list.
type Choice struct {
	Name   string
	Labels map[string]string
}

// ErrLegacyXLS refuses a workbook in the Excel 97-2003 format (.xls), which
// dotm does not read, and says how to convert it.
var ErrLegacyXLS = errors.New("questionnaire: this is a legacy Excel 97-2003 workbook (.xls), which dotm does not read: " +
	"open it in Excel or LibreOffice Calc and save it as an Excel workbook (.xlsx), " +
	"or run libreoffice --headless --convert-to xlsx FORM.xls, then load the .xlsx (its sheets, columns and cells stay as they are)")

// oleMagic starts every OLE2 compound file, the container of .xls
// workbooks.
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// Decode reads a form from bytes; format is "xlsx", "yaml" (or "yml") or
// "json". The form is compiled: every expression parsed, every reference
// and choice list checked. Errors name the sheet, row and column.
func Decode(data []byte, format string) (*Form, error) {
	var (
		f   *Form
		err error
	)
	format = strings.ToLower(strings.TrimPrefix(format, "."))
	if format == "xls" || format == "xlsx" && bytes.HasPrefix(data, oleMagic) {
		return nil, ErrLegacyXLS
	}
	switch format {
	case "xlsx":
		f, err = decodeXLSX(data)
	case "yaml", "yml":
		f, err = decodeYAML(data)
	case "json":
		f, err = decodeJSON(data)
	default:
		return nil, fmt.Errorf("questionnaire: unknown form format %q (want xlsx, yaml or json)", format)
	}
	if err != nil {
		return nil, err
	}
	if err := f.Compile(); err != nil {
		return nil, err
	}
	return f, nil
}

// Load reads a form from the file at path; the format comes from the
// extension (.xlsx, .yaml, .yml, .json).
func Load(path string) (*Form, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("questionnaire: %w", err)
	}
	f, err := Decode(data, filepath.Ext(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return f, nil
}

// Fields lists every answerable item (not groups, repeats or notes) in form
// order, flattened.
func (f *Form) Fields() []Field {
	if f.c == nil {
		return nil
	}
	out := make([]Field, 0, len(f.c.fields))
	for _, it := range f.c.fields {
		out = append(out, it.field(f.c))
	}
	return out
}

// Repeats lists the names of the form's repeats in form order.
func (f *Form) Repeats() []string {
	if f.c == nil {
		return nil
	}
	var out []string
	for _, it := range f.c.all {
		if it.kind == kindRepeat {
			out = append(out, it.q.Name)
		}
	}
	return out
}

// ValidateOptions tune Validate.
type ValidateOptions struct {
	// Lang is the language of constraint and required messages; "" means
	// the form's default language.
	Lang string
	// Now is what today() and now() return (the server passes the
	// submission's ended_at). The zero time is used as is.
	Now time.Time
}

// Problem is one thing wrong with a submission's answers.
type Problem struct {
	// Path locates the answer: "age", "members[2].age" (0-based index into
	// the repeat), "migrants" for a whole repeat.
	Path string `json:"path"`
	// Code is one of required, type, choice, constraint, not_relevant,
	// repeat_count, unknown_field.
	Code string `json:"code"`
	// Message explains the problem in the requested language where the form
	// provides one (constraint_message, required_message).
	Message string `json:"message"`
	// Cause is the path of the problem this one follows from, "" when it
	// is a root cause: the relevance, required, constraint, choice_filter
	// or repeat_count expression that produced it read an answer (directly
	// or through calculations and non-relevant questions) that has a
	// problem itself. It names the root cause, never another consequence.
	Cause string `json:"cause,omitempty"`
}

// Problem codes.
const (
	CodeRequired     = "required"
	CodeType         = "type"
	CodeChoice       = "choice"
	CodeConstraint   = "constraint"
	CodeNotRelevant  = "not_relevant"
	CodeRepeatCount  = "repeat_count"
	CodeUnknownField = "unknown_field"
)

// Submission is the envelope a tablet posts.
type Submission struct {
	InstanceID  string         `json:"instance_id"`
	FormID      string         `json:"form_id"`
	FormVersion string         `json:"form_version"`
	StartedAt   time.Time      `json:"started_at"`
	EndedAt     time.Time      `json:"ended_at"`
	Answers     map[string]any `json:"answers"`
}

// MediaFile is a media question's answer: the name of a file the client
// sends with the submission (a photo, a recording, a file, an audit log).
type MediaFile struct {
	// Path locates the answer as Problem.Path does: "photo",
	// "members[1].photo".
	Path string
	// Type is the question's type: image, audio, video, file,
	// background-audio or audit.
	Type string
	// Name is the file name, the answer.
	Name string
}

// mediaTypes are the question types whose answer names a file sent with
// the submission.
var mediaTypes = map[string]bool{"image": true, "audio": true, "video": true, "file": true, "background-audio": true, "audit": true}

// MediaFiles lists the files that answers (a submission's, keyed as
// Validate takes them) name in media questions, in form order; unanswered
// media questions and answers that are not strings are left out (Validate
// reports those).
func (f *Form) MediaFiles(answers map[string]any) []MediaFile {
	if f.c == nil {
		return nil
	}
	var out []MediaFile
	var walk func(level *item, m map[string]any, prefix string)
	walk = func(level *item, m map[string]any, prefix string) {
		for _, it := range f.c.members[level] {
			v, ok := m[it.key]
			if !ok {
				continue
			}
			switch {
			case it.kind == kindRepeat:
				list, _ := v.([]any)
				for i, x := range list {
					if im, ok := x.(map[string]any); ok {
						walk(it, im, prefix+it.key+"["+strconv.Itoa(i)+"].")
					}
				}
			case it.kind == kindField && mediaTypes[it.base]:
				if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
					out = append(out, MediaFile{Path: prefix + it.key, Type: it.base, Name: strings.TrimSpace(s)})
				}
			}
		}
	}
	walk(nil, answers, "")
	return out
}
