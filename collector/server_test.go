package collector_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/internal/testutil"
	"github.com/dotm-survey/dotm/mongodb"
)

// foundation is a server on a fresh database with an admin and an enumerator.
type foundation struct {
	srv        *httptest.Server
	store      *mongodb.Store
	logs       *testutil.Buffer
	admin      string
	enumerator string
}

func newFoundation(t *testing.T, maxBody int64) *foundation {
	t.Helper()
	return newFoundationWith(t, func(d *collector.Deps) { d.MaxBodyBytes = maxBody })
}

// newFoundationWith is newFoundation with deps changed by set.
func newFoundationWith(t *testing.T, set func(*collector.Deps)) *foundation {
	t.Helper()
	store := openTestStore(t)
	f := &foundation{store: store, logs: &testutil.Buffer{}}
	f.admin = addUser(t, store, "admin", dotm.RoleAdmin)
	f.enumerator = addUser(t, store, "ana", dotm.RoleEnumerator)
	deps := collector.Deps{
		Logger:   slog.New(slog.NewJSONHandler(f.logs, nil)),
		DB:       store,
		Users:    store,
		Accounts: store,
		Auditor:  store,
		Surveys:  store,
		AuditLog: store,
	}
	set(&deps)
	api := collector.NewServer(deps)
	f.srv = httptest.NewServer(api)
	t.Cleanup(f.srv.Close)
	return f
}

func addUser(t *testing.T, store *mongodb.Store, name string, role dotm.Role) string {
	t.Helper()
	token, hash, err := dotm.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AddUser(context.Background(), dotm.User{Name: name, Role: role}, hash); err != nil {
		t.Fatal(err)
	}
	return token
}

func (f *foundation) do(t *testing.T, method, path, token, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// problem is what every error answer must be.
type problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail"`
	Problems []dotm.Problem `json:"problems"`
}

func TestErrorsAreProblemJSON(t *testing.T) {
	f := newFoundation(t, 1<<10)
	big := strings.Repeat("x", 2<<10)
	cases := []struct {
		name, method, path, token, body string
		chunked                         bool
		status                          int
		problemPath                     string
	}{
		{name: "malformed JSON", method: "POST", path: "/api/v1/users", token: f.admin, body: `{"name": "x",`, status: 400},
		{name: "not JSON at all", method: "POST", path: "/api/v1/users", token: f.admin, body: `name=x`, status: 400},
		{name: "two values", method: "POST", path: "/api/v1/users", token: f.admin, body: `{"name":"bo","role":"admin"} {}`, status: 400},
		{name: "empty body", method: "POST", path: "/api/v1/users", token: f.admin, body: ``, status: 400},
		{name: "wrong type", method: "POST", path: "/api/v1/users", token: f.admin, body: `{"name": 12, "role": "admin"}`, status: 422, problemPath: "name"},
		{name: "unknown field", method: "POST", path: "/api/v1/users", token: f.admin, body: `{"name": "bo", "role": "admin", "colour": "red"}`, status: 422, problemPath: "colour"},
		{name: "invalid role", method: "POST", path: "/api/v1/users", token: f.admin, body: `{"name": "bo", "role": "king"}`, status: 422, problemPath: "role"},
		{name: "oversize body", method: "POST", path: "/api/v1/users", token: f.admin, body: `{"name": "` + big + `"}`, status: 413},
		{name: "oversize chunked body", method: "POST", path: "/api/v1/users", token: f.admin, body: `{"name": "` + big + `"}`, chunked: true, status: 413},
		{name: "unknown route", method: "GET", path: "/api/v1/no-such-thing", token: f.admin, status: 404},
		{name: "wrong method", method: "PATCH", path: "/api/v1/me", token: f.admin, status: 405},
		{name: "missing token", method: "GET", path: "/api/v1/me", status: 401},
		{name: "unknown token", method: "GET", path: "/api/v1/me", token: "dotm_not-a-real-token", status: 401},
		{name: "wrong role", method: "POST", path: "/api/v1/users", token: f.enumerator, body: `{"name": "bo", "role": "admin"}`, status: 403},
		{name: "unknown user revoked", method: "DELETE", path: "/api/v1/users/ghost", token: f.admin, status: 404},
		{name: "duplicate user", method: "POST", path: "/api/v1/users", token: f.admin, body: `{"name": "ana", "role": "admin"}`, status: 409},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(strings.NewReader(tc.body)) // unknown length: sent chunked
			}
			if tc.body == "" && tc.method == "GET" {
				body = nil
			}
			resp, b := f.do(t, tc.method, tc.path, tc.token, "application/json", body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q, want application/problem+json", ct)
			}
			var p problem
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, b)
			}
			if p.Status != tc.status || p.Title == "" || !strings.HasPrefix(p.Type, "urn:dotm:problem:") {
				t.Fatalf("problem document %+v", p)
			}
			if tc.problemPath != "" && (len(p.Problems) == 0 || p.Problems[0].Path != tc.problemPath) {
				t.Fatalf("want a problem at %q, got %+v", tc.problemPath, p.Problems)
			}
		})
	}
}

