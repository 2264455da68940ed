package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestAnalyzeStackedPlan: dotm analyze runs a plan naming two country
// rounds (by: survey, rescale: equal) and its indicator report has the
// cross-country page, with R's values (analysis/testdata/r-stack).
func TestAnalyzeStackedPlan(t *testing.T) {
	golden, err := filepath.Abs("../../analysis/testdata/r-stack")
	if err != nil {
		t.Fatal(err)
	}
	want := readTSV(t, filepath.Join(golden, "expected.tsv"))
	dir := t.TempDir()
	plan := "surveys:\n  - {name: a, data: " + filepath.Join(golden, "country_a.csv") + "}\n  - {name: b, data: " + filepath.Join(golden, "country_b.csv") + "}\n" +
		"rescale: equal\ndesign: {strata: stratum, psu: psu, weight: weight, fpc: fpc, lonely_psu: adjust}\n" +
		"estimates:\n  - {id: by.bank, mean: bank_account, by: survey}\n"
	path := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := execDotm(t, nil, "analyze", path)
	if err != nil {
		t.Fatalf("analyze: %v\n%s", err, stderr)
	}
	var res struct {
		Results []struct {
			Domains []struct {
				Level    string  `json:"level"`
				Estimate float64 `json:"estimate"`
				SE       float64 `json:"se"`
			} `json:"domains"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Results) != 1 || len(res.Results[0].Domains) != 2 {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, d := range res.Results[0].Domains {
		w := want["equal.by.bank."+d.Level]
		if !near(d.Estimate, w[0]) || !near(d.SE, w[1]) {
			t.Errorf("bank account in %s: %g (SE %g), R %v", d.Level, d.Estimate, d.SE, w)
		}
	}
	stdout, stderr, err = execDotm(t, nil, "analyze", "--report", "indicators", "--format", "json", path)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	var rep struct {
		Countries struct {
			Indicators []struct {
				ID        string `json:"id"`
				Countries []struct {
					Country        string `json:"country"`
					GapVsReference *struct {
						Difference float64 `json:"difference"`
						SE         float64 `json:"se"`
					} `json:"gap_vs_reference"`
				} `json:"countries"`
			} `json:"indicators"`
		} `json:"countries"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	found := false
	for _, ind := range rep.Countries.Indicators {
		if ind.ID != "bank" {
			continue
		}
		for _, c := range ind.Countries {
			if c.Country == "b" && c.GapVsReference != nil {
				w := want["equal.did.bank_account"]
				found = near(c.GapVsReference.Difference, w[0]) && near(c.GapVsReference.SE, w[1])
			}
		}
	}
	if !found {
		t.Errorf("the cross-country page lacks R's difference of the bank-account gaps %v:\n%s", want["equal.did.bank_account"], stdout)
	}
}

func near(a, b float64) bool {
	d := (a - b) / b
	return d < 1e-9 && d > -1e-9
}
