package webclient

//go:generate sh build.sh

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Prefix is the path the app is served under. The service worker lives at
// Prefix + "sw.js", so its scope covers the whole app.
const Prefix = "/collect/"

//go:embed static
var static embed.FS

// Files returns the app's files (index.html, app.js, app.css, sw.js,
// manifest.webmanifest, icon.svg, questionnaire.wasm, wasm_exec.js).
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("webclient: embedded files: " + err.Error()) // cannot happen: the directory is embedded
	}
	return sub
}

// Version is a hash of the app's files. The service worker's cache carries
// it, so a server with new files replaces what tablets have cached.
// It is computed on first use, not at start-up: hashing the ~6 MB of files
// took 50 ms of every dotm command, whether it served the app or not.
func Version() string { return versionOnce() }

var versionOnce = sync.OnceValue(func() string {
	h := sha256.New()
	var names []string
	_ = fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(Files(), n)
		h.Write([]byte(n + "\x00"))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
})

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
	".wasm": "application/wasm", ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml",
}

// Handler serves the app under Prefix: GET and HEAD of its files, Prefix
// itself as index.html, and a redirect from the prefix without its slash.
// Responses say Cache-Control: no-cache (the service worker keeps the
// offline copy and revalidates) and carry an ETag of the app's version.
func Handler() http.Handler {
	files := Files()
	mod := time.Time{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "the web client's files are read with GET or HEAD")
			return
		}
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			problem(w, r, http.StatusNotFound, "not_found", "no such file in the web client")
			return
		}
		if name == "" {
			name = "index.html"
		}
		name = path.Clean(name)
		data, err := fs.ReadFile(files, name)
		if err != nil || strings.HasPrefix(name, ".") {
			problem(w, r, http.StatusNotFound, "not_found", "no such file in the web client")
			return
		}
		if name == "sw.js" {
			data = bytes.ReplaceAll(data, []byte("__VERSION__"), []byte(Version()))
		}
		h := w.Header()
		if ct, ok := contentTypes[path.Ext(name)]; ok {
			h.Set("Content-Type", ct)
		}
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", `"`+Version()+`"`)
		http.ServeContent(w, r, name, mod, bytes.NewReader(data))
	})
}

// CSP is the web client's Content-Security-Policy: its own files only, no
// inline script or style, WebAssembly compilation (the rule engine) but no
// eval, fetches to its own origin (the API), never framed.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// problem answers an RFC 9457 problem document, as the API does.
func problem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	b, _ := json.Marshal(map[string]any{"type": "urn:dotm:problem:" + code, "title": http.StatusText(status), "status": status,
		"detail": detail, "instance": r.URL.Path})
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// Middleware serves the app from a gin engine: requests for Prefix (and the
// prefix without its slash) are answered by Handler and go no further; all
// others pass on. Used as global middleware it runs before routing, so the
// app's files are not API routes (they take no token: the app signs in
// against /api/v1 itself).
func Middleware() gin.HandlerFunc {
	h := Handler()
	bare := strings.TrimSuffix(Prefix, "/")
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if p != bare && !strings.HasPrefix(p, Prefix) {
			c.Next()
			return
		}
		h.ServeHTTP(c.Writer, c.Request)
		c.Abort()
	}
}
