package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleaseSurveyCommands makes a release of the demo's survey round with
// the CLI: stored unpublished (and written with --out), listed, published
// once; a profile that cannot be met stores nothing.
func TestReleaseSurveyCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	demo := filepath.Join(dir, "demo")
	if _, stderr, err := execDotm(t, nil, "demo", "--out", demo, "--households", "100", "--enumerators", "4", "--seed", "7"); err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}
	store := []string{"--data-dir", filepath.Join(demo, "data")}
	profile := filepath.Join(dir, "p.yaml")
	write := func(text string) {
		if err := os.WriteFile(profile, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exitCode := func(err error) int {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return 0
	}
	list := func(args ...string) [][]string {
		t.Helper()
		out, stderr, err := execDotm(t, nil, append(append([]string{"release", "list"}, store...), args...)...)
		if err != nil {
			t.Fatalf("release list: %v\n%s", err, stderr)
		}
		var rows [][]string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			rows = append(rows, strings.Fields(l))
		}
		return rows
	}

	// The demo published one release of its own.
	before := list()
	if len(before) != 1 || before[0][4] == "no" {
		t.Fatalf("after the demo: %v, want its one published release", before)
	}
	isNew := func(id string) bool {
		for _, r := range before {
			if r[0] == id {
				return false
			}
		}
		return true
	}

	// Refused: exit 1, the report on stderr, nothing stored or written.
	write("k: 3\nquasi_identifiers: [region, urban, hh_size, head_sex, head_age, dest_country]\nmax_risk: 0.000001\n")
	refusedDir := filepath.Join(dir, "refused")
	_, stderr, err := execDotm(t, nil, append([]string{"release", "create", "--survey", "dotm-demo", "--profile", profile, "--out", refusedDir}, store...)...)
	if exitCode(err) != 1 || !strings.Contains(stderr, "worst_combinations") {
		t.Fatalf("refused release: exit %d, stderr %s", exitCode(err), stderr)
	}
	if _, err := os.Stat(refusedDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused release left %s: %v", refusedDir, err)
	}
	if rows := list(); len(rows) != len(before) {
		t.Fatalf("a refused release is stored: %v", rows)
	}

	write(demoProfileFor(100)) // the profile the 100-household demo itself used
	out := filepath.Join(dir, "r1")
	stdout, stderr, err := execDotm(t, nil, append([]string{"release", "create", "--survey", "dotm-demo", "--profile", profile, "--out", out, "--seed", "3"}, store...)...)
	if err != nil {
		t.Fatalf("release create --survey: %v\n%s", err, stderr)
	}
	var created []string
	rows := list("--survey", "dotm-demo")
	for _, r := range rows {
		if isNew(r[0]) {
			created = r
		}
	}
	if len(rows) != len(before)+1 || created == nil || created[1] != "dotm-demo" || created[4] != "no" || !strings.Contains(stdout, created[0]) {
		t.Fatalf("list after create: %v\n%s", rows, stdout)
	}
	id := created[0]
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		ReleaseID string `json:"release_id"`
		Files     []struct{ SHA256 string }
	}
	if err := json.Unmarshal(b, &man); err != nil || man.ReleaseID != id || len(man.Files) != 14 { // 4 tables × (.parquet, .dta), codebook as .json and .md, report as .json, .md and .html, DDI
		t.Fatalf("--out manifest: %+v %v", man, err)
	}
	for _, f := range man.Files {
		if !strings.Contains(stdout, f.SHA256) {
			t.Errorf("the stored release's files differ from the folder's: %s not in\n%s", f.SHA256, stdout)
		}
	}
	if rows := list("--survey", "other"); len(rows) != 0 {
		t.Fatalf("another survey lists %v", rows)
	}

	if _, stderr, err := execDotm(t, nil, append([]string{"release", "publish"}, append(store, id)...)...); err != nil {
		t.Fatalf("publish: %v\n%s", err, stderr)
	}
	if _, stderr, err := execDotm(t, nil, append([]string{"release", "publish"}, append(store, id)...)...); exitCode(err) != 1 || !strings.Contains(stderr, "already published") {
		t.Fatalf("second publish: exit %d, %s", exitCode(err), stderr)
	}
	for _, r := range list() {
		if r[4] == "no" {
			t.Fatalf("list after publish: %v", r)
		}
	}
}
