package faults

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/internal/testutil"
)

// TestDiskFullIs503: dotm serve with its data directory on a 6 MiB tmpfs
// (mounted in a user and mount namespace: no privileges needed) answers 503
// with Retry-After, not 500, once the disk is full, and /readyz says not
// ready; after space is freed, writes succeed again and every user whose
// creation was acknowledged is there.
func TestDiskFullIs503(t *testing.T) {
	if out, err := exec.Command("unshare", "-rm", "true").CombinedOutput(); err != nil {
		t.Fatalf("this test mounts a small tmpfs in a user namespace (unshare -rm from util-linux): %v %s", err, out)
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(mnt, "data")
	tokenFile := filepath.Join(dir, "token")
	addr := freeAddr(t)
	bin := dotmBin(t)
	script := fmt.Sprintf(`set -e
mount -t tmpfs -o size=6m tmpfs %[1]q
%[2]q users add --data-dir %[3]q --name admin --role admin > %[4]q
dd if=/dev/zero of=%[1]q/filler bs=64k count=16 2>/dev/null
exec %[2]q serve --addr %[5]s --data-dir %[3]q --insecure-dev-key`, mnt, bin, data, tokenFile, addr)
	logs := &testutil.Buffer{}
	cmd := exec.Command("unshare", "-rm", "sh", "-c", script)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, out: logs, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(p.kill)
	waitReady(t, p, "http://"+addr)
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(tok))
	base := "http://" + addr

	var acked []string
	var st int
	var resp *http.Response
	for i := 0; i < 20000; i++ {
		name := "user" + strconv.Itoa(i)
		req, _ := http.NewRequest("POST", base+"/api/v1/users", strings.NewReader(`{"name":"`+name+`","role":"enumerator"}`))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if st = resp.StatusCode; st != http.StatusCreated {
			break
		}
		acked = append(acked, name)
	}
	if st != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("a full disk after %d users: %d, Retry-After %q, %q", len(acked), st, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
	}
	if r, err := http.Get(base + "/readyz"); err != nil || r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a full disk: %v %v", r.StatusCode, err)
	} else {
		r.Body.Close()
	}
	// Free the filler (seen through the server's own mount namespace).
	if err := os.Remove(fmt.Sprintf("/proc/%d/root%s/filler", cmd.Process.Pid, mnt)); err != nil {
		t.Fatalf("free space: %v", err)
	}
	// Ready again once its probe write goes through (after a 5 s hold), not
	// after a fixed 30 s.
	ready := false
	for deadline := time.Now().Add(15 * time.Second); !ready && time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if r, err := http.Get(base + "/readyz"); err == nil {
			ready = r.StatusCode == http.StatusOK
			r.Body.Close()
		}
	}
	if !ready {
		t.Error("/readyz is not ready 15 s after space was freed")
	}
	var users struct {
		Users []struct{ Name string } `json:"users"`
	}
	if st := api(t, "POST", base+"/api/v1/users", admin, map[string]any{"name": "after", "role": "enumerator"}, nil); st != http.StatusCreated {
		t.Errorf("after freeing space: %d", st)
	}
	if st := api(t, "GET", base+"/api/v1/users", admin, nil, &users); st != 200 {
		t.Fatalf("list users: %d", st)
	}
	have := map[string]bool{}
	for _, u := range users.Users {
		have[u.Name] = true
	}
	for _, n := range acked {
		if !have[n] {
			t.Errorf("acknowledged user %s is missing", n)
		}
	}
	if strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("a 500 in the log:\n%s", tail(logs.String(), 3000))
	}
	p.stop(t)
}
