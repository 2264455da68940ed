package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/console"
)

func TestHandler(t *testing.T) {
	h := console.Handler()
	for _, c := range []struct {
		method, path string
		status       int
		contains     string
	}{
		{"GET", "/console/", 200, `<script src="app.js">`},
		{"GET", "/console/app.js", 200, "/api/v1"},
		{"HEAD", "/console/app.css", 200, ""},
		{"GET", "/console", 301, ""},
		{"GET", "/console/../go.mod", 404, "no such file"},
		{"GET", "/console/nope.js", 404, "no such file"},
		{"POST", "/console/", 405, "GET or HEAD"},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(c.method, c.path, nil))
		body, _ := io.ReadAll(w.Result().Body)
		if w.Code != c.status || !strings.Contains(string(body), c.contains) {
			t.Errorf("%s %s: %d %.80q, want %d with %q", c.method, c.path, w.Code, body, c.status, c.contains)
		}
		if w.Header().Get("Content-Security-Policy") != console.CSP {
			t.Errorf("%s %s: no CSP", c.method, c.path)
		}
		if c.status == 200 && c.path == "/console/app.js" && w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("app.js served as %q", w.Header().Get("Content-Type"))
		}
	}
	if r := httptest.NewRecorder(); true {
		h.ServeHTTP(r, httptest.NewRequest(http.MethodGet, "/console/", nil))
		if strings.Contains(r.Body.String(), "http://") || strings.Contains(r.Body.String(), "https://") {
			t.Error("index.html loads something from another origin")
		}
	}
}
