package collector_test

import (
	"slices"
	"testing"

	"github.com/dotm-survey/dotm"
)

// TestScopedAdminStaysInScope: an admin scoped to one survey manages users,
// reads the audit trail and revokes only within that survey; only an
// unscoped admin creates unscoped users or admins; every scope must name
// existing surveys.
func TestScopedAdminStaysInScope(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.mustDo("admin", "POST", "/api/v1/surveys", map[string]any{"id": "fj-2026", "country": "Fiji", "languages": []string{"en"}}, 201)
	// Something in each survey's audit trail.
	a.mustDo("admin", "POST", "/api/v1/users", map[string]any{"name": "fj_enu", "role": "enumerator", "surveys": []string{"fj-2026"}}, 201)
	a.submit("ana")
	id := a.submit("ana")
	a.mustDo("sup", "GET", "/api/v1/submissions/"+id+"?include=identifiers", nil, 200)

	user := func(name, role string, surveys []string) map[string]any {
		m := map[string]any{"name": name, "role": role}
		if surveys != nil {
			m["surveys"] = surveys
		}
		return m
	}
	// Escapes: a user of another survey, an unscoped user, any admin.
	for _, body := range []map[string]any{
		user("x1", "supervisor", []string{"gh-2026"}),
		user("x2", "supervisor", []string{"fj-2026", "gh-2026"}),
		user("x3", "statistician", nil),
		user("x4", "statistician", []string{}),
		user("x5", "admin", nil),
		user("x6", "admin", []string{"fj-2026"}),
	} {
		if st, b, _ := a.do("adm_fj", "POST", "/api/v1/users", body); st != 403 {
			t.Errorf("adm_fj creates %v: %d, want 403: %s", body, st, b)
		}
	}
	// Within its scope it may.
	a.mustDo("adm_fj", "POST", "/api/v1/users", user("fj_sup", "supervisor", []string{"fj-2026"}), 201)
	// The unscoped admin may create admins, scoped or not.
	a.mustDo("admin", "POST", "/api/v1/users", user("fj_admin2", "admin", []string{"fj-2026"}), 201)
	a.mustDo("admin", "POST", "/api/v1/users", user("root2", "admin", nil), 201)

	// Scopes must name existing surveys, for every admin.
	for _, bad := range []string{"", "../../x", "<script>", "no-such-survey", "a b"} {
		for _, by := range []string{"admin", "adm_fj"} {
			st, b, _ := a.do(by, "POST", "/api/v1/users", user(uniq("y"), "enumerator", []string{bad}))
			if st != 422 {
				t.Errorf("%s creates a user scoped to %q: %d, want 422: %s", by, bad, st, b)
			} else if p := decode[problemDoc](t, b); len(p.Problems) == 0 || p.Problems[0].Path != "surveys[0]" {
				t.Errorf("scope %q: the problem does not name surveys[0]: %s", bad, b)
			}
		}
	}

	// The listing shows only users whose whole scope is within the caller's.
	type usersJSON struct {
		Users []dotm.User `json:"users"`
	}
	var names []string
	for _, u := range decode[usersJSON](t, a.mustDo("adm_fj", "GET", "/api/v1/users", nil, 200)).Users {
		names = append(names, u.Name)
		if len(u.Surveys) == 0 || slices.ContainsFunc(u.Surveys, func(s string) bool { return s != "fj-2026" }) {
			t.Errorf("adm_fj lists %s (scope %v)", u.Name, u.Surveys)
		}
	}
	for _, want := range []string{"fj_enu", "fj_sup", "adm_fj", "fj_admin2"} {
		if !slices.Contains(names, want) {
			t.Errorf("adm_fj's listing lacks %s: %v", want, names)
		}
	}
	if n := len(decode[usersJSON](t, a.mustDo("admin", "GET", "/api/v1/users", nil, 200)).Users); n <= len(names) {
		t.Errorf("the unscoped admin lists %d users, adm_fj %d", n, len(names))
	}

	// Revoking: only users within its scope.
	for _, victim := range []string{"admin", "adm_gh", "sup", "ana", "res", "root2"} {
		if st, b, _ := a.do("adm_fj", "DELETE", "/api/v1/users/"+victim, nil); st != 403 && st != 404 {
			t.Errorf("adm_fj revokes %s: %d, want 403/404: %s", victim, st, b)
		}
	}
	a.mustDo("sup", "GET", "/api/v1/me", nil, 200) // still signed in
	a.mustDo("adm_fj", "DELETE", "/api/v1/users/fj_sup", nil, 204)

	// The audit trail: only entries of its surveys.
	type auditJSON struct {
		Entries []dotm.AuditEntry `json:"entries"`
	}
	all := decode[auditJSON](t, a.mustDo("admin", "GET", "/api/v1/audit", nil, 200)).Entries
	if !slices.ContainsFunc(all, func(e dotm.AuditEntry) bool { return e.Survey == "gh-2026" }) {
		t.Fatalf("no gh-2026 entry in the audit trail: %+v", all)
	}
	mine := decode[auditJSON](t, a.mustDo("adm_fj", "GET", "/api/v1/audit", nil, 200)).Entries
	for _, e := range mine {
		if e.Survey != "fj-2026" {
			t.Errorf("adm_fj reads an audit entry of survey %q: %+v", e.Survey, e)
		}
	}
	if !slices.ContainsFunc(mine, func(e dotm.AuditEntry) bool { return e.Action == "user_revoke" && e.Target == "fj_sup" }) {
		t.Errorf("adm_fj does not see its own revocation: %+v", mine)
	}
	a.mustDo("adm_fj", "GET", "/api/v1/audit?survey=gh-2026", nil, 403)
	a.mustDo("adm_gh", "GET", "/api/v1/audit?survey=gh-2026", nil, 200)

	// Surveys: a scoped admin creates none (it would be outside its scope).
	a.mustDo("adm_fj", "POST", "/api/v1/surveys", map[string]any{"id": "zz-2026", "country": "Fiji", "languages": []string{"en"}}, 403)
}
