package dotm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Role is what a user may do.
type Role string

// The roles, from the field to the archive.
const (
	RoleEnumerator   Role = "enumerator"   // interviews, submits, sees own work
	RoleSupervisor   Role = "supervisor"   // lists, screens, reviews; may read identifiers (audited)
	RoleStatistician Role = "statistician" // weights and analyses; never sees direct identifiers
	RoleResearcher   Role = "researcher"   // anonymized releases only
	RoleAdmin        Role = "admin"        // surveys, forms, users, keys, releases
)

// Roles lists every role.
var Roles = []Role{RoleEnumerator, RoleSupervisor, RoleStatistician, RoleResearcher, RoleAdmin}

// ParseRole checks that s names a role.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if slices.Contains(Roles, r) {
		return r, nil
	}
	return "", Errorf(EINVALID, "unknown role %q (one of enumerator, supervisor, statistician, researcher, admin)", s)
}

// User is someone who signs in with a bearer token.
type User struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Surveys   []string  `json:"surveys"` // empty: every survey
	CreatedAt time.Time `json:"created_at"`
	Revoked   bool      `json:"revoked,omitempty"`
}

// InSurvey reports whether the user's scope covers survey id.
func (u User) InSurvey(id string) bool {
	return len(u.Surveys) == 0 || slices.Contains(u.Surveys, id)
}

// UserStore finds the user a token belongs to.
//
// UserByTokenHash returns the user whose token has the given SHA-256 (hex),
// with the stored hash so that the caller can compare it in constant time;
// an *Error with ENOTFOUND when no user has it.
type UserStore interface {
	UserByTokenHash(ctx context.Context, hash string) (User, string, error)
}

// NewToken makes a random bearer token (32 bytes, URL-safe base64, prefixed
// "dotm_") and the SHA-256 hex that is all the store keeps of it.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("dotm: token: %w", err)
	}
	token = "dotm_" + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the SHA-256 hex of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Accounts creates, lists and revokes users. AddUser returns ECONFLICT for a
// name already taken; RevokeUser ENOTFOUND for an unknown name.
type Accounts interface {
	AddUser(ctx context.Context, u User, tokenHash string) error
	Users(ctx context.Context) ([]User, error)
	RevokeUser(ctx context.Context, name string) error
}

// Within reports whether scope is a non-empty subset of the admin's scope
// (or the admin is unscoped).
func Within(admin User, scope []string) bool {
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
			problems = append(problems, Problem{Path: at, Code: "format", Message: "a survey id: " + IDRule})
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
