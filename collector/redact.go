package collector

import (
	"regexp"
	"strconv"
	"strings"
)

// Values the validator quotes in its messages: "quoted strings", "the number
// 2400", "the boolean true". The tablet shows those messages to the
// enumerator who typed the value; the server must not send them back in a
// problem document (which proxies, clients and support tickets keep), so it
// replaces them with what kind of value was wrong.
var (
	quotedValue  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	numberValue  = regexp.MustCompile(`the number [-+0-9.eE]+|the boolean (?:true|false)`)
	valueEchoing = map[string]bool{"type": true, "choice": true}
	someValues   = regexp.MustCompile(`a value(?:, a value)+`)
	// choiceCode is what a choice name looks like (yes, non_migrant, 2,
	// dk-98): lower case letters, digits, _ . -, and short.
	choiceCode = regexp.MustCompile(`^[a-z0-9_.-]{1,20}$`)
	digitRun   = regexp.MustCompile(`[0-9]{5}`)
)

// redactAnswerValues removes answer values from a validator message of a
// code that echoes them (type, choice), of any question, since a value can
// be an identifier typed in the wrong place; other messages (required,
// constraint messages written by the form's author) pass unchanged. The
// allowed values a choice problem lists are the form's choice names,
// written unquoted, and stay.
//
// A choice problem keeps the value given when it is not confidential: a
// choice name of the form's own lists (isChoice; e.g. one a choice_filter
// does not offer here), or a value written as a choice code is (lower case
// letters, digits, _ . -, at most 20, no run of 5 digits: "maybe", "3"),
// which is neither free text nor a name or an identifier number. So
// `consent: "maybe" is not one of: yes, no` stays as it is, and
// `region: "Ana Morales" is not one of: north, south` becomes
// `region: a value is not one of: north, south`. Questions that hold direct
// identifiers never quote their value (see questionnaire).
func redactAnswerValues(code, msg string, isChoice func(string) bool) string {
	if !valueEchoing[code] {
		return msg
	}
	msg = quotedValue.ReplaceAllStringFunc(msg, func(q string) string {
		if code == "choice" {
			if v, err := strconv.Unquote(q); err == nil && (isChoice != nil && isChoice(v) || choiceCode.MatchString(v) && !digitRun.MatchString(v)) {
				return q
			}
		}
		return "a value"
	})
	msg = someValues.ReplaceAllString(msg, "some values")
	return numberValue.ReplaceAllStringFunc(msg, func(s string) string {
		if strings.HasPrefix(s, "the number") {
			return "a number"
		}
		return "a boolean"
	})
}
