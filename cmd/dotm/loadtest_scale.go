package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dotm-survey/dotm/loadtest"
)

// runLoadtestScale is `dotm loadtest scale`: it grows one embedded store
// through a `dotm serve` process of this binary and measures it at
// checkpoints (loadtest.Scale).
func runLoadtestScale(e *env, args []string) error {
	fs := newFlags(e, "loadtest scale", "loadtest scale --data-dir DIR [--target N] [--checkpoints N,N,...] [--budget D]",
		"nice -n 15 dotm loadtest scale --data-dir /tmp/dotm-scale --target 1000000 \\\n"+
			"    --checkpoints 10000,50000,100000,250000,500000,750000 --budget 3h --out scale.jsonl\n"+
			"# the data dir must be new: the run makes its own admin, survey and enumerators in it;\n"+
			"# the server listens on a loopback port only and is stopped at the end")
	dataDir := fs.String("data-dir", "", "data directory of the store to grow (must not exist or be empty)")
	target := fs.Int("target", 1_000_000, fmt.Sprintf("submissions to grow to (100 to %d)", loadtest.MaxSubmissions))
	cps := fs.String("checkpoints", "50000,100000,250000,500000,750000", "sizes to measure at, comma-separated (the target is always one)")
	budget := fs.Duration("budget", 2*time.Hour, "stop growing after this long and measure the size reached")
	enums := fs.Int("enumerators", 4, "concurrent posters while growing (1 to 64)")
	batch := fs.Int("batch-size", 100, "submissions per batch post while growing (1 to 500)")
	burst := fs.Duration("burst", 10*time.Second, "length of the ingest burst at each checkpoint")
	samples := fs.Int("samples", 20, "times each request is timed at each checkpoint")
	backupUpTo := fs.Int("backup-up-to", 100_000, "time dotm backup at checkpoints of at most this many submissions (0: never)")
	out := fs.String("out", "", "also append each checkpoint as a line of JSON to this file")
	seed := fs.Uint64("seed", 1, "seed of the generated submissions")
	chart := fs.String("chart", "", "draw the run's charts into this PNG file (and FILE-store.png)")
	replot := fs.String("replot", "", "run nothing: print the tables (and --chart) of the checkpoints in this --out file")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *replot != "" {
		cps, err := readCheckpoints(*replot)
		if err != nil {
			return exitError{code: 2, msg: "loadtest scale: --replot: " + err.Error()}
		}
		loadtest.ScaleReport{Checkpoints: cps}.WriteMarkdown(e.stdout)
		if *chart != "" {
			return scaleCharts(cps, *chart)
		}
		return nil
	}
	if *dataDir == "" || fs.NArg() > 0 {
		return exitError{code: 2, msg: "loadtest scale: give --data-dir (and no arguments)"}
	}
	var points []int
	for _, f := range strings.Split(*cps, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return exitError{code: 2, msg: fmt.Sprintf("loadtest scale: --checkpoints: %q is not a number", f)}
		}
		if n <= *target {
			points = append(points, n)
		}
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("loadtest scale: this program's path: %w", err)
	}
	var jsonl *os.File
	if *out != "" {
		if jsonl, err = os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
			return fmt.Errorf("loadtest scale: %w", err)
		}
		defer jsonl.Close()
	}
	cfg := loadtest.ScaleConfig{Binary: bin, DataDir: *dataDir, Target: *target, Checkpoints: points, Budget: *budget,
		Enumerators: *enums, BatchSize: *batch, Burst: *burst, Samples: *samples, BackupUpTo: *backupUpTo, Seed: *seed,
		Progress: e.stderr,
		OnCheckpoint: func(c loadtest.Checkpoint) {
			if jsonl != nil {
				_, _ = jsonl.Write(c.MarshalJSONLine())
			}
			loadtest.ScaleReport{Checkpoints: []loadtest.Checkpoint{c}}.WriteMarkdown(e.stderr)
		}}
	rep, err := loadtest.Scale(e.ctx, cfg)
	if len(rep.Checkpoints) > 0 {
		fmt.Fprintf(e.stdout, "dotm loadtest scale, %s, %d checkpoints in %s\n\n", time.Now().UTC().Format(time.RFC3339), len(rep.Checkpoints), rep.Elapsed.Round(time.Second))
		rep.WriteMarkdown(e.stdout)
		if *chart != "" {
			if cerr := scaleCharts(rep.Checkpoints, *chart); cerr != nil && err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		return exitError{code: 1, msg: err.Error()}
	}
	return nil
}