func TestUsersAPI(t *testing.T) {
	f := newFoundation(t, 1<<20)
	sv, err := dotm.NewSurvey("gh-2026", "Ghana", "", []string{"en"}, "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.CreateSurvey(context.Background(), sv); err != nil {
		t.Fatal(err)
	}
	resp, b := f.do(t, "POST", "/api/v1/users", f.admin, "application/json", strings.NewReader(`{"name":"sam","role":"supervisor","surveys":["gh-2026"]}`))
	if resp.StatusCode != 201 {
		t.Fatalf("add: %d %s", resp.StatusCode, b)
	}
	var created struct{ Token string }
	if err := json.Unmarshal(b, &created); err != nil || !strings.HasPrefix(created.Token, "dotm_") {
		t.Fatalf("token: %s", b)
	}
	resp, b = f.do(t, "GET", "/api/v1/me", created.Token, "", nil)
	var me struct {
		Name    string
		Role    string
		Surveys []string
	}
	if err := json.Unmarshal(b, &me); err != nil || resp.StatusCode != 200 || me.Name != "sam" || me.Role != "supervisor" || len(me.Surveys) != 1 {
		t.Fatalf("me: %d %s", resp.StatusCode, b)
	}
	if resp, b := f.do(t, "DELETE", "/api/v1/users/sam", f.admin, "", nil); resp.StatusCode != 204 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, b)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/me", created.Token, "", nil); resp.StatusCode != 401 {
		t.Fatalf("revoked token answered %d", resp.StatusCode)
	}
	// The token is never logged.
	if strings.Contains(f.logs.String(), created.Token) || strings.Contains(f.logs.String(), f.admin) {
		t.Fatal("a token appears in the log")
	}
	if !strings.Contains(f.logs.String(), `"route":"/api/v1/users"`) {
		t.Fatalf("no structured request line in the log:\n%s", f.logs.String())
	}
}

func TestFailedSignInsAreRateLimited(t *testing.T) {
	f := newFoundation(t, 1<<20)
	var last *http.Response
	for i := 0; i < 25; i++ {
		last, _ = f.do(t, "GET", "/api/v1/me", "dotm_wrong", "", nil)
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" {
		t.Fatalf("after 25 failures: %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
	// Even a good token waits: the address is blocked, not the token.
	if resp, _ := f.do(t, "GET", "/api/v1/me", f.admin, "", nil); resp.StatusCode != 429 {
		t.Fatalf("good token from a blocked address: %d", resp.StatusCode)
	}
}

// TestReadyzFollowsTheDatabase stops a database server under a running API
// and starts it again on the same address: /readyz goes 503 and back to 200
// without restarting the API, /healthz stays 200.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	db, err := mongodb.StartEmbeddedOn(ctx, dir, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := mongodb.Open(ctx, mongodb.Config{URI: db.URI(), ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(ctx)
	srv := httptest.NewServer(collector.NewServer(collector.Deps{DB: store, Users: store, Accounts: store, Auditor: store}))
	defer srv.Close()
	get := func(path string) int {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get("/readyz"); s != 200 {
		t.Fatalf("readyz with database up: %d", s)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if s := get("/readyz"); s != 503 {
		t.Fatalf("readyz with database down: %d", s)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("readyz took %s with the database down", d)
	}
	if s := get("/healthz"); s != 200 {
		t.Fatalf("healthz with database down: %d", s)
	}
	db, err = mongodb.StartEmbeddedOn(ctx, dir, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(20 * time.Second)
	for get("/readyz") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not come back within 20s of the database")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRevokedOutsideTheServer: a token the server has resolved stays valid
// for at most the token cache's TTL after its user is revoked directly in
// the database (as `dotm users revoke` does while the server runs), and is
// refused after it; with the cache off it is refused at once.
func TestRevokedOutsideTheServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", 300 * time.Millisecond}, {"no cache", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			store := openTestStore(t)
			name := "rev" + strings.ReplaceAll(tc.name, " ", "")
			token := addUser(t, store, name, dotm.RoleEnumerator)
			srv := httptest.NewServer(collector.NewServer(collector.Deps{DB: store, Users: store, Accounts: store, Auditor: store, TokenCacheTTL: tc.ttl}))
			t.Cleanup(srv.Close)
			me := func() int {
				req, _ := http.NewRequest("GET", srv.URL+"/api/v1/me", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if code := me(); code != 200 {
				t.Fatalf("before revocation: %d", code)
			}
			revoked := time.Now()
			if err := store.RevokeUser(context.Background(), name); err != nil {
				t.Fatal(err)
			}
			if tc.ttl < 0 {
				if code := me(); code != 401 {
					t.Fatalf("without a cache a revoked token answered %d", code)
				}
				return
			}
			for time.Since(revoked) < tc.ttl+time.Second {
				code := me()
				if code == 401 {
					return
				}
				if code != 200 {
					t.Fatalf("status %d", code)
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatalf("the revoked token was still accepted %s after revocation (TTL %s)", time.Since(revoked), tc.ttl)
		})
	}
}
