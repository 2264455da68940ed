package analysis

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/synth"
)

// synthTable turns a synthetic sample into a table.
func synthTable(t *testing.T, n int, seed uint64) *Table {
	t.Helper()
	h, err := synth.Generate(n, seed)
	if err != nil {
		t.Fatal(err)
	}
	tb := NewTable(h.Len())
	ints := func(name string, x []int) {
		f := make([]float64, len(x))
		for i, v := range x {
			f[i] = float64(v)
		}
		tb.AddNumeric(name, f)
	}
	tb.AddStrings("stratum", h.Stratum)
	tb.AddStrings("psu", h.PSU)
	tb.AddNumeric("weight", h.Weight)
	tb.AddNumeric("fpc", h.FPC)
	tb.AddStrings("migrant", h.Migrant)
	tb.AddStrings("head_sex", h.HeadSex)
	ints("urban", h.Urban)
	ints("hh_size", h.HHSize)
	ints("remit_received", h.RemitReceived)
	tb.AddNumeric("remit_amount", h.RemitAmount)
	tb.AddNumeric("cons_pc", h.ConsPC)
	ints("bank_account", h.BankAccount)
	ints("children_enrolled", h.ChildrenEnroll)
	ints("children_6_17", h.Children6to17)
	tb.AddNumeric("health_exp", h.HealthExp)
	ints("women_decide", h.WomenDecide)
	return tb
}

var synthSpec = DesignSpec{Strata: "stratum", PSU: []string{"psu"}, Weight: "weight", FPC: []string{"fpc"}, LonelyPSU: LonelyAdjust}

func TestIndicatorReport(t *testing.T) {
	tb := synthTable(t, 6000, 11)
	rep, err := IndicatorReport(tb, synthSpec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Indicators) != len(indicators) || len(rep.Groups) != 5 {
		t.Fatalf("%d indicators, %d groups", len(rep.Indicators), len(rep.Groups))
	}
	d := mustDesign(t, tb, synthSpec)
	for _, ind := range rep.Indicators {
		if len(ind.ByMigrant) != 3 || len(ind.BySex) != 2 {
			t.Fatalf("%s: groups %d/%d", ind.ID, len(ind.ByMigrant), len(ind.BySex))
		}
		non := ind.ByMigrant[2]
		if non.Group != "non_migrant" || !non.Reference || non.Diff != nil {
			t.Errorf("%s: reference group %+v", ind.ID, non)
		}
		for _, g := range append(ind.ByMigrant[:2:2], ind.BySex[0]) {
			ref := non
			if g.Group == "female" {
				ref = ind.BySex[1]
			}
			if ind.ID == "cons_median" {
				if g.Diff != nil {
					t.Errorf("%s: a difference test for a median", ind.ID)
				}
				continue
			}
			if g.Diff == nil {
				t.Fatalf("%s %s: no difference", ind.ID, g.Group)
			}
			// The difference is the difference of the two domain estimates.
			want := float64(g.Estimate) - float64(ref.Estimate)
			if got := float64(g.Diff.Difference); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("%s %s: difference %g, estimates differ by %g", ind.ID, g.Group, got, want)
			}
			if !(g.Diff.SE > 0) || g.Diff.DF <= 0 || !(g.Diff.P >= 0 && g.Diff.P <= 1) {
				t.Errorf("%s %s: test %+v", ind.ID, g.Group, g.Diff)
			}
		}
	}
	// Current-migrant households receive remittances far more often.
	share := rep.Indicators[0]
	if share.ByMigrant[0].Estimate < 0.5 || share.ByMigrant[2].Estimate > 0.15 || share.ByMigrant[0].Diff.P > 1e-6 {
		t.Errorf("remittance shares: %+v", share.ByMigrant)
	}
	// The all-households mean equals Design.Mean directly.
	bank := rep.Indicators[4]
	y, _ := tb.numeric("bank_account")
	e, err := d.Mean("bank_account", y, nil, false, d.DF(nil))
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "bank all", float64(bank.All.Estimate), e.Estimate)
	checkClose(t, "bank all se", float64(bank.All.SE), e.SE)

	var html bytes.Buffer
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	s := html.String()
	if strings.Count(s, "<svg") != len(indicators) || !strings.Contains(s, "Methods") || strings.Contains(s, "<?xml") {
		t.Errorf("HTML: %d charts, methods %v", strings.Count(s, "<svg"), strings.Contains(s, "Methods"))
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}

