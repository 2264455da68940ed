package collector

import "regexp"

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
)

// redactAnswerValues removes answer values from a validator message of a
// code that echoes them (type, choice), of any question, since a value can
// be an identifier typed in the wrong place; other messages (required,
// constraint messages written by the form's author) pass unchanged. The
// allowed values a choice problem lists are the form's choice names,
// written unquoted, and stay: `region: "x" is not one of: north, south`
// becomes `region: a value is not one of: north, south`.
func redactAnswerValues(code, msg string) string {
	if !valueEchoing[code] {
		return msg
	}
	msg = quotedValue.ReplaceAllString(msg, "a value")
	msg = someValues.ReplaceAllString(msg, "some values")
	return numberValue.ReplaceAllStringFunc(msg, func(s string) string {
		if s[4] == 'n' {
			return "a number"
		}
		return "a boolean"
	})
}
