package questionnaire

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Describe names the answer at path (a Problem.Path: "age",
// "members[2].sex", "members") for a person reading a problem: the
// question's label in lang (the form's default language when lang has
// none), preceded by the repeat entries that hold it, numbered from 1:
//
//	"Household member 3 (Rosa) › Sex of Rosa"   (values true)
//	"Household member 3 › Sex of household member 3"   (values false)
//
// With values, the label's ${name} references are filled from answers and
// an entry is named by its first direct-identifier text answer (a roster
// member's name), as the enumerator's own tablet shows them. Without,
// no answer value is written, for text that leaves the tablet (the API's
// problem documents): a reference reads as the entry that holds the answer.
// A reference to an empty answer reads the same way ("Sex of household
// member 3" until a name is given), or "…" outside a repeat.
//
// A path naming no question of the form is returned as it is.
func (f *Form) Describe(path string, answers map[string]any, lang string, values bool) string {
	if f.c == nil {
		return path
	}
	type entry struct {
		rep  *item
		idx  int
		m    map[string]any
		name string // "Household member 3"
	}
	var entries []entry
	m := answers
	rest := path
	var last, level *item // level: the repeat whose entry the segment is in (nil: top)
	for rest != "" {
		seg := rest
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		name, idx := seg, -1
		if open := strings.IndexByte(seg, '['); open > 0 && strings.HasSuffix(seg, "]") {
			n, err := strconv.Atoi(seg[open+1 : len(seg)-1])
			if err != nil || n < 0 {
				return path
			}
			name, idx = seg[:open], n
		}
		// a segment is an answer key of its level: a name, or a group
		// path ("head/age") where the name repeats at that level
		it := f.c.keys[level][name]
		if it == nil {
			it = f.c.byName[name]
		}
		if it == nil {
			return path
		}
		last, level = it, it
		if idx < 0 {
			if rest != "" {
				return path
			}
			break
		}
		var inst map[string]any
		if list, ok := m[name].([]any); ok && idx < len(list) {
			inst, _ = list[idx].(map[string]any)
		}
		e := entry{rep: it, idx: idx, m: inst, name: strings.TrimSpace(f.label(it, lang) + " " + strconv.Itoa(idx+1))}
		entries = append(entries, e)
		m = inst
	}
	if last == nil {
		return path
	}
	// the entry a reference from inside it stands for
	phrase := func() string {
		if len(entries) == 0 {
			return "…"
		}
		return lowerFirst(entries[len(entries)-1].name)
	}
	lookup := func(ref string) string {
		it := f.c.byName[ref]
		if !values || it == nil {
			return phrase()
		}
		var v any
		for k := len(entries) - 1; k >= 0 && v == nil; k-- {
			if entries[k].m != nil {
				v = entries[k].m[it.key]
			}
		}
		if v == nil && answers != nil {
			v = answers[it.key]
		}
		if s := answerText(v); s != "" {
			return s
		}
		return phrase()
	}
	var parts []string
	for _, e := range entries {
		s := e.name
		if values && e.m != nil {
			if who := entryName(f.c, e.rep, e.m); who != "" {
				s += " (" + who + ")"
			}
		}
		parts = append(parts, s)
	}
	if len(entries) == 0 || entries[len(entries)-1].rep != last {
		q := labelRefRE.ReplaceAllStringFunc(f.label(last, lang), func(s string) string {
			return lookup(labelRefRE.FindStringSubmatch(s)[1])
		})
		if strings.TrimSpace(q) == "" {
			q = last.q.Name
		}
		parts = append(parts, q)
	}
	return strings.Join(parts, " › ")
}

// labelRefRE finds a ${name} reference in a label.
var labelRefRE = regexp.MustCompile(`\$\{\s*([^}\s]*)\s*\}`)

// label is the item's label in lang, else the form's default language;
// its name when it has none.
func (f *Form) label(it *item, lang string) string {
	if s := it.q.Label.In(lang, f.DefaultLanguage); s != "" {
		return s
	}
	return it.q.Name
}

// entryName is the name a repeat entry goes by: its first answered text
// question of direct sensitivity (a roster member's first name).
func entryName(c *compiled, rep *item, m map[string]any) string {
	for _, it := range c.members[rep] {
		if it.kind == kindField && it.base == "text" && it.sens == "direct" {
			if s, ok := m[it.key].(string); ok && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}

// answerText is an answer as a label shows it: a select_multiple's names
// joined by spaces, numbers as written.
func answerText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case []string:
		return strings.Join(x, " ")
	case []any:
		var parts []string
		for _, e := range x {
			if s := answerText(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// lowerFirst lower-cases the first letter of a phrase that continues a
// sentence ("Household member 3" → "household member 3"), leaving
// acronyms ("EA 3") alone.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsUpper(r) {
		return s
	}
	if r2, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(r2) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// TitleIn is the form's title in lang: a setting form_title::Language (code)
// (or title::…) for that language, else form_title.
func (f *Form) TitleIn(lang string) string {
	if lang == "" {
		return f.Title
	}
	for k, v := range f.Settings {
		k = strings.ToLower(k)
		for _, base := range []string{"form_title::", "title::"} {
			if rest, ok := strings.CutPrefix(k, base); ok {
				if code, _ := parseLanguage(rest); strings.EqualFold(code, lang) && strings.TrimSpace(v) != "" {
					return v
				}
			}
		}
	}
	return f.Title
}
