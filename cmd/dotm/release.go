package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/exports"
	"github.com/dotm-survey/dotm/mongodb"
	"github.com/dotm-survey/dotm/round"
)

func runRelease(e *env, args []string) error {
	return dispatch(e, "release", []subcommand{
		{"create", "anonymize a survey's approved interviews into a release kept in the store (--survey), or a CSV/Parquet file into a release folder (--data)", runReleaseCreate},
		{"publish", "make a stored release visible to researchers (once; it never changes)", runReleasePublish},
		{"list", "list the stored releases", runReleaseList},
	}, "", `dotm release create --survey gh-2026 --profile release.yaml --out releases/gh-2026-r1
dotm release publish 0b6f…
dotm release create --data households.csv --profile release.yaml --out releases/gh-2026-r1`, args)
}

func runReleaseCreate(e *env, args []string) error {
	fs := newFlags(e, "release create", "release create (--survey ID --profile P.yaml [--out DIR] | --data FILE --profile P.yaml --out DIR)",
		"dotm release create --survey gh-2026 --profile release.yaml --out releases/gh-2026-r1\ndotm release create --data households.csv --profile release.yaml --out releases/gh-2026-r1")
	data := fs.String("data", "", "household table to release: .csv (types inferred per column) or .parquet")
	survey := fs.String("survey", "", "survey id whose approved submissions to release")
	profilePath := fs.String("profile", "", "release profile (YAML): k, quasi_identifiers, recode, top_code, group_rare, geo, max_risk")
	out := fs.String("out", "", "release folder to create (must not exist, or be empty); optional with --survey")
	id := fs.String("id", "", "release id of a --data release (default: a new UUID; a survey release always gets a new UUID)")
	seed := fs.Uint64("seed", 0, "seed of displacement and shuffling, for reproducible test releases (default: random; never use a known seed for a real release)")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	var opts exports.Options
	if *seed != 0 {
		opts.Rand = rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))
	}
	switch {
	case *survey != "" && *data != "":
		return exitError{code: 2, msg: "release create: give --survey or --data, not both"}
	case *profilePath == "":
		return exitError{code: 2, msg: "release create: --profile is required"}
	case *survey != "":
		return releaseSurvey(e, sf, *survey, *profilePath, *out, opts)
	case *data == "":
		return exitError{code: 2, msg: "release create: --survey or --data is required"}
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
	if isTerminal(e.stderr) {
		fmt.Fprintf(e.stderr, "anonymizing %d rows…\n", table.Rows())
	}
	ds := &exports.Dataset{Survey: info.Survey, Tables: []*exports.Table{table}}
	exports.StandardizeCodes(ds) // yes/no columns as 0/1, as a survey's release has them
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
	printRelease(e, man, rep)
	return nil
}

func printRelease(e *env, man *exports.Manifest, rep *exports.Report) {
	for _, t := range rep.Tables {
		fmt.Fprintf(e.stdout, "  %s: %d rows, %d-anonymous on %s; %d values suppressed; global risk %s -> %s\n",
			t.Table, t.Rows, rep.K, strings.Join(t.QuasiIdentifiers, ", "), t.SuppressedTotal,
			fmtRisk(t.Before.Global), fmtRisk(t.After.Global))
	}
	for _, f := range man.Files {
		fmt.Fprintf(e.stdout, "  %s  %s\n", f.SHA256, f.Name)
	}
}

