package collector

import (
	"crypto/subtle"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

const ctxUser = "dotm.user"

// currentUser is the signed-in user; only valid behind authenticate.
func currentUser(c *gin.Context) User {
	u, _ := c.Get(ctxUser)
	user, _ := u.(User)
	return user
}

// authenticate resolves the bearer token to a user: 401 when missing,
// unknown or revoked, 429 when the client address has failed too often.
func authenticate(users UserStore, limiter *failLimiter, logger *slog.Logger, audit Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		ip := c.ClientIP()
		if wait := limiter.blocked(ip, time.Now()); wait > 0 {
			fail(c, &Error{Code: ERATELIMIT, Message: "too many failed sign-ins from this address", RetryAfter: int(math.Ceil(wait.Seconds()))})
			return
		}
		token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || token == "" {
			c.Header("WWW-Authenticate", `Bearer realm="dotm"`)
			fail(c, Errorf(EUNAUTHORIZED, "missing bearer token"))
			return
		}
		hash := HashToken(token)
		user, stored, err := users.UserByTokenHash(c.Request.Context(), hash)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			fail(c, err)
			return
		}
		if err != nil || subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) != 1 || user.Revoked {
			limiter.failed(ip, time.Now())
			if audit != nil {
				if err := audit.Record(c.Request.Context(), AuditEntry{Action: "sign_in_failed", Target: ip}); err != nil {
					logger.Error("audit sign-in failure", "error", err.Error())
				}
			}
			c.Header("WWW-Authenticate", `Bearer realm="dotm", error="invalid_token"`)
			fail(c, Errorf(EUNAUTHORIZED, "unknown or revoked token"))
			return
		}
		c.Set(ctxUser, user)
		c.Next()
	}
}

// allow lets only the given roles through (403 otherwise).
func allow(roles ...Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !slices.Contains(roles, currentUser(c).Role) {
			fail(c, Errorf(EFORBIDDEN, "role %s may not do this", currentUser(c).Role))
			return
		}
		c.Next()
	}
}

// failLimiter counts failed sign-ins per client address in a sliding window
// and blocks an address that failed more than max times in it.
type failLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
}

func newFailLimiter(max int, window time.Duration) *failLimiter {
	return &failLimiter{max: max, window: window, fails: map[string][]time.Time{}}
}

func (l *failLimiter) prune(ip string, now time.Time) []time.Time {
	ts := l.fails[ip]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, ip)
	} else {
		l.fails[ip] = ts
	}
	return ts
}

func (l *failLimiter) failed(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 100_000 { // bound memory under a flood of addresses
		clear(l.fails)
	}
	l.fails[ip] = append(l.prune(ip, now), now)
}

// blocked returns how long ip must wait, 0 when it may try.
func (l *failLimiter) blocked(ip string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.prune(ip, now)
	if len(ts) < l.max {
		return 0
	}
	return l.window - now.Sub(ts[0])
}
