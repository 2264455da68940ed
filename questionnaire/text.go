package questionnaire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The YAML and JSON form documents have the same shape:
//
//	settings:  {form_id: ..., version: ..., form_title: ..., default_language: en, ...}
//	languages: [{code: en, name: English}, {code: es, name: Español}]
//	survey:    [{type: integer, name: age, label: {en: Age, es: Edad}, constraint: ". <= 110", ...}, ...]
//	choices:   [{list_name: yes_no, name: "yes", label: {en: "Yes", es: "Sí"}}, ...]
//	sheets:    [{name: external_choices, rows: [[list_name, name, label], [city, dumont, Dumont]]}, ...]
//
// sheets holds the workbook sheets dotm keeps without interpreting them
// (Form.Sheets); it is left out when there are none.
//
// Survey and choices items use the XLSForm column names (any case, the same
// aliases as the spreadsheet); a translated column is a map from language
// code to text, or a plain string for an untranslated one; a key such as
// "label::English (en)" is accepted too.

func decodeYAML(data []byte) (*Form, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("questionnaire: yaml: %w", err)
	}
	return fromDocument(doc)
}

func decodeJSON(data []byte) (*Form, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("questionnaire: json: %w", err)
	}
	return fromDocument(doc)
}

// asMap turns a decoded YAML or JSON mapping into map[string]any with keys
// in lower case; ok is false for anything else.
func asMap(v any) (map[string]any, []string, bool) {
	out := map[string]any{}
	var keys []string
	switch m := v.(type) {
	case map[string]any:
		for k, x := range m {
			out[k] = x
			keys = append(keys, k)
		}
	case map[any]any:
		for k, x := range m {
			ks := scalarString(k)
			out[ks] = x
			keys = append(keys, ks)
		}
	default:
		return nil, nil, false
	}
	sort.Strings(keys)
	return out, keys, true
}

// scalarString writes a YAML/JSON scalar as the text a spreadsheet cell
// would hold.
func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return fmt.Sprint(x)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

func fromDocument(doc any) (*Form, error) {
	top, keys, ok := asMap(doc)
	if !ok {
		return nil, FormErrors{{Sheet: "(document)", Err: fmt.Errorf("a form document is a mapping with settings, languages, survey and choices")}}
	}
	b := newBuilder()
	var survey, choices any
	hasSurvey := false
	for _, k := range keys {
		v := top[k]
		switch strings.ToLower(k) {
		case "settings":
			m, mk, ok := asMap(v)
			if !ok && v != nil {
				b.fail("settings", 0, "", "settings must be a mapping")
				continue
			}
			for _, sk := range mk {
				if _, isMap := m[sk].(map[string]any); isMap {
					b.fail("settings", 0, sk, "a setting must be a single value")
					continue
				}
				b.setSetting(sk, scalarString(m[sk]))
			}
		case "languages":
			list, ok := v.([]any)
			if !ok && v != nil {
				b.fail("languages", 0, "", "languages must be a list of {code, name}")
				continue
			}
			for i, x := range list {
				m, _, ok := asMap(x)
				if !ok {
					b.fail("languages", i+1, "", "a language is {code: en, name: English}")
					continue
				}
				code := strings.TrimSpace(scalarString(m["code"]))
				if code == "" {
					b.fail("languages", i+1, "code", "a language needs a code")
					continue
				}
				b.addLanguage(code, strings.TrimSpace(scalarString(m["name"])))
			}
		case "survey":
			survey, hasSurvey = v, true
		case "choices":
			choices = v
		case "sheets":
			b.readSheets(v)
		}
	}
	if !hasSurvey {
		return nil, FormErrors{{Sheet: "survey", Err: errNoSurvey}}
	}
	b.readList("survey", survey, b.addQuestion)
	b.readList("choices", choices, b.addChoice)
	return b.finish()
}

