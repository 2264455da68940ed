package collector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/internal/testutil"
	"github.com/dotm-survey/dotm/mongodb"
)

// apiEnv is a full API on a fresh database: a survey with the mini household
// form, users of every role and two assignments.
type apiEnv struct {
	t      testing.TB
	srv    *httptest.Server
	api    *collector.Server
	store  *mongodb.Store
	keys   *dotm.Keyring
	logs   *testutil.Buffer
	tokens map[string]string // user name -> token
	survey string
	form   string
	ver    string
}

// The users of every test: name -> role and scope.
var testUsers = []struct {
	name    string
	role    dotm.Role
	surveys []string
}{
	{"admin", dotm.RoleAdmin, nil},
	{"sup", dotm.RoleSupervisor, []string{"gh-2026"}},
	{"sup_other", dotm.RoleSupervisor, []string{"fj-2026"}},
	{"ana", dotm.RoleEnumerator, []string{"gh-2026"}},
	{"ben", dotm.RoleEnumerator, []string{"gh-2026"}},
	{"stat", dotm.RoleStatistician, []string{"gh-2026"}},
	{"res", dotm.RoleResearcher, nil},
	{"adm_gh", dotm.RoleAdmin, []string{"gh-2026"}}, // an admin of the test survey only
	{"adm_fj", dotm.RoleAdmin, []string{"fj-2026"}}, // an admin of another survey
}

