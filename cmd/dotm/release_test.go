package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// releaseCSV writes a small deterministic household CSV with direct
// identifiers carrying a marker.
func releaseCSV(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("household_id,stratum,psu,weight,region,urban,hh_size,head_sex,head_age,remit_amount,interview_date,respondent_name\n")
	regions := []string{"north", "south", "east"}
	for i := 0; i < 600; i++ {
		r := regions[i%3]
		u := (i / 3) % 2
		fmt.Fprintf(&b, "HH%04d,%s-%d,%s-%d-%d,%g,%s,%d,%d,%s,%d,%g,2026-0%d-%02d,CLIMARKER %d\n",
			i, r, u, r, u, i%7, 100+float64(i%13)*7.5, r, u, 1+(i*7)%9, []string{"male", "female"}[(i/6)%2],
			18+(i*13)%70, float64((i*37)%1000), 1+i%9, 1+i%28, i)
	}
	path := filepath.Join(dir, "households.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReleaseCreateCommand(t *testing.T) {
	dir := t.TempDir()
	data := releaseCSV(t, dir)
	profile := filepath.Join(dir, "p.yaml")
	os.WriteFile(profile, []byte("k: 3\nquasi_identifiers: [region, urban, hh_size, head_sex, head_age]\n"+
		"recode: {head_age: [0, 35, 55, 120]}\nmax_risk: 0.05\ndirect: [respondent_name]\n"), 0o644)
	out := filepath.Join(dir, "rel")
	stdout, stderr, err := execDotm(t, nil, "release", "create", "--data", data, "--profile", profile, "--out", out, "--seed", "7")
	if err != nil {
		t.Fatalf("release create: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "3-anonymous") || !strings.Contains(stdout, "households.parquet") {
		t.Errorf("stdout:\n%s", stdout)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 9 {
		t.Errorf("release has %d files, want 9 (table as .parquet and .dta, codebook.json/.md, ddi-codebook.xml, disclosure-report.json/.md/.html, manifest)", len(ents))
	}
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(out, e.Name()))
		if strings.Contains(string(b), "CLIMARKER") {
			t.Errorf("%s contains a direct identifier", e.Name())
		}
	}

	exitCode := func(err error) int {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return 0
	}
	// --survey and --data together are a usage error.
	_, stderr, err = execDotm(t, nil, "release", "create", "--survey", "gh-2026", "--data", data, "--profile", profile, "--out", filepath.Join(dir, "s"))
	if exitCode(err) != 2 || !strings.Contains(stderr, "--survey") {
		t.Errorf("--survey with --data: exit %d, stderr %s", exitCode(err), stderr)
	}
	// A profile that cannot be met: exit 1, a report, nothing written.
	os.WriteFile(profile, []byte("k: 3\nquasi_identifiers: [region, urban, hh_size, head_sex, head_age]\nmax_risk: 0.000001\n"), 0o644)
	refused := filepath.Join(dir, "refused")
	_, stderr, err = execDotm(t, nil, "release", "create", "--data", data, "--profile", profile, "--out", refused)
	if exitCode(err) != 1 || !strings.Contains(stderr, "worst_combinations") || !strings.Contains(stderr, "refused") {
		t.Errorf("refused release: exit %d, stderr %s", exitCode(err), stderr)
	}
	if _, err := os.Stat(refused); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused release left %s: %v", refused, err)
	}
}