// readSheets reads the document's kept sheets: a list of {name, rows},
// rows a list of lists of cells.
func (b *builder) readSheets(v any) {
	list, ok := v.([]any)
	if !ok {
		if v != nil {
			b.fail("sheets", 0, "", "sheets must be a list of {name, rows}")
		}
		return
	}
	for i, x := range list {
		m, _, ok := asMap(x)
		if !ok {
			b.fail("sheets", i+1, "", "a sheet is {name: external_choices, rows: [[list_name, name, label], ...]}")
			continue
		}
		name := scalarString(m["name"])
		if strings.TrimSpace(name) == "" {
			b.fail("sheets", i+1, "name", "a sheet needs a name")
			continue
		}
		var rows [][]string
		rs, ok := m["rows"].([]any)
		if !ok && m["rows"] != nil {
			b.fail("sheets", i+1, "rows", "rows must be a list of rows")
			continue
		}
		for j, r := range rs {
			cells, ok := r.([]any)
			if !ok && r != nil {
				b.fail("sheets", i+1, "rows", "row %d must be a list of cells", j+1)
				continue
			}
			row := make([]string, len(cells))
			for k, c := range cells {
				if _, isMap := c.(map[string]any); isMap {
					b.fail("sheets", i+1, "rows", "row %d, cell %d must be a single value", j+1, k+1)
				} else if _, isList := c.([]any); isList {
					b.fail("sheets", i+1, "rows", "row %d, cell %d must be a single value", j+1, k+1)
				}
				row[k] = scalarString(c)
			}
			rows = append(rows, row)
		}
		b.f.Sheets = append(b.f.Sheets, keptSheet(name, rows))
	}
}

func (b *builder) readList(sheet string, v any, add func(string, rawRow)) {
	if v == nil {
		return
	}
	list, ok := v.([]any)
	if !ok {
		b.fail(sheet, 0, "", "%s must be a list of rows", sheet)
		return
	}
	for i, x := range list {
		m, keys, ok := asMap(x)
		if !ok {
			b.fail(sheet, i+1, "", "a row must be a mapping of column to value")
			continue
		}
		r := rawRow{row: i + 1}
		seen := map[string]string{}
		for _, k := range keys {
			base, code, name := splitHeader(k)
			val := m[k]
			if tm, _, isMap := asMap(val); isMap {
				if !translatable[base] || code != "" {
					b.fail(sheet, i+1, k, "only label, hint, required_message and constraint_message take a map of language to text")
					continue
				}
				_, lkeys, _ := asMap(val)
				for _, lk := range lkeys {
					lc, ln := parseLanguage(lk)
					if ln != lc {
						b.addLanguage(lc, ln)
					}
					if s := scalarString(tm[lk]); s != "" {
						if prev, dup := seen[base+"::"+lc]; dup {
							b.fail(sheet, i+1, k, "duplicate column (same as %q)", prev)
							continue
						}
						seen[base+"::"+lc] = k
						r.cells = append(r.cells, cell{header: base + "::" + lk, base: base, lang: lc, value: s})
					}
				}
				continue
			}
			if _, isList := val.([]any); isList {
				b.fail(sheet, i+1, k, "a cell must be a single value")
				continue
			}
			s := strings.TrimSpace(scalarString(val))
			if s == "" {
				continue
			}
			if code != "" && name != code {
				b.addLanguage(code, name)
			}
			if prev, dup := seen[base+"::"+code]; dup {
				b.fail(sheet, i+1, k, "duplicate column (same as %q)", prev)
				continue
			}
			seen[base+"::"+code] = k
			r.cells = append(r.cells, cell{header: k, base: base, lang: code, value: s})
		}
		add(sheet, r)
	}
}

// ---- encoding ----

// kv is one entry of an ordered mapping.
type kv struct {
	k string
	v any
}

// ordered is a mapping that keeps its key order in YAML and JSON.
type ordered []kv

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (o ordered) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range o {
		var v yaml.Node
		if err := v.Encode(e.v); err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.k}, &v)
	}
	return n, nil
}