func newTestKeys(t testing.TB) *dotm.Keyring {
	t.Helper()
	k, err := dotm.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kr, err := dotm.NewKeyring(k.ID, k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func newAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	store := openTestStore(t)
	return newAPIEnvOn(t, store, newTestKeys(t), true)
}

// newAPIEnvOn starts a server on store; with setup it also creates the
// users, the survey, the form and two assignments.
func newAPIEnvOn(t testing.TB, store *mongodb.Store, keys *dotm.Keyring, setup bool) *apiEnv {
	t.Helper()
	return newAPIEnvDeps(t, store, keys, setup, func(*collector.Deps) {})
}

// newAPIEnvWith is newAPIEnv with the server's deps changed by set.
func newAPIEnvWith(t testing.TB, set func(*collector.Deps)) *apiEnv {
	t.Helper()
	return newAPIEnvDeps(t, openTestStore(t), newTestKeys(t), true, set)
}

func newAPIEnvDeps(t testing.TB, store *mongodb.Store, keys *dotm.Keyring, setup bool, set func(*collector.Deps)) *apiEnv {
	t.Helper()
	a := &apiEnv{t: t, store: store, keys: keys, logs: &testutil.Buffer{}, tokens: map[string]string{},
		survey: "gh-2026", form: "mini_household", ver: "2026-01"}
	deps := collector.Deps{
		Logger: slog.New(slog.NewJSONHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		DB:     store, Users: store, Accounts: store, Auditor: store,
		Surveys: store, Forms: store, Assignments: store, Submissions: store, Listings: store, AuditLog: store,
		Design: store, Weights: store, Approved: store, Releases: store, Attachments: store,
		Tallies: store, Fingerprints: store, ODKKeys: store,
		Keys: keys,
	}
	set(&deps)
	a.api = collector.NewServer(deps)
	a.srv = httptest.NewServer(a.api)
	t.Cleanup(a.srv.Close)
	if !setup {
		return a
	}
	ctx := context.Background()
	for _, u := range testUsers {
		token, hash, err := dotm.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if err := store.AddUser(ctx, dotm.User{Name: u.name, Role: u.role, Surveys: u.surveys}, hash); err != nil {
			t.Fatal(err)
		}
		a.tokens[u.name] = token
	}
	a.mustDo("admin", "POST", "/api/v1/surveys", map[string]any{"id": a.survey, "country": "Ghana", "languages": []string{"en"}}, 201)
	form, err := os.ReadFile("testdata/mini_household.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/"+a.survey+"/forms", "application/yaml", form, 201)
	a.mustDo("admin", "POST", "/api/v1/surveys/"+a.survey+"/assignments", map[string]any{"assignments": []map[string]any{
		{"id": "a-ana-1", "enumerator": "ana", "household_id": "hh-001", "psu": "p1", "stratum": "north"},
		{"id": "a-ana-2", "enumerator": "ana", "household_id": "hh-002", "psu": "p1", "stratum": "north"},
		{"id": "a-ben-1", "enumerator": "ben", "household_id": "hh-003", "psu": "p1", "stratum": "north"},
	}}, 201)
	return a
}

// do sends a request as user (empty: no token) with a JSON body (nil: none;
// []byte and string are sent as they are).
func (a *apiEnv) do(user, method, path string, body any) (int, []byte, http.Header) {
	a.t.Helper()
	var r io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		r, ct = bytes.NewReader(b), "application/json"
	case string:
		r, ct = strings.NewReader(b), "application/json"
	default:
		js, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		r, ct = bytes.NewReader(js), "application/json"
	}
	return a.doRaw(user, method, path, ct, r, nil)
}

func (a *apiEnv) doRaw(user, method, path, contentType string, body io.Reader, header http.Header) (int, []byte, http.Header) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if user != "" {
		tok, ok := a.tokens[user]
		if !ok {
			a.t.Fatalf("no user %s", user)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (a *apiEnv) mustDo(user, method, path string, body any, want int) []byte {
	a.t.Helper()
	st, b, _ := a.do(user, method, path, body)
	if st != want {
		a.t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, user, st, want, b)
	}
	return b
}

func (a *apiEnv) mustDoRaw(user, method, path, ct string, body []byte, want int) []byte {
	a.t.Helper()
	st, b, _ := a.doRaw(user, method, path, ct, bytes.NewReader(body), nil)
	if st != want {
		a.t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, user, st, want, b)
	}
	return b
}

// validAnswers is a household that passes the mini form; name is put in
// every direct text question.
func validAnswers(name string) map[string]any {
	return map[string]any{
		"respondent_name": name + " respondent",
		"phone":           name + " phone",
		"region":          "north",
		"hh_size":         3,
		"members": []any{
			map[string]any{"member_name": name + " member0", "age": 41, "abroad": "no"},
			map[string]any{"member_name": name + " member1", "age": 19, "abroad": "yes"},
		},
		"remit_received": "yes",
		"remit_amount":   250.5,
		"gps":            map[string]any{"lat": 5.6037, "lon": -0.187, "alt": 61, "accuracy": 4.5},
	}
}

func (a *apiEnv) envelope(id, assignment string, answers map[string]any) map[string]any {
	env := map[string]any{
		"instance_id": id, "form_id": a.form, "form_version": a.ver,
		"started_at": "2026-03-01T09:00:00Z", "ended_at": "2026-03-01T10:02:03.5Z", "answers": answers,
	}
	if assignment != "" {
		env["assignment_id"] = assignment
	}
	return env
}

// rawDB is the test database seen through the driver, as an attacker with a
// copy of it would.
func (a *apiEnv) rawDB() *mongo.Database {
	a.t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(testServer.URI))
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(a.store.Database())
}

// dumpDB returns every document of every collection as extended JSON.
// writeBinaryDocs writes, as extended JSON, every BSON document that doc
// holds in binary data, at any depth.
func writeBinaryDocs(sb *strings.Builder, doc bson.Raw) {
	elems, _ := doc.Elements()
	for _, e := range elems {
		v := e.Value()
		switch v.Type {
		case bson.TypeEmbeddedDocument, bson.TypeArray:
			writeBinaryDocs(sb, v.Value)
		case bson.TypeBinary:
			_, data := v.Binary()
			if inner := bson.Raw(data); inner.Validate() == nil {
				if js, err := bson.MarshalExtJSON(inner, false, false); err == nil {
					sb.WriteString(e.Key() + " (binary): ")
					sb.Write(js)
					sb.WriteByte('\n')
				}
				writeBinaryDocs(sb, inner)
			}
		}
	}
}

