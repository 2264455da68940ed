package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runDotm runs the program in-process.
func runDotm(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"dotm"}, args...), func(string) string { return "" }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for j, h := range recs[0] {
			m[h] = r[j]
		}
		out = append(out, m)
	}
	return out
}

// TestSampleAndWeightsCLI runs a whole design: frame → PSUs → listing →
// households → base weights → nonresponse → raking → trimming → report.
func TestSampleAndWeightsCLI(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	var frame strings.Builder
	frame.WriteString("ea,stratum,households,region\n")
	for i := 0; i < 60; i++ {
		size := 50 + (i*37)%200
		if i == 5 {
			size = 4000 // certainty unit
		}
		fmt.Fprintf(&frame, "EA%02d,%s,%d,r%d\n", i, []string{"north", "south", "coast"}[i%3], size, i%2+1)
	}
	os.WriteFile(p("frame.csv"), []byte(frame.String()), 0o644)
	_, stderr, err := runDotm(t, "sample", "psus", "--frame", p("frame.csv"), "--id", "ea", "--stratum", "stratum", "--size", "households",
		"--n", "12", "--allocation", "proportional", "--seed", "9", "--out", p("psus.csv"), "--all")
	if err != nil {
		t.Fatal(err, stderr)
	}
	psus := readCSV(t, p("psus.csv"))
	if len(psus) != 60 {
		t.Fatalf("--all wrote %d rows", len(psus))
	}
	var listing strings.Builder
	listing.WriteString("ea,hh,status\n")
	selected, certain := 0, 0
	for _, r := range psus {
		if r["certainty"] == "1" {
			certain++
		}
		if r["selected"] != "1" {
			continue
		}
		selected++
		for k := 0; k < 40; k++ {
			class := []string{"current_migrant", "non_migrant", "non_migrant", "return_migrant", "non_migrant"}[k%5]
			fmt.Fprintf(&listing, "%s,%s-%d,%s\n", r["psu_id"], r["psu_id"], k, class)
		}
	}
	if selected != 12 || certain != 1 {
		t.Fatalf("selected %d (want 12), certainty %d (want 1)", selected, certain)
	}
	os.WriteFile(p("listing.csv"), []byte(listing.String()), 0o644)
	if _, stderr, err := runDotm(t, "sample", "households", "--listing", p("listing.csv"), "--psu", "ea", "--id", "hh", "--class", "status",
		"--quota", "current_migrant=6,return_migrant=3,non_migrant=6", "--method", "systematic", "--seed", "9", "--out", p("hh.csv")); err != nil {
		t.Fatal(err, stderr)
	}
	if _, stderr, err := runDotm(t, "weights", "base", "--psus", p("psus.csv"), "--households", p("hh.csv"), "--out", p("base.csv")); err != nil {
		t.Fatal(err, stderr)
	}
	base := readCSV(t, p("base.csv"))
	if len(base) != 12*15 {
		t.Fatalf("%d base weights, want 180", len(base))
	}
	for _, r := range base {
		pi1, _ := strconv.ParseFloat(r["pi1"], 64)
		pi2, _ := strconv.ParseFloat(r["pi2"], 64)
		w, _ := strconv.ParseFloat(r["weight"], 64)
		if w != 1/(pi1*pi2) || r["fpc"] != "20" || r["region"] == "" {
			t.Fatalf("base row %v", r)
		}
	}
	// Nonresponse: every fourth household did not respond.
	data, _ := os.ReadFile(p("base.csv"))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	lines[0] += ",responded"
	for i := 1; i < len(lines); i++ {
		lines[i] += "," + strconv.Itoa(min(1, i%4))
	}
	os.WriteFile(p("base_r.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	if _, stderr, err := runDotm(t, "weights", "nonresponse", "--data", p("base_r.csv"), "--weight", "weight", "--class", "stratum,class",
		"--responded", "responded", "--as", "w_nr", "--out", p("nr.csv")); err != nil {
		t.Fatal(err, stderr)
	}
	os.WriteFile(p("margins.csv"), []byte("variable,category,total\nregion,r1,5500\nregion,r2,4500\nclass,current_migrant,1500\nclass,return_migrant,500\nclass,non_migrant,8000\n"), 0o644)
	// Calibrate the respondents only.
	nr := readCSV(t, p("nr.csv"))
	var resp strings.Builder
	resp.WriteString("household_id,stratum,region,class,w_nr\n")
	for _, r := range nr {
		if r["responded"] == "1" {
			fmt.Fprintf(&resp, "%s,%s,%s,%s,%s\n", r["household_id"], r["stratum"], r["region"], r["class"], r["w_nr"])
		}
	}
	os.WriteFile(p("resp.csv"), []byte(resp.String()), 0o644)
	_, stderr, err = runDotm(t, "weights", "calibrate", "--data", p("resp.csv"), "--weight", "w_nr", "--method", "rake", "--margins", p("margins.csv"),
		"--tol", "1e-12", "--as", "weight", "--out", p("final.csv"))
	if err != nil || !strings.Contains(stderr, "raking converged") {
		t.Fatal(err, stderr)
	}
	final := readCSV(t, p("final.csv"))
	totals := map[string]float64{}
	for _, r := range final {
		w, _ := strconv.ParseFloat(r["weight"], 64)
		totals[r["region"]] += w
		totals[r["class"]] += w
	}
	for k, want := range map[string]float64{"r1": 5500, "r2": 4500, "current_migrant": 1500, "return_migrant": 500, "non_migrant": 8000} {
		if d := totals[k] - want; d > 1e-6 || d < -1e-6 {
			t.Errorf("raked total of %s = %v, want %v", k, totals[k], want)
		}
	}
	_, stderr, err = runDotm(t, "weights", "trim", "--data", p("final.csv"), "--weight", "weight", "--upper", "96", "--strict", "--out", p("trim.csv"))
	if err != nil || !strings.HasPrefix(stderr, "trimmed ") || strings.HasPrefix(stderr, "trimmed 0 ") {
		t.Fatal(err, stderr)
	}
	out, stderr, err := runDotm(t, "weights", "report", "--data", p("trim.csv"), "--weight", "weight", "--format", "csv")
	if err != nil {
		t.Fatal(err, stderr)
	}
	if !strings.HasPrefix(out, "group,n,sum,min,max,max_min_ratio,cv,deff_kish\n(all),") || !strings.Contains(out, "\ncoast,") {
		t.Errorf("report:\n%s", out)
	}
}

func TestSampleCLIErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("ea,stratum,households\nE1,a,10\nE1,a,-2\nE3,,5\n"), 0o644)
	out := filepath.Join(dir, "out.csv")
	_, _, err := runDotm(t, "sample", "psus", "--frame", bad, "--id", "ea", "--stratum", "stratum", "--size", "households", "--n", "2", "--seed", "1", "--out", out)
	for _, want := range []string{`line 3, column "ea": duplicate id "E1"`, `line 3, column "households": size must be positive`, `line 4, column "stratum": empty stratum`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left behind: %v", entries)
	}
	tests := [][]string{
		{"sample", "psus", "--frame", bad, "--n", "2", "--out", out},                                 // no seed
		{"sample", "psus", "--frame", bad, "--seed", "1", "--out", out},                              // no n
		{"sample", "households", "--listing", bad, "--seed", "1", "--out", out},                      // no quota
		{"weights", "calibrate", "--data", bad, "--margins", bad, "--method", "magic", "--out", out}, // checked after reading
		{"weights", "trim", "--data", bad, "--out", out},                                             // no bounds
		{"sample", "nothing"},
	}
	for _, args := range tests {
		_, _, err := runDotm(t, args...)
		if err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
	_, _, err = runDotm(t, "sample", "psus", "--frame", bad, "--n", "2", "--out", out)
	if ex, ok := err.(exitError); !ok || ex.code != 2 {
		t.Errorf("missing --seed: want exit 2, got %v", err)
	}
}
