package collector

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/exports"
	"github.com/dotm-survey/dotm/round"
)

// Releases through the API. Statisticians and admins see every release of
// their surveys; researchers see published releases only, and an unpublished
// release answers them 404 as if it did not exist.

// maxProfileBytes bounds a release profile body.
const maxProfileBytes = 1 << 20

// releaseVisible reports whether the signed-in user may see r.
func releaseVisible(u dotm.User, r dotm.Release) bool {
	if !u.InSurvey(r.Survey) {
		return false
	}
	return r.Published || u.Role == dotm.RoleStatistician || u.Role == dotm.RoleAdmin
}

// findRelease loads release :id for the signed-in user: ENOTFOUND when it
// does not exist or the user may not see it.
func findRelease(c *gin.Context, store dotm.ReleaseStore) (dotm.Release, bool) {
	id := c.Param("id")
	r, err := store.Release(c.Request.Context(), id)
	if err == nil && !releaseVisible(currentUser(c), r) {
		err = dotm.Errorf(dotm.ENOTFOUND, "release %s not found", id)
	}
	if err != nil {
		fail(c, err)
		return dotm.Release{}, false
	}
	return r, true
}

// refusedProblem is the 422 of a refused release: problem+json with the
// whole disclosure report as an extension member.
type refusedProblem struct {
	problemDoc
	Report *exports.Report `json:"report"`
}

// handleCreateRelease: POST /api/v1/surveys/{survey}/releases (statistician,
// admin). The body is the release profile, YAML or JSON.
func handleCreateRelease(s *Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, s.deps.Surveys)
		if !ok {
			return
		}
		switch ct := c.ContentType(); ct {
		case "", "application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain":
		default:
			fail(c, dotm.Errorf(dotm.EINVALID, "content type %q: send the release profile as application/yaml or application/json", ct))
			return
		}
		body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxProfileBytes+1))
		if err != nil {
			fail(c, jsonError(err))
			return
		}
		if len(body) > maxProfileBytes {
			fail(c, dotm.Errorf(dotm.ETOOLARGE, "a release profile is at most %d bytes", maxProfileBytes))
			return
		}
		u := currentUser(c)
		r, err := round.CreateRelease(c.Request.Context(), s.surveyData(), s.deps.Releases, round.ReleaseRequest{
			Survey: sv.ID, Profile: body, By: u.Name, Version: s.deps.Version})
		var refused *exports.RefusedError
		if errors.As(err, &refused) {
			// The refusal is audited too: someone tried to release data
			// that failed disclosure control.
			if aerr := record(c, s.deps.Auditor, dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "release_refused", Survey: sv.ID,
				Detail: "disclosure control refused the release"}); aerr != nil {
				fail(c, aerr)
				return
			}
			var e *dotm.Error
			errors.As(err, &e)
			doc := refusedProblem{problemDoc: problemDoc{Type: "urn:dotm:problem:" + string(dotm.EUNPROCESSABL), Title: http.StatusText(http.StatusUnprocessableEntity),
				Status: http.StatusUnprocessableEntity, Detail: e.Message, Instance: c.Request.URL.Path, RequestID: c.GetString(ctxRequestID),
				Problems: e.Problems}, Report: refused.Report}
			b, _ := json.Marshal(doc)
			c.Data(http.StatusUnprocessableEntity, "application/problem+json", b)
			return
		}
		if err != nil {
			fail(c, err)
			return
		}
		if err := record(c, s.deps.Auditor, dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "release_create", Survey: sv.ID,
			Target: r.ID, Detail: fmt.Sprintf("%d files", len(r.Files))}); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, r)
	}
}

// handlePublishRelease: POST /api/v1/releases/{id}/publish (admin). A
// release is published once; a second publish is 409.
func handlePublishRelease(store dotm.ReleaseStore, audit dotm.Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, ok := findRelease(c, store)
		if !ok {
			return
		}
		u := currentUser(c)
		if err := store.PublishRelease(c.Request.Context(), r.ID, u.Name, now()); err != nil {
			fail(c, err)
			return
		}
		if err := record(c, audit, dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "release_publish", Survey: r.Survey, Target: r.ID}); err != nil {
			fail(c, err)
			return
		}
		r, err := store.Release(c.Request.Context(), r.ID)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, r)
	}
}

// releaseSummary is one line of the release list.
type releaseSummary struct {
	ID          string             `json:"id"`
	Survey      string             `json:"survey"`
	Created     time.Time          `json:"created"`
	CreatedBy   string             `json:"created_by"`
	Published   bool               `json:"published"`
	PublishedAt *time.Time         `json:"published_at,omitempty"`
	Files       []dotm.ReleaseFile `json:"files"`
}

