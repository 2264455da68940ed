package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTours runs the README's tours, docs/tour/*.sh, with the real binary,
// each in a folder of its own, as a new user would paste them: the
// statistician's files-only round, the field operation through the API
// (survey manager, enumerator, supervisor; needs curl), and the
// researcher's analysis of a demo's release. The README must show each
// script as it is.
func TestTours(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the field tour needs curl (apt-get install curl; .ci/run installs it)")
	}
	src, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(src, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := filepath.Glob(filepath.Join(src, "docs", "tour", "*.sh"))
	if err != nil || len(scripts) < 3 {
		t.Fatalf("tour scripts %v (%v): want at least 3", scripts, err)
	}
	for _, script := range scripts {
		body, err := os.ReadFile(script)
		if err != nil {
			t.Fatal(err)
		}
		// What the README shows: the script without its #! line.
		shown := strings.SplitN(string(body), "\n", 2)[1]
		if !strings.Contains(string(readme), shown) {
			t.Errorf("README.md does not show %s as it is: copy the file (without its #! line) into the README's tour", filepath.Base(script))
		}
	}
	run := func(t *testing.T, dir, script string, env ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", filepath.Join(src, "docs", "tour", script))
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"DOTM=" + dotmBin, "SRC=" + src}, env...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	t.Run("statistician", func(t *testing.T) {
		t.Parallel()
		out := run(t, t.TempDir(), "statistician.sh")
		for _, want := range []string{"selected 80 PSUs", "raking converged", "bank_account | migrant=current_migrant", "design: 5000 rows"} {
			if !strings.Contains(out, want) {
				t.Errorf("statistician tour output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("field", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		out := run(t, t.TempDir(), "field.sh", "PORT="+strconv.Itoa(port))
		for _, want := range []string{`"status":"received"`, `"status":"approved"`, `"role":"admin"`} {
			if !strings.Contains(out, want) {
				t.Errorf("field tour output lacks %s:\n%s", want, out)
			}
		}
	})
	t.Run("researcher", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "demo")
		if out, err := exec.Command(dotmBin, "demo", "--out", dir, "--households", "100", "--enumerators", "4").CombinedOutput(); err != nil {
			t.Fatalf("demo: %v\n%s", err, out)
		}
		out := run(t, dir, "researcher.sh")
		for _, want := range []string{"households.parquet", "svydesign(", "remit_received | migrant=current_migrant"} {
			if !strings.Contains(out, want) {
				t.Errorf("researcher tour output lacks %q:\n%s", want, out)
			}
		}
	})
}
