package collector

import (
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
)

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Scopes. An unscoped admin manages everyone. An admin scoped to surveys
// manages only users whose scope is not empty and lies within its own: it
// creates no admin and no unscoped user, lists and revokes only such users,
// and reads only the audit entries of its surveys.

// handleAddUser creates a user and answers its token, shown only this once.
func handleAddUser(accounts dotm.Accounts, surveys dotm.SurveyStore, audit dotm.Auditor) gin.HandlerFunc {
	type request struct {
		Name    string   `json:"name"`
		Role    string   `json:"role"`
		Surveys []string `json:"surveys"`
	}
	type response struct {
		Name    string    `json:"name"`
		Role    dotm.Role `json:"role"`
		Surveys []string  `json:"surveys"`
		Token   string    `json:"token"`
	}
	return func(c *gin.Context) {
		var req request
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
		var problems []dotm.Problem
		if !userNameRE.MatchString(req.Name) {
			problems = append(problems, dotm.Problem{Path: "name", Code: "invalid", Message: "1–64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"})
		}
		role, err := dotm.ParseRole(req.Role)
		if err != nil {
			problems = append(problems, dotm.Problem{Path: "role", Code: "choice", Message: "one of enumerator, supervisor, statistician, researcher, admin"})
		}
		ps, err := dotm.CheckScope(c.Request.Context(), surveys, req.Surveys)
		if err != nil {
			fail(c, err)
			return
		}
		problems = append(problems, ps...)
		if len(problems) > 0 {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "invalid user", Problems: problems})
			return
		}
		if req.Surveys == nil {
			req.Surveys = []string{}
		}
		admin := currentUser(c)
		switch {
		case len(admin.Surveys) > 0 && role == dotm.RoleAdmin:
			fail(c, dotm.Errorf(dotm.EFORBIDDEN, "only an admin of every survey may create admins"))
			return
		case !dotm.Within(admin, req.Surveys):
			fail(c, dotm.Errorf(dotm.EFORBIDDEN, "the new user's surveys must be within yours (%s)", strings.Join(admin.Surveys, ", ")))
			return
		}
		token, hash, err := dotm.NewToken()
		if err != nil {
			fail(c, err)
			return
		}
		if err := accounts.AddUser(c.Request.Context(), dotm.User{Name: req.Name, Role: role, Surveys: req.Surveys}, hash); err != nil {
			fail(c, err)
			return
		}
		if err := record(c, audit, dotm.AuditEntry{Actor: admin.Name, Role: admin.Role, Action: "user_add", Survey: auditSurvey(req.Surveys), Target: req.Name, Detail: string(role)}); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, response{Name: req.Name, Role: role, Surveys: req.Surveys, Token: token})
	}
}

func handleListUsers(accounts dotm.Accounts) gin.HandlerFunc {
	return func(c *gin.Context) {
		users, err := accounts.Users(c.Request.Context())
		if err != nil {
			fail(c, err)
			return
		}
		admin := currentUser(c)
		out := []dotm.User{}
		for _, u := range users {
			if dotm.Within(admin, u.Surveys) {
				out = append(out, u)
			}
		}
		c.JSON(http.StatusOK, gin.H{"users": out})
	}
}

func handleRevokeUser(accounts dotm.Accounts, tokens *tokenCache, audit dotm.Auditor) gin.HandlerFunc {
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
			i := slices.IndexFunc(users, func(u dotm.User) bool { return u.Name == name })
			if i < 0 || !dotm.Within(admin, users[i].Surveys) {
				fail(c, dotm.Errorf(dotm.EFORBIDDEN, "user %s is not within your surveys", name))
				return
			}
			scope = users[i].Surveys
		}
		if err := accounts.RevokeUser(c.Request.Context(), name); err != nil {
			fail(c, err)
			return
		}
		tokens.forget(name)
		if err := record(c, audit, dotm.AuditEntry{Actor: admin.Name, Role: admin.Role, Action: "user_revoke", Survey: auditSurvey(scope), Target: name}); err != nil {
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
