package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/internal/testutil"
)

// dotmBin is the real binary, built once for the end-to-end tests.
var dotmBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dotm-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dotmBin = filepath.Join(dir, "dotm")
	// The binary is built without the race detector even under -race: the
	// packages it runs are race-tested in their own tests, and the demo
	// round here would take minutes instrumented.
	out, err := exec.Command("go", "build", "-o", dotmBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build dotm: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// execDotm runs the binary to completion and returns its stdout, stderr and error.
func execDotm(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, dotmBin, args...)
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// cleanEnv is the environment without DOTM_ variables of the caller.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOTM_") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// server is a running `dotm serve`.
type server struct {
	cmd    *exec.Cmd
	base   string
	stderr *testutil.Buffer
	done   chan error
}

func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(dotmBin, append([]string{"serve", "--addr", addr, "--insecure-dev-key"}, args...)...)
	cmd.Env = cleanEnv()
	s := &server{cmd: cmd, base: "http://" + addr, stderr: &testutil.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("dotm serve exited early: %v\n%s", err, s.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dotm serve not ready within 60s:\n%s", s.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("dotm serve after SIGTERM: %v\n%s", err, s.stderr)
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("dotm serve did not stop within 45s of SIGTERM")
	}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeKeepsUsersAcrossRestarts: a user added by the CLI signs in to the
// server, the CLI works while the server holds the data dir, and after a
// graceful stop and a restart on the same data dir the token still works.
func TestServeKeepsUsersAcrossRestarts(t *testing.T) {
	data := t.TempDir()
	token, stderr, err := execDotm(t, nil, "users", "add", "--name", "admin", "--role", "admin", "--data-dir", data)
	if err != nil {
		t.Fatalf("users add: %v\n%s", err, stderr)
	}
	token = strings.TrimSpace(token)
	s := startServe(t, "--data-dir", data)
	if code, body := get(t, s.base+"/api/v1/me", token); code != 200 || !strings.Contains(body, `"admin"`) {
		t.Fatalf("me: %d %s", code, body)
	}
	// The CLI on a held data dir goes through the server's embedded store.
	tok2, stderr, err := execDotm(t, []string{"DOTM_DATA_DIR=" + data}, "users", "add", "--name", "ana", "--role", "enumerator")
	if err != nil {
		t.Fatalf("users add while serving: %v\n%s", err, stderr)
	}
	if code, _ := get(t, s.base+"/api/v1/me", strings.TrimSpace(tok2)); code != 200 {
		t.Fatalf("token added while serving: %d", code)
	}
	s.stop(t)
	logs := s.stderr.String()
	for _, want := range []string{`"msg":"request"`, `"route":"/api/v1/me"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, token) {
		t.Error("the token appears in the log")
	}
	s = startServe(t, "--data-dir", data)
	defer s.stop(t)
	if code, _ := get(t, s.base+"/api/v1/me", token); code != 200 {
		t.Fatalf("token after restart: %d", code)
	}
	out, _, err := execDotm(t, nil, "users", "list", "--data-dir", data)
	if err != nil || !strings.Contains(out, "ana") || !strings.Contains(out, "enumerator") {
		t.Fatalf("users list: %v\n%s", err, out)
	}
	if _, stderr, err := execDotm(t, nil, "users", "revoke", "ana", "--data-dir", data); err != nil {
		t.Fatalf("revoke: %v %s", err, stderr)
	}
	if code, _ := get(t, s.base+"/api/v1/me", strings.TrimSpace(tok2)); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
}

func TestServeUnreachableMongoFailsFast(t *testing.T) {
	start := time.Now()
	_, stderr, err := execDotm(t, nil, "serve", "--addr", freeAddr(t), "--insecure-dev-key", "--data-dir", t.TempDir(), "--mongo-uri", "mongodb://127.0.0.1:1")
	if err == nil {
		t.Fatal("serve with an unreachable database exited 0")
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("took %s, want under 15s", d)
	}
	if !strings.Contains(stderr, "mongodb://127.0.0.1:1") || strings.Contains(stderr, "panic") {
		t.Fatalf("message should name the URI and not panic:\n%s", stderr)
	}
}

// TestEveryCommandHasHelp: `dotm CMD --help` exits 0 and shows an example.
func TestEveryCommandHasHelp(t *testing.T) {
	out, _, err := execDotm(t, nil, "help")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	var names []string
	inCommands := false
	for sc.Scan() {
		line := sc.Text()
		if line == "Commands:" {
			inCommands = true
			continue
		}
		if inCommands && strings.HasPrefix(line, "  ") {
			names = append(names, strings.Fields(line)[0])
		}
	}
	if len(names) < 4 {
		t.Fatalf("help lists %d commands:\n%s", len(names), out)
	}
	// Every command and subcommand prints its help once, on stdout.
	var cmds [][]string
	for _, name := range names {
		cmds = append(cmds, []string{name})
		out, _, _ := execDotm(t, nil, name, "--help")
		if first, _, _ := strings.Cut(out, "\n"); strings.HasPrefix(first, "Usage: dotm "+name+" ") && strings.Contains(first, "SUBCOMMAND --help") {
			for _, s := range strings.Split(strings.Fields(first)[3], "|") {
				cmds = append(cmds, []string{name, s})
			}
		}
	}
	for _, c := range cmds {
		out, stderr, err := execDotm(t, nil, append(c, "--help")...)
		if err != nil {
			t.Errorf("%s --help: %v %s", c, err, stderr)
			continue
		}
		if stderr != "" {
			t.Errorf("%s --help also printed on stderr:\n%s", c, stderr)
		}
		if len(c) == 2 && !strings.Contains(out, "Example") {
			t.Errorf("%s --help shows no example:\n%s", c, out)
		}
		if len(c) == 1 && !strings.Contains(out, "Example") && !strings.Contains(out, "SUBCOMMAND") {
			t.Errorf("%s --help shows no example:\n%s", c, out)
		}
	}
	if _, _, err := execDotm(t, nil, "no-such-command"); err == nil {
		t.Error("an unknown command exited 0")
	}
	out, _, err = execDotm(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "dotm ") {
		t.Errorf("version: %q %v", out, err)
	}
}

// TestServeReloadsKeyFile: dotm keys rotate on the data dir of a running
// dotm serve --key-file (through the server's database) makes the server
// load the new current key without a restart; retire then removes the old
// key (TestKeyFileSettleWait covers how long it waits for the servers).
func TestServeReloadsKeyFile(t *testing.T) {
	dir := t.TempDir()
	data, keyFile := filepath.Join(dir, "data"), filepath.Join(dir, "data.key")
	if _, stderr, err := execDotm(t, nil, "keys", "generate", "--out", keyFile); err != nil {
		t.Fatalf("generate: %v %s", err, stderr)
	}
	first, err := dotm.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	s := startServe(t, "--data-dir", data, "--key-file", keyFile)
	defer s.stop(t)
	if !strings.Contains(s.stderr.String(), first.Current()) {
		t.Fatalf("the server does not name its key:\n%s", s.stderr)
	}
	if _, stderr, err := execDotm(t, nil, "keys", "rotate", "--key-file", keyFile, "--data-dir", data); err != nil {
		t.Fatalf("rotate: %v %s", err, stderr)
	}
	rotated, err := dotm.ReadKeyFile(keyFile)
	if err != nil || rotated.Current() == first.Current() {
		t.Fatalf("after rotate: %v %v", rotated, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), `"msg":"data keys reloaded"`) || !strings.Contains(s.stderr.String(), `"data_key":"`+rotated.Current()+`"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not load the rotated key within 10 s:\n%s", s.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, stderr, err := execDotm(t, nil, "keys", "retire", "--key-file", keyFile, "--id", first.Current(), "--data-dir", data); err != nil {
		t.Fatalf("retire: %v %s", err, stderr)
	}
	retired, err := dotm.ReadKeyFile(keyFile)
	if err != nil || len(retired.IDs()) != 1 || retired.Current() != rotated.Current() {
		t.Fatalf("after retire: %v %v", retired.IDs(), err)
	}
}
