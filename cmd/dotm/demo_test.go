package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoRound runs the real binary's demo at a small size: every step goes
// through the HTTP API on the embedded store. The counts must add up, the
// release must pass its own disclosure checks and hold every weighted
// household, and the report must have its charts.
func TestDemoRound(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo")
	stdout, stderr, err := execDotm(t, nil, "demo", "--out", out, "--households", "100", "--enumerators", "4", "--seed", "7")
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum demoSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	c := sum.Counts
	if c["psus"] != 20 || c["selected"] < 60 || c["listed"] <= c["selected"] {
		t.Errorf("sample: %v", c)
	}
	// Every selected household was visited once: an interview or a refusal.
	if c["submitted"] != c["selected"] || c["interviews"]+c["refusals"] != c["selected"] {
		t.Errorf("visits do not add up: %v", c)
	}
	// Everything submitted was reviewed: approved, or rejected and corrected,
	// and the corrections approved.
	if c["resubmitted"] != c["rejected"] || c["approved"] != c["submitted"] {
		t.Errorf("reviews do not add up: %v", c)
	}
	// Respondents are the approved interviews with consent (a rejected
	// refusal revisited may become an interview).
	if c["respondents"] < c["interviews"]-c["rejected"] || c["respondents"] > c["interviews"]+c["rejected"] {
		t.Errorf("respondents %d for %d interviews and %d rejected", c["respondents"], c["interviews"], c["rejected"])
	}
	if !sum.ReleaseOK || sum.ReleaseHH != c["respondents"] {
		t.Errorf("release passed=%v with %d households, want %d", sum.ReleaseOK, sum.ReleaseHH, c["respondents"])
	}
	var rep struct {
		Passed bool `json:"passed"`
		K      int  `json:"k"`
	}
	b, err = os.ReadFile(filepath.Join(out, "release", "disclosure-report.json"))
	if err != nil || json.Unmarshal(b, &rep) != nil || !rep.Passed || rep.K < 3 {
		t.Errorf("disclosure report: %s %v", b, err)
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || strings.Count(string(html), "<svg") < 8 {
		t.Errorf("report.html has %d charts (%v)", strings.Count(string(html), "<svg"), err)
	}
	// the report says what round it is: fieldwork dates, sample sizes and the response rate of this demo
	var meta struct {
		Meta struct {
			Country        string  `json:"country"`
			FieldworkStart string  `json:"fieldwork_start"`
			FieldworkEnd   string  `json:"fieldwork_end"`
			Selected       int     `json:"households_selected"`
			Responding     int     `json:"households_responding"`
			ResponseRate   float64 `json:"response_rate"`
			Weighting      string  `json:"weighting"`
		} `json:"meta"`
		Summary []string `json:"summary"`
	}
	b, err = os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil || json.Unmarshal(b, &meta) != nil {
		t.Fatalf("report.json: %v", err)
	}
	m := meta.Meta
	if m.Country != "Demoland" || m.FieldworkStart == "" || m.FieldworkEnd < m.FieldworkStart || int64(m.Selected) != c["selected"] ||
		int64(m.Responding) != c["respondents"] || m.ResponseRate != float64(c["respondents"])/float64(c["selected"]) || !strings.Contains(m.Weighting, "rake calibration") {
		t.Errorf("report metadata %+v for counts %v", m, c)
	}
	for _, want := range []string{"<td>Country</td><td>Demoland</td>", "Response rate (AAPOR RR1)", m.FieldworkStart + " to " + m.FieldworkEnd} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if len(sum.Indicators) < 8 || sum.Weighted <= float64(c["respondents"]) {
		t.Errorf("indicators %d, weighted households %v", len(sum.Indicators), sum.Weighted)
	}
	for _, want := range []string{"Survey round", "Key indicators", "dotm serve --data-dir"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("terminal summary lacks %q", want)
		}
	}
	// A plan over the demo's survey with a misspelt column names it once,
	// with the nearest column of the survey's households table.
	plan := filepath.Join(t.TempDir(), "plan.yaml")
	os.WriteFile(plan, []byte("survey: dotm-demo\nestimates: [{id: b, mean: bank_acount}]\n"), 0o644)
	_, _, err = runDotm(t, "analyze", "--data-dir", filepath.Join(out, "data"), plan)
	if want := `survey dotm-demo: column "bank_acount" is not in table households; did you mean "bank_account"?`; err == nil ||
		!strings.HasSuffix(err.Error(), want) || strings.Count(err.Error(), "bank_acount") != 1 {
		t.Errorf("misspelt column: err = %v, want one ending %s", err, want)
	}
}

// TestDemoSameSeedSameRound: --seed fixes the whole round, ids, interview
// times and review decisions included, so two demos with one seed write
// byte-identical summaries (counts, weighted total, indicators).
func TestDemoSameSeedSameRound(t *testing.T) {
	var sums [2][]byte
	for i := range sums {
		out := filepath.Join(t.TempDir(), "demo")
		stdout, stderr, err := execDotm(t, nil, "demo", "--out", out, "--households", "100", "--enumerators", "4", "--seed", "11")
		if err != nil {
			t.Fatalf("demo %d: %v\n%s\n%s", i+1, err, stdout, stderr)
		}
		if sums[i], err = os.ReadFile(filepath.Join(out, "summary.json")); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Fatalf("two demos with seed 11 differ:\n%s\n---\n%s", sums[0], sums[1])
	}
	if !bytes.Contains(sums[0], []byte(`"seed": 11`)) || !bytes.Contains(sums[0], []byte(`"indicators"`)) {
		t.Fatalf("summary lacks the seed or the indicators:\n%s", sums[0])
	}
}
