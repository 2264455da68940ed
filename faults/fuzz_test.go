package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	domain "github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/internal/testutil"
	"github.com/dotm-survey/dotm/loadtest"
	"github.com/dotm-survey/dotm/mongodb"
)

// inProcess is one API with a real embedded store, shared by the fuzz
// target's iterations (and the tests that need an in-process server).
var inProcess struct {
	once  sync.Once
	h     http.Handler
	admin string
	enu   string
	err   error
	logs  *testutil.Buffer
}

// apiInProcess builds the API over an embedded store in a temporary
// directory, with a survey, the household form and an enumerator.
func apiInProcess(tb testing.TB) (http.Handler, string) {
	tb.Helper()
	p := &inProcess
	p.once.Do(func() {
		ctx := context.Background()
		// The database runs in its own process (dotm dev-mongo): inside a
		// coverage-instrumented fuzz worker the embedded SQLite engine is
		// too slow for the fuzzer to make progress.
		dir, err := os.MkdirTemp("", "dotm-faults-api-")
		if err != nil {
			p.err = err
			return
		}
		uri, stop, err := devMongoProcess(tb, dir)
		if err != nil {
			os.RemoveAll(dir)
			p.err = err
			return
		}
		store, err := mongodb.Open(ctx, mongodb.Config{URI: uri})
		if err != nil {
			stop()
			os.RemoveAll(dir)
			p.err = err
			return
		}
		cleanups = append(cleanups, func() { store.Close(context.Background()); stop(); os.RemoveAll(dir) })
		key, err := domain.GenerateKey(time.Now())
		if err != nil {
			p.err = err
			return
		}
		keys, err := domain.NewKeyring(key.ID, key)
		if err != nil {
			p.err = err
			return
		}
		p.logs = &testutil.Buffer{}
		p.h = collector.NewServer(collector.Deps{
			Logger: jsonLogger(p.logs), DB: store, Users: store, Accounts: store, Auditor: store,
			Surveys: store, Forms: store, Assignments: store, Submissions: store, Listings: store, AuditLog: store,
			Keys: keys,
		})
		token, hash, err := domain.NewToken()
		if err != nil {
			p.err = err
			return
		}
		if p.err = store.AddUser(ctx, domain.User{Name: "admin", Role: domain.RoleAdmin}, hash); p.err != nil {
			return
		}
		p.admin = token
		srv := httptest.NewServer(p.h)
		defer srv.Close()
		tokens, err := loadtest.Setup(ctx, srv.Client(), srv.URL, token, "fuzz", "enu", 1)
		if err != nil {
			p.err = err
			return
		}
		p.enu = tokens[0]
	})
	if p.err != nil {
		tb.Fatalf("in-process API: %v", p.err)
	}
	return p.h, p.enu
}

// postInProcess sends body to path as the enumerator.
func postInProcess(h http.Handler, token, path, ctype string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// FuzzSubmissionHandler posts arbitrary bodies to POST /api/v1/submissions
// (and, wrapped as one item, to the batch route) through the whole HTTP
// stack: middleware, decoder, envelope checks, validation, sealing and the
// store. No input may give a 5xx or a panic; every refusal is problem+json;
// every acceptance names the instance.
func FuzzSubmissionHandler(f *testing.F) {
	valid, _ := json.Marshal(loadtest.NewGenerator(1, 0).Next())
	f.Add(valid, false)
	f.Add(valid, true)
	f.Add(questionnaireFixture(f), false)
	for _, in := range badInputs(false) {
		// Small seeds only: the fuzzer mutates each seed many times.
		if len(in.body) < 4096 {
			f.Add(in.body, false)
		}
	}
	f.Add([]byte(`{"instance_id":"0b8f4a52-3c1e-4f7a-9d56-2f1b7c9e8a01","form_id":"dotm_household","form_version":"2025.1","started_at":"2025-03-14T09:02:11Z","ended_at":"2025-03-14T10:05:47Z","answers":{}}`), true)
	h, token := apiInProcess(f)
	f.Fuzz(func(t *testing.T, body []byte, batch bool) {
		path := "/api/v1/submissions"
		if batch {
			path += "/batch"
			body = append(append([]byte(`{"submissions":[`), body...), ']', '}')
		}
		rec := postInProcess(h, token, path, "application/json", body)
		switch {
		case rec.Code >= 500:
			t.Fatalf("%s answered %d for %q:\n%s", path, rec.Code, body, rec.Body.String())
		case rec.Code >= 400:
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Fatalf("%s answered %d with content type %q", path, rec.Code, ct)
			}
		case batch:
			// One result per item (an empty batch has none).
			var req struct{ Submissions []json.RawMessage }
			var res struct {
				Results []struct{ Result string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatalf("batch answer %d: %s", rec.Code, rec.Body.String())
			}
			if json.Unmarshal(body, &req) == nil && len(req.Submissions) != len(res.Results) {
				t.Fatalf("batch of %d answered with %d results: %s", len(req.Submissions), len(res.Results), rec.Body.String())
			}
		default:
			var r struct{ ID, Status string }
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.ID == "" || r.Status != "received" {
				t.Fatalf("acceptance %d without a receipt: %s", rec.Code, rec.Body.String())
			}
		}
	})
}

func questionnaireFixture(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("../questionnaire/testdata/household_valid.json")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// jsonLogger logs as dotm serve does, into w.
func jsonLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// devMongoProcess starts dotm dev-mongo on a free port with its files in
// dir, outside any test's cleanup (the caller stops it), and dying with this
// process.
func devMongoProcess(tb testing.TB, dir string) (string, func(), error) {
	addr := freeAddr(tb)
	cmd := exec.Command(dotmBin(tb), "dev-mongo", "--data-dir", dir, "--addr", addr)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out := &testutil.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Pdeathsig follows the thread that started the child, and Go ends
	// threads: start it from a goroutine that keeps its thread until the
	// child is gone.
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); <-done }
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "mongodb://") {
				return strings.TrimSpace(line), stop, nil
			}
		}
		select {
		case <-done:
			return "", nil, fmt.Errorf("dev-mongo exited: %s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	return "", nil, fmt.Errorf("dev-mongo did not start: %s", out.String())
}
