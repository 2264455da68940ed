package exports_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
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
	if _, rep, err := exports.Create(ds, p, dir, exports.Info{ID: "r1", Survey: "utility"}, exports.Options{IDKey: []byte("k"), Rand: rand.New(rand.NewPCG(5, 6))}); err != nil {
		t.Fatalf("release: %v (%+v)", err, rep)
	}
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