func (a *apiEnv) dumpDB() string {
	a.t.Helper()
	ctx := context.Background()
	db := a.rawDB()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		a.t.Fatal(err)
	}
	var sb strings.Builder
	for _, n := range names {
		cur, err := db.Collection(n).Find(ctx, bson.D{})
		if err != nil {
			a.t.Fatal(err)
		}
		for cur.Next(ctx) {
			js, err := bson.MarshalExtJSON(cur.Current, false, false)
			if err != nil {
				a.t.Fatal(err)
			}
			sb.WriteString(n + ": ")
			sb.Write(js)
			sb.WriteByte('\n')
			// Documents held in binary fields (the stored answers) as JSON,
			// and the raw bytes, in case a value sits in any binary field.
			writeBinaryDocs(&sb, cur.Current)
			sb.Write(cur.Current)
			sb.WriteByte('\n')
		}
		if err := cur.Err(); err != nil {
			a.t.Fatal(err)
		}
	}
	return sb.String()
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

type submissionJSON struct {
	ID           string         `json:"id"`
	Survey       string         `json:"survey"`
	Status       string         `json:"status"`
	AssignmentID string         `json:"assignment_id"`
	Enumerator   string         `json:"enumerator"`
	Supersedes   string         `json:"supersedes"`
	SupersededBy string         `json:"superseded_by"`
	Reviews      []dotm.Review  `json:"reviews"`
	Answers      map[string]any `json:"answers"`
	Identifiers  bool           `json:"identifiers_included"`
}

type assignmentsJSON struct {
	Assignments []dotm.Assignment `json:"assignments"`
}

func (a *apiEnv) assignment(user, id string) dotm.Assignment {
	a.t.Helper()
	list := decode[assignmentsJSON](a.t, a.mustDo(user, "GET", "/api/v1/assignments", nil, 200))
	for _, x := range list.Assignments {
		if x.ID == id {
			return x
		}
	}
	a.t.Fatalf("%s does not see assignment %s", user, id)
	return dotm.Assignment{}
}

