package collector_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
)

// badSignIn sends a wrong token claiming to come from xff.
func (f *foundation) badSignIn(t *testing.T, xff string) int {
	t.Helper()
	req, err := http.NewRequest("GET", f.srv.URL+"/api/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer dotm_wrong")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
		req.Header.Set("X-Real-IP", xff)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (f *foundation) failedSignIns(t *testing.T) []dotm.AuditEntry {
	t.Helper()
	es, err := f.store.AuditEntries(context.Background(), dotm.AuditFilter{Action: "sign_in_failed", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// failCounts waits for the aggregated sign_in_failed entries to add up to
// want failures and returns the counts by address and the entries.
func (f *foundation) failCounts(t *testing.T, want int) (map[string]int, []dotm.AuditEntry) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		es := f.failedSignIns(t)
		by, total := map[string]int{}, 0
		for _, e := range es {
			n, err := strconv.Atoi(strings.Fields(e.Detail + " x")[0])
			if err != nil {
				t.Fatalf("detail %q does not start with a count", e.Detail)
			}
			by[e.Target] += n
			total += n
		}
		if total >= want || time.Now().After(deadline) {
			if total != want {
				t.Fatalf("the entries count %d failures, want %d: %+v", total, want, es)
			}
			return by, es
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestForwardedForIsNotTrustedByDefault: a client cannot escape the sign-in
// limiter, nor choose the address the audit trail records, by sending
// X-Forwarded-For; failed sign-ins are audited once per address and window,
// with their count.
func TestForwardedForIsNotTrustedByDefault(t *testing.T) {
	f := newFoundationWith(t, func(d *collector.Deps) { d.SignInAuditWindow = 2 * time.Second })
	limited := 0
	for i := 0; i < 60; i++ {
		if f.badSignIn(t, fmt.Sprintf("203.0.113.%d", i)) == 429 {
			limited++
		}
	}
	if limited != 40 {
		t.Errorf("60 failures from one client with changing X-Forwarded-For: %d limited, want 40", limited)
	}
	by, es := f.failCounts(t, 20)
	if by["127.0.0.1"] != 20 || len(es) > 3 {
		t.Errorf("entries %+v; want the real address, a few entries", es)
	}
}

// TestForwardedForFromTrustedProxy: behind a configured proxy the client's
// address is read from X-Forwarded-For, each address limited on its own,
// and the failures are aggregated per address and window.
func TestForwardedForFromTrustedProxy(t *testing.T) {
	f := newFoundationWith(t, func(d *collector.Deps) {
		d.TrustedProxies = []string{"127.0.0.1/32"}
		d.SignInAuditWindow = 2 * time.Second
	})
	for i := 0; i < 5; i++ {
		for j := 0; j < 25; j++ {
			st := f.badSignIn(t, fmt.Sprintf("198.51.100.%d", i))
			if j < 20 && st != 401 || j >= 20 && st != 429 {
				t.Fatalf("address %d, failure %d: %d", i, j, st)
			}
		}
	}
	by, es := f.failCounts(t, 100)
	for i := 0; i < 5; i++ {
		if n := by[fmt.Sprintf("198.51.100.%d", i)]; n != 20 {
			t.Errorf("address %d: %d failures recorded, want 20", i, n)
		}
	}
	if len(es) > 15 {
		t.Errorf("%d entries for 100 failures of 5 addresses", len(es))
	}
}