// releaseSurvey makes a release of a survey's approved interviews and
// stores it (unpublished), as POST /api/v1/surveys/{survey}/releases does.
func releaseSurvey(e *env, sf *storeFlags, survey, profilePath, out string, opts exports.Options) error {
	pb, err := os.ReadFile(profilePath)
	if err != nil {
		return fmt.Errorf("release create: %w", err)
	}
	return sf.with(e, func(store *mongodb.Store) error {
		if isTerminal(e.stderr) {
			fmt.Fprintf(e.stderr, "reading survey %s and anonymizing…\n", survey)
		}
		actor := cliActor(e)
		r, err := round.CreateRelease(e.ctx, storeSurveyData(store), store, round.ReleaseRequest{
			Survey: survey, Profile: pb, By: actor, Version: version(), Dir: out, Options: opts})
		var refused *exports.RefusedError
		if errors.As(err, &refused) {
			_ = store.Record(e.ctx, dotm.AuditEntry{Time: time.Now().UTC(), Actor: actor, Role: dotm.RoleAdmin, Action: "release_refused", Survey: survey,
				Detail: "disclosure control refused the release"})
			enc := json.NewEncoder(e.stderr)
			enc.SetIndent("", "  ")
			enc.Encode(refused.Report)
			return exitError{code: 1, msg: "release create: " + strings.TrimPrefix(refused.Error(), "exports: ") + " (nothing stored or written; the report above lists the worst combinations)"}
		}
		if err != nil {
			return fmt.Errorf("release create: %w", err)
		}
		if err := store.Record(e.ctx, dotm.AuditEntry{Time: time.Now().UTC(), Actor: actor, Role: dotm.RoleAdmin, Action: "release_create", Survey: survey,
			Target: r.ID, Detail: fmt.Sprintf("%d files", len(r.Files))}); err != nil {
			return fmt.Errorf("release create: %w", err)
		}
		fmt.Fprintf(e.stdout, "release %s of survey %s stored (unpublished; dotm release publish %s)\n", r.ID, survey, r.ID)
		if out != "" {
			fmt.Fprintf(e.stdout, "  written to %s\n", out)
		}
		man, err := exports.ParseManifest(r.Manifest)
		if err != nil {
			return err
		}
		rep, err := exports.ParseReport(r.Report)
		if err != nil {
			return err
		}
		printRelease(e, man, rep)
		return nil
	})
}

func runReleasePublish(e *env, args []string) error {
	fs := newFlags(e, "release publish", "release publish [flags] ID", "dotm release publish --data-dir ./data 0b6f2d3e-…")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return exitError{code: 2, msg: "release publish: give one release id"}
	}
	id := fs.Arg(0)
	return sf.with(e, func(store *mongodb.Store) error {
		actor := cliActor(e)
		if err := store.PublishRelease(e.ctx, id, actor, time.Now()); err != nil {
			return fmt.Errorf("release publish: %w", err)
		}
		r, err := store.Release(e.ctx, id)
		if err != nil {
			return fmt.Errorf("release publish: %w", err)
		}
		if err := store.Record(e.ctx, dotm.AuditEntry{Time: time.Now().UTC(), Actor: actor, Role: dotm.RoleAdmin, Action: "release_publish", Survey: r.Survey, Target: id}); err != nil {
			return fmt.Errorf("release publish: %w", err)
		}
		fmt.Fprintf(e.stdout, "release %s of survey %s published\n", id, r.Survey)
		return nil
	})
}

func runReleaseList(e *env, args []string) error {
	fs := newFlags(e, "release list", "release list [--survey ID]", "dotm release list --survey gh-2026")
	survey := fs.String("survey", "", "only this survey's releases")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	return sf.with(e, func(store *mongodb.Store) error {
		rs, err := store.Releases(e.ctx, *survey)
		if err != nil {
			return fmt.Errorf("release list: %w", err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSURVEY\tCREATED\tBY\tPUBLISHED\tHOUSEHOLDS")
		for _, r := range rs {
			pub := "no"
			if r.PublishedAt != nil {
				pub = r.PublishedAt.Format(time.RFC3339)
			}
			rows := ""
			man, err := exports.ParseManifest(r.Manifest)
			if err != nil {
				return err
			}
			for _, f := range man.Files {
				if f.Name == "households.parquet" && f.Rows != nil {
					rows = strconv.FormatInt(*f.Rows, 10)
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Survey, r.Created.Format(time.RFC3339), r.CreatedBy, pub, rows)
		}
		return tw.Flush()
	})
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
