// Package client is the Go client of dotm's HTTP API (package collector),
// kept beside the server: the requests and answers are the domain's types
// (dotm.Envelope, dotm.BatchAnswer, dotm.ReviewRequest, …), declared once,
// and a problem answer comes back as the *dotm.Error the server mapped it
// from, with its Code, Message, Problems and RetryAfter. dotm demo,
// dotm loadtest and the CLI's calls through a running server use it.
//
// A Client is one signed-in user (a bearer token) and is safe for
// concurrent use.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dotm-survey/dotm"
)

// Client calls the API as one user.
type Client struct {
	base  string // e.g. http://127.0.0.1:8080, without the /api/v1 prefix
	token string
	http  *http.Client
}

// New returns a client of the server at base signed in with token; hc nil
// means a client with a two-minute timeout.
func New(base, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	return &Client{base: strings.TrimRight(base, "/"), token: token, http: hc}
}

// As returns a client of the same server signed in with another token.
func (c *Client) As(token string) *Client {
	return &Client{base: c.base, token: token, http: c.http}
}

// Response is a raw answer: what Send returns.
type Response struct {
	Status     int
	Body       []byte
	RetryAfter time.Duration // from the Retry-After header, 0 without one
}

// Send posts or gets path (under the server root) with body sent as
// contentType and returns the answer whatever its status: for callers
// that count statuses themselves (the load test). The error is a network
// or read failure only.
func (c *Client) Send(ctx context.Context, method, path string, body []byte, contentType string) (Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return Response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return Response{Status: resp.StatusCode}, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	r := Response{Status: resp.StatusCode, Body: b}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		r.RetryAfter = time.Duration(s) * time.Second
	}
	return r, nil
}

// Do sends body (JSON-encoded, unless it is []byte, sent as contentType)
// and decodes a 2xx JSON answer into out (when not nil). It returns the
// status; a non-2xx answer is a *dotm.Error (see Error).
func (c *Client) Do(ctx context.Context, method, path string, body any, contentType string, out any) (int, error) {
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return 0, fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		contentType = "application/json"
	}
	r, err := c.Send(ctx, method, path, raw, contentType)
	if err != nil {
		return r.Status, err
	}
	if r.Status/100 != 2 {
		return r.Status, Error(r)
	}
	if out != nil && len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, out); err != nil {
			return r.Status, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return r.Status, nil
}

// Download gets a file (not JSON) as bytes; a non-200 answer is a
// *dotm.Error.
func (c *Client) Download(ctx context.Context, path string) ([]byte, error) {
	r, err := c.Send(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, Error(r)
	}
	return r.Body, nil
}

// codeOf maps a status back to the code the server maps to it, for an
// answer without a problem document (a proxy's, say).
var codeOf = map[int]dotm.Code{
	http.StatusBadRequest:                   dotm.EINVALID,
	http.StatusUnauthorized:                 dotm.EUNAUTHORIZED,
	http.StatusForbidden:                    dotm.EFORBIDDEN,
	http.StatusNotFound:                     dotm.ENOTFOUND,
	http.StatusConflict:                     dotm.ECONFLICT,
	http.StatusMethodNotAllowed:             dotm.EMETHOD,
	http.StatusRequestEntityTooLarge:        dotm.ETOOLARGE,
	http.StatusUnprocessableEntity:          dotm.EUNPROCESSABL,
	http.StatusTooManyRequests:              dotm.ERATELIMIT,
	http.StatusRequestedRangeNotSatisfiable: dotm.ERANGE,
	http.StatusServiceUnavailable:           dotm.EUNAVAILABLE,
}

// problemType prefixes the code in a problem document's type.
const problemType = "urn:dotm:problem:"

// Error turns a non-2xx answer back into the *dotm.Error the server
// answered: the code from the problem document's type (or, without one,
// from the status), the detail as Message, the problems and Retry-After.
func Error(r Response) *dotm.Error {
	var doc struct {
		Type     string         `json:"type"`
		Detail   string         `json:"detail"`
		Problems []dotm.Problem `json:"problems"`
	}
	e := &dotm.Error{Code: dotm.EINTERNAL, RetryAfter: int(r.RetryAfter / time.Second)}
	if c, ok := codeOf[r.Status]; ok {
		e.Code = c
	}
	if json.Unmarshal(r.Body, &doc) == nil && strings.HasPrefix(doc.Type, problemType) {
		e.Code = dotm.Code(strings.TrimPrefix(doc.Type, problemType))
		e.Message, e.Problems = doc.Detail, doc.Problems
	} else {
		e.Message = strings.TrimSpace(string(r.Body))
		if len(e.Message) > 500 {
			e.Message = e.Message[:500] + "…"
		}
	}
	if e.Message == "" {
		e.Message = "HTTP " + strconv.Itoa(r.Status) + " " + http.StatusText(r.Status)
	}
	return e
}

// ---- typed calls, one per route the tools use ----

// Me is the signed-in user.
func (c *Client) Me(ctx context.Context) (dotm.User, error) {
	var u dotm.User
	_, err := c.Do(ctx, http.MethodGet, "/api/v1/me", nil, "", &u)
	return u, err
}

// SurveyRequest is the body of POST /api/v1/surveys.
type SurveyRequest struct {
	ID        string   `json:"id"`
	Country   string   `json:"country"`
	Title     string   `json:"title,omitempty"`
	Languages []string `json:"languages"`
}

// CreateSurvey creates a survey (ECONFLICT when the id exists).
func (c *Client) CreateSurvey(ctx context.Context, s SurveyRequest) (dotm.Survey, error) {
	var out dotm.Survey
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/surveys", s, "", &out)
	return out, err
}

