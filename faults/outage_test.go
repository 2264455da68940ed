package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/internal/testutil"
	"github.com/dotm-survey/dotm/loadtest"
)

// startDevMongo runs `dotm dev-mongo` on addr with its files in dir and
// waits until it prints its URI.
func startDevMongo(t *testing.T, dir, addr string) (*process, string) {
	t.Helper()
	out := &testutil.Buffer{}
	p := start(t, out, "dev-mongo", "--data-dir", dir, "--addr", addr)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s := out.String(); strings.Contains(s, "mongodb://") {
			for _, line := range strings.Split(s, "\n") {
				if strings.HasPrefix(line, "mongodb://") {
					return p, strings.TrimSpace(line)
				}
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("dev-mongo exited (%v):\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("dev-mongo did not start:\n%s", out.String())
	return nil, ""
}

// timedRequest sends one request and returns status, content type, body and
// how long the answer took.
func timedRequest(t *testing.T, method, url, token string, body []byte) (int, string, []byte, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b, time.Since(t0)
}

// TestDatabaseOutage stops the database under dotm serve mid-load: the API
// must answer 503 problem+json within its request timeout and /readyz 503;
// when the database is back on the same address the API recovers without a
// restart and the clients' retries complete.
func TestDatabaseOutage(t *testing.T) {
	n := 150
	if full {
		n = 1000
	}
	const requestTimeout = 3 * time.Second
	ctx := context.Background()
	dir := t.TempDir()
	mongoDir, mongoAddr := filepath.Join(dir, "mongo"), freeAddr(t)
	db, uri := startDevMongo(t, mongoDir, mongoAddr)
	admin := strings.TrimSpace(dotm(t, "users", "add", "--mongo-uri", uri, "--name", "admin", "--role", "admin"))
	addr := freeAddr(t)
	base := "http://" + addr
	logs := &testutil.Buffer{}
	srv := startServe(t, logs, addr, filepath.Join(dir, "serve"), "--mongo-uri", uri, "--request-timeout", requestTimeout.String())
	tokens, err := loadtest.Setup(ctx, nil, base, admin, "outage", "enu", 10)
	if err != nil {
		t.Fatal(err)
	}
	var sup struct{ Token string }
	if st := api(t, http.MethodPost, base+"/api/v1/users", admin, map[string]any{"name": "sup", "role": "supervisor", "surveys": []string{"outage"}}, &sup); st != http.StatusCreated {
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
			URL: base, Tokens: tokens, Enumerators: 10, Duration: 10 * time.Minute, MaxSubmissions: n,
			BatchShare: 0.3, BatchSize: 10, RetryWindow: 3 * time.Minute, Timeout: time.Minute, Seed: 21,
			OnSend: l.onSend, OnAck: l.onAck,
		})
		done <- result{rep, err}
	}()

	waitFor(t, 5*time.Minute, "a third of the submissions to be acknowledged", func() bool { return l.nAcked() >= n/3 })
	db.kill()
	ackedAtStop := l.nAcked()

	// While the database is down: quick 503 problem+json, readyz 503.
	env, _ := json.Marshal(loadtest.NewGenerator(99, 0).Next())
	limit := requestTimeout + 5*time.Second // the deadline, plus slack for a loaded machine
	for i := 0; i < 3; i++ {
		st, ct, body, took := timedRequest(t, http.MethodPost, base+"/api/v1/submissions", tokens[0], env)
		t.Logf("POST during the outage: %d after %s", st, took.Round(time.Millisecond))
		if st != http.StatusServiceUnavailable || !strings.HasPrefix(ct, "application/problem+json") || took > limit {
			t.Errorf("POST during the outage: %d %s after %s (limit %s)\n%s", st, ct, took.Round(time.Millisecond), limit, body)
		}
		var prob struct {
			Status int    `json:"status"`
			Title  string `json:"title"`
		}
		if err := json.Unmarshal(body, &prob); err != nil || prob.Status != http.StatusServiceUnavailable {
			t.Errorf("problem document during the outage: %s (%v)", body, err)
		}
		st, _, body, took = timedRequest(t, http.MethodGet, base+"/readyz", "", nil)
		if st != http.StatusServiceUnavailable || took > limit {
			t.Errorf("/readyz during the outage: %d after %s\n%s", st, took.Round(time.Millisecond), body)
		}
		st, _, _, _ = timedRequest(t, http.MethodGet, base+"/healthz", "", nil)
		if st != http.StatusOK {
			t.Errorf("/healthz during the outage: %d (the process is alive)", st)
		}
	}
	time.Sleep(time.Second)

	// The database comes back on the same address; dotm serve is not restarted.
	_, uri2 := startDevMongo(t, mongoDir, mongoAddr)
	if uri2 != uri {
		t.Fatalf("database came back as %s, was %s", uri2, uri)
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	rep := res.rep
	t.Logf("database stopped after %d acknowledged; report: sent %d, acknowledged %d (created %d, duplicate %d), retries %d, errors %v, elapsed %s",
		ackedAtStop, rep.Sent, rep.Acknowledged, rep.Created, rep.Duplicates, rep.Retries, rep.Errors, rep.Elapsed.Round(time.Millisecond))
	select {
	case err := <-srv.done:
		srv.done <- err
		t.Fatalf("dotm serve exited during the outage (%v):\n%s", err, logs.String())
	default:
	}
	if ackedAtStop >= n {
		t.Fatalf("every submission was acknowledged before the outage")
	}
	if rep.Unacknowledged != 0 || rep.Rejected != 0 || rep.Acknowledged != n || len(l.sent) != n {
		t.Fatalf("after recovery: %d unacknowledged, %d rejected, %d acknowledged, %d sent, want %d; errors %v", rep.Unacknowledged, rep.Rejected, rep.Acknowledged, len(l.sent), n, rep.Errors)
	}
	for k := range rep.Errors {
		if k != "503" && k != "network" {
			t.Errorf("unexpected errors during the outage: %v", rep.Errors)
		}
	}
	if st, _, body, _ := timedRequest(t, http.MethodGet, base+"/readyz", "", nil); st != http.StatusOK {
		t.Errorf("/readyz after recovery: %d %s", st, body)
	}
	checkStored(t, base, admin, sup.Token, "outage", l)
	srv.stop(t)
}
