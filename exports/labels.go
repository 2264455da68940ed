package exports

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Country is one ISO 3166-1 country.
type Country struct {
	Alpha2     string // e.g. "ES"
	Alpha3     string // e.g. "ESP"
	Numeric    int    // e.g. 724
	Name       string // English short name, as ISO 3166-1 gives it
	CommonName string // the usual English name where it differs ("Bolivia"), else ""
}

// countryAliases are names surveys use for countries whose ISO short name
// differs (besides the common names ISO's own list gives).
var countryAliases = map[string]string{
	"russia": "RUS", "usa": "USA", "us": "USA", "united_states_of_america": "USA", "america": "USA",
	"uk": "GBR", "great_britain": "GBR", "britain": "GBR", "england": "GBR",
	"north_korea": "PRK", "ivory_coast": "CIV", "czech_republic": "CZE", "turkey": "TUR", "turkiye": "TUR",
	"vietnam": "VNM", "laos": "LAO", "syria": "SYR", "moldova": "MDA", "tanzania": "TZA",
	"drc": "COD", "dr_congo": "COD", "democratic_republic_of_the_congo": "COD", "democratic_republic_of_congo": "COD",
	"congo_kinshasa": "COD", "congo_brazzaville": "COG", "republic_of_the_congo": "COG",
	"palestine": "PSE", "macedonia": "MKD", "swaziland": "SWZ", "burma": "MMR", "cape_verde": "CPV",
	"holland": "NLD", "the_netherlands": "NLD", "brunei": "BRN", "vatican": "VAT", "micronesia": "FSM",
	"south_korea": "KOR", "korea": "KOR", "iran": "IRN", "venezuela": "VEN", "bolivia": "BOL", "taiwan": "TWN",
	"the_gambia": "GMB", "gambia": "GMB", "bahamas": "BHS", "the_bahamas": "BHS", "east_timor": "TLS",
	"uae": "ARE", "emirates": "ARE", "saudi": "SAU", "hong_kong": "HKG", "macau": "MAC",
}

var countryIndex = func() map[string]int {
	idx := map[string]int{}
	put := func(key string, i int) {
		if _, ok := idx[key]; !ok && key != "" {
			idx[key] = i
		}
	}
	byAlpha3 := map[string]int{}
	for i, c := range iso3166 {
		byAlpha3[c.Alpha3] = i
		put(countryKey(c.Name), i)
		put(countryKey(c.CommonName), i)
	}
	for alias, a3 := range countryAliases {
		put(alias, byAlpha3[a3])
	}
	// "Bolivia, Plurinational State of" is also "Bolivia", unless two
	// countries share the part before the comma ("Korea, …", "Congo, …").
	prefix := map[string][]int{}
	for i, c := range iso3166 {
		if head, _, ok := strings.Cut(c.Name, ","); ok {
			prefix[countryKey(head)] = append(prefix[countryKey(head)], i)
		}
	}
	for k, is := range prefix {
		if len(is) == 1 {
			put(k, is[0])
		}
	}
	return idx
}()

var foldAccents = strings.NewReplacer("á", "a", "à", "a", "â", "a", "ä", "a", "ã", "a", "å", "a", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i", "ó", "o", "ò", "o", "ô", "o", "ö", "o", "õ", "o", "ú", "u", "ù", "u", "û", "u", "ü", "u",
	"ç", "c", "ñ", "n", "'", "", "’", "")

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// countryKey is a name reduced to lower-case ASCII words joined by "_".
func countryKey(s string) string {
	s = foldAccents.Replace(strings.ToLower(strings.TrimSpace(s)))
	return strings.Trim(nonAlnum.ReplaceAllString(s, "_"), "_")
}

// LookupCountry finds the country that s names: an ISO 3166-1 alpha-2 or
// alpha-3 code in capitals ("ES", "ESP"), or a name in any case, spacing
// and punctuation: the ISO short name, its common name, the part before a
// comma when only one country has it, or a usual alias ("russia",
// "ivory_coast", "uk"). Lower-case two- and three-letter words are names,
// never codes, so that a choice called "no" is not Norway.
func LookupCountry(s string) (Country, bool) {
	s = strings.TrimSpace(s)
	if n := len(s); (n == 2 || n == 3) && strings.ToUpper(s) == s {
		for _, c := range iso3166 {
			if c.Alpha2 == s || c.Alpha3 == s {
				return c, true
			}
		}
	}
	if i, ok := countryIndex[countryKey(s)]; ok {
		return iso3166[i], true
	}
	return Country{}, false
}

// notCountries are choices a country list may have besides countries.
var notCountries = map[string]bool{"other": true, "other_country": true, "others": true, "dont_know": true, "do_not_know": true,
	"refused": true, "none": true, "unknown": true, "stateless": true, "not_applicable": true, "na": true, "": true}

