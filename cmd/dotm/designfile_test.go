package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWeightsBaseDesignFileMatchesR: the design file dotm weights base
// writes (with replacement, and --pps brewer) is read by dotm analyze
// through design: {file: ...} and gives R survey's estimates and standard
// errors of the design as drawn (analysis/testdata/r-asdrawn, the same
// sample drawn by dotm's sampler) to 1e-9 relative.
func TestWeightsBaseDesignFileMatchesR(t *testing.T) {
	const golden = "../../analysis/testdata/r-asdrawn/"
	want := readTSV(t, golden+"expected.tsv")
	for _, pps := range []string{"hh", "brewer"} {
		t.Run(pps, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"weights", "base", "--psus", golden + "psus.csv", "--households", golden + "households.csv", "--out", filepath.Join(dir, "base.csv")}
			if pps == "brewer" {
				args = append(args, "--pps", "brewer")
			}
			if _, stderr, err := execDotm(t, nil, args...); err != nil {
				t.Fatalf("weights base: %v\n%s", err, stderr)
			}
			rep, stderr, err := execDotm(t, nil, "weights", "report", "--data", filepath.Join(dir, "base.csv"))
			if want := map[string]string{"hh": "PSUs with replacement", "brewer": "Brewer's approximation"}[pps]; err != nil || !strings.Contains(rep, "\ndesign: ") || !strings.Contains(rep, want) {
				t.Errorf("weights report does not say the design (%q): %v\n%s%s", want, err, rep, stderr)
			}
			df, err := os.ReadFile(filepath.Join(dir, "base.design.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(df), "pps: brewer"); got != (pps == "brewer") {
				t.Fatalf("design file (pps: brewer %v):\n%s", got, df)
			}
			plan := "data: base.csv\ndesign: {file: base.design.yaml}\nestimates:\n" +
				"  - {id: mean.remit, mean: remit}\n  - {id: total.remit, total: remit}\n  - {id: ratio, ratio: {numerator: remit, denominator: hh_size}}\n" +
				"  - {id: by.bank, mean: bank, by: migrant}\n  - {id: domain.remit.return, mean: remit, subset: \"migrant = 'return'\"}\n"
			if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(plan), 0o644); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, err := execDotm(t, nil, "analyze", filepath.Join(dir, "plan.yaml"))
			if err != nil {
				t.Fatalf("analyze: %v\n%s", err, stderr)
			}
			var res struct {
				Design struct {
					DF       int    `json:"df"`
					Variance string `json:"variance"`
				} `json:"design"`
				Results []struct {
					ID       string   `json:"id"`
					Estimate *float64 `json:"estimate"`
					SE       *float64 `json:"se"`
					Domains  []struct {
						Level    string  `json:"level"`
						Estimate float64 `json:"estimate"`
						SE       float64 `json:"se"`
					} `json:"domains"`
				} `json:"results"`
			}
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			got := map[string][2]float64{}
			for _, r := range res.Results {
				id := r.ID
				if id == "ratio" {
					id = "ratio.remit/hh_size"
				}
				if len(r.Domains) > 0 {
					for _, d := range r.Domains {
						got[id+"."+d.Level] = [2]float64{d.Estimate, d.SE}
					}
					continue
				}
				got[id] = [2]float64{*r.Estimate, *r.SE}
			}
			checked := 0
			for key, g := range got {
				w, ok := want[pps+"."+key]
				if !ok {
					t.Errorf("%s: no R value", key)
					continue
				}
				for i := range 2 {
					if d := (g[i] - w[i]) / w[i]; d > 1e-9 || d < -1e-9 {
						t.Errorf("%s.%s[%d] = %.15g, R %.15g", pps, key, i, g[i], w[i])
					}
				}
				checked++
			}
			if checked != 7 || float64(res.Design.DF) != want[pps+".df"][0] {
				t.Errorf("%d values checked, df %d (R %v)", checked, res.Design.DF, want[pps+".df"])
			}
			if want := map[string]string{"hh": "with replacement", "brewer": "Brewer"}[pps]; !strings.Contains(res.Design.Variance, want) {
				t.Errorf("variance %q does not say %q", res.Design.Variance, want)
			}
		})
	}
}

// readTSV reads R's "name<TAB>value..." golden lines.
func readTSV(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) < 2 || strings.HasPrefix(parts[0], "#") {
			continue
		}
		for _, p := range parts[1:] {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil {
				t.Fatalf("%s: %s: %v", path, parts[0], err)
			}
			out[parts[0]] = append(out[parts[0]], v)
		}
	}
	return out
}