// handleListReleases: GET /api/v1/releases[?survey=ID] (researcher:
// published only; statistician, admin: all of their surveys).
func handleListReleases(store dotm.ReleaseStore) gin.HandlerFunc {
	return func(c *gin.Context) {
		rs, err := store.Releases(c.Request.Context(), c.Query("survey"))
		if err != nil {
			fail(c, err)
			return
		}
		u := currentUser(c)
		out := []releaseSummary{}
		for _, r := range rs {
			if releaseVisible(u, r) {
				out = append(out, releaseSummary{ID: r.ID, Survey: r.Survey, Created: r.Created, CreatedBy: r.CreatedBy,
					Published: r.Published, PublishedAt: r.PublishedAt, Files: r.Files})
			}
		}
		c.JSON(http.StatusOK, gin.H{"releases": out})
	}
}

// handleGetRelease: GET /api/v1/releases/{id}: the record with manifest and
// disclosure report.
func handleGetRelease(store dotm.ReleaseStore) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, ok := findRelease(c, store)
		if !ok {
			return
		}
		c.JSON(http.StatusOK, r)
	}
}

// handleReleaseFile: GET /api/v1/releases/{id}/files/{name}, streamed from
// the store with the file's SHA-256 as ETag; http.ServeContent answers
// If-None-Match (304) and Range requests (206). Every download is audited
// before a byte is sent.
func handleReleaseFile(store dotm.ReleaseStore, audit dotm.Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, ok := findRelease(c, store)
		if !ok {
			return
		}
		name := c.Param("name")
		f, ok := r.File(name)
		if !ok {
			fail(c, dotm.Errorf(dotm.ENOTFOUND, "release %s has no file %s", r.ID, name))
			return
		}
		if rg := c.GetHeader("Range"); rg != "" && c.GetHeader("If-Range") == "" {
			kept, err := satisfiableRanges(rg, f.Bytes)
			if err != nil {
				c.Header("Content-Range", "bytes */"+strconv.FormatInt(f.Bytes, 10))
				fail(c, err)
				return
			}
			c.Request.Header.Set("Range", kept)
		}
		body, err := store.ReleaseFile(c.Request.Context(), r.ID, name)
		if err != nil {
			fail(c, err)
			return
		}
		u := currentUser(c)
		detail := ""
		if rg := c.GetHeader("Range"); rg != "" && len(rg) <= 100 {
			detail = "range " + strings.TrimSpace(rg)
		}
		if err := record(c, audit, dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "release_download", Survey: r.Survey,
			Target: r.ID + "/" + name, Detail: detail}); err != nil {
			fail(c, err)
			return
		}
		h := c.Writer.Header()
		h.Set("Content-Type", ReleaseContentType(name))
		h.Set("ETag", `"`+f.SHA256+`"`)
		h.Set("Cache-Control", "private, max-age=0, must-revalidate")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		http.ServeContent(c.Writer, c.Request, name, r.Created, body)
	}
}

// satisfiableRanges checks a Range header against a file of size bytes
// (RFC 9110 §14.1.2): a malformed header, or one none of whose ranges
// overlaps the file (including the empty suffix bytes=-0), is an ERANGE
// error (416); otherwise it returns the header with its satisfiable ranges
// only, for http.ServeContent.
func satisfiableRanges(h string, size int64) (string, error) {
	bad := func(why string) error {
		return &dotm.Error{Code: dotm.ERANGE, Message: "range " + strconv.Quote(h) + ": " + why + " (the file has " + strconv.FormatInt(size, 10) + " bytes)"}
	}
	specs, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return "", bad("only byte ranges (bytes=first-last) are served")
	}
	var kept []string
	for _, spec := range strings.Split(specs, ",") {
		spec = strings.TrimSpace(spec)
		first, last, ok := strings.Cut(spec, "-")
		if !ok || first == "" && last == "" {
			return "", bad("malformed")
		}
		num := func(s string) (int64, bool) {
			if s == "" || strings.TrimLeft(s, "0123456789") != "" {
				return 0, false
			}
			n, err := strconv.ParseInt(s, 10, 64)
			return n, err == nil
		}
		if first == "" { // suffix: the last n bytes
			n, ok := num(last)
			if !ok {
				return "", bad("malformed")
			}
			if n > 0 && size > 0 {
				kept = append(kept, spec)
			}
			continue
		}
		a, ok := num(first)
		if !ok {
			return "", bad("malformed")
		}
		if last != "" {
			b, ok := num(last)
			if !ok || b < a {
				return "", bad("malformed")
			}
		}
		if a < size {
			kept = append(kept, spec)
		}
	}
	if len(kept) == 0 {
		return "", bad("no range overlaps the file")
	}
	return "bytes=" + strings.Join(kept, ","), nil
}
