package collector

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// WriteProber is a Pinger that can also try a small write: /readyz uses
// it to see that space was freed after the disk was full.
type WriteProber interface {
	ProbeWrite(ctx context.Context) error
}

// Deps is everything the server needs; cmd/dotm wires it.
type Deps struct {
	Logger *slog.Logger
	DB     Pinger
	Users  dotm.UserStore
	// Accounts manages users through the API (admins only).
	Accounts dotm.Accounts
	Auditor  dotm.Auditor
	// The collector's records; cmd/dotm passes one *mongodb.Store for all.
	Surveys     dotm.SurveyStore
	Forms       dotm.FormStore
	Assignments dotm.AssignmentStore
	Submissions dotm.SubmissionStore
	Listings    dotm.ListingStore
	AuditLog    dotm.AuditLog
	// The sampling design and weights of each survey round.
	Design   dotm.DesignStore
	Weights  dotm.WeightStore
	Approved dotm.ApprovedSource
	// Releases keeps anonymized releases and their files.
	Releases dotm.ReleaseStore
	// Attachments keeps the files sent with submissions (photos,
	// recordings), sealed. Without it the OpenRosa API refuses files and
	// the attachment routes answer 404.
	Attachments dotm.AttachmentStore
	// Tallies and Fingerprints keep what the progress summary and the
	// quality checks read (one tally per submission; keyed hashes of
	// identifiers). Without them the summary answers 503 and the location
	// and duplicate checks are not run.
	Tallies      dotm.ProgressStore
	Fingerprints dotm.FingerprintStore
	// ODKKeys keeps the surveys' key pairs for ODK encrypted forms: the
	// XForms of a survey that has one carry its public key, and encrypted
	// submissions are decrypted with it. Nil: no form is encrypted by dotm,
	// and encrypted submissions are refused.
	ODKKeys dotm.ODKKeyStore
	// Keys encrypt answers to direct questions. Without keys the server
	// refuses submissions (503); cmd/dotm refuses to start without them.
	Keys *dotm.Keyring
	// MaxBodyBytes limits a request body (413 above it); 0 means 32 MiB.
	MaxBodyBytes int64
	// Version is shown by /api/v1/version.
	Version string
	// TokenCacheTTL is how long a resolved token is trusted before its user
	// is read again; 0 means DefaultTokenCacheTTL, negative turns caching
	// off. A user revoked through the API is refused at once; one revoked
	// directly in the database within this time.
	TokenCacheTTL time.Duration
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies
	// whose X-Forwarded-For / X-Real-IP headers name the client; from any
	// other peer these headers are ignored. Empty: trust none (the
	// connection's address is the client's). CheckTrustedProxies validates.
	TrustedProxies []string
	// MaxInFlightBytes bounds the bytes of large request bodies (256 KiB
	// or more, or of unknown length) read at once; over it a request is
	// answered 503 with Retry-After. 0 means twice MaxBodyBytes.
	MaxInFlightBytes int64
	// SignInAuditWindow is how long failed sign-ins of one address are
	// counted before one audit entry records them; 0 means
	// DefaultSignInAuditWindow.
	SignInAuditWindow time.Duration
}

// CheckTrustedProxies checks that each entry is an IP address or CIDR range.
func CheckTrustedProxies(list []string) error {
	for _, p := range list {
		if net.ParseIP(p) != nil {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil {
			return fmt.Errorf("trusted proxy %q: not an IP address or CIDR range", p)
		}
	}
	return nil
}

// Server is the HTTP API.
type Server struct {
	deps    Deps
	engine  *gin.Engine
	limiter *failLimiter
	tokens  *tokenCache
	signIns *signInAudit
	ingest  *ingester
	attach  *attachments                 // nil without Deps.Attachments
	keys    atomic.Pointer[dotm.Keyring] // Deps.Keys, or what SetKeys put there
	// tallyBehind is set when a tally write failed: KeepTalliesReconciled
	// then repairs the tallies at its next tick.
	tallyBehind atomic.Bool
	// diskFullAt is when the store last failed for a full disk (unix ns).
	diskFullAt atomic.Int64
}

// diskFullWait is how long /readyz says not ready after the store failed
// for a full disk.
const diskFullWait = 30 * time.Second

// diskFullHold is how long /readyz says not ready after a failure for a
// full disk before it probes whether space was freed.
const diskFullHold = 5 * time.Second

// IsDiskFull reports whether err is the store failing for lack of disk
// space: ENOSPC, or the embedded database's SQLITE_FULL.
func IsDiskFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "database or disk is full") || strings.Contains(msg, "no space left on device")
}