// TestDomainZeroPadding checks the domain rule on synthetic data: a domain
// mean's variance equals that of the full-sample mean of a variable that
// is zero outside the domain, rescaled (the ratio form of a domain mean).
func TestDomainZeroPadding(t *testing.T) {
	tb := synthTable(t, 3000, 5)
	d := mustDesign(t, tb, synthSpec)
	y, _ := tb.numeric("health_exp")
	mig, _ := tb.Column("migrant")
	f := asFactor(mig)
	in := make([]bool, tb.Len())
	ind := make([]float64, tb.Len())
	yd := make([]float64, tb.Len())
	for i, c := range f.codes {
		in[i] = f.levels[c] == "return_migrant"
		if in[i] {
			ind[i], yd[i] = 1, y[i]
		}
	}
	dom, err := d.Mean("health_exp", y, in, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	ratio, err := d.Ratio("yd", "ind", yd, ind, nil, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "domain mean", dom.Estimate, ratio.Estimate)
	checkClose(t, "domain se", dom.SE, ratio.SE)
}

// TestIndicatorReportSmallSamples: a pilot-sized sample still gives a whole
// report: a group the data cannot estimate, or a difference the design
// cannot test (no degree of freedom left), says why instead of failing the
// report or showing a test on df ≤ 0; the HTML and JSON render.
func TestIndicatorReportSmallSamples(t *testing.T) {
	reasons := map[string]int{}
	for _, n := range []int{40, 60, 80} {
		for seed := uint64(1); seed <= 10; seed++ {
			tb := synthTable(t, n, seed)
			rep, err := IndicatorReport(tb, synthSpec)
			if err != nil {
				t.Fatalf("n %d, seed %d: %v", n, seed, err)
			}
			for _, ind := range rep.Indicators {
				for _, g := range append(append([]GroupEstimate{ind.All}, ind.ByMigrant...), ind.BySex...) {
					if g.Diff != nil && g.Diff.DF < 1 {
						t.Fatalf("n %d, seed %d, %s %s: a test on df %d", n, seed, ind.ID, g.Group, g.Diff.DF)
					}
					if g.Group != "all" && !g.Reference && g.Diff == nil && g.NoTest == "" {
						t.Fatalf("n %d, seed %d, %s %s: neither a test nor a reason", n, seed, ind.ID, g.Group)
					}
					if math.IsNaN(float64(g.Estimate)) != strings.HasPrefix(g.NoTest, "no estimate") {
						t.Fatalf("n %d, seed %d, %s %s: estimate %v with note %q", n, seed, ind.ID, g.Group, g.Estimate, g.NoTest)
					}
					switch {
					case strings.HasPrefix(g.NoTest, "too few PSUs"):
						reasons["df"]++
					case strings.HasPrefix(g.NoTest, "no estimate"):
						reasons["estimate"]++
					case strings.HasPrefix(g.NoTest, "no test:"):
						reasons["test"]++
					}
				}
			}
			var html, js bytes.Buffer
			if err := rep.WriteHTML(&html); err != nil {
				t.Fatalf("n %d, seed %d: HTML: %v", n, seed, err)
			}
			if err := json.NewEncoder(&js).Encode(rep); err != nil {
				t.Fatalf("n %d, seed %d: JSON: %v", n, seed, err)
			}
		}
	}
	// These sizes and seeds meet each case (checked when written).
	for _, r := range []string{"df", "estimate", "test"} {
		if reasons[r] == 0 {
			t.Errorf("no group met the %q case: %v", r, reasons)
		}
	}
	t.Logf("groups without a test or estimate: %v", reasons)
}