func TestSubmissionLifecycle(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	id := uuid.NewString()
	env := a.envelope(id, "a-ana-1", validAnswers("Kofi"))

	first := a.mustDo("ana", "POST", "/api/v1/submissions", env, 201)
	if r := decode[map[string]string](t, first); r["id"] != id || r["status"] != "received" {
		t.Fatalf("receipt %s", first)
	}
	// A retry of the same content: 200 with the same body.
	if again := a.mustDo("ana", "POST", "/api/v1/submissions", env, 200); !bytes.Equal(again, first) {
		t.Fatalf("retry body %s, first %s", again, first)
	}
	// The same instance with other content: 409.
	changed := a.envelope(id, "a-ana-1", validAnswers("Kofi"))
	changed["answers"].(map[string]any)["hh_size"] = 4
	a.mustDo("ana", "POST", "/api/v1/submissions", changed, 409)
	// ... also when only a direct answer differs (compared after decryption).
	changed = a.envelope(id, "a-ana-1", validAnswers("Kwame"))
	a.mustDo("ana", "POST", "/api/v1/submissions", changed, 409)
	// The same content posted by someone else is not a retry.
	a.mustDo("ben", "POST", "/api/v1/submissions", a.envelope(id, "", validAnswers("Kofi")), 409)

	if got := a.assignment("ana", "a-ana-1"); got.Status != dotm.AssignmentSubmitted || got.SubmissionID != id {
		t.Fatalf("assignment after submit: %+v", got)
	}
	// Ben cannot see it; the supervisor sees it without identifiers.
	a.mustDo("ben", "GET", "/api/v1/submissions/"+id, nil, 403)
	s := decode[submissionJSON](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+id, nil, 200))
	if s.Identifiers || s.Answers["respondent_name"] != nil || s.Answers["region"] != "north" {
		t.Fatalf("supervisor default view: %+v", s)
	}

	// Reject with a comment: the enumerator sees the assignment returned.
	a.mustDo("sup", "POST", "/api/v1/submissions/"+id+"/review", map[string]any{"decision": "reject"}, 422)
	a.mustDo("sup_other", "POST", "/api/v1/submissions/"+id+"/review", map[string]any{"decision": "approve"}, 403)
	a.mustDo("sup", "POST", "/api/v1/submissions/"+id+"/review", map[string]any{"decision": "reject", "comment": "ages of members do not add up"}, 200)
	a.mustDo("sup", "POST", "/api/v1/submissions/"+id+"/review", map[string]any{"decision": "approve"}, 409)
	if got := a.assignment("ana", "a-ana-1"); got.Status != dotm.AssignmentReturned || got.Comment != "ages of members do not add up" {
		t.Fatalf("assignment after reject: %+v", got)
	}
	// A retry of the rejected original does not move the assignment back.
	a.mustDo("ana", "POST", "/api/v1/submissions", env, 200)
	if got := a.assignment("ana", "a-ana-1"); got.Status != dotm.AssignmentReturned {
		t.Fatalf("assignment after a late retry of the original: %+v", got)
	}

	// The correction supersedes the original; history is kept.
	fix := uuid.NewString()
	fixEnv := a.envelope(fix, "", validAnswers("Kofi"))
	fixEnv["supersedes"] = id
	fixEnv["answers"].(map[string]any)["members"].([]any)[1].(map[string]any)["age"] = 23
	a.mustDo("ben", "POST", "/api/v1/submissions", func() map[string]any {
		e := a.envelope(uuid.NewString(), "", validAnswers("x"))
		e["supersedes"] = id
		return e
	}(), 403)
	a.mustDo("ana", "POST", "/api/v1/submissions", fixEnv, 201)
	a.mustDo("ana", "POST", "/api/v1/submissions", fixEnv, 200)
	second := a.envelope(uuid.NewString(), "", validAnswers("Kofi"))
	second["supersedes"] = id
	a.mustDo("ana", "POST", "/api/v1/submissions", second, 422) // already corrected
	old := decode[submissionJSON](t, a.mustDo("ana", "GET", "/api/v1/submissions/"+id, nil, 200))
	if old.Status != "rejected" || old.SupersededBy != fix || len(old.Reviews) != 1 || old.Reviews[0].By != "sup" {
		t.Fatalf("original after correction: %+v", old)
	}
	nw := decode[submissionJSON](t, a.mustDo("ana", "GET", "/api/v1/submissions/"+fix+"?include=identifiers", nil, 200))
	if nw.Supersedes != id || nw.AssignmentID != "a-ana-1" || !nw.Identifiers || nw.Answers["respondent_name"] != "Kofi respondent" {
		t.Fatalf("correction: %+v", nw)
	}
	if got := a.assignment("ana", "a-ana-1"); got.Status != dotm.AssignmentSubmitted || got.SubmissionID != fix {
		t.Fatalf("assignment after correction: %+v", got)
	}
	a.mustDo("sup", "POST", "/api/v1/submissions/"+fix+"/review", map[string]any{"decision": "approve", "comment": "fine"}, 200)
	if got := a.assignment("sup", "a-ana-1"); got.Status != dotm.AssignmentApproved {
		t.Fatalf("assignment after approval: %+v", got)
	}
	// Once approved, the enumerator no longer reads the identifiers.
	a.mustDo("ana", "GET", "/api/v1/submissions/"+fix+"?include=identifiers", nil, 403)

	// Listing and filtering, paginated.
	type listJSON struct {
		Submissions []submissionJSON `json:"submissions"`
		NextAfter   string           `json:"next_after"`
	}
	all := decode[listJSON](t, a.mustDo("sup", "GET", "/api/v1/submissions?survey=gh-2026", nil, 200))
	if len(all.Submissions) != 2 || all.NextAfter != "" {
		t.Fatalf("list: %+v", all)
	}
	for _, s := range all.Submissions {
		if s.Answers != nil {
			t.Fatalf("list carries answers: %+v", s)
		}
	}
	p1 := decode[listJSON](t, a.mustDo("sup", "GET", "/api/v1/submissions?limit=1", nil, 200))
	p2 := decode[listJSON](t, a.mustDo("sup", "GET", "/api/v1/submissions?limit=1&after="+p1.NextAfter, nil, 200))
	if len(p1.Submissions) != 1 || len(p2.Submissions) != 1 || p1.Submissions[0].ID >= p2.Submissions[0].ID {
		t.Fatalf("pages: %+v then %+v", p1, p2)
	}
	appr := decode[listJSON](t, a.mustDo("stat", "GET", "/api/v1/submissions?status=approved", nil, 200))
	if len(appr.Submissions) != 1 || appr.Submissions[0].ID != fix {
		t.Fatalf("approved: %+v", appr)
	}
	if l := decode[listJSON](t, a.mustDo("ben", "GET", "/api/v1/submissions", nil, 200)); len(l.Submissions) != 0 {
		t.Fatalf("ben sees %+v", l)
	}
	a.mustDo("ben", "GET", "/api/v1/submissions?enumerator=ana", nil, 403)
	if l := decode[listJSON](t, a.mustDo("sup_other", "GET", "/api/v1/submissions", nil, 200)); len(l.Submissions) != 0 {
		t.Fatalf("a supervisor of another survey sees %+v", l)
	}
	a.mustDo("sup", "GET", "/api/v1/submissions?status=lost", nil, 400)
	a.mustDo("sup", "GET", "/api/v1/submissions?limit=0", nil, 400)
}

