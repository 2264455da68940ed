//go:build !js

package questionnaire

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// Warnings lists what pyxform warns about in a form it accepts, without
// refusing it: a language without a machine-readable code (ODK Collect
// matches the form's languages to the device's by code), a translatable
// column one language has and another lacks, a repeat without a label
// (Collect shows its name when it offers a new entry), a choice without a
// label, a translated column of the workbook that is empty. Each names the sheet, row (0 for a whole column) and column.
func (f *Form) Warnings() FormErrors {
	if f.c == nil {
		return nil
	}
	var out FormErrors
	warn := func(sheet string, row int, col, format string, args ...any) {
		out = append(out, &FormError{Sheet: sheet, Row: row, Column: col, Err: fmt.Errorf(format, args...)})
	}
	for _, code := range f.Languages {
		if code == "" || strings.EqualFold(code, "default") {
			continue
		}
		name := f.LanguageNames[code]
		col := "label::" + code
		if name != "" && name != code {
			col = "label::" + name + " (" + code + ")"
		}
		if name == "" || name == code {
			warn("survey", 0, col, "language %q has no machine-readable code: write it as %s (xx) with its IANA language code, e.g. English (en), so that ODK Collect can match it to the device's language", code, code)
			continue
		}
		if _, err := language.Parse(code); err != nil {
			warn("survey", 0, col, "language %s: %q is not a known IANA language code (en, fr, sw, es-419, …)", name, code)
		}
	}
	surveyCols := map[string]map[string]bool{} // language -> translatable columns it has
	for i := range f.Survey {
		q := &f.Survey[i]
		for base, t := range map[string]Text{"label": q.Label, "hint": q.Hint, "constraint_message": q.ConstraintMessage, "required_message": q.RequiredMessage} {
			for lang := range t {
				if surveyCols[lang] == nil {
					surveyCols[lang] = map[string]bool{}
				}
				surveyCols[lang][base] = true
			}
		}
	}
	choiceCols := map[string]map[string]bool{}
	for i := range f.Choices {
		for lang := range f.Choices[i].Label {
			if choiceCols[lang] == nil {
				choiceCols[lang] = map[string]bool{}
			}
			choiceCols[lang]["label"] = true
		}
	}
	missing := func(sheet string, cols map[string]map[string]bool) {
		if len(cols) < 2 {
			return
		}
		all := map[string]bool{}
		for _, bases := range cols {
			for b := range bases {
				all[b] = true
			}
		}
		langs := make([]string, 0, len(cols))
		for l := range cols {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		for _, l := range langs {
			var lack []string
			for b := range all {
				if !cols[l][b] {
					lack = append(lack, b)
				}
			}
			sort.Strings(lack)
			name := l
			if name == "" {
				name = "default"
			} else if n := f.LanguageNames[l]; n != "" {
				name = n
			}
			for _, b := range lack {
				if f.hasEmptyColumn(sheet, b, l) {
					continue // warned below as an empty column
				}
				col := b
				if l != "" {
					col = b + "::" + name
				}
				warn(sheet, 0, col, "language %q has no %s column, which the form's other languages have", name, b)
			}
		}
	}
	missing("survey", surveyCols)
	missing("choices", choiceCols)
	for _, c := range f.emptyColumns {
		name := c.lang
		if n := f.LanguageNames[c.lang]; n != "" {
			name = n
		}
		warn(c.sheet, 0, c.header, "column %s is empty: language %q has no %s text in it (pyxform reads an empty column as a missing translation; ODK Collect shows the default language's text, or nothing)", c.header, name, c.base)
	}
	for _, it := range f.c.all {
		if it.kind == kindRepeat && !hasText(it.q.Label) {
			warn("survey", it.q.Row, "label", "repeat %q has no label: ODK Collect shows its name when it offers to add an entry", it.q.Name)
		}
	}
	for i := range f.Choices {
		ch := &f.Choices[i]
		if !hasText(ch.Label) {
			warn("choices", ch.Row, "label", "choice %q of list %q has no label: ODK Collect shows its name", ch.Name, ch.ListName)
		}
	}
	return out
}

// hasEmptyColumn reports whether the sheet has the translated column base
// of language code lang, empty.
func (f *Form) hasEmptyColumn(sheet, base, lang string) bool {
	for _, c := range f.emptyColumns {
		if c.sheet == sheet && c.base == base && c.lang == lang {
			return true
		}
	}
	return false
}

func hasText(t Text) bool {
	for _, s := range t {
		if strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}
