package collector_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRangeErrors: unsatisfiable or malformed Range headers answer a
// problem+json 416 with Content-Range bytes */size; bytes=-0 is
// unsatisfiable (not an empty 206); good ranges still give 206.
func TestRangeErrors(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	path := "/api/v1/releases/" + a.storedRelease(true) + "/files/manifest.json"
	full := string(a.mustDo("res", "GET", path, nil, 200))
	size := len(full)
	for _, rg := range []string{"bytes=-0", "bytes=999999-", "bytes=999999-1000000", "bytes=5-2", "bytes=abc", "items=0-1", "bytes=", "bytes=-0,999999-"} {
		st, b, h := a.doRaw("res", "GET", path, "", nil, map[string][]string{"Range": {rg}})
		if st != 416 {
			t.Errorf("Range %s: %d, want 416: %q", rg, st, b)
			continue
		}
		if ct := h.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("Range %s: 416 as %q: %q", rg, ct, b)
		}
		var p problemDoc
		if err := json.Unmarshal(b, &p); err != nil || p.Status != 416 || !strings.Contains(p.Detail, "range") {
			t.Errorf("Range %s: problem %+v (%v)", rg, p, err)
		}
		if cr := h.Get("Content-Range"); cr != "bytes */"+itoa(size) {
			t.Errorf("Range %s: Content-Range %q", rg, cr)
		}
	}
	// Satisfiable: 206, including a suffix longer than the file and a set
	// with one unsatisfiable part.
	for rg, want := range map[string]string{"bytes=0-0": full[:1], "bytes=-5": full[size-5:], "bytes=-999999": full, "bytes=2-": full[2:], "bytes=999999-,0-1": full[:2]} {
		st, b, _ := a.doRaw("res", "GET", path, "", nil, map[string][]string{"Range": {rg}})
		if st != 206 || string(b) != want {
			t.Errorf("Range %s: %d %q, want 206 %q", rg, st, b, want)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestWebClientNotFoundAndCSP: the web client's 404 and 405 are
// problem+json; its pages carry a Content-Security-Policy that allows only
// its own files (and WebAssembly compilation).
func TestWebClientNotFoundAndCSP(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/collect/nothing.js", 404}, {"GET", "/collect/.hidden", 404}, {"POST", "/collect/", 405},
	} {
		st, b, h := a.doRaw("", c.method, c.path, "", nil, nil)
		var p problemDoc
		if st != c.status || h.Get("Content-Type") != "application/problem+json" || json.Unmarshal(b, &p) != nil || p.Status != c.status || !strings.HasPrefix(p.Type, "urn:dotm:problem:") {
			t.Errorf("%s %s: %d %q %s", c.method, c.path, st, h.Get("Content-Type"), b)
		}
	}
	st, _, h := a.doRaw("", "GET", "/collect/", "", nil, nil)
	csp := h.Get("Content-Security-Policy")
	if st != 200 {
		t.Fatalf("/collect/: %d", st)
	}
	for _, want := range []string{"default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("web client CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "'unsafe-eval'") {
		t.Errorf("web client CSP allows inline code or eval: %q", csp)
	}
	// API answers forbid everything a browser could do with them.
	_, _, h = a.doRaw("", "GET", "/api/v1/version", "", nil, nil)
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("API CSP %q", csp)
	}
}
