package collector

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// Accounts creates, lists and revokes users. AddUser returns ECONFLICT for a
// name already taken; RevokeUser ENOTFOUND for an unknown name.
type Accounts interface {
	AddUser(ctx context.Context, u User, tokenHash string) error
	Users(ctx context.Context) ([]User, error)
	RevokeUser(ctx context.Context, name string) error
}

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Scopes. An unscoped admin manages everyone. An admin scoped to surveys
// manages only users whose scope is not empty and lies within its own: it
// creates no admin and no unscoped user, lists and revokes only such users,
// and reads only the audit entries of its surveys.

// within reports whether scope is a non-empty subset of the admin's scope
// (or the admin is unscoped).
func within(admin User, scope []string) bool {
	if len(admin.Surveys) == 0 {
		return true
	}
	if len(scope) == 0 {
		return false
	}
	for _, s := range scope {
		if !admin.InSurvey(s) {
			return false
		}
	}
	return true
}

// CheckScope checks a new user's scope: each entry a survey id (the pattern
// of every id) naming an existing survey, none twice. The problems name
// surveys[i].
func CheckScope(ctx context.Context, surveys SurveyStore, scope []string) ([]Problem, error) {
	var problems []Problem
	seen := map[string]bool{}
	for i, id := range scope {
		at := "surveys[" + strconv.Itoa(i) + "]"
		switch {
		case !ValidID(id):
			problems = append(problems, Problem{Path: at, Code: "format", Message: "a survey id: " + idRule})
		case seen[id]:
			problems = append(problems, Problem{Path: at, Code: "constraint", Message: "survey " + id + " is listed twice"})
		default:
			if _, err := surveys.Survey(ctx, id); err != nil {
				if ErrorCode(err) != ENOTFOUND {
					return nil, err
				}
				problems = append(problems, Problem{Path: at, Code: "not_found", Message: "no survey " + id})
			}
		}
		seen[id] = true
	}
	return problems, nil
}

// handleAddUser creates a user and answers its token, shown only this once.
func handleAddUser(accounts Accounts, surveys SurveyStore, audit Auditor) gin.HandlerFunc {
	type request struct {
		Name    string   `json:"name"`
		Role    string   `json:"role"`
		Surveys []string `json:"surveys"`
	}
	type response struct {
		Name    string   `json:"name"`
		Role    Role     `json:"role"`
		Surveys []string `json:"surveys"`
		Token   string   `json:"token"`
	}
	return func(c *gin.Context) {
		var req request
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
		var problems []Problem
		if !userNameRE.MatchString(req.Name) {
			problems = append(problems, Problem{Path: "name", Code: "invalid", Message: "1–64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"})
		}
		role, err := ParseRole(req.Role)
		if err != nil {
			problems = append(problems, Problem{Path: "role", Code: "choice", Message: "one of enumerator, supervisor, statistician, researcher, admin"})
		}
		ps, err := CheckScope(c.Request.Context(), surveys, req.Surveys)
		if err != nil {
			fail(c, err)
			return
		}
		problems = append(problems, ps...)
		if len(problems) > 0 {
			fail(c, &Error{Code: EUNPROCESSABL, Message: "invalid user", Problems: problems})
			return
		}
		if req.Surveys == nil {
			req.Surveys = []string{}
		}
		admin := currentUser(c)
		switch {
		case len(admin.Surveys) > 0 && role == RoleAdmin:
			fail(c, Errorf(EFORBIDDEN, "only an admin of every survey may create admins"))
			return
		case !within(admin, req.Surveys):
			fail(c, Errorf(EFORBIDDEN, "the new user's surveys must be within yours (%s)", strings.Join(admin.Surveys, ", ")))
			return
		}
		token, hash, err := NewToken()
		if err != nil {
			fail(c, err)
			return
		}
		if err := accounts.AddUser(c.Request.Context(), User{Name: req.Name, Role: role, Surveys: req.Surveys}, hash); err != nil {
			fail(c, err)
			return
		}
		if err := audit.Record(c.Request.Context(), AuditEntry{Actor: admin.Name, Role: admin.Role, Action: "user_add", Survey: auditSurvey(req.Surveys), Target: req.Name, Detail: string(role)}); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, response{Name: req.Name, Role: role, Surveys: req.Surveys, Token: token})
	}
}

func handleListUsers(accounts Accounts) gin.HandlerFunc {
	return func(c *gin.Context) {
		users, err := accounts.Users(c.Request.Context())
		if err != nil {
			fail(c, err)
			return
		}
		admin := currentUser(c)
		out := []User{}
		for _, u := range users {
			if within(admin, u.Surveys) {
				out = append(out, u)
			}
		}
		c.JSON(http.StatusOK, gin.H{"users": out})
	}
}

func handleRevokeUser(accounts Accounts, tokens *tokenCache, audit Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		name := c.Param("name")
		admin := currentUser(c)
		var scope []string
		if len(admin.Surveys) > 0 {
			users, err := accounts.Users(c.Request.Context())
			if err != nil {
				fail(c, err)
				return
			}
			i := slices.IndexFunc(users, func(u User) bool { return u.Name == name })
			if i < 0 || !within(admin, users[i].Surveys) {
				fail(c, Errorf(EFORBIDDEN, "user %s is not within your surveys", name))
				return
			}
			scope = users[i].Surveys
		}
		if err := accounts.RevokeUser(c.Request.Context(), name); err != nil {
			fail(c, err)
			return
		}
		tokens.forget(name)
		if err := audit.Record(c.Request.Context(), AuditEntry{Actor: admin.Name, Role: admin.Role, Action: "user_revoke", Survey: auditSurvey(scope), Target: name}); err != nil {
			fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// auditSurvey is the survey an entry about a user with this scope is
// filed under: the one survey of a single-survey scope, else none (only
// unscoped admins read entries without a survey).
func auditSurvey(scope []string) string {
	if len(scope) == 1 {
		return scope[0]
	}
	return ""
}
