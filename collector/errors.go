package collector

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
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

var statusOf = map[Code]int{
	EINVALID:      http.StatusBadRequest,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	ENOTFOUND:     http.StatusNotFound,
	ECONFLICT:     http.StatusConflict,
	EMETHOD:       http.StatusMethodNotAllowed,
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	EUNPROCESSABL: http.StatusUnprocessableEntity,
	ERATELIMIT:    http.StatusTooManyRequests,
	ERANGE:        http.StatusRequestedRangeNotSatisfiable,
	EUNAVAILABLE:  http.StatusServiceUnavailable,
	EINTERNAL:     http.StatusInternalServerError,
}

// Problem is one field-level complaint inside a 422 answer.
type Problem struct {
	Path    string `json:"path"`
	Code    string `json:"code"`
	Message string `json:"message"`
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

func (e *Error) Error() string {
	if e.Err != nil {
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

// problemDoc is the RFC 9457 body.
type problemDoc struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// ProblemsTotal is set when Problems lists only the first MaxProblems.
	ProblemsTotal int       `json:"problems_total,omitempty"`
	Problems      []Problem `json:"problems,omitempty"`
}

// fail records err on the request and stops the handler chain; the
// error-mapping middleware writes the answer.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// mapErrors is the one place where errors become HTTP answers.
func mapErrors(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 || c.Writer.Written() {
			return
		}
		writeProblem(c, logger, c.Errors.Last().Err)
	}
}

func writeProblem(c *gin.Context, logger *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Code: EINTERNAL, Err: err}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	doc := problemDoc{
		Type:      "urn:dotm:problem:" + string(e.Code),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    e.Message,
		Instance:  c.Request.URL.Path,
		RequestID: c.GetString(ctxRequestID),
	}
	doc.Problems, doc.ProblemsTotal = capProblems(e.Problems)
	if len(doc.Detail) > maxDetail {
		doc.Detail = doc.Detail[:maxDetail] + "…"
	}
	if status >= 500 {
		// The log has the cause; the client gets nothing internal.
		logger.LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("request_id", c.GetString(ctxRequestID)),
			slog.String("route", c.FullPath()),
			slog.String("error", err.Error()))
		if e.Code == EINTERNAL {
			doc.Detail = "internal error; the server log has request " + doc.RequestID
		}
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	body, _ := json.Marshal(doc)
	c.Data(status, "application/problem+json", body)
}

// MaxProblems is the most problems one answer lists; problems_total then
// says how many there were.
const MaxProblems = 100

// maxDetail bounds a problem document's detail (bytes).
const maxDetail = 2000

// capProblems returns the first MaxProblems of ps and, when it cut, the
// whole count.
func capProblems(ps []Problem) ([]Problem, int) {
	if len(ps) <= MaxProblems {
		return ps, 0
	}
	return ps[:MaxProblems], len(ps)
}