func TestSubmissionRefusals(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	post := func(user string, env map[string]any, want int) problemDoc {
		t.Helper()
		st, b, h := a.do(user, "POST", "/api/v1/submissions", env)
		if st != want {
			t.Fatalf("status %d, want %d: %s", st, want, b)
		}
		if ct := h.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("content type %q", ct)
		}
		return decode[problemDoc](t, b)
	}
	// Invalid answers: 422 with the validator's problems.
	bad := validAnswers("x")
	bad["hh_size"] = 0
	delete(bad, "region")
	p := post("ana", a.envelope(uuid.NewString(), "", bad), 422)
	if !p.has("hh_size", "constraint") || !p.has("region", "required") {
		t.Fatalf("problems: %+v", p)
	}
	// Unknown form or version: 422 naming it.
	env := a.envelope(uuid.NewString(), "", validAnswers("x"))
	env["form_version"] = "1999-01"
	if p := post("ana", env, 422); !strings.Contains(p.Detail, "mini_household") || !strings.Contains(p.Detail, "1999-01") {
		t.Fatalf("unknown version: %+v", p)
	}
	env["form_id"], env["form_version"] = "no_such_form", "1"
	if p := post("ana", env, 422); !strings.Contains(p.Detail, "no_such_form") {
		t.Fatalf("unknown form: %+v", p)
	}
	// Someone else's assignment: 403; an unknown one: 422.
	post("ana", a.envelope(uuid.NewString(), "a-ben-1", validAnswers("x")), 403)
	post("ana", a.envelope(uuid.NewString(), "nope", validAnswers("x")), 422)
	// Correcting a submission that was not rejected: 422.
	id := uuid.NewString()
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(id, "a-ana-2", validAnswers("x")), 201)
	fix := a.envelope(uuid.NewString(), "", validAnswers("x"))
	fix["supersedes"] = id
	post("ana", fix, 422)
	// Only enumerators submit.
	post("sup", a.envelope(uuid.NewString(), "", validAnswers("x")), 403)
}

