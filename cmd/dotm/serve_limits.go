package main

import (
	"context"
	"crypto/tls"
	"flag"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dotm-survey/dotm/collector"
)

// serveLimits are serve's defences: a deadline on every request, the
// header read timeout that cuts slow clients (slowloris), and optional TLS.
// A nil *serveLimits means the defaults, for callers of serveOn that set no
// flags (dotm demo).
type serveLimits struct {
	requestTimeout    time.Duration
	readHeaderTimeout time.Duration
	tlsCert, tlsKey   string
	// trustedProxies: comma-separated addresses or CIDR ranges of reverse
	// proxies whose X-Forwarded-For is believed; none by default.
	trustedProxies string
	// maxInFlight bounds the bytes of large request bodies read at once.
	maxInFlight int64
}

const (
	defaultRequestTimeout    = 60 * time.Second
	defaultReadHeaderTimeout = 10 * time.Second
)

func addServeLimits(e *env, fs *flag.FlagSet) *serveLimits {
	l := &serveLimits{}
	fs.DurationVar(&l.requestTimeout, "request-timeout", defaultRequestTimeout, "deadline of one request's work; a database that does not answer in time gives 503")
	fs.DurationVar(&l.readHeaderTimeout, "read-header-timeout", defaultReadHeaderTimeout, "time a client has to send its request headers (cuts slow clients)")
	fs.StringVar(&l.tlsCert, "tls-cert", e.getenv("DOTM_TLS_CERT"), "PEM certificate (chain) to serve HTTPS; needs --tls-key (env DOTM_TLS_CERT)")
	fs.StringVar(&l.tlsKey, "tls-key", e.getenv("DOTM_TLS_KEY"), "PEM private key of --tls-cert (env DOTM_TLS_KEY)")
	fs.StringVar(&l.trustedProxies, "trusted-proxies", e.getenv("DOTM_TRUSTED_PROXIES"),
		"comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client (default none: the connection's address is the client's; env DOTM_TRUSTED_PROXIES)")
	fs.Int64Var(&l.maxInFlight, "max-inflight-bytes", 0, "bytes of large request bodies (256 KiB or more) read at once; more answer 503 with Retry-After (default twice --max-body)")
	return l
}

// check validates the flags and loads the TLS pair, so that serve fails at
// start and not at the first connection.
func (l *serveLimits) check() error {
	if l == nil {
		return nil
	}
	if l.requestTimeout <= 0 || l.readHeaderTimeout <= 0 {
		return exitError{code: 2, msg: "serve: --request-timeout and --read-header-timeout must be positive"}
	}
	if l.maxInFlight < 0 {
		return exitError{code: 2, msg: "serve: --max-inflight-bytes must not be negative"}
	}
	if err := collector.CheckTrustedProxies(l.proxies()); err != nil {
		return exitError{code: 2, msg: "serve: --trusted-proxies: " + err.Error()}
	}
	if (l.tlsCert == "") != (l.tlsKey == "") {
		return exitError{code: 2, msg: "serve: give both --tls-cert and --tls-key, or neither"}
	}
	if l.tlsCert != "" {
		if _, err := tls.LoadX509KeyPair(l.tlsCert, l.tlsKey); err != nil {
			return exitError{code: 1, msg: "serve: TLS certificate and key: " + err.Error()}
		}
	}
	return nil
}

// inflight is --max-inflight-bytes (0: the server's default).
func (l *serveLimits) inflight() int64 {
	if l == nil {
		return 0
	}
	return l.maxInFlight
}

// proxies is the list of --trusted-proxies (nil: none).
func (l *serveLimits) proxies() []string {
	if l == nil {
		return nil
	}
	var out []string
	for _, p := range strings.Split(l.trustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (l *serveLimits) scheme() string {
	if l != nil && l.tlsCert != "" {
		return "https"
	}
	return "http"
}

func (l *serveLimits) headerTimeout() time.Duration {
	if l == nil {
		return defaultReadHeaderTimeout
	}
	return l.readHeaderTimeout
}

// wrap gives every request a deadline: handlers pass the request's context
// to the store, so a database that hangs ends in 503 instead of a request
// that hangs.
func (l *serveLimits) wrap(h http.Handler) http.Handler {
	d := defaultRequestTimeout
	if l != nil {
		d = l.requestTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// serve runs srv on ln, with TLS when a certificate was given.
func (l *serveLimits) serve(srv *http.Server, ln net.Listener) error {
	if l != nil && l.tlsCert != "" {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		return srv.ServeTLS(ln, l.tlsCert, l.tlsKey)
	}
	return srv.Serve(ln)
}