// textValue encodes a Text: a plain string when untranslated, else a map
// ordered as the form's languages.
func (f *Form) textValue(t Text) any {
	if len(t) == 0 {
		return nil
	}
	if len(t) == 1 {
		if s, ok := t[""]; ok {
			return s
		}
	}
	var o ordered
	done := map[string]bool{}
	for _, code := range f.Languages {
		if s, ok := t[code]; ok && s != "" {
			o = append(o, kv{code, s})
			done[code] = true
		}
	}
	var rest []string
	for code := range t {
		if !done[code] && t[code] != "" {
			rest = append(rest, code)
		}
	}
	sort.Strings(rest)
	for _, code := range rest {
		o = append(o, kv{code, t[code]})
	}
	return o
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// document builds the ordered YAML/JSON form document.
func (f *Form) document() ordered {
	var settings ordered
	for _, e := range []kv{{"form_id", f.ID}, {"version", f.Version}, {"form_title", f.Title}, {"default_language", f.defaultLanguageSetting()}} {
		if e.v != "" {
			settings = append(settings, e)
		}
	}
	for _, k := range sortedKeys(f.Settings) {
		settings = append(settings, kv{f.header("settings", k), f.Settings[k]})
	}
	doc := ordered{{"settings", settings}}
	var langs []any
	for _, code := range f.Languages {
		if code == "" {
			continue
		}
		l := ordered{{"code", code}}
		if n := f.LanguageNames[code]; n != "" {
			l = append(l, kv{"name", n})
		}
		langs = append(langs, l)
	}
	if len(langs) > 0 {
		doc = append(doc, kv{"languages", langs})
	}
	survey := make([]any, 0, len(f.Survey))
	for _, q := range f.Survey {
		var o ordered
		add := func(k string, v any) {
			switch x := v.(type) {
			case string:
				if x == "" {
					return
				}
			case nil:
				return
			}
			o = append(o, kv{k, v})
		}
		add("type", q.Type)
		add("name", q.Name)
		add("label", f.textValue(q.Label))
		add("hint", f.textValue(q.Hint))
		add("sensitivity", q.Sensitivity)
		add("required", q.Required)
		add("required_message", f.textValue(q.RequiredMessage))
		add("relevant", q.Relevant)
		add("constraint", q.Constraint)
		add("constraint_message", f.textValue(q.ConstraintMessage))
		add("calculation", q.Calculation)
		add("choice_filter", q.ChoiceFilter)
		add("repeat_count", q.RepeatCount)
		add("default", q.Default)
		add("read_only", q.ReadOnly)
		add("appearance", q.Appearance)
		for _, k := range sortedKeys(q.Extra) {
			add(f.header("survey", k), q.Extra[k])
		}
		survey = append(survey, o)
	}
	doc = append(doc, kv{"survey", survey})
	choices := make([]any, 0, len(f.Choices))
	for _, c := range f.Choices {
		o := ordered{{"list_name", c.ListName}, {"name", c.Name}}
		if l := f.textValue(c.Label); l != nil {
			o = append(o, kv{"label", l})
		}
		for _, k := range sortedKeys(c.Extra) {
			o = append(o, kv{f.header("choices", k), c.Extra[k]})
		}
		choices = append(choices, o)
	}
	doc = append(doc, kv{"choices", choices})
	if len(f.Sheets) > 0 {
		sheets := make([]any, len(f.Sheets))
		for i, sh := range f.Sheets {
			rows := sh.Rows
			if rows == nil {
				rows = [][]string{}
			}
			sheets[i] = ordered{{"name", sh.Name}, {"rows", rows}}
		}
		doc = append(doc, kv{"sheets", sheets})
	}
	return doc
}

// Encode writes the form as "xlsx", "yaml" (or "yml") or "json" (JSON is
// what the API serves to clients). Decode(Encode(f)) gives back the same
// rows and settings; only Row numbers are not kept.
func (f *Form) Encode(format string) ([]byte, error) {
	switch strings.ToLower(strings.TrimPrefix(format, ".")) {
	case "yaml", "yml":
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(f.document()); err != nil {
			return nil, fmt.Errorf("questionnaire: encode yaml: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("questionnaire: encode yaml: %w", err)
		}
		return b.Bytes(), nil
	case "json":
		b, err := json.MarshalIndent(f.document(), "", "  ")
		if err != nil {
			return nil, fmt.Errorf("questionnaire: encode json: %w", err)
		}
		return append(b, '\n'), nil
	case "xlsx":
		return encodeXLSX(f)
	}
	return nil, fmt.Errorf("questionnaire: unknown form format %q (want xlsx, yaml or json)", format)
}

// textLanguages lists the language codes used by the form's texts: the
// form's languages in order, then any other code found, sorted.
func (f *Form) textLanguages() []string {
	seen := map[string]bool{}
	var out []string
	for _, code := range f.Languages {
		if !seen[code] {
			seen[code] = true
			out = append(out, code)
		}
	}
	var rest []string
	note := func(t Text) {
		for code := range t {
			if !seen[code] {
				seen[code] = true
				rest = append(rest, code)
			}
		}
	}
	for _, q := range f.Survey {
		note(q.Label)
		note(q.Hint)
		note(q.RequiredMessage)
		note(q.ConstraintMessage)
	}
	for _, c := range f.Choices {
		note(c.Label)
	}
	sort.Strings(rest)
	return append(out, rest...)
}
