package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/internal/testutil"
	"github.com/dotm-survey/dotm/loadtest"
	"github.com/dotm-survey/dotm/questionnaire"
)

// ledger records what the simulated enumerators sent and what the server
// acknowledged.
type ledger struct {
	mu    sync.Mutex
	sent  map[string][]byte
	acked map[string]int
}

func newLedger() *ledger { return &ledger{sent: map[string][]byte{}, acked: map[string]int{}} }

func (l *ledger) onSend(id string, env []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent[id] = env
}

func (l *ledger) onAck(id string, _ []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked[id]++
}

func (l *ledger) nAcked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// waitFor polls cond every 10 ms for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCrashMidSync kills dotm serve with SIGKILL while 20 enumerators sync,
// restarts it on the same data dir, lets the clients retry what was not
// acknowledged, and then checks every stored submission against what was
// sent.
func TestCrashMidSync(t *testing.T) {
	n := 200
	if full {
		n = 2000
	}
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	admin := addUser(t, data, "admin", "admin")
	addr := freeAddr(t)
	base := "http://" + addr
	log1 := &testutil.Buffer{}
	srv := startServe(t, log1, addr, data)
	tokens, err := loadtest.Setup(ctx, nil, base, admin, "crash", "enu", 20)
	if err != nil {
		t.Fatal(err)
	}
	var sup struct{ Token string }
	if st := api(t, http.MethodPost, base+"/api/v1/users", admin, map[string]any{"name": "sup", "role": "supervisor", "surveys": []string{"crash"}}, &sup); st != http.StatusCreated {
		t.Fatalf("add supervisor: %d", st)
	}

	l := newLedger()
	type result struct {
		rep loadtest.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := loadtest.Run(ctx, loadtest.Config{
			URL: base, Tokens: tokens, Enumerators: 20, Duration: 10 * time.Minute, MaxSubmissions: n,
			BatchShare: 0.3, BatchSize: 10, RetryWindow: 3 * time.Minute, Timeout: 30 * time.Second, Seed: 11,
			OnSend: l.onSend, OnAck: l.onAck,
		})
		done <- result{rep, err}
	}()

	// Kill the server once a third of the submissions are acknowledged.
	waitFor(t, 5*time.Minute, "a third of the submissions to be acknowledged", func() bool { return l.nAcked() >= n/3 })
	srv.kill()
	ackedAtKill := l.nAcked()
	time.Sleep(300 * time.Millisecond) // clients meet a closed port and back off
	log2 := &testutil.Buffer{}
	srv = startServe(t, log2, addr, data)
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	rep := res.rep
	t.Logf("killed after %d acknowledged; report: sent %d, acknowledged %d (created %d, duplicate %d), retries %d, errors %v, elapsed %s",
		ackedAtKill, rep.Sent, rep.Acknowledged, rep.Created, rep.Duplicates, rep.Retries, rep.Errors, rep.Elapsed.Round(time.Millisecond))
	if ackedAtKill >= n {
		t.Fatalf("every submission was acknowledged before the kill: the crash came too late to test anything")
	}
	if rep.Sent != n || len(l.sent) != n {
		t.Fatalf("sent %d (%d distinct), want %d", rep.Sent, len(l.sent), n)
	}
	if rep.Unacknowledged != 0 || rep.Rejected != 0 || rep.Acknowledged != n {
		t.Fatalf("after the restart: %d unacknowledged, %d rejected, %d acknowledged of %d; errors %v", rep.Unacknowledged, rep.Rejected, rep.Acknowledged, n, rep.Errors)
	}
	if rep.ServerErrors != 0 {
		t.Errorf("%d answers were 5xx: %v", rep.ServerErrors, rep.Errors)
	}
	for id, k := range l.acked {
		if k != 1 {
			t.Errorf("instance %s acknowledged %d times", id, k)
		}
	}

	checkStored(t, base, admin, sup.Token, "crash", l)
	srv.stop(t)
}

// checkStored lists the survey's submissions and reads each with its
// identifiers: the set of stored instances must be exactly the set sent, and
// each must hold exactly the answers sent (after the validator's
// normalization), none partial.
func checkStored(t *testing.T, base, admin, supervisor, survey string, l *ledger) {
	t.Helper()
	stored := map[string]int{}
	after := ""
	for {
		var page struct {
			Submissions []struct {
				ID     string `json:"id"`
				Survey string `json:"survey"`
			} `json:"submissions"`
			NextAfter string `json:"next_after"`
		}
		q := url.Values{"survey": {survey}, "limit": {"500"}}
		if after != "" {
			q.Set("after", after)
		}
		if st := api(t, http.MethodGet, base+"/api/v1/submissions?"+q.Encode(), admin, nil, &page); st != http.StatusOK {
			t.Fatalf("list submissions: %d", st)
		}
		for _, s := range page.Submissions {
			stored[s.ID]++
		}
		if page.NextAfter == "" || len(page.Submissions) == 0 {
			break
		}
		after = page.NextAfter
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(stored) != len(l.sent) {
		t.Errorf("%d instances stored, %d distinct sent", len(stored), len(l.sent))
	}
	for id, k := range stored {
		if k != 1 {
			t.Errorf("instance %s listed %d times", id, k)
		}
		if _, ok := l.sent[id]; !ok {
			t.Errorf("instance %s stored but never sent", id)
		}
	}
	for id := range l.acked {
		if stored[id] == 0 {
			t.Errorf("acknowledged instance %s is not stored", id)
		}
	}
	form := questionnaire.Household()
	mismatches := 0
	for id, env := range l.sent {
		var got struct {
			ID      string         `json:"id"`
			Answers map[string]any `json:"answers"`
		}
		if st := api(t, http.MethodGet, base+"/api/v1/submissions/"+id+"?include=identifiers", supervisor, nil, &got); st != http.StatusOK {
			t.Errorf("read %s: %d", id, st)
			continue
		}
		want := expectedAnswers(t, form, env)
		if g := canonical(t, got.Answers); !bytes.Equal(g, want) {
			mismatches++
			if mismatches <= 3 {
				t.Errorf("instance %s stored answers differ from those sent:\n got %s\nwant %s", id, g, want)
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d stored submissions differ from what was sent", mismatches, len(l.sent))
	}
}

// expectedAnswers is what the server stores for a sent envelope: the
// validator's normalized answers.
func expectedAnswers(t *testing.T, form *questionnaire.Form, env []byte) []byte {
	t.Helper()
	var e struct {
		EndedAt string         `json:"ended_at"`
		Answers map[string]any `json:"answers"`
	}
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	ended, err := time.Parse(time.RFC3339, e.EndedAt)
	if err != nil {
		t.Fatal(err)
	}
	norm, probs := form.Validate(e.Answers, questionnaire.ValidateOptions{Now: ended})
	if len(probs) > 0 {
		t.Fatalf("a sent submission is invalid: %+v", probs)
	}
	return canonical(t, norm)
}

// canonical is v as JSON with sorted keys and plain values.
func canonical(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var plain any
	if err := json.Unmarshal(b, &plain); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(plain)
	return b
}
