package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/analysis"
)

func dotmRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"dotm"}, args...), func(string) string { return "" }, &out, &errb)
	return out.String() + errb.String(), err
}

func TestAnalyzeCSVAndParquet(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"hh.csv", "hh.parquet"} {
		if out, err := dotmRun(t, "synth", "households", "--n", "3000", "--seed", "4", "--out", filepath.Join(dir, f)); err != nil {
			t.Fatalf("synth %s: %v\n%s", f, err, out)
		}
	}
	plan := `design: {strata: stratum, psu: psu, weight: weight, fpc: fpc, lonely_psu: adjust}
estimates:
  - {id: m2, mean: cons_pc, na_rm: true}
  - {id: b1, mean: bank_account, by: migrant}
  - {id: d1, compare: bank_account, between: migrant, levels: [non_migrant, current_migrant]}
  - {id: c1, chisq: [migrant, head_female]}
  - {id: g1, logit: "bank_account ~ migrant + urban"}
  - {id: q1, quantile: remit_amount, p: [0.5], subset: "remit_received = 1"}
`
	var outs []string
	for _, f := range []string{"hh.csv", "hh.parquet"} {
		p := filepath.Join(dir, "plan-"+f+".yaml")
		if err := os.WriteFile(p, []byte("data: "+f+"\n"+plan), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := dotmRun(t, "analyze", p)
		if err != nil {
			t.Fatalf("analyze %s: %v\n%s", f, err, out)
		}
		var res struct {
			Results []map[string]any `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Results) != 6 {
			t.Fatalf("%s: %v, %d results\n%s", f, err, len(res.Results), out)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] {
		t.Errorf("CSV and Parquet give different results")
	}
	// Report: HTML and JSON next to it, never half-written.
	p := filepath.Join(dir, "plan-hh.csv.yaml")
	html := filepath.Join(dir, "ind.html")
	if out, err := dotmRun(t, "analyze", "--report", "indicators", "--out", html, p); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	b, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(b), "<svg") {
		t.Fatalf("report html: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ind.json")); err != nil {
		t.Fatal(err)
	}
	// The report honours --format and --out, and says where files went.
	if out, err := dotmRun(t, "analyze", "--report", "indicators", "--out", html, p); err != nil || !strings.Contains(out, "wrote "+html+" and "+filepath.Join(dir, "ind.json")) {
		t.Errorf("report: where it wrote is not said: %v\n%s", err, out)
	}
	for _, c := range []struct{ format, want string }{{"json", `"indicators"`}, {"table", "variance:"}, {"csv", "id,indicator,unit,n_counts,by,group"}} {
		out, err := dotmRun(t, "analyze", "--report", "indicators", "--format", c.format, p)
		if err != nil || !strings.Contains(out, c.want) || !strings.Contains(out, "current_migrant") {
			t.Errorf("report --format %s on stdout: %v\n%.300s", c.format, err, out)
		}
		file := filepath.Join(dir, "ind."+c.format)
		if out, err := dotmRun(t, "analyze", "--report", "indicators", "--format", c.format, "--out", file, p); err != nil || !strings.Contains(out, "wrote "+file) {
			t.Errorf("report --format %s --out: %v\n%s", c.format, err, out)
		} else if b, _ := os.ReadFile(file); !strings.Contains(string(b), c.want) {
			t.Errorf("report --format %s --out wrote:\n%.300s", c.format, b)
		}
	}
	for _, f := range []string{"csv", "table", "html"} {
		if out, err := dotmRun(t, "analyze", "--format", f, p); err != nil || !strings.Contains(out, "bank_account") {
			t.Errorf("--format %s: %v\n%s", f, err, out)
		}
	}
}

func TestAnalyzeErrors(t *testing.T) {
	dir := t.TempDir()
	survey := filepath.Join(dir, "s.yaml")
	os.WriteFile(survey, []byte("survey: dotm-gh-2026\nestimates: [{id: a, mean: x}]\n"), 0o644)
	// A survey that does not exist says so; one without weights says how
	// to compute them.
	data := filepath.Join(dir, "data")
	if _, err := dotmRun(t, "analyze", "--data-dir", data, survey); err == nil || !strings.HasSuffix(err.Error(), "survey dotm-gh-2026 does not exist (dotm surveys list shows the surveys)") {
		t.Errorf("no such survey: err = %v", err)
	}
	if _, err := dotmRun(t, "surveys", "create", "--data-dir", data, "--id", "dotm-gh-2026", "--country", "Ghana", "--language", "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := dotmRun(t, "analyze", "--data-dir", data, survey); err == nil || !strings.HasSuffix(err.Error(), "survey dotm-gh-2026 has no weights yet: compute them first (POST /api/v1/surveys/dotm-gh-2026/weights as a statistician, on dotm serve)") {
		t.Errorf("survey without weights: err = %v", err)
	}
	var ee exitError
	if _, err := dotmRun(t, "analyze", "--format", "xml", survey); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("bad format: err = %v, want exit 2", err)
	}
	if _, err := dotmRun(t, "analyze"); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("no plan: err = %v, want exit 2", err)
	}
	if _, err := dotmRun(t, "synth", "households", "--out", filepath.Join(dir, "x.txt")); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("synth bad extension: err = %v, want exit 2", err)
	}
	missing := filepath.Join(dir, "m.yaml")
	os.WriteFile(missing, []byte("data: nope.csv\nestimates: [{id: a, mean: x}]\n"), 0o644)
	if _, err := dotmRun(t, "analyze", missing); err == nil || !strings.Contains(err.Error(), "nope.csv") {
		t.Errorf("missing data: err = %v", err)
	}
	if out, err := dotmRun(t, "analyze", "--help"); err != nil || !strings.Contains(out, "Example") {
		t.Errorf("--help: %v\n%s", err, out)
	}
}

// TestAnalyzeHelpStatisticsParse: the plan entries --help shows for the
// R survey statistics are a plan dotm accepts.
func TestAnalyzeHelpStatisticsParse(t *testing.T) {
	out, err := dotmRun(t, "analyze", "--help")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(out, "More statistics")
	if !ok {
		t.Fatalf("--help has no statistics examples:\n%s", out)
	}
	_, block, _ = strings.Cut(block, "\n")
	var entries []string
	for _, line := range strings.Split(block, "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		entries = append(entries, line)
	}
	plan, err := analysis.ParsePlan([]byte("data: x.csv\nestimates:\n" + strings.Join(entries, "\n") + "\n"))
	if err != nil {
		t.Fatalf("the --help examples are not a plan: %v\n%s", err, strings.Join(entries, "\n"))
	}
	if len(plan.Estimates) < 8 {
		t.Errorf("%d example entries parsed, want 8", len(plan.Estimates))
	}
}
