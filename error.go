package dotm

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error; the HTTP layer maps each code to one status.
type Code string

// The error codes. Storage implementations return *Error values with these
// codes (ENOTFOUND for a missing document, ECONFLICT for a duplicate key).
const (
	EINVALID      Code = "invalid"               // malformed request: 400
	EUNAUTHORIZED Code = "unauthorized"          // no or bad credentials: 401
	EFORBIDDEN    Code = "forbidden"             // credentials fine, role not: 403
	ENOTFOUND     Code = "not_found"             // 404
	ECONFLICT     Code = "conflict"              // 409
	EMETHOD       Code = "method_not_allowed"    // 405
	ETOOLARGE     Code = "too_large"             // 413
	EUNPROCESSABL Code = "unprocessable"         // well-formed but invalid content: 422
	ERATELIMIT    Code = "rate_limited"          // 429
	ERANGE        Code = "range_not_satisfiable" // 416
	EUNAVAILABLE  Code = "unavailable"           // the database is down: 503
	EINTERNAL     Code = "internal"              // 500, never with detail
)

// Problem is one field-level complaint inside a 422 answer. Cause is the
// path of the problem this one follows from ("" for a root cause): roots
// come first, and a client may show the others folded under them.
type Problem struct {
	Path string `json:"path"`
	// Label names Path for a person ("Household member 2 › Age in
	// completed years"), when the path is an answer of a form.
	Label   string `json:"label,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Cause   string `json:"cause,omitempty"`
}

// Field is the request field a problem is about: its path up to the first
// index or member ("languages" for "languages[2]", "quota" for
// "quota.non_migrant").
func (p Problem) Field() string {
	if i := strings.IndexAny(p.Path, "[."); i >= 0 {
		return p.Path[:i]
	}
	return p.Path
}

// Error is an error with a Code and a message safe to show a client.
type Error struct {
	Code     Code
	Message  string    // shown to the client; must not contain answer values
	Problems []Problem // field-level detail for EUNPROCESSABL
	// RetryAfter, in seconds, for ERATELIMIT and EUNAVAILABLE.
	RetryAfter int
	Err        error // cause, logged, never shown
}

// Error is the code, the message and the cause, unless the message already
// says the cause (Message: "survey x: " + err.Error(), Err: err).
func (e *Error) Error() string {
	if e.Err != nil && !strings.Contains(e.Message, e.Err.Error()) {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a formatted client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// MaxProblems is the most problems one answer lists; problems_total then
// says how many there were.
const MaxProblems = 100
