package collector_test

import (
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/questionnaire"
)

// routeCase says who may call a route and how to make a request that
// succeeds for those who may.
type routeCase struct {
	public bool        // no token needed
	roles  []dotm.Role // roles that get 2xx; every other role gets 403
	// req makes the path and body for one attempt by user (called once per
	// attempt, so that attempts that create things do not collide).
	req func(a *apiEnv, user string) (path string, body any)
	// authOnly: the request passes authentication and authorization but
	// needs a whole survey round to succeed (the design tests cover that):
	// allowed roles get neither 401 nor 403.
	authOnly bool
	// For admins scoped to surveys (see TestRouteRoleTable): inScopeDenied
	// means an admin scoped to the test survey is refused too (the request
	// reaches beyond its scope: an unscoped user, a new survey);
	// otherScopeOK means an admin scoped to another survey gets 2xx (the
	// answer is filtered to its scope, which TestScopedAdminStaysInScope
	// checks); otherwise it gets 403 or 404.
	inScopeDenied bool
	otherScopeOK  bool
	// openRosa: errors come as OpenRosa response XML, not problem+json.
	openRosa bool
}

// frameCSV is a small sampling frame for the PSU draw.
const frameCSV = "psu_id,stratum,size\nn1,north,120\nn2,north,80\nn3,north,200\ns1,south,150\ns2,south,90\n"

var seq atomic.Int64

