package collector

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
)

var statusOf = map[dotm.Code]int{
	dotm.EINVALID:      http.StatusBadRequest,
	dotm.EUNAUTHORIZED: http.StatusUnauthorized,
	dotm.EFORBIDDEN:    http.StatusForbidden,
	dotm.ENOTFOUND:     http.StatusNotFound,
	dotm.ECONFLICT:     http.StatusConflict,
	dotm.EMETHOD:       http.StatusMethodNotAllowed,
	dotm.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	dotm.EUNPROCESSABL: http.StatusUnprocessableEntity,
	dotm.ERATELIMIT:    http.StatusTooManyRequests,
	dotm.ERANGE:        http.StatusRequestedRangeNotSatisfiable,
	dotm.EUNAVAILABLE:  http.StatusServiceUnavailable,
	dotm.EINTERNAL:     http.StatusInternalServerError,
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
	ProblemsTotal int            `json:"problems_total,omitempty"`
	Problems      []dotm.Problem `json:"problems,omitempty"`
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

// errorStatus is err as a *dotm.Error (EINTERNAL when it is none) and
// the status its code maps to.
func errorStatus(err error) (*dotm.Error, int) {
	var e *dotm.Error
	if !errors.As(err, &e) {
		e = &dotm.Error{Code: dotm.EINTERNAL, Err: err}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return e, status
}

func writeProblem(c *gin.Context, logger *slog.Logger, err error) {
	e, status := errorStatus(err)
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
		if e.Code == dotm.EINTERNAL {
			doc.Detail = "internal error; the server log has request " + doc.RequestID
		}
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	body, _ := json.Marshal(doc)
	c.Data(status, "application/problem+json", body)
}

// maxDetail bounds a problem document's detail (bytes).
const maxDetail = 2000

// capProblems returns the first MaxProblems of ps and, when it cut, the
// whole count.
func capProblems(ps []dotm.Problem) ([]dotm.Problem, int) {
	if len(ps) <= dotm.MaxProblems {
		return ps, 0
	}
	return ps[:dotm.MaxProblems], len(ps)
}