// watchDiskFull turns a store failure for a full disk into 503 (the client
// did nothing wrong and may retry later) and makes /readyz not ready for
// diskFullWait, so that a load balancer stops sending writes here.
func (s *Server) watchDiskFull() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 || !IsDiskFull(c.Errors.Last().Err) {
			return
		}
		s.diskFullAt.Store(time.Now().UnixNano())
		_ = c.Error(&dotm.Error{Code: dotm.EUNAVAILABLE, Message: "the server's disk is full; nothing of this request was stored", RetryAfter: 60, Err: c.Errors.Last().Err})
	}
}

// diskFull reports whether the store failed for a full disk and still
// does: a store that can probe a write is asked (and, when the write goes
// through, the disk is no longer full); otherwise the failure counts for
// diskFullWait.
func (s *Server) diskFull(ctx context.Context) bool {
	at := s.diskFullAt.Load()
	if at == 0 {
		return false
	}
	// A small probe can succeed in pages SQLite already holds while the
	// disk is still full: hold the failure a few seconds before probing.
	if time.Since(time.Unix(0, at)) < diskFullHold {
		return true
	}
	if p, ok := s.deps.DB.(WriteProber); ok {
		err := p.ProbeWrite(ctx)
		if err == nil {
			s.diskFullAt.CompareAndSwap(at, 0)
			return false
		}
		return IsDiskFull(err)
	}
	return time.Since(time.Unix(0, at)) < diskFullWait
}

// SetKeys replaces the data keys of a running server (a key file changed:
// dotm keys rotate or retire). Requests that have started keep the keys
// they read; the next ones use k. A nil k is ignored.
func (s *Server) SetKeys(k *dotm.Keyring) {
	if k != nil {
		s.keys.Store(k)
	}
}

// Keys returns the data keys in use (nil when the server has none).
func (s *Server) Keys() *dotm.Keyring { return s.keys.Load() }

// NewServer builds the API with its routes and middleware.
func NewServer(deps Deps) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if deps.MaxBodyBytes == 0 {
		deps.MaxBodyBytes = 32 << 20
	}
	if deps.MaxInFlightBytes == 0 {
		deps.MaxInFlightBytes = 2 * deps.MaxBodyBytes
	}
	if deps.TokenCacheTTL == 0 {
		deps.TokenCacheTTL = DefaultTokenCacheTTL
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	// Client addresses: proxy headers only from the configured proxies
	// (gin trusts every peer unless told otherwise).
	e.TrustedPlatform = ""
	e.ForwardedByClientIP = len(deps.TrustedProxies) > 0
	if err := e.SetTrustedProxies(deps.TrustedProxies); err != nil {
		panic("collector: " + err.Error() + " (check Deps.TrustedProxies with CheckTrustedProxies)")
	}
	s := &Server{deps: deps, engine: e, limiter: newFailLimiter(20, time.Minute), tokens: newTokenCache(deps.TokenCacheTTL),
		signIns: newSignInAudit(deps.Auditor, deps.Logger, deps.SignInAuditWindow)}
	if deps.Keys != nil {
		s.keys.Store(deps.Keys)
	}
	if deps.Attachments != nil {
		s.attach = &attachments{store: deps.Attachments, keys: s.Keys}
	}
	s.ingest = &ingester{forms: &formCache{store: deps.Forms, odkKeys: deps.ODKKeys}, odkKeys: deps.ODKKeys, subs: deps.Submissions, assignments: deps.Assignments, keys: s.Keys, logger: deps.Logger,
		tallies: deps.Tallies, prints: deps.Fingerprints, behind: &s.tallyBehind}
	e.Use(requestID(), logRequests(deps.Logger), mapErrors(deps.Logger), s.watchDiskFull(), recoverPanics(), securityHeaders(), limitInflight(deps.MaxInFlightBytes, deps.MaxBodyBytes), limitBody(deps.MaxBodyBytes))
	e.NoRoute(func(c *gin.Context) {
		fail(c, dotm.Errorf(dotm.ENOTFOUND, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		fail(c, &dotm.Error{Code: dotm.EMETHOD, Message: "method " + c.Request.Method + " not allowed here"})
	})
	s.routes()
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Routes lists method and path of every route, for tests and documentation.
func (s *Server) Routes() []gin.RouteInfo { return s.engine.Routes() }

// needKeys refuses requests that would read or write encrypted answers
// when the server has no data key.
func (s *Server) needKeys() gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.Keys() == nil {
			fail(c, &dotm.Error{Code: dotm.EUNAVAILABLE, Message: "the server has no data key; submissions are refused"})
			return
		}
		c.Next()
	}
}

const ctxRequestID = "dotm.request_id"

func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

// logRequests writes one structured line per request. Never bodies, answers
// or tokens: only what identifies the request and how it ended.
func logRequests(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "(no route)"
		}
		attrs := []slog.Attr{
			slog.String("request_id", c.GetString(ctxRequestID)),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", c.Writer.Status()),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("client", c.ClientIP()),
		}
		if u := currentUser(c); u.Name != "" {
			attrs = append(attrs, slog.String("user", u.Name))
		}
		if len(c.Errors) > 0 {
			attrs = append(attrs, slog.String("code", string(dotm.ErrorCode(c.Errors.Last().Err))))
		}
		logger.LogAttrs(c.Request.Context(), slog.LevelInfo, "request", attrs...)
	}
}

