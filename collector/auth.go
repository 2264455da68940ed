package collector

import (
	"crypto/subtle"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
)

const ctxUser = "dotm.user"

// currentUser is the signed-in user; only valid behind authenticate.
func currentUser(c *gin.Context) dotm.User {
	u, _ := c.Get(ctxUser)
	user, _ := u.(dotm.User)
	return user
}

// authenticate resolves the bearer token to a user: 401 when missing,
// unknown or revoked, 429 when the client address has failed too often.
// Resolved tokens are remembered for tokens.ttl, so that a tablet posting
// interviews back to back costs one database read per TTL, not one per
// request (see tokenCache for what that means for revocation).
//
// The client address is the connection's, or what X-Forwarded-For says
// when the connection comes from a trusted proxy (Deps.TrustedProxies).
func authenticate(users dotm.UserStore, tokens *tokenCache, limiter *failLimiter, audit *signInAudit) gin.HandlerFunc {
	return func(c *gin.Context) {
		ip := c.ClientIP()
		now := time.Now()
		if wait := limiter.blocked(ip, now); wait > 0 {
			fail(c, &dotm.Error{Code: dotm.ERATELIMIT, Message: "too many failed sign-ins from this address", RetryAfter: int(math.Ceil(wait.Seconds()))})
			return
		}
		token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || token == "" {
			c.Header("WWW-Authenticate", `Bearer realm="dotm"`)
			fail(c, dotm.Errorf(dotm.EUNAUTHORIZED, "missing bearer token"))
			return
		}
		hash := dotm.HashToken(token)
		user, found := tokens.get(hash, now)
		if !found {
			var stored string
			var err error
			user, stored, err = users.UserByTokenHash(c.Request.Context(), hash)
			if err != nil && dotm.ErrorCode(err) != dotm.ENOTFOUND {
				fail(c, err)
				return
			}
			if err != nil || subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) != 1 || user.Revoked {
				limiter.failed(ip, now)
				audit.failed(ip, now)
				c.Header("WWW-Authenticate", `Bearer realm="dotm", error="invalid_token"`)
				fail(c, dotm.Errorf(dotm.EUNAUTHORIZED, "unknown or revoked token"))
				return
			}
			tokens.put(hash, user, now)
		}
		c.Set(ctxUser, user)
		c.Next()
	}
}

// DefaultTokenCacheTTL is how long the server trusts a token it resolved
// before it reads the token's user again.
const DefaultTokenCacheTTL = 2 * time.Second

// tokenCache remembers, per token hash, the user a valid token resolved to,
// for ttl. Only valid tokens are remembered: an unknown token always goes to
// the database (and counts as a failed sign-in). A user revoked through this
// server's API is forgotten at once; one revoked elsewhere (`dotm users
// revoke` against the same database, another server) loses access within
// ttl. A ttl of zero or less turns the cache off.
type tokenCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedToken
}

type cachedToken struct {
	user  dotm.User
	until time.Time
}

// maxCachedTokens bounds the cache; a full cache drops its expired entries,
// or everything when none has expired.
const maxCachedTokens = 10_000

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, m: map[string]cachedToken{}}
}

func (tc *tokenCache) get(hash string, now time.Time) (dotm.User, bool) {
	if tc.ttl <= 0 {
		return dotm.User{}, false
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	e, ok := tc.m[hash]
	if !ok || !now.Before(e.until) {
		return dotm.User{}, false
	}
	return e.user, true
}

func (tc *tokenCache) put(hash string, u dotm.User, now time.Time) {
	if tc.ttl <= 0 {
		return
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if len(tc.m) >= maxCachedTokens {
		for h, e := range tc.m {
			if !now.Before(e.until) {
				delete(tc.m, h)
			}
		}
		if len(tc.m) >= maxCachedTokens {
			clear(tc.m)
		}
	}
	tc.m[hash] = cachedToken{user: u, until: now.Add(tc.ttl)}
}

// forget drops every remembered token of the named user.
func (tc *tokenCache) forget(name string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for h, e := range tc.m {
		if e.user.Name == name {
			delete(tc.m, h)
		}
	}
}

// allow lets only the given roles through (403 otherwise).
func allow(roles ...dotm.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !slices.Contains(roles, currentUser(c).Role) {
			fail(c, dotm.Errorf(dotm.EFORBIDDEN, "role %s may not do this", currentUser(c).Role))
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