func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// The route × role table. Every route of the router must be here and
// nothing else: TestRouteRoleTable checks both ways.
func routeTable() map[string]routeCase {
	const (
		enu  = dotm.RoleEnumerator
		sup  = dotm.RoleSupervisor
		stat = dotm.RoleStatistician
		res  = dotm.RoleResearcher
		adm  = dotm.RoleAdmin
	)
	all := []dotm.Role{enu, sup, stat, res, adm}
	fixed := func(path string) func(*apiEnv, string) (string, any) {
		return func(*apiEnv, string) (string, any) { return path, nil }
	}
	table := map[string]routeCase{
		"GET /":                    {public: true, req: fixed("/")},
		"GET /healthz":             {public: true, req: fixed("/healthz")},
		"GET /readyz":              {public: true, req: fixed("/readyz")},
		"GET /api/v1/version":      {public: true, req: fixed("/api/v1/version")},
		"GET /api/v1/openapi.json": {public: true, req: fixed("/api/v1/openapi.json")},
		"GET /api/v1/me":           {roles: all, req: fixed("/api/v1/me"), otherScopeOK: true},
		"GET /api/v1/users":        {roles: []dotm.Role{adm}, req: fixed("/api/v1/users"), otherScopeOK: true},
		// An unscoped user: only an unscoped admin may create one.
		"POST /api/v1/users": {roles: []dotm.Role{adm}, inScopeDenied: true, req: func(*apiEnv, string) (string, any) {
			return "/api/v1/users", map[string]any{"name": uniq("u"), "role": "enumerator"}
		}},
		"DELETE /api/v1/users/:name": {roles: []dotm.Role{adm}, inScopeDenied: true, req: func(a *apiEnv, _ string) (string, any) {
			name := uniq("victim")
			a.mustDo("admin", "POST", "/api/v1/users", map[string]any{"name": name, "role": "researcher"}, 201)
			return "/api/v1/users/" + name, nil
		}},
		"POST /api/v1/surveys": {roles: []dotm.Role{adm}, inScopeDenied: true, req: func(*apiEnv, string) (string, any) {
			return "/api/v1/surveys", map[string]any{"id": uniq("s"), "country": "Ghana", "languages": []string{"en"}}
		}},
		"GET /api/v1/surveys":         {roles: all, req: fixed("/api/v1/surveys"), otherScopeOK: true},
		"GET /api/v1/surveys/:survey": {roles: all, req: fixed("/api/v1/surveys/gh-2026")},
		"POST /api/v1/surveys/:survey/forms": {roles: []dotm.Role{adm}, req: func(a *apiEnv, _ string) (string, any) {
			form, err := os.ReadFile("testdata/mini_household.yaml")
			if err != nil {
				a.t.Fatal(err)
			}
			return "/api/v1/surveys/gh-2026/forms?format=yaml", form
		}},
		"POST /api/v1/surveys/:survey/assignments": {roles: []dotm.Role{adm}, req: func(*apiEnv, string) (string, any) {
			return "/api/v1/surveys/gh-2026/assignments", map[string]any{"assignments": []map[string]any{{"enumerator": "ana", "household_id": uniq("hh")}}}
		}},
		"POST /api/v1/surveys/:survey/listings": {roles: []dotm.Role{sup, enu}, req: func(*apiEnv, string) (string, any) {
			return "/api/v1/surveys/gh-2026/listings", map[string]any{"psu": uniq("psu"), "households": []map[string]any{{"household_id": "h1", "class": "non_migrant"}}}
		}},
		// A fresh survey each time, outside adm_gh's scope.
		"POST /api/v1/surveys/:survey/sample/psus": {roles: []dotm.Role{adm}, inScopeDenied: true, req: func(a *apiEnv, _ string) (string, any) {
			id := uniq("draw") // a sample is drawn once per survey
			a.mustDo("admin", "POST", "/api/v1/surveys", map[string]any{"id": id, "country": "Ghana", "languages": []string{"en"}}, 201)
			return "/api/v1/surveys/" + id + "/sample/psus?n=4&seed=7", rawBody{"text/csv", frameCSV}
		}},
		"GET /api/v1/surveys/:survey/sample/psus": {roles: []dotm.Role{sup, stat, adm}, req: func(a *apiEnv, _ string) (string, any) {
			if st, b, _ := a.doRaw("admin", "POST", "/api/v1/surveys/gh-2026/sample/psus?n=4&seed=7", "text/csv", strings.NewReader(frameCSV), nil); st != 201 && st != 409 {
				a.t.Fatalf("draw PSUs: %d %s", st, b)
			}
			return "/api/v1/surveys/gh-2026/sample/psus", nil
		}},
		"POST /api/v1/surveys/:survey/sample/households": {roles: []dotm.Role{adm}, authOnly: true, req: func(*apiEnv, string) (string, any) {
			return "/api/v1/surveys/gh-2026/sample/households", map[string]any{"quota": map[string]int{"current_migrant": 1}, "seed": 1, "enumerators": []string{"ana"}}
		}},
		"POST /api/v1/surveys/:survey/weights": {roles: []dotm.Role{stat, adm}, authOnly: true, req: func(*apiEnv, string) (string, any) {
			return "/api/v1/surveys/gh-2026/weights", map[string]any{}
		}},
		"GET /api/v1/surveys/:survey/weights": {roles: []dotm.Role{stat, adm}, authOnly: true, req: fixed("/api/v1/surveys/gh-2026/weights")},
		"POST /api/v1/surveys/:survey/analyses": {roles: []dotm.Role{stat, adm}, authOnly: true, req: func(*apiEnv, string) (string, any) {
			return "/api/v1/surveys/gh-2026/analyses", map[string]any{"estimates": []map[string]any{{"id": "m", "mean": "cons_pc"}}}
		}},
		"GET /api/v1/surveys/:survey/listings":      {roles: []dotm.Role{sup, stat, adm}, req: fixed("/api/v1/surveys/gh-2026/listings")},
		"GET /api/v1/surveys/:survey/progress":      {roles: []dotm.Role{sup, stat, adm}, req: fixed("/api/v1/surveys/gh-2026/progress")},
		"GET /api/v1/forms/:form":                   {roles: []dotm.Role{enu, sup, stat, adm}, req: fixed("/api/v1/forms/mini_household")},
		"GET /api/v1/forms/:form/versions/:version": {roles: []dotm.Role{enu, sup, stat, adm}, req: fixed("/api/v1/forms/mini_household/versions/2026-01")},
		"GET /api/v1/assignments":                   {roles: []dotm.Role{enu, sup, adm}, req: fixed("/api/v1/assignments"), otherScopeOK: true},
		"GET /api/v1/submissions":                   {roles: []dotm.Role{enu, sup, stat, adm}, req: fixed("/api/v1/submissions"), otherScopeOK: true},
		"GET /api/v1/audit":                         {roles: []dotm.Role{adm}, req: fixed("/api/v1/audit"), otherScopeOK: true},
		// Making a release needs a whole survey round (TestSurveyRelease).
		"POST /api/v1/surveys/:survey/releases": {roles: []dotm.Role{stat, adm}, authOnly: true, req: func(*apiEnv, string) (string, any) {
			return "/api/v1/surveys/gh-2026/releases", map[string]any{"k": 3}
		}},
		"POST /api/v1/releases/:id/publish": {roles: []dotm.Role{adm}, req: func(a *apiEnv, _ string) (string, any) {
			return "/api/v1/releases/" + a.storedRelease(false) + "/publish", nil
		}},
		"GET /api/v1/releases": {roles: []dotm.Role{res, stat, adm}, req: fixed("/api/v1/releases"), otherScopeOK: true},
		"GET /api/v1/releases/:id": {roles: []dotm.Role{res, stat, adm}, req: func(a *apiEnv, _ string) (string, any) {
			return "/api/v1/releases/" + a.storedRelease(true), nil
		}},
		"GET /api/v1/releases/:id/files/:name": {roles: []dotm.Role{res, stat, adm}, req: func(a *apiEnv, _ string) (string, any) {
			return "/api/v1/releases/" + a.storedRelease(true) + "/files/manifest.json", nil
		}},
		"POST /api/v1/submissions": {roles: []dotm.Role{enu}, req: func(a *apiEnv, _ string) (string, any) {
			return "/api/v1/submissions", a.envelope(uuid.NewString(), "", validAnswers("role"))
		}},
		"POST /api/v1/submissions/batch": {roles: []dotm.Role{enu}, req: func(a *apiEnv, _ string) (string, any) {
			return "/api/v1/submissions/batch", map[string]any{"submissions": []any{a.envelope(uuid.NewString(), "", validAnswers("role"))}}
		}},
		"GET /api/v1/submissions/:id": {roles: []dotm.Role{enu, sup, stat, adm}, req: func(a *apiEnv, _ string) (string, any) {
			return "/api/v1/submissions/" + a.submit("ana"), nil
		}},
		"GET /api/v1/submissions/:id/attachments": {roles: []dotm.Role{sup, adm}, req: func(a *apiEnv, _ string) (string, any) {
			return "/api/v1/submissions/" + a.submit("ana") + "/attachments", nil
		}},
		// the mini household form has no media question: 404 to an allowed role
		"GET /api/v1/submissions/:id/attachments/:name": {roles: []dotm.Role{sup, adm}, authOnly: true, req: func(a *apiEnv, _ string) (string, any) {
			return "/api/v1/submissions/" + a.submit("ana") + "/attachments/photo.jpg", nil
		}},
		"POST /api/v1/submissions/:id/review": {roles: []dotm.Role{sup}, req: func(a *apiEnv, _ string) (string, any) {
			return "/api/v1/submissions/" + a.submit("ana") + "/review", map[string]any{"decision": "approve"}
		}},
	}
	// The OpenRosa API, under its two prefixes (openrosa.go).
	for _, prefix := range []struct{ route, path string }{
		{"/v1/key/:token/projects/:survey", "/v1/key/{token}/projects/gh-2026"},
		{"/openrosa/projects/:survey", "/openrosa/projects/gh-2026"},
	} {
		at := func(rest string, body func(*apiEnv) any) func(*apiEnv, string) (string, any) {
			return func(a *apiEnv, user string) (string, any) {
				token := a.tokens[user]
				if token == "" {
					token = "dotm_none" // an unknown token in the URL
				}
				var b any
				if body != nil {
					b = body(a)
				}
				return strings.Replace(prefix.path, "{token}", token, 1) + rest, b
			}
		}
		form := "/forms/mini_household/versions/2026-01"
		table["GET "+prefix.route+"/formList"] = routeCase{roles: []dotm.Role{enu, sup}, openRosa: true, req: at("/formList", nil)}
		table["GET "+prefix.route+"/forms/:form/versions/:version/form.xml"] = routeCase{roles: []dotm.Role{enu, sup}, openRosa: true, req: at(form+"/form.xml", nil)}
		table["GET "+prefix.route+"/forms/:form/versions/:version/manifest"] = routeCase{roles: []dotm.Role{enu, sup}, openRosa: true, req: at(form+"/manifest", nil)}
		// the mini household form carries no file: 404 to an allowed role
		table["GET "+prefix.route+"/forms/:form/versions/:version/attachments/:name"] = routeCase{roles: []dotm.Role{enu, sup}, openRosa: true, authOnly: true, req: at(form+"/attachments/itemsets.csv", nil)}
		table["HEAD "+prefix.route+"/submission"] = routeCase{roles: []dotm.Role{enu}, openRosa: true, req: at("/submission", nil)}
		table["POST "+prefix.route+"/submission"] = routeCase{roles: []dotm.Role{enu}, openRosa: true, req: at("/submission", func(a *apiEnv) any {
			f, err := questionnaire.Decode(mustRead(a.t, "testdata/mini_household.yaml"), "yaml")
			if err != nil {
				a.t.Fatal(err)
			}
			doc, err := f.EncodeInstance(validAnswers("role"), uuid.NewString(), "")
			if err != nil {
				a.t.Fatal(err)
			}
			var b strings.Builder
			w := multipart.NewWriter(&b)
			part, _ := w.CreateFormFile("xml_submission_file", "submission.xml")
			part.Write(doc)
			w.Close()
			return rawBody{w.FormDataContentType(), b.String()}
		})}
	}
	return table
}

