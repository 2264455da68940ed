package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm"
)

// TestCSVSeparatorNamesTheFile: each command that reads a CSV says that a
// semicolon- or tab-separated file is one, naming the file, instead of
// reporting its columns missing.
func TestCSVSeparatorNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	semi := filepath.Join(dir, "frame.csv")
	os.WriteFile(semi, []byte("ea;stratum;households\nE1;north;120\nE2;south;80\n"), 0o644)
	tab := filepath.Join(dir, "households.csv")
	os.WriteFile(tab, []byte("household_id\tstratum\tpsu\tweight\nh1\tnorth\tE1\t2,5\n"), 0o644)
	plan := filepath.Join(dir, "plan.yaml")
	os.WriteFile(plan, []byte("data: "+tab+"\ndesign: {strata: stratum, psu: psu, weight: weight}\nestimates: [{id: m, mean: weight}]\n"), 0o644)
	profile := filepath.Join(dir, "release.yaml")
	os.WriteFile(profile, []byte("k: 3\nquasi_identifiers: [region]\n"), 0o644)
	const advice = "; dotm reads comma-separated CSV (save it as CSV UTF-8 with commas)"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sample", "psus", "--frame", semi, "--id", "ea", "--n", "1", "--seed", "1", "--out", filepath.Join(dir, "psus.csv")},
			semi + " looks semicolon-separated" + advice},
		{[]string{"weights", "report", "--data", tab, "--weight", "weight"},
			tab + " looks tab-separated" + advice},
		{[]string{"analyze", plan}, tab + " looks tab-separated" + advice},
		{[]string{"release", "create", "--data", semi, "--profile", profile, "--out", filepath.Join(dir, "rel")},
			"frame.csv looks semicolon-separated" + advice},
	} {
		_, _, err := runDotm(t, tt.args...)
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("dotm %v: err = %v\nwant one ending %s", tt.args, err, tt.want)
		}
	}
}

// TestMissingOutputFolderNamed: writing into a folder that does not exist
// names the folder, not the temporary file the write goes through.
func TestMissingOutputFolderNamed(t *testing.T) {
	dir := t.TempDir()
	hh := filepath.Join(dir, "households.csv")
	if _, _, err := runDotm(t, "synth", "households", "--n", "200", "--seed", "1", "--out", hh); err != nil {
		t.Fatal(err)
	}
	frame := filepath.Join(dir, "frame.csv")
	os.WriteFile(frame, []byte("ea,stratum,households\nE1,north,120\nE2,north,80\nE3,south,90\nE4,south,60\n"), 0o644)
	plan := filepath.Join(dir, "plan.yaml")
	os.WriteFile(plan, []byte("data: "+hh+"\ndesign: {strata: stratum, psu: psu, weight: weight}\nestimates: [{id: m, mean: hh_size}]\n"), 0o644)
	missing := filepath.Join(dir, "missing", "dir")
	want := "output folder " + missing + " does not exist (create it first)"
	for _, args := range [][]string{
		{"synth", "households", "--n", "20", "--seed", "1", "--out", filepath.Join(missing, "hh.csv")},
		{"analyze", "--out", filepath.Join(missing, "est.json"), plan},
		{"sample", "psus", "--frame", frame, "--id", "ea", "--size", "households", "--n", "4", "--seed", "1", "--out", filepath.Join(missing, "psus.csv")},
		{"forms", "convert", "../../questionnaire/forms/dotm_household.yaml", "--to", "json", "--out", filepath.Join(missing, "form.json")},
		{"keys", "generate", "--out", filepath.Join(missing, "data.key")},
		{"backup", "--data-dir", filepath.Join(dir, "data"), "--out", filepath.Join(missing, "b.gz")},
	} {
		_, _, err := runDotm(t, args...)
		if err == nil || !strings.HasSuffix(err.Error(), want) || strings.Contains(err.Error(), ".tmp") {
			t.Errorf("dotm %v: err = %v\nwant one ending %s", args[:2], err, want)
		}
	}
}

// TestAnalyzeMisspeltColumn: a plan's misspelt column is named once with
// the nearest columns of the data file, CSV or Parquet; a misspelt key is
// named with its line and the nearest key.
func TestAnalyzeMisspeltColumn(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ file, want string }{
		{"hh.csv", `hh.csv: csv: no column "bank_acount" in the header; did you mean "bank_account"?`},
		{"hh.parquet", `hh.parquet: no column "bank_acount" in the file; did you mean "bank_account"?`},
	} {
		data := filepath.Join(dir, tt.file)
		if _, _, err := runDotm(t, "synth", "households", "--n", "200", "--seed", "1", "--out", data); err != nil {
			t.Fatal(err)
		}
		plan := filepath.Join(dir, tt.file+".yaml")
		os.WriteFile(plan, []byte("data: "+data+"\ndesign: {strata: stratum, psu: psu, weight: weight}\nestimates: [{id: b, mean: bank_acount}]\n"), 0o644)
		_, _, err := runDotm(t, "analyze", plan)
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) || strings.Count(err.Error(), "bank_acount") != 1 {
			t.Errorf("%s: err = %v\nwant one ending %s", tt.file, err, tt.want)
		}
	}
	plan := filepath.Join(dir, "typo.yaml")
	os.WriteFile(plan, []byte("data: hh.csv\ndesign: {strata: stratum, psu: psu, weight: weight}\nestimats:\n  - {id: b, mean: bank_account}\n"), 0o644)
	_, _, err := runDotm(t, "analyze", plan)
	if want := `typo.yaml: plan: line 3: unknown key "estimats"; did you mean "estimates"?`; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("misspelt key: err = %v\nwant one ending %s", err, want)
	}
}

// TestUserMessageDropsCodes: the terminal shows the message, not the
// error code the API and the log use.
func TestUserMessageDropsCodes(t *testing.T) {
	cause := errors.New(`column "x" is not in table households`)
	inner := &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "survey s: " + cause.Error(), Err: cause}
	err := fmt.Errorf("analyze: %w", inner)
	if got, want := userMessage(err), `analyze: survey s: column "x" is not in table households`; got != want {
		t.Errorf("userMessage = %q, want %q", got, want)
	}
	nf := fmt.Errorf("users add: %w", dotm.Errorf(dotm.ENOTFOUND, "survey %s does not exist", "s"))
	if got, want := userMessage(nf), "users add: survey s does not exist"; got != want {
		t.Errorf("userMessage = %q, want %q", got, want)
	}
	plain := errors.New("invalid: stays")
	if got := userMessage(plain); got != "invalid: stays" {
		t.Errorf("userMessage changed a plain error: %q", got)
	}
}
