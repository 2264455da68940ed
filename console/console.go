package console

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
	"time"
)

// Prefix is the path the console is served under.
const Prefix = "/console/"

//go:embed static
var static embed.FS

// Files returns the console's files (index.html, app.js, app.css).
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("console: embedded files: " + err.Error()) // cannot happen: the directory is embedded
	}
	return sub
}

var version = func() string {
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
}()

var contentTypes = map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

// CSP is the console's Content-Security-Policy: its own files only, no
// inline script or style, no eval, fetches to its own origin (the API),
// never framed.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console under Prefix: GET and HEAD of its files,
// Prefix itself as index.html, a redirect from the prefix without its
// slash. Responses say Cache-Control: no-cache and carry an ETag of the
// files' version.
func Handler() http.Handler {
	files := Files()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "the console's files are read with GET or HEAD")
			return
		}
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			problem(w, r, http.StatusNotFound, "not_found", "no such file in the console")
			return
		}
		if name == "" {
			name = "index.html"
		}
		name = path.Clean(name)
		data, err := fs.ReadFile(files, name)
		if err != nil || strings.HasPrefix(name, ".") {
			problem(w, r, http.StatusNotFound, "not_found", "no such file in the console")
			return
		}
		if ct, ok := contentTypes[path.Ext(name)]; ok {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", `"`+version+`"`)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	})
}

func problem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	b, _ := json.Marshal(map[string]any{"type": "urn:dotm:problem:" + code, "title": http.StatusText(status), "status": status,
		"detail": detail, "instance": r.URL.Path})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
