package webclient_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/webclient"
)

// TestWasmUpToDate rebuilds the rule engine exactly as build.sh does and
// compares it with the committed static/questionnaire.wasm, so the file
// the tablets run cannot drift from package questionnaire.
func TestWasmUpToDate(t *testing.T) {
	t.Parallel()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	out := filepath.Join(t.TempDir(), "questionnaire.wasm")
	cmd := exec.Command(goBin, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, "./wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the WebAssembly rule engine: %v\n%s", err, b)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("static/questionnaire.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(built) != sha256.Sum256(committed) {
		t.Errorf("static/questionnaire.wasm (sha256 %s) is stale: the sources build %s; run webclient/build.sh (go generate ./webclient/) and commit it",
			sum(committed), sum(built))
	}
	root, err := exec.Command(goBin, "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	execJS, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(root)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		execJS, err = os.ReadFile(filepath.Join(strings.TrimSpace(string(root)), "misc", "wasm", "wasm_exec.js"))
	}
	if err != nil {
		t.Fatal(err)
	}
	if mine, _ := os.ReadFile("static/wasm_exec.js"); !bytes.Equal(mine, execJS) {
		t.Error("static/wasm_exec.js differs from the Go toolchain's; run webclient/build.sh")
	}
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(webclient.Handler())
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, path string
		status       int
		ctype        string
		contains     string
	}{
		{"GET", "/collect/", 200, "text/html; charset=utf-8", `<script src="app.js">`},
		{"GET", "/collect/index.html", 200, "text/html; charset=utf-8", "wasm_exec.js"},
		{"GET", "/collect/app.js", 200, "text/javascript; charset=utf-8", "dotmRules"},
		{"GET", "/collect/app.css", 200, "text/css; charset=utf-8", "--touch"},
		{"GET", "/collect/sw.js", 200, "text/javascript; charset=utf-8", "const VERSION = '" + webclient.Version() + "'"},
		{"GET", "/collect/manifest.webmanifest", 200, "application/manifest+json", `"scope": "/collect/"`},
		{"GET", "/collect/questionnaire.wasm", 200, "application/wasm", "\x00asm"},
		{"GET", "/collect/wasm_exec.js", 200, "text/javascript; charset=utf-8", "globalThis.Go"},
		{"HEAD", "/collect/app.js", 200, "text/javascript; charset=utf-8", ""},
		{"GET", "/collect", 301, "", ""},
		{"GET", "/collect/nope.js", 404, "", ""},
		{"GET", "/collect/../go.mod", 404, "", ""},
		{"GET", "/elsewhere", 404, "", ""},
		{"POST", "/collect/app.js", 405, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if tc.ctype != "" && res.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", res.Header.Get("Content-Type"), tc.ctype)
			}
			if tc.contains != "" && !bytes.Contains(body, []byte(tc.contains)) {
				t.Errorf("body does not contain %q", tc.contains)
			}
			if tc.status == 200 && res.Header.Get("Cache-Control") != "no-cache" {
				t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
			}
			if tc.status == 301 && res.Header.Get("Location") != "/collect/" {
				t.Errorf("Location %q", res.Header.Get("Location"))
			}
		})
	}
	if strings.Contains(webclient.Version(), "_") || len(webclient.Version()) != 16 {
		t.Errorf("version %q", webclient.Version())
	}
}
