package exports_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/exports"
)

// analysisTable turns text columns (as readRelease gives them, "" for
// null) into an analysis table: numbers where every value parses.
func analysisTable(cols map[string][]string, names []string) *analysis.Table {
	n := len(cols[names[0]])
	t := analysis.NewTable(n)
	for _, name := range names {
		vals := cols[name]
		num := make([]float64, n)
		isNum := true
		for i, v := range vals {
			if v == "" {
				num[i] = math.NaN()
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				isNum = false
				break
			}
			num[i] = f
		}
		if isNum {
			t.AddNumeric(name, num)
		} else {
			t.AddStrings(name, vals)
		}
	}
	return t
}

// TestReleaseKeepsKeyIndicators: the key indicators by migrant status,
// estimated from the released households file with its released design
// (pseudonymous strata and PSUs, weights), stay inside the 95% confidence
// intervals of the same estimates on the full data: disclosure control
// costs precision, not the answers.
func TestReleaseKeepsKeyIndicators(t *testing.T) {
	ds := roundDataset(t, 2)
	p, err := exports.ParseProfile([]byte(exports.HouseholdProfile))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "release")
	_, rep, err := exports.Create(ds, p, dir, exports.Info{ID: "r1", Survey: "utility"}, exports.Options{IDKey: []byte("k"), Rand: rand.New(rand.NewPCG(5, 6))})
	if err != nil {
		t.Fatalf("release: %v (%+v)", err, rep)
	}
	checkReportLoss(t, dir, rep)
	rel := readRelease(t, dir, []string{"households"})["households"]
	full := map[string][]string{}
	h := ds.Table("households")
	names := []string{"stratum", "psu", "weight", "migrant", "remit_received", "bank_account", "cons_pc"}
	for _, name := range names {
		c := h.Column(name)
		vals := make([]string, c.Len())
		for i := range vals {
			vals[i] = c.Format(i)
		}
		full[name] = vals
	}
	plan, err := analysis.ParsePlan([]byte(`data: x
design: {strata: stratum, psu: psu, weight: weight, lonely_psu: adjust}
estimates:
  - {id: remit, mean: remit_received, by: migrant, na_rm: true}
  - {id: bank, mean: bank_account, by: migrant, na_rm: true}
  - {id: cons, mean: cons_pc, by: migrant, na_rm: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	fullRes, err := analysis.RunTable(plan, analysisTable(full, names))
	if err != nil {
		t.Fatal(err)
	}
	relRes, err := analysis.RunTable(plan, analysisTable(rel, names))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, fr := range fullRes.Results {
		for j, g := range fr.Domains {
			r := relRes.Results[i].Domains[j]
			est, lo, hi := float64(*r.Estimate), float64(g.CI[0]), float64(g.CI[1])
			msg := fmt.Sprintf("%s, %s: released %.4g, full %.4g [%.4g, %.4g]", fr.ID, g.Level, est, float64(*g.Estimate), lo, hi)
			t.Log(msg)
			if r.Level != g.Level || !(est >= lo && est <= hi) {
				t.Errorf("outside the full data's interval: %s", msg)
			}
			checked++
		}
	}
	if checked != 9 {
		t.Errorf("checked %d indicator × group estimates, want 9", checked)
	}
}

// checkReportLoss: the disclosure report of the demo's profile compares
// the 9 key indicators (all inside the full data's intervals), gives the
// joined risk of the roster and the household risk, and
// its HTML page is self-contained (no script, no link out of the page) with
// its charts inline.
func checkReportLoss(t *testing.T, dir string, rep *exports.Report) {
	t.Helper()
	il := rep.InformationLoss
	if il == nil || il.Checked != 9 || il.Inside != 9 || il.SuppressedCells == 0 {
		t.Fatalf("information loss: %+v", il)
	}
	joined := map[string]bool{}
	for _, j := range rep.Joint {
		joined[j.Table] = true
		if j.After.Global > j.Before.Global || j.HouseholdAfter.Global > j.HouseholdBefore.Global {
			t.Errorf("%s: risk rose: %+v", j.Table, j)
		}
	}
	if !joined["persons"] || rep.HouseholdRisk == nil {
		t.Errorf("joined risk for %v, household risk %v", joined, rep.HouseholdRisk)
	}
	b, err := os.ReadFile(filepath.Join(dir, exports.ReportHTML))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{"<svg", "Risk before and after, on the joined data", "hier_risk", "Information loss", "inside the CI", "Approved for release by"} {
		if !strings.Contains(page, want) {
			t.Errorf("%s lacks %q", exports.ReportHTML, want)
		}
	}
	if n := strings.Count(page, "<svg"); n != 2 {
		t.Errorf("%s has %d charts, want 2", exports.ReportHTML, n)
	}
	if strings.Contains(page, "<script") || strings.Count(page, "http") != strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("%s is not self-contained", exports.ReportHTML)
	}
}
