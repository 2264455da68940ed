package collector

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
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
		return "", "", fmt.Errorf("collector: token: %w", err)
	}
	token = "dotm_" + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the SHA-256 hex of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