// UploadForm uploads a form version to survey; contentType is
// application/yaml, application/json or the XLSX type.
func (c *Client) UploadForm(ctx context.Context, survey, contentType string, form []byte) (dotm.FormVersion, error) {
	var out dotm.FormVersion
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/surveys/"+url.PathEscape(survey)+"/forms", form, contentType, &out)
	return out, err
}

// UploadFormWithMedia uploads a form version with the media files it reads
// (select_one_from_file CSV/XML, pulldata() CSVs, csv-external files,
// label images) as multipart/form-data: formName is the form file's name
// (its extension gives the format), media maps file names, as the form
// writes them, to their bytes.
func (c *Client) UploadFormWithMedia(ctx context.Context, survey, formName string, form []byte, media map[string][]byte) (dotm.FormVersion, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("form", formName)
	if err != nil {
		return dotm.FormVersion{}, err
	}
	part.Write(form)
	names := make([]string, 0, len(media))
	for n := range media {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p, err := w.CreateFormFile("media", n)
		if err != nil {
			return dotm.FormVersion{}, err
		}
		p.Write(media[n])
	}
	if err := w.Close(); err != nil {
		return dotm.FormVersion{}, err
	}
	var out dotm.FormVersion
	_, err = c.Do(ctx, http.MethodPost, "/api/v1/surveys/"+url.PathEscape(survey)+"/forms", body.Bytes(), w.FormDataContentType(), &out)
	return out, err
}

// AddUser creates a user and returns its token, shown only this once.
func (c *Client) AddUser(ctx context.Context, name string, role dotm.Role, surveys []string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/users", map[string]any{"name": name, "role": role, "surveys": surveys}, "", &out)
	return out.Token, err
}

// DrawPSUs draws survey's first stage from a frame CSV; query holds n,
// seed, allocation and the frame's column names.
func (c *Client) DrawPSUs(ctx context.Context, survey string, query url.Values, frameCSV []byte) (dotm.PSUSample, error) {
	var out dotm.PSUSample
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/surveys/"+url.PathEscape(survey)+"/sample/psus?"+query.Encode(), frameCSV, "text/csv", &out)
	return out, err
}

// PSUSample is survey's first-stage sample.
func (c *Client) PSUSample(ctx context.Context, survey string) (dotm.PSUSample, error) {
	var out dotm.PSUSample
	_, err := c.Do(ctx, http.MethodGet, "/api/v1/surveys/"+url.PathEscape(survey)+"/sample/psus", nil, "", &out)
	return out, err
}

// PostListing stores the screened listing of one PSU.
func (c *Client) PostListing(ctx context.Context, survey string, l dotm.ListingRequest) error {
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/surveys/"+url.PathEscape(survey)+"/listings", l, "", nil)
	return err
}

// DrawHouseholds draws the second stage in every listed PSU not drawn yet.
func (c *Client) DrawHouseholds(ctx context.Context, survey string, d dotm.HouseholdDraw) (dotm.HouseholdDrawResult, error) {
	var out dotm.HouseholdDrawResult
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/surveys/"+url.PathEscape(survey)+"/sample/households", d, "", &out)
	return out, err
}

// CreateAssignments makes assignments by hand (admin).
func (c *Client) CreateAssignments(ctx context.Context, survey string, r dotm.AssignmentsRequest) ([]dotm.Assignment, error) {
	var out struct {
		Assignments []dotm.Assignment `json:"assignments"`
	}
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/surveys/"+url.PathEscape(survey)+"/assignments", r, "", &out)
	return out.Assignments, err
}

// Assignments lists the caller's assignments with status ("" for all).
func (c *Client) Assignments(ctx context.Context, status dotm.AssignmentStatus) ([]dotm.Assignment, error) {
	var out struct {
		Assignments []dotm.Assignment `json:"assignments"`
	}
	path := "/api/v1/assignments"
	if status != "" {
		path += "?status=" + url.QueryEscape(string(status))
	}
	_, err := c.Do(ctx, http.MethodGet, path, nil, "", &out)
	return out.Assignments, err
}

// Submit posts one envelope; created is false for an acknowledged retry
// of the same content (200).
func (c *Client) Submit(ctx context.Context, env dotm.Envelope) (created bool, err error) {
	status, err := c.Do(ctx, http.MethodPost, "/api/v1/submissions", env, "", nil)
	return status == http.StatusCreated, err
}

// SubmitBatch posts up to 500 envelopes at once; one result each.
func (c *Client) SubmitBatch(ctx context.Context, envs []dotm.Envelope) (dotm.BatchAnswer, error) {
	var out dotm.BatchAnswer
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/submissions/batch", map[string]any{"submissions": envs}, "", &out)
	return out, err
}

// Review records a supervisor's decision on a submission.
func (c *Client) Review(ctx context.Context, id string, r dotm.ReviewRequest) error {
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/submissions/"+url.PathEscape(id)+"/review", r, "", nil)
	return err
}

// ComputeWeights computes and stores survey's weights.
func (c *Client) ComputeWeights(ctx context.Context, survey string, spec dotm.WeightSpec) (dotm.WeightsReport, error) {
	var out dotm.WeightsReport
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/surveys/"+url.PathEscape(survey)+"/weights", spec, "", &out)
	return out, err
}

// CreateRelease makes a release of survey under a release profile (YAML or
// JSON).
func (c *Client) CreateRelease(ctx context.Context, survey string, profile []byte) (dotm.Release, error) {
	var out dotm.Release
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/surveys/"+url.PathEscape(survey)+"/releases", profile, "application/yaml", &out)
	return out, err
}

// PublishRelease makes a release visible to researchers.
func (c *Client) PublishRelease(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/releases/"+url.PathEscape(id)+"/publish", nil, "", nil)
	return err
}