// rawBody is a request body sent as is with its content type.
type rawBody struct{ contentType, body string }

// submit stores a fresh valid submission by user and returns its id.
func (a *apiEnv) submit(user string) string {
	a.t.Helper()
	id := uuid.NewString()
	a.mustDo(user, "POST", "/api/v1/submissions", a.envelope(id, "", validAnswers("x")), 201)
	return id
}

// TestRouteRoleTable walks the router's own route list: each route is in the
// table, answers 401 without a token (unless public), 2xx to each allowed
// role and 403 to every other role.
func TestRouteRoleTable(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	table := routeTable()
	actingUser := map[dotm.Role]string{
		dotm.RoleEnumerator: "ana", dotm.RoleSupervisor: "sup", dotm.RoleStatistician: "stat",
		dotm.RoleResearcher: "res", dotm.RoleAdmin: "admin",
	}
	seen := map[string]bool{}
	for _, r := range a.api.Routes() {
		key := r.Method + " " + r.Path
		seen[key] = true
		rc, ok := table[key]
		if !ok {
			t.Errorf("route %s is not in the route × role table", key)
			continue
		}
		t.Run(strings.ReplaceAll(key, "/", "_"), func(t *testing.T) {
			a.t = t
			defer func() { a.t = nil }()
			if !rc.public {
				path, body := rc.req(a, "")
				if rb, ok := body.(rawBody); ok {
					body = rb.body
				}
				if st, b, _ := a.do("", r.Method, path, body); st != 401 {
					t.Errorf("no token: %d, want 401: %s", st, b)
				}
			}
			for _, role := range dotm.Roles {
				user := actingUser[role]
				path, body := rc.req(a, user)
				var st int
				var b []byte
				var h http.Header
				if rb, ok := body.(rawBody); ok {
					st, b, h = a.doRaw(user, r.Method, path, rb.contentType, strings.NewReader(rb.body), nil)
				} else {
					st, b, h = a.do(user, r.Method, path, body)
				}
				allowed := rc.public || slices.Contains(rc.roles, role)
				switch {
				case allowed && rc.authOnly && (st == 401 || st == 403 || st >= 500):
					t.Errorf("%s: %d, want authorized: %s", role, st, b)
				case allowed && !rc.authOnly && (st < 200 || st > 299):
					t.Errorf("%s: %d, want 2xx: %s", role, st, b)
				case !allowed && st != 403:
					t.Errorf("%s: %d, want 403: %s", role, st, b)
				case !allowed && rc.openRosa && !strings.HasPrefix(h.Get("Content-Type"), "text/xml"):
					t.Errorf("%s: 403 as %q, want OpenRosa XML", role, h.Get("Content-Type"))
				case !allowed && !rc.openRosa && h.Get("Content-Type") != "application/problem+json":
					t.Errorf("%s: 403 as %q", role, h.Get("Content-Type"))
				}
			}
			if rc.public {
				return
			}
			// Admins scoped to one survey: the test survey's (adm_gh) and
			// another's (adm_fj).
			for _, user := range []string{"adm_gh", "adm_fj"} {
				path, body := rc.req(a, user)
				var st int
				var b []byte
				if rb, ok := body.(rawBody); ok {
					st, b, _ = a.doRaw(user, r.Method, path, rb.contentType, strings.NewReader(rb.body), nil)
				} else {
					st, b, _ = a.do(user, r.Method, path, body)
				}
				adminOK := slices.Contains(rc.roles, dotm.RoleAdmin)
				inScope := user == "adm_gh" && adminOK && !rc.inScopeDenied
				denied := st == 403 || st == 404
				switch {
				case inScope && rc.authOnly && (st == 401 || st == 403 || st >= 500):
					t.Errorf("%s: %d, want authorized: %s", user, st, b)
				case inScope && !rc.authOnly && (st < 200 || st > 299):
					t.Errorf("%s: %d, want 2xx: %s", user, st, b)
				case !inScope && user == "adm_fj" && adminOK && rc.otherScopeOK && (st < 200 || st > 299):
					t.Errorf("%s: %d, want 2xx (filtered to its scope): %s", user, st, b)
				case !inScope && !(user == "adm_fj" && adminOK && rc.otherScopeOK) && !denied:
					t.Errorf("%s: %d, want 403 or 404: %s", user, st, b)
				}
			}
		})
	}
	for key := range table {
		if !seen[key] {
			t.Errorf("the table lists %s, which the router does not have", key)
		}
	}
}

// TestOpenAPIDocumentsEveryRoute checks the OpenAPI document against the
// router: every route documented, nothing documented that is not a route.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	body := a.mustDo("", "GET", "/api/v1/openapi.json", nil, 200)
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	routes := map[string]bool{}
	for _, r := range a.api.Routes() {
		key := strings.ToLower(r.Method) + " " + param.ReplaceAllString(r.Path, "{$1}")
		routes[key] = true
	}
	var documented []string
	for p, ops := range doc.Paths {
		for m, op := range ops {
			key := m + " " + p
			documented = append(documented, key)
			if !routes[key] {
				t.Errorf("documented %s is not a route", key)
			}
			var o struct {
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(op, &o); err != nil || o.OperationID == "" || len(o.Responses) == 0 {
				t.Errorf("%s: operationId and responses required (%v)", key, err)
			}
		}
	}
	sort.Strings(documented)
	for key := range routes {
		if !slices.Contains(documented, key) {
			t.Errorf("route %s is not in the OpenAPI document", key)
		}
	}
}