func recoverPanics() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				fail(c, &dotm.Error{Code: dotm.EINTERNAL, Err: fmt.Errorf("panic: %v", r)})
			}
		}()
		c.Next()
	}
}

func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		// API answers are data, never a page: nothing may load or run in
		// them (the web client's files set their own policy).
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		c.Next()
	}
}

// limitBody answers 413 for a declared length over max and caps the reader
// for bodies of unknown length. Before a 413 goes out it reads and discards
// up to max more bytes of the body: a client that sends its whole body
// before reading (Python's urllib and requests do) then reads the 413
// instead of meeting a connection reset. Bodies over twice the limit are
// not read: the connection is closed after the 413.
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		orig := c.Request.Body
		if c.Request.ContentLength > max {
			if c.Request.ContentLength <= 2*max {
				drain(orig, c.Request.ContentLength)
			}
			fail(c, dotm.Errorf(dotm.ETOOLARGE, "request body of %d bytes is over the limit of %d", c.Request.ContentLength, max))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, orig, max)
		c.Next()
		if len(c.Errors) > 0 && dotm.ErrorCode(c.Errors.Last().Err) == dotm.ETOOLARGE && !c.Writer.Written() {
			drain(orig, max)
		}
	}
}

// drain reads and discards at most n bytes of body.
func drain(body io.Reader, n int64) {
	if body != nil && body != http.NoBody {
		_, _ = io.CopyN(io.Discard, body, n)
	}
}

// decodeJSON reads the body as one JSON value into v, refusing unknown
// fields, trailing data and wrong types with an error that names the field.
func decodeJSON(c *gin.Context, v any) error {
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	return decodeJSONBytes(body, v)
}

// readJSON reads a JSON body (bounded by limitBody), checking its content
// type and that it is UTF-8.
func readJSON(c *gin.Context) ([]byte, error) {
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		return nil, dotm.Errorf(dotm.EINVALID, "content type %q: send application/json", ct)
	}
	body, err := io.ReadAll(c.Request.Body) // bounded by limitBody
	if err != nil {
		return nil, jsonError(err)
	}
	// JSON is UTF-8 (RFC 8259); the decoder would silently turn invalid
	// bytes into U+FFFD and the damaged text would be stored.
	if !utf8.Valid(body) {
		return nil, dotm.Errorf(dotm.EINVALID, "malformed JSON: the body is not valid UTF-8")
	}
	return body, nil
}

// decodeJSONBytes is decodeJSON's decoding of a body already read.
func decodeJSONBytes(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return dotm.Errorf(dotm.EINVALID, "malformed JSON: data after the first value")
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return dotm.Errorf(dotm.EINVALID, "malformed JSON: data after the first value")
	}
	return nil
}

// jsonError turns a decoding error into a client error naming the field.
func jsonError(err error) error {
	var (
		mbe *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return dotm.Errorf(dotm.ETOOLARGE, "request body is over the limit of %d bytes", mbe.Limit)
	case errors.As(err, &syn):
		return dotm.Errorf(dotm.EINVALID, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.Is(err, io.EOF):
		return dotm.Errorf(dotm.EINVALID, "malformed JSON: empty body")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return dotm.Errorf(dotm.EINVALID, "malformed JSON: unexpected end of body")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "wrong type for " + field,
			Problems: []dotm.Problem{{Path: field, Code: "type", Message: "expected " + typ.Type.String() + ", got JSON " + typ.Value}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "unknown field " + field,
			Problems: []dotm.Problem{{Path: field, Code: "unknown_field", Message: "this field is not part of the request"}}}
	default:
		return dotm.Errorf(dotm.EINVALID, "malformed JSON: %v", err)
	}
}

// now is the server's clock: UTC.
func now() time.Time { return time.Now().UTC() }
