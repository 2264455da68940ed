package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm/exports"
)

func runRelease(e *env, args []string) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintln(e.stdout, `Usage: dotm release create|publish [flags]

  create   anonymize a survey's tables (or a CSV/Parquet file) and write a release folder
  publish  make a release visible to researchers (comes with the survey store)

Example:
  dotm release create --data households.csv --profile release.yaml --out releases/gh-2026-r1`)
		return nil
	}
	switch args[0] {
	case "create":
		return runReleaseCreate(e, args[1:])
	case "publish":
		return exitError{code: 2, msg: "release publish: releases of a survey are published through the survey store, which is not available yet; a release folder made with --data is complete as it is"}
	}
	return exitError{code: 2, msg: fmt.Sprintf("release: unknown subcommand %q (create, publish)", args[0])}
}

func runReleaseCreate(e *env, args []string) error {
	fs := newFlags(e, "release create", "release create (--data FILE | --survey ID) --profile P.yaml --out DIR",
		"dotm release create --data households.csv --profile release.yaml --out releases/gh-2026-r1")
	data := fs.String("data", "", "household table to release: .csv (types inferred per column) or .parquet")
	survey := fs.String("survey", "", "survey id whose approved submissions to release")
	profilePath := fs.String("profile", "", "release profile (YAML): k, quasi_identifiers, recode, top_code, group_rare, geo, max_risk")
	out := fs.String("out", "", "release folder to create (must not exist, or be empty)")
	id := fs.String("id", "", "release id (default: a new UUID)")
	seed := fs.Uint64("seed", 0, "seed of displacement and shuffling, for reproducible test releases (default: random; never use a known seed for a real release)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	switch {
	case *survey != "":
		return exitError{code: 2, msg: "release create: --survey needs the survey store's dataset step, which is not available yet; export the tables and use --data"}
	case *data == "":
		return exitError{code: 2, msg: "release create: --data is required"}
	case *profilePath == "":
		return exitError{code: 2, msg: "release create: --profile is required"}
	case *out == "":
		return exitError{code: 2, msg: "release create: --out is required"}
	}
	pb, err := os.ReadFile(*profilePath)
	if err != nil {
		return fmt.Errorf("release create: %w", err)
	}
	profile, err := exports.ParseProfile(pb)
	if err != nil {
		return fmt.Errorf("release create: %s: %w", *profilePath, err)
	}
	table, err := readReleaseData(*data)
	if err != nil {
		return fmt.Errorf("release create: %w", err)
	}
	info := exports.Info{ID: *id, Survey: filepath.Base(*data), Created: time.Now().UTC(), Version: version()}
	if info.ID == "" {
		info.ID = uuid.NewString()
	}
	var opts exports.Options
	if *seed != 0 {
		opts.Rand = rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))
	}
	if isTerminal(e.stderr) {
		fmt.Fprintf(e.stderr, "anonymizing %d rows…\n", table.Rows())
	}
	ds := &exports.Dataset{Survey: info.Survey, Tables: []*exports.Table{table}}
	man, rep, err := exports.Create(ds, profile, *out, info, opts)
	var refused *exports.RefusedError
	if errors.As(err, &refused) {
		enc := json.NewEncoder(e.stderr)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return exitError{code: 1, msg: "release create: " + strings.TrimPrefix(err.Error(), "exports: ") + " (nothing written; the report above lists the worst combinations)"}
	}
	if err != nil {
		return fmt.Errorf("release create: %w", err)
	}
	fmt.Fprintf(e.stdout, "release %s written to %s\n", man.ReleaseID, *out)
	for _, t := range rep.Tables {
		fmt.Fprintf(e.stdout, "  %s: %d rows, %d-anonymous on %s; %d values suppressed; global risk %s -> %s\n",
			t.Table, t.Rows, rep.K, strings.Join(t.QuasiIdentifiers, ", "), t.SuppressedTotal,
			fmtRisk(t.Before.Global), fmtRisk(t.After.Global))
	}
	for _, f := range man.Files {
		fmt.Fprintf(e.stdout, "  %s  %s\n", f.SHA256, f.Name)
	}
	return nil
}

func fmtRisk(r float64) string { return fmt.Sprintf("%.4g", r) }

func readReleaseData(path string) (*exports.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return exports.ReadCSV(f, filepath.Base(path))
	case ".parquet":
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		return exports.ReadParquet(f, st.Size(), filepath.Base(path))
	}
	return nil, fmt.Errorf("--data %s: want a .csv or .parquet file", path)
}
