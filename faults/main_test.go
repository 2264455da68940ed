package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/internal/testutil"
)

// binDir holds the dotm binary, built on first use (fuzz workers, which
// run TestMain too, never need it).
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

// cleanups run after all tests, for resources shared by several tests.
var cleanups []func()

// full reports whether the tests run at full size (make test-faults).
var full = os.Getenv("DOTM_FAULTS_SIZE") == "full"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dotm-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// dotmBin builds the dotm binary once and returns its path. Without -race:
// these tests are about processes dying, not about data races, and a
// race-instrumented server is too slow for the full sizes.
func dotmBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binPath = filepath.Join(binDir, "dotm")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/dotm-survey/dotm/cmd/dotm").CombinedOutput()
		if err != nil {
			binError = fmt.Errorf("build dotm: %v\n%s", err, out)
		}
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

// cleanEnv is the environment without the caller's DOTM_ variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOTM_") {
			env = append(env, kv)
		}
	}
	return env
}

// dotm runs the binary to completion and returns its stdout.
func dotm(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dotmBin(t), args...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dotm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// process is a running dotm command (serve or dev-mongo).
type process struct {
	cmd  *exec.Cmd
	out  *testutil.Buffer
	done chan error
}

// start runs dotm with args in the background; the test's cleanup kills it
// if it still runs.
func start(t *testing.T, out *testutil.Buffer, args ...string) *process {
	t.Helper()
	cmd := exec.Command(dotmBin(t), args...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill ends the process with SIGKILL (no chance to flush or clean up) and
// waits for it.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.done <- nil // later kills return at once
}

// stop ends the process with SIGTERM and waits up to a minute.
func (p *process) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- nil
		if err != nil {
			t.Errorf("process ended with %v after SIGTERM\n%s", err, p.out.String())
		}
	case <-time.After(time.Minute):
		t.Errorf("process did not stop within a minute of SIGTERM")
		p.kill()
	}
}

// startServe starts dotm serve on addr with the embedded store in dataDir
// (or the server at mongoURI) and waits until /readyz answers 200.
func startServe(t *testing.T, out *testutil.Buffer, addr, dataDir string, extra ...string) *process {
	t.Helper()
	args := append([]string{"serve", "--addr", addr, "--data-dir", dataDir, "--insecure-dev-key"}, extra...)
	p := start(t, out, args...)
	waitReady(t, p, "http://"+addr)
	return p
}

func waitReady(t *testing.T, p *process, base string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("dotm serve exited (%v):\n%s", err, p.out.String())
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("dotm serve not ready within 90s:\n%s", p.out.String())
}

// addUser adds a user with the CLI (which opens the data dir itself, or
// borrows the running server's embedded store) and returns the token.
func addUser(t *testing.T, dataDir, name, role string, surveys ...string) string {
	t.Helper()
	args := []string{"users", "add", "--data-dir", dataDir, "--name", name, "--role", role}
	for _, s := range surveys {
		args = append(args, "--survey", s)
	}
	return strings.TrimSpace(dotm(t, args...))
}

// api calls the API and decodes a JSON answer into out (when not nil).
func api(t *testing.T, method, url, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, url, err, b)
		}
	}
	return resp.StatusCode
}