// Labels of the 0/1 codes of yes/no and indicator columns.
var (
	noLabel  = map[string]string{"en": "No"}
	yesLabel = map[string]string{"en": "Yes"}
)

// YesNoChoices are the value labels of a 0/1 column: 0 = No, 1 = Yes.
func YesNoChoices() []Choice {
	return []Choice{{Name: "0", Labels: noLabel}, {Name: "1", Labels: yesLabel}}
}

// StandardizeCodes gives the columns of ds the coding a researcher's tools
// expect, in place, without changing what any value says:
//
//   - a yes/no question (its choices are exactly yes and no, or, without
//     choices, every value is yes or no) becomes an integer column, 1 for
//     yes and 0 for no, labelled as the form labels its choices: the same
//     type as the derived indicators (remit_received, bank_account, …), in
//     every table;
//   - a boolean column becomes such a 0/1 integer column, labelled No/Yes;
//   - a column whose choices name countries (at least two, every other
//     choice being "other", "dont_know" and the like) stores their ISO
//     3166-1 alpha-3 codes instead of the choice names, labelled with the
//     ISO English name (the form's labels in other languages are kept).
//
// The dataset step calls it when it builds the tables, so that disclosure
// control, the release and its tests see the same values.
func StandardizeCodes(ds *Dataset) {
	for _, t := range ds.Tables {
		for _, c := range t.Columns {
			switch {
			case c.Type == Bool:
				boolToInt(c)
			case c.Type == String && isYesNo(c):
				yesNoToInt(c)
			case c.Type == String && !c.Meta.Multiple:
				countriesToISO(c)
			}
		}
	}
}

func boolToInt(c *Column) {
	c.Ints = make([]int64, len(c.Bools))
	for i, b := range c.Bools {
		if b {
			c.Ints[i] = 1
		}
	}
	c.Bools, c.Type = nil, Int
	c.Meta.Choices = YesNoChoices()
}

// isYesNo: choices exactly yes and no, or no choices and every value yes or no.
func isYesNo(c *Column) bool {
	if c.Meta.Multiple {
		return false
	}
	if len(c.Meta.Choices) > 0 {
		if len(c.Meta.Choices) != 2 {
			return false
		}
		a, b := strings.ToLower(c.Meta.Choices[0].Name), strings.ToLower(c.Meta.Choices[1].Name)
		if !(a == "yes" && b == "no" || a == "no" && b == "yes") {
			return false
		}
	}
	some := false
	for i, s := range c.Strings {
		if c.IsNull(i) {
			continue
		}
		if l := strings.ToLower(s); l != "yes" && l != "no" {
			return false
		}
		some = true
	}
	return some || len(c.Meta.Choices) > 0
}

func yesNoToInt(c *Column) {
	choices := YesNoChoices()
	for _, ch := range c.Meta.Choices {
		if len(ch.Labels) == 0 {
			continue
		}
		if strings.EqualFold(ch.Name, "yes") {
			choices[1].Labels = ch.Labels
		} else {
			choices[0].Labels = ch.Labels
		}
	}
	c.Ints = make([]int64, len(c.Strings))
	for i, s := range c.Strings {
		if !c.IsNull(i) && strings.EqualFold(s, "yes") {
			c.Ints[i] = 1
		}
	}
	c.Strings, c.Type = nil, Int
	c.Meta.Choices = choices
	c.Meta.Transforms = append(c.Meta.Transforms, "coded 1 for yes, 0 for no")
}

// countriesToISO recodes a column whose choices are countries.
func countriesToISO(c *Column) {
	if len(c.Meta.Choices) < 2 {
		return
	}
	code := map[string]Country{}
	for _, ch := range c.Meta.Choices {
		if country, ok := LookupCountry(ch.Name); ok {
			code[ch.Name] = country
			continue
		}
		if country, ok := LookupCountry(ch.Labels["en"]); ok && ch.Labels["en"] != "" {
			code[ch.Name] = country
			continue
		}
		if !notCountries[countryKey(ch.Name)] {
			return
		}
	}
	if len(code) < 2 {
		return
	}
	for i, s := range c.Strings {
		if country, ok := code[s]; ok && !c.IsNull(i) {
			c.Strings[i] = country.Alpha3
		}
	}
	var choices []Choice
	seen := map[string]bool{}
	for _, ch := range c.Meta.Choices {
		country, ok := code[ch.Name]
		if !ok {
			choices = append(choices, ch)
			continue
		}
		if seen[country.Alpha3] {
			continue // two choices for one country ("uk", "united_kingdom")
		}
		seen[country.Alpha3] = true
		labels := map[string]string{}
		for lang, l := range ch.Labels {
			labels[lang] = l
		}
		labels["en"] = country.Name
		choices = append(choices, Choice{Name: country.Alpha3, Labels: labels})
	}
	c.Meta.Choices = choices
	c.Meta.Transforms = append(c.Meta.Transforms, "countries coded as ISO 3166-1 alpha-3, labelled with their ISO English names")
}

