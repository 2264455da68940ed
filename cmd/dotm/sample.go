package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/dotm-survey/dotm/internal/csvsafe"
	"github.com/dotm-survey/dotm/internal/outfile"
	"github.com/dotm-survey/dotm/sampling"
)

func runSample(e *env, args []string) error {
	return dispatch(e, "sample", []subcommand{
		{"psus", "allocate PSUs to strata and select them with probability proportional to size", runSamplePSUs},
		{"households", "select households within PSUs from their listing, with a quota per screening class", runSampleHouseholds},
	}, "", `dotm sample psus --frame frame.csv --id ea --stratum stratum --size households --n 100 --allocation proportional --seed 2026 --out psus.csv
dotm sample households --listing listing.csv --psu ea --id hh --class status --quota current_migrant=6,return_migrant=3,non_migrant=6 --seed 2026 --out households.csv`, args)
}

func runSamplePSUs(e *env, args []string) error {
	fs := newFlags(e, "sample psus",
		"sample psus --frame F.csv --id COL --stratum COL --size COL (--n N --allocation A | --n-per-stratum T.csv) --seed S --out OUT.csv [--all] [--random-sort]",
		"dotm sample psus --frame frame.csv --id ea --stratum stratum --size households --n 100 --allocation power:0.5 --seed 2026 --out psus.csv --all")
	frame := fs.String("frame", "", "frame CSV: one row per PSU (enumeration area)")
	idCol := fs.String("id", "psu_id", "frame column with the PSU id")
	stratumCol := fs.String("stratum", "stratum", "frame column with the stratum")
	sizeCol := fs.String("size", "size", "frame column with the measure of size (> 0)")
	n := fs.Int("n", 0, "number of PSUs to select in all")
	allocation := fs.String("allocation", "proportional", "proportional, equal or power:ALPHA (0 ≤ ALPHA ≤ 1)")
	table := fs.String("n-per-stratum", "", "CSV with columns stratum,n: a fixed allocation instead of --n/--allocation")
	seed := fs.String("seed", "", "random seed (a whole number ≥ 0; required)")
	out := fs.String("out", "", "output CSV: psu_id,stratum,size,pi,certainty,selected and the frame's other columns")
	all := fs.Bool("all", false, "write every frame unit (selected 0/1), not only the selected ones; needed for fpc in weights base")
	randomSort := fs.Bool("random-sort", false, "shuffle the units within each stratum before the systematic pass (default: frame order)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	s, err := sampleSeed(*seed)
	if err != nil {
		return err
	}
	switch {
	case *frame == "" || *out == "":
		return exitError{code: 2, msg: "sample psus: --frame and --out are required"}
	case (*n > 0) == (*table != ""):
		return exitError{code: 2, msg: "sample psus: give either --n (with --allocation) or --n-per-stratum"}
	}
	var alloc sampling.Allocation
	if *table != "" {
		if alloc, err = readWith(*table, sampling.ReadAllocationTable); err != nil {
			return err
		}
	} else if alloc, err = sampling.ParseAllocation(*allocation); err != nil {
		return exitError{code: 2, msg: "sample psus: --allocation: " + err.Error()}
	}
	f, err := readWith(*frame, func(r io.Reader) (*sampling.Frame, error) {
		return sampling.ReadFrame(r, sampling.FrameColumns{ID: *idCol, Stratum: *stratumCol, Size: *sizeCol})
	})
	if err != nil {
		return err
	}
	first, err := sampling.DrawFirstStage(f, *n, alloc, s, sampling.SelectOptions{RandomSort: *randomSort})
	if err != nil {
		return err
	}
	if err := writeCSVAtomic(*out, first.Sample.Table(*all)); err != nil {
		return err
	}
	total, certain := 0, 0
	for _, d := range first.Sample.Draws {
		if d.Selected {
			total++
		}
		if d.Certainty {
			certain++
		}
	}
	fmt.Fprintf(e.stderr, "selected %d PSUs (%d with certainty) in %d strata from %d frame units; wrote %s\n", total, certain, len(first.Strata), len(f.Units), *out)
	return nil
}

func runSampleHouseholds(e *env, args []string) error {
	fs := newFlags(e, "sample households",
		"sample households --listing L.csv --psu COL --id COL --class COL --quota CLASS=N,... --seed S --out OUT.csv [--method srs|systematic]",
		"dotm sample households --listing listing.csv --psu ea --id hh --class status --quota current_migrant=6,return_migrant=3,non_migrant=6 --seed 2026 --out households.csv")
	listing := fs.String("listing", "", "listing CSV: one row per listed household of the selected PSUs")
	psuCol := fs.String("psu", "psu_id", "listing column with the PSU id")
	idCol := fs.String("id", "household_id", "listing column with the household id (unique within a PSU)")
	classCol := fs.String("class", "class", "listing column with the screening class")
	quota := fs.String("quota", "", "households to select per class in each PSU, e.g. current_migrant=6,return_migrant=3,non_migrant=6")
	method := fs.String("method", "srs", "srs (simple random) or systematic (in listing order)")
	seed := fs.String("seed", "", "random seed (a whole number ≥ 0; required)")
	out := fs.String("out", "", "output CSV: psu_id,household_id,class,pi2,selected and the listing's other columns")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	s, err := sampleSeed(*seed)
	if err != nil {
		return err
	}
	if *listing == "" || *out == "" || *quota == "" {
		return exitError{code: 2, msg: "sample households: --listing, --quota and --out are required"}
	}
	q, err := sampling.ParseQuota(*quota)
	if err != nil {
		return exitError{code: 2, msg: "sample households: --quota: " + err.Error()}
	}
	m, err := sampling.ParseHouseholdMethod(*method)
	if err != nil {
		return exitError{code: 2, msg: "sample households: --method: " + err.Error()}
	}
	l, err := readWith(*listing, func(r io.Reader) (*sampling.Listing, error) {
		return sampling.ReadListing(r, sampling.ListingColumns{PSU: *psuCol, ID: *idCol, Class: *classCol})
	})
	if err != nil {
		return err
	}
	draws, err := sampling.SelectHouseholds(l.Households, q, m, s)
	if err != nil {
		return fmt.Errorf("%s:\n%w", *listing, relabel(err, "class", *classCol, "household_id", *idCol))
	}
	sample := &sampling.HouseholdSample{Draws: draws, ExtraColumns: l.ExtraColumns}
	if err := writeCSVAtomic(*out, sample.Table()); err != nil {
		return err
	}
	selected, psus := 0, map[string]bool{}
	short := map[string]int{}
	for _, d := range draws {
		psus[d.PSU] = true
		if d.Selected {
			selected++
		}
		if d.Taken < q[d.Class] {
			short[d.PSU+" "+d.Class] = q[d.Class] - d.Taken
		}
	}
	fmt.Fprintf(e.stderr, "selected %d of %d listed households in %d PSUs; wrote %s\n", selected, len(draws), len(psus), *out)
	if len(short) > 0 {
		keys := make([]string, 0, len(short))
		for k := range short {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(e.stderr, "%d PSU classes had fewer households than their quota (all taken), e.g. %s\n", len(short), keys[0])
	}
	return nil
}

// sampleSeed parses a required --seed.
func sampleSeed(s string) (uint64, error) {
	if s == "" {
		return 0, exitError{code: 2, msg: "--seed is required (any whole number; the same seed gives the same sample)"}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, exitError{code: 2, msg: fmt.Sprintf("--seed %q: want a whole number ≥ 0", s)}
	}
	return v, nil
}

// readWith opens path and parses it with parse; errors name the file.
func readWith[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		if se := fileSeparator(path, err); se != nil {
			return zero, se
		}
		return zero, fmt.Errorf("%s:\n%w", path, err)
	}
	return v, nil
}

// fileSeparator is err's *csvsafe.SeparatorError naming path, or nil.
func fileSeparator(path string, err error) error {
	var se *csvsafe.SeparatorError
	if !errors.As(err, &se) {
		return nil
	}
	return &csvsafe.SeparatorError{File: path, Sep: se.Sep}
}

// relabel renames the columns of InputErrors from the package's generic
// names to the user's (pairs of from, to).
func relabel(err error, pairs ...string) error {
	var list sampling.InputErrors
	if !errors.As(err, &list) {
		return err
	}
	for _, ie := range list {
		for i := 0; i+1 < len(pairs); i += 2 {
			if ie.Column == pairs[i] {
				ie.Column = pairs[i+1]
				break
			}
		}
	}
	return list
}

// writeCSVAtomic writes t to path through a temporary file in the same
// directory and a rename, so path is never left half-written.
func writeCSVAtomic(path string, t *sampling.Table) error {
	tmp, err := outfile.Temp(path, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := t.Write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	return nil
}
