package main

import (
	"bufio"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/loadtest"
)

// TestLoadtestScale runs the scale simulation of the 1,000,000-submission
// run at a small size: the real binary grows a new store through its own
// `dotm serve` to 300 submissions and measures it at 150 and at 300.
func TestLoadtestScale(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out := filepath.Join(dir, "scale.jsonl")
	stdout, stderr, err := execDotm(t, nil, "loadtest", "scale", "--data-dir", data, "--target", "300", "--checkpoints", "150",
		"--burst", "1s", "--samples", "3", "--backup-up-to", "200", "--out", out)
	if err != nil {
		t.Fatalf("dotm loadtest scale: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cps []loadtest.Checkpoint
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c loadtest.Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v: %s", out, err, sc.Text())
		}
		cps = append(cps, c)
	}
	if len(cps) != 2 {
		t.Fatalf("%d checkpoints, want 2 (150, 300)\n%s", len(cps), stderr)
	}
	prev := 0
	for i, c := range cps {
		want := []int{150, 300}[i]
		// The growth stops at the checkpoint; the previous checkpoint's
		// burst may have added more.
		if c.Submissions < want || c.Submissions <= prev {
			t.Errorf("checkpoint %d: %d submissions, want at least %d and more than %d", i, c.Submissions, want, prev)
		}
		prev = c.Submissions
		if c.Audit != 4*c.Submissions || c.Listed > 2*c.Submissions || c.Listed < 2*c.Submissions-100 {
			t.Errorf("checkpoint %d: %d submissions with %d audit entries and %d listed households, want 4 and 2 per submission", i, c.Submissions, c.Audit, c.Listed)
		}
		// The growth rate is 0 when the previous burst already passed
		// this checkpoint (a fast machine posts more than 150 in 1 s).
		grew := i == 0 || cps[i-1].Submissions+cps[i-1].Burst.Created < want
		if (grew && c.GrowRate <= 0) || c.Startup <= 0 || c.DiskBytes < 1<<20 || c.RSSStartKB <= 0 || c.RSSPeakKB < c.RSSStartKB {
			t.Errorf("checkpoint %d: rate %.0f/s, start-up %s, disk %d bytes, RSS %d/%d kB: want all measured", i, c.GrowRate, c.Startup, c.DiskBytes, c.RSSStartKB, c.RSSPeakKB)
		}
		if c.Settle < c.Startup || c.RSSSettledKB < c.RSSStartKB {
			t.Errorf("checkpoint %d: settled after %s (ready after %s), RSS %d kB (%d at start)", i, c.Settle, c.Startup, c.RSSSettledKB, c.RSSStartKB)
		}
		if c.Burst.Acknowledged == 0 || c.Burst.Created != c.Burst.Acknowledged || c.Burst.ServerErrors > 0 || c.Burst.Rejected > 0 {
			t.Errorf("checkpoint %d: burst %+v", i, c.Burst)
		}
		if len(c.Requests) != 9 {
			t.Errorf("checkpoint %d: %d requests timed, want 9", i, len(c.Requests))
		}
		for _, q := range c.Requests {
			if q.N != 3 || q.Failures > 0 || q.P50 <= 0 || q.P95 < q.P50 || q.Bytes < 20 {
				t.Errorf("checkpoint %d: %s: %+v", i, q.Name, q)
			}
		}
		if (c.Backup > 0) != (i == 0) || (i == 0 && c.BackupBytes < 1000) {
			t.Errorf("checkpoint %d: backup %s, %d bytes; want one only at 150", i, c.Backup, c.BackupBytes)
		}
	}
	if cps[1].DiskBytes <= cps[0].DiskBytes {
		t.Errorf("disk %d then %d bytes: the store did not grow", cps[0].DiskBytes, cps[1].DiskBytes)
	}
	for _, s := range []string{"GET /surveys/{id}/progress", "GET /audit?limit=100"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("report lacks %q:\n%s", s, stdout)
		}
	}
	// The tables and charts again from the checkpoints' file.
	chart := filepath.Join(dir, "scale.png")
	again, stderr, err := execDotm(t, nil, "loadtest", "scale", "--replot", out, "--chart", chart)
	if err != nil || !strings.Contains(stdout, again) {
		t.Errorf("--replot: %v %s; its tables are not the run's:\n%s", err, stderr, again)
	}
	for _, p := range []string{chart, filepath.Join(dir, "scale-store.png")} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 500 {
			t.Errorf("%s: %v", p, err)
		}
	}
	// A second run on the same store is refused: it grows stores of its own.
	_, stderr, err = execDotm(t, nil, "loadtest", "scale", "--data-dir", data, "--target", "1000")
	if err == nil || !strings.Contains(stderr, "not empty") {
		t.Errorf("a run on a used data dir: %v, %s", err, stderr)
	}
	_, stderr, err = execDotm(t, nil, "loadtest", "scale", "--data-dir", filepath.Join(dir, "new"), "--target", "2000000")
	if err == nil || !strings.Contains(stderr, "target 2000000") {
		t.Errorf("a target above the bound: %v, %s", err, stderr)
	}
}