var indicatorName = regexp.MustCompile(`[^a-z0-9_]+`)

// withIndicators returns ds with, after every select_multiple column
// (Meta.Multiple), one 0/1 integer column per choice named COLUMN_CHOICE:
// 1 when the choice is among the answers, 0 when it is not, null where the
// answer is null (so suppression of the original carries over). The
// tables and columns of ds are not changed; a name already taken is an
// error naming both.
func withIndicators(ds *Dataset) (*Dataset, error) {
	out := *ds
	out.Tables = nil
	for _, t := range ds.Tables {
		nt := &Table{Name: t.Name}
		taken := map[string]bool{}
		for _, c := range t.Columns {
			taken[c.Name] = true
		}
		for _, c := range t.Columns {
			nt.Columns = append(nt.Columns, c)
			if !c.Meta.Multiple || c.Type != String {
				continue
			}
			for _, ch := range c.Meta.Choices {
				name := c.Name + "_" + strings.Trim(indicatorName.ReplaceAllString(strings.ToLower(ch.Name), "_"), "_")
				if taken[name] {
					return nil, fmt.Errorf("exports: table %s: the indicator of choice %q of %s would be called %s, which is taken", t.Name, ch.Name, c.Name, name)
				}
				taken[name] = true
				ind := &Column{Name: name, Type: Int, Ints: make([]int64, c.Len()), Nullable: c.Nullable,
					Meta: Meta{Sensitivity: c.Meta.Sensitivity, Source: "derived: 1 when " + ch.Name + " is among the answers to " + c.Name,
						Choices: YesNoChoices(), Question: map[string]string{}}}
				for lang, q := range c.Meta.Question {
					l := ch.Labels[lang]
					if l == "" {
						l = ch.Name
					}
					ind.Meta.Question[lang] = q + ": " + l
				}
				for i, s := range c.Strings {
					if c.IsNull(i) {
						ind.SetNull(i)
						continue
					}
					if slices.Contains(strings.Fields(s), ch.Name) {
						ind.Ints[i] = 1
					}
				}
				nt.Columns = append(nt.Columns, ind)
			}
		}
		out.Tables = append(out.Tables, nt)
	}
	return &out, nil
}

// variableLabel is a column's label for the researcher's tools (Stata's
// variable label, the Parquet field's dotm.label, DDI's labl): its
// description or Meta.Label, else its question in the first language, else
// its source.
func variableLabel(c *Column, langs []string) string {
	if d := designDescriptions[c.Name]; d != "" {
		return d
	}
	if c.Meta.Label != "" {
		return c.Meta.Label
	}
	if len(langs) > 0 && c.Meta.Question[langs[0]] != "" {
		return c.Meta.Question[langs[0]]
	}
	for _, lang := range sortedKeys(c.Meta.Question) {
		return c.Meta.Question[lang]
	}
	return c.Meta.Source
}

// choiceLabel is a value label in the first of langs that has one, else
// English, else any language, else the value itself.
func choiceLabel(ch Choice, langs []string) string {
	for _, lang := range append(slices.Clone(langs), "en") {
		if l := ch.Labels[lang]; l != "" {
			return l
		}
	}
	for _, lang := range sortedKeys(ch.Labels) {
		return ch.Labels[lang]
	}
	return ch.Name
}

// Field metadata keys of a released Parquet column (in the Arrow schema the
// file carries, where Arrow, pandas, polars and DuckDB read them).
const (
	FieldLabel       = "dotm.label"        // variable label
	FieldValueLabels = "dotm.value_labels" // JSON: [{"name": value, "labels": {lang: label}}]
	FieldSensitivity = "dotm.sensitivity"  // direct, quasi, sensitive or none
)

// fieldMetadata is what a released Parquet column says about itself.
func fieldMetadata(c *Column, langs []string) map[string]string {
	m := map[string]string{}
	if l := variableLabel(c, langs); l != "" {
		m[FieldLabel] = l
	}
	if len(c.Meta.Choices) > 0 {
		b, err := json.Marshal(c.Meta.Choices)
		if err == nil {
			m[FieldValueLabels] = string(b)
		}
	}
	s := c.Meta.Sensitivity
	if s == "" {
		s = "none"
	}
	m[FieldSensitivity] = s
	return m
}

// FormatNumber writes x as a person reads it: at most 12 significant
// digits, so that the noise of binary floating point does not show
// (0.1+0.2 is "0.3", not "0.30000000000000004"), without trailing zeros
// and without an exponent below 10¹².
func FormatNumber(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', 12, 64)
}
