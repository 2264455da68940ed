package collector

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dotm-survey/dotm"
)

// DefaultSignInAuditWindow is how long failed sign-ins of one address are
// counted before one audit entry records them.
const DefaultSignInAuditWindow = time.Minute

// maxFailAddrs bounds the addresses counted at once; the failures of
// further addresses are counted together under otherAddrs.
const maxFailAddrs = 10_000

const otherAddrs = "(other addresses)"

// signInAudit aggregates failed sign-ins: one sign_in_failed entry per
// address and window, whose Detail starts with the count. Unauthenticated
// clients thus write at most maxFailAddrs+1 entries per window, however
// many requests they send. A window's entry is written when it closes, by
// a goroutine that runs only while counts are pending.
type signInAudit struct {
	audit  dotm.Auditor
	logger *slog.Logger
	window time.Duration

	mu      sync.Mutex
	pending map[string]*failWindow
	running bool
}

type failWindow struct {
	first, last time.Time
	n           int
}

func newSignInAudit(audit dotm.Auditor, logger *slog.Logger, window time.Duration) *signInAudit {
	if window <= 0 {
		window = DefaultSignInAuditWindow
	}
	return &signInAudit{audit: audit, logger: logger, window: window, pending: map[string]*failWindow{}}
}

// failed counts one failed sign-in from addr.
func (s *signInAudit) failed(addr string, now time.Time) {
	if s == nil || s.audit == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.pending[addr]
	if !ok {
		if len(s.pending) >= maxFailAddrs {
			addr = otherAddrs
			w, ok = s.pending[addr]
		}
		if !ok {
			w = &failWindow{first: now}
			s.pending[addr] = w
		}
	}
	w.n++
	w.last = now
	if !s.running {
		s.running = true
		go s.flushLoop()
	}
}

// flushLoop writes the entries of closed windows until none is pending.
func (s *signInAudit) flushLoop() {
	for {
		s.mu.Lock()
		now := time.Now()
		var due []dotm.AuditEntry
		next := now.Add(s.window)
		for addr, w := range s.pending {
			end := w.first.Add(s.window)
			if !now.Before(end) {
				due = append(due, dotm.AuditEntry{Time: now.UTC(), Action: "sign_in_failed", Target: addr,
					Detail: fmt.Sprintf("%d failed sign-in(s) from %s to %s", w.n, w.first.UTC().Format(time.RFC3339), w.last.UTC().Format(time.RFC3339))})
				delete(s.pending, addr)
			} else if end.Before(next) {
				next = end
			}
		}
		if len(due) == 0 && len(s.pending) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		for _, e := range due {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.audit.Record(ctx, e); err != nil {
				s.logger.Error("audit failed sign-ins", "target", e.Target, "error", err.Error())
			}
			cancel()
		}
		time.Sleep(time.Until(next))
	}
}