type problemDoc struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail"`
	Problems []dotm.Problem `json:"problems"`
}

func (p problemDoc) has(path, code string) bool {
	for _, x := range p.Problems {
		if x.Path == path && x.Code == code {
			return true
		}
	}
	return false
}

func TestFormsAPI(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	form, _ := os.ReadFile("testdata/mini_household.yaml")
	// The same version with the same content again: 200, nothing new.
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/gh-2026/forms", "application/yaml", form, 200)
	// The same version with other content: 409 (versions are immutable).
	changed := bytes.Replace(form, []byte("Mini household"), []byte("Mini household, changed"), 1)
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/gh-2026/forms", "application/yaml", changed, 409)
	// A new version is a new immutable version and becomes the latest.
	v2 := bytes.Replace(changed, []byte(`version: "2026-01"`), []byte(`version: "2026-02"`), 1)
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/gh-2026/forms?format=yaml", "application/octet-stream", v2, 201)
	// Broken forms and formats.
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/gh-2026/forms", "application/yaml", []byte("survey: 3"), 422)
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/gh-2026/forms", "text/plain", form, 400)
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/nope/forms", "application/yaml", form, 404)
	a.mustDoRaw("ana", "POST", "/api/v1/surveys/gh-2026/forms", "application/yaml", form, 403)

	st, body, h := a.doRaw("ana", "GET", "/api/v1/forms/mini_household", "", nil, nil)
	if st != 200 || h.Get("ETag") == "" || h.Get("X-Form-Version") != "2026-02" {
		t.Fatalf("latest: %d %v %s", st, h, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("form is not JSON: %v", err)
	}
	st, body, _ = a.doRaw("ana", "GET", "/api/v1/forms/mini_household", "", nil, http.Header{"If-None-Match": {h.Get("ETag")}})
	if st != 304 || len(body) != 0 {
		t.Fatalf("If-None-Match: %d %s", st, body)
	}
	st, _, h1 := a.doRaw("ana", "GET", "/api/v1/forms/mini_household/versions/2026-01", "", nil, nil)
	if st != 200 || h1.Get("ETag") == h.Get("ETag") {
		t.Fatalf("version 2026-01: %d, etag %q vs latest %q", st, h1.Get("ETag"), h.Get("ETag"))
	}
	a.mustDo("ana", "GET", "/api/v1/forms/mini_household/versions/1999", nil, 404)
	a.mustDo("ana", "GET", "/api/v1/forms/nope", nil, 404)
	a.mustDo("sup_other", "GET", "/api/v1/forms/mini_household", nil, 403)
	// The survey lists its form versions.
	sv := decode[struct {
		Forms []dotm.FormVersion `json:"forms"`
	}](t, a.mustDo("sup", "GET", "/api/v1/surveys/gh-2026", nil, 200))
	if len(sv.Forms) != 2 || sv.Forms[1].Version != "2026-02" {
		t.Fatalf("survey forms: %+v", sv.Forms)
	}
	// The form id belongs to its survey.
	a.mustDo("admin", "POST", "/api/v1/surveys", map[string]any{"id": "fj-2026", "country": "Fiji", "languages": []string{"en"}}, 201)
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/fj-2026/forms", "application/yaml", form, 409)
	a.mustDo("admin", "POST", "/api/v1/surveys", map[string]any{"id": "fj-2026", "country": "Fiji", "languages": []string{"en"}}, 409)
	a.mustDo("admin", "POST", "/api/v1/surveys", map[string]any{"id": "bad id", "country": "", "languages": []string{}}, 422)
	// Audit has the uploads.
	au := decode[struct {
		Entries []dotm.AuditEntry `json:"entries"`
	}](t, a.mustDo("admin", "GET", "/api/v1/audit?action=form_upload", nil, 200))
	if len(au.Entries) != 2 {
		t.Fatalf("form uploads audited: %+v", au.Entries)
	}
}

func TestListings(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	listing := map[string]any{"psu": "p1", "stratum": "north", "households": []map[string]any{
		{"household_id": "h1", "class": "current_migrant"}, {"household_id": "h2", "class": "non_migrant"}, {"household_id": "h3", "class": "return_migrant"},
	}}
	r := decode[map[string]any](t, a.mustDo("sup", "POST", "/api/v1/surveys/gh-2026/listings", listing, 201))
	if r["revision"] != 1.0 || r["households"] != 3.0 {
		t.Fatalf("first listing: %v", r)
	}
	listing["households"] = append(listing["households"].([]map[string]any), map[string]any{"household_id": "h4", "class": "non_migrant"})
	r = decode[map[string]any](t, a.mustDo("ana", "POST", "/api/v1/surveys/gh-2026/listings", listing, 201))
	if r["revision"] != 2.0 {
		t.Fatalf("correction: %v", r)
	}
	bad := map[string]any{"psu": "p2", "households": []map[string]any{{"household_id": "h1", "class": "migrant"}, {"household_id": "h1", "class": "non_migrant"}}}
	p := decode[problemDoc](t, a.mustDo("sup", "POST", "/api/v1/surveys/gh-2026/listings", bad, 422))
	if !p.has("households[0].class", "choice") || !p.has("households[1].household_id", "constraint") {
		t.Fatalf("problems %+v", p)
	}
	a.mustDo("sup_other", "POST", "/api/v1/surveys/gh-2026/listings", listing, 403)
	ls := decode[struct {
		Listings []dotm.Listing `json:"listings"`
	}](t, a.mustDo("stat", "GET", "/api/v1/surveys/gh-2026/listings", nil, 200))
	if len(ls.Listings) != 1 || len(ls.Listings[0].Households) != 4 || ls.Listings[0].Revision != 2 || ls.Listings[0].SubmittedBy != "ana" {
		t.Fatalf("listings: %+v", ls)
	}
	// The store hands the same to the sampling step.
	got, err := a.store.Listings(context.Background(), "gh-2026")
	if err != nil || len(got) != 1 || got[0].Households[3].Class != dotm.NonMigrant {
		t.Fatalf("store listings: %+v %v", got, err)
	}
}

func TestAssignmentsAPI(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	// Bulk creation through the store, as the sampling step does it.
	var many []dotm.Assignment
	for i := range 50 {
		many = append(many, dotm.Assignment{ID: fmt.Sprintf("s-%03d", i), Survey: "gh-2026", Enumerator: "ben", HouseholdID: fmt.Sprintf("hh-%d", i)})
	}
	if err := a.store.AddAssignments(context.Background(), many); err != nil {
		t.Fatal(err)
	}
	err := a.store.AddAssignments(context.Background(), append(many[:1:1], dotm.Assignment{ID: "s-new", Survey: "gh-2026", Enumerator: "ben", HouseholdID: "x"}))
	if dotm.ErrorCode(err) != dotm.ECONFLICT || !strings.Contains(err.Error(), "s-000") {
		t.Fatalf("duplicate ids: %v", err)
	}
	ben := decode[assignmentsJSON](t, a.mustDo("ben", "GET", "/api/v1/assignments", nil, 200))
	if len(ben.Assignments) != 52 { // a-ben-1, 50 bulk, s-new
		t.Fatalf("ben has %d assignments", len(ben.Assignments))
	}
	sup := decode[assignmentsJSON](t, a.mustDo("sup", "GET", "/api/v1/assignments?enumerator=ana", nil, 200))
	if len(sup.Assignments) != 2 {
		t.Fatalf("supervisor filter: %d", len(sup.Assignments))
	}
	if l := decode[assignmentsJSON](t, a.mustDo("sup_other", "GET", "/api/v1/assignments", nil, 200)); len(l.Assignments) != 0 {
		t.Fatalf("other survey's supervisor sees %d", len(l.Assignments))
	}
	a.mustDo("ana", "GET", "/api/v1/assignments?enumerator=ben", nil, 403)
	// Supervisors and admins page through them in id order: the pages
	// together are the whole list, with a status filter too.
	for i := 0; i < 50; i += 3 {
		if err := a.store.MoveAssignment(context.Background(), many[i].ID, []dotm.AssignmentStatus{dotm.AssignmentAssigned}, dotm.AssignmentSubmitted, "sub", ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ user, query string }{{"sup", "survey=gh-2026"}, {"sup", ""}, {"admin", ""}, {"sup", "status=submitted"}, {"admin", "status=assigned&enumerator=ben"}} {
		all := decode[assignmentsJSON](t, a.mustDo(c.user, "GET", "/api/v1/assignments?limit=1000&"+c.query, nil, 200)).Assignments
		var paged []dotm.Assignment
		after := ""
		for pages := 0; ; pages++ {
			page := decode[struct {
				Assignments []dotm.Assignment `json:"assignments"`
				NextAfter   string            `json:"next_after"`
			}](t, a.mustDo(c.user, "GET", "/api/v1/assignments?limit=7&after="+url.QueryEscape(after)+"&"+c.query, nil, 200))
			paged = append(paged, page.Assignments...)
			if page.NextAfter == "" {
				break
			}
			if len(page.Assignments) != 7 || page.NextAfter != page.Assignments[6].ID || pages > 20 {
				t.Fatalf("%s %s: page of %d, next_after %q", c.user, c.query, len(page.Assignments), page.NextAfter)
			}
			after = page.NextAfter
		}
		if len(all) < 10 || !reflect.DeepEqual(paged, all) {
			t.Fatalf("%s %s: %d paged, %d at once", c.user, c.query, len(paged), len(all))
		}
	}
	a.mustDo("sup", "GET", "/api/v1/assignments?limit=1001", nil, 400)
	a.mustDo("admin", "POST", "/api/v1/surveys/gh-2026/assignments", map[string]any{"assignments": []map[string]any{{"enumerator": "", "household_id": ""}}}, 422)
	a.mustDo("admin", "POST", "/api/v1/surveys/gh-2026/assignments", map[string]any{"assignments": []map[string]any{{"id": "a-ana-1", "enumerator": "ana", "household_id": "h"}}}, 409)
}

// TestAuditPagesShareAnInstant pages through audit entries recorded in the
// same instant, two at a time: every entry comes exactly once, newest first
// (a page boundary by time alone skipped the rest of the instant).
func TestAuditPagesShareAnInstant(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		if err := a.store.Record(ctx, dotm.AuditEntry{Time: at, Actor: "admin", Action: "same_instant", Target: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.store.Record(ctx, dotm.AuditEntry{Time: at.Add(-time.Second), Actor: "admin", Action: "same_instant", Target: "older"}); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Entries      []dotm.AuditEntry `json:"entries"`
		NextBefore   string            `json:"next_before"`
		NextBeforeID string            `json:"next_before_id"`
	}
	var got []string
	path := "/api/v1/audit?action=same_instant&limit=2"
	for range 10 {
		p := decode[page](t, a.mustDo("admin", "GET", path, nil, 200))
		for _, e := range p.Entries {
			got = append(got, e.Target)
		}
		if p.NextBefore == "" {
			break
		}
		path = "/api/v1/audit?action=same_instant&limit=2&before=" + url.QueryEscape(p.NextBefore) + "&before_id=" + p.NextBeforeID
	}
	if want := []string{"4", "3", "2", "1", "0", "older"}; !slices.Equal(got, want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}
	a.mustDo("admin", "GET", "/api/v1/audit?before_id=0123456789abcdef01234567", nil, 400)
	a.mustDo("admin", "GET", "/api/v1/audit?before=2026-05-01T12:00:00Z&before_id=xyz", nil, 400)
}
