package collector

import (
	"context"
	"net/http"
	"regexp"

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

// handleAddUser creates a user and answers its token, shown only this once.
func handleAddUser(accounts Accounts, audit Auditor) gin.HandlerFunc {
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
		if len(problems) > 0 {
			fail(c, &Error{Code: EUNPROCESSABL, Message: "invalid user", Problems: problems})
			return
		}
		if req.Surveys == nil {
			req.Surveys = []string{}
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
		admin := currentUser(c)
		if err := audit.Record(c.Request.Context(), AuditEntry{Actor: admin.Name, Role: admin.Role, Action: "user_add", Target: req.Name, Detail: string(role)}); err != nil {
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
		if users == nil {
			users = []User{}
		}
		c.JSON(http.StatusOK, gin.H{"users": users})
	}
}

func handleRevokeUser(accounts Accounts, tokens *tokenCache, audit Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		name := c.Param("name")
		if err := accounts.RevokeUser(c.Request.Context(), name); err != nil {
			fail(c, err)
			return
		}
		tokens.forget(name)
		admin := currentUser(c)
		if err := audit.Record(c.Request.Context(), AuditEntry{Actor: admin.Name, Role: admin.Role, Action: "user_revoke", Target: name}); err != nil {
			fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}
