package dotm

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// IDPattern is what survey, form and assignment ids may look like: short,
// printable, safe in a URL path and a file name.
var IDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// IDRule says IDPattern in words, for problems.
const IDRule = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"

// ValidID reports whether s is a valid survey, form, PSU, household or
// enumerator id (one pattern for all).
func ValidID(s string) bool { return IDPattern.MatchString(s) }

var langPattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// NewSurvey checks a survey's fields and makes the record that CreateSurvey
// stores; the CLI and the API both use it.
func NewSurvey(id, country, title string, languages []string, by string, now time.Time) (Survey, error) {
	var problems []Problem
	if !IDPattern.MatchString(id) {
		problems = append(problems, Problem{Path: "id", Code: "format", Message: "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"})
	}
	if strings.TrimSpace(country) == "" || len(country) > 100 {
		problems = append(problems, Problem{Path: "country", Code: "required", Message: "the country (1 to 100 characters)"})
	}
	if len(title) > 200 {
		problems = append(problems, Problem{Path: "title", Code: "format", Message: "at most 200 characters"})
	}
	if len(languages) == 0 {
		problems = append(problems, Problem{Path: "languages", Code: "required", Message: "at least one language code, e.g. en"})
	}
	for i, l := range languages {
		if !langPattern.MatchString(l) {
			problems = append(problems, Problem{Path: "languages[" + strconv.Itoa(i) + "]", Code: "format", Message: "a language code such as en, es or pt-BR"})
		}
	}
	if problems != nil {
		return Survey{}, &Error{Code: EUNPROCESSABL, Message: "invalid survey", Problems: problems}
	}
	return Survey{ID: id, Country: strings.TrimSpace(country), Title: title, Languages: languages, CreatedAt: now.UTC().Truncate(time.Millisecond), CreatedBy: by}, nil
}
