package analysis

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
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
		wantSex := 2
		if ind.ID == "women_decide" {
			wantSex = 0 // true by definition for female heads: not broken down by sex
		}
		if len(ind.ByMigrant) != 3 || len(ind.BySex) != wantSex {
			t.Fatalf("%s: groups %d/%d", ind.ID, len(ind.ByMigrant), len(ind.BySex))
		}
		if ind.Base == "" || ind.Count == "" {
			t.Errorf("%s: no unit (%q) or count (%q)", ind.ID, ind.Base, ind.Count)
		}
		non := ind.ByMigrant[2]
		if non.Group != "non_migrant" || !non.Reference || non.Diff != nil {
			t.Errorf("%s: reference group %+v", ind.ID, non)
		}
		compared := ind.ByMigrant[:2:2]
		if len(ind.BySex) > 0 {
			compared = append(compared, ind.BySex[0])
		}
		for _, g := range compared {
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

	// women's part in decisions is estimated on male-headed households only
	wd := rep.Indicators[len(rep.Indicators)-1]
	sex, _ := tb.Column("head_sex")
	wy, _ := tb.numeric("women_decide")
	male := 0
	for i := range wy {
		if c := sex.Codes[i]; c >= 0 && sex.Levels[c] == "male" && !math.IsNaN(wy[i]) && d.w[i] != 0 {
			male++
		}
	}
	if wd.ID != "women_decide" || wd.All.N != male {
		t.Errorf("%s: n %d, want the %d male-headed households", wd.ID, wd.All.N, male)
	}

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

// TestReportReadable checks what a ministry reader sees: a headline of the
// three largest significant differences, the survey's metadata, shares in
// % in tables and charts (axes from 0), amounts with thousands separators
// and the currency, one font family, unreliable estimates flagged, the unit
// of every row.
func TestReportReadable(t *testing.T) {
	rep, err := IndicatorReport(synthTable(t, 6000, 11), synthSpec)
	if err != nil {
		t.Fatal(err)
	}
	rep.WithMeta(SurveyMeta{Country: "Demoland", Round: "Development on the Move, 2026", FieldworkStart: "2026-03-02", FieldworkEnd: "2026-04-17",
		Selected: 6500, Interviewed: 6300, Responding: 6000, ResponseRate: 6000.0 / 6500, Weighting: "base weights, nonresponse by stratum, raked to census totals", Currency: "DML"})

	// the headline: three sentences, significant, largest relative difference first
	if len(rep.Summary) != 3 {
		t.Fatalf("summary %q, want 3 sentences", rep.Summary)
	}
	last := math.Inf(1)
	for _, sentence := range rep.Summary {
		var found bool
		for _, ind := range rep.Indicators {
			if !strings.HasPrefix(sentence, ind.Label+": ") {
				continue
			}
			ref := ind.ByMigrant[2]
			for _, g := range ind.ByMigrant[:2] {
				if !strings.Contains(sentence, " in "+strings.ToLower(groupLabels[g.Group])+" households") {
					continue
				}
				found = true
				if g.Diff == nil || g.Diff.P >= 0.05 || g.Unreliable != "" {
					t.Errorf("%q: not a significant, reliable difference: %+v", sentence, g)
				}
				rel := math.Abs(float64(g.Diff.Difference / ref.Estimate))
				if rel > last+1e-12 {
					t.Errorf("%q: relative difference %.3f after a smaller one %.3f", sentence, rel, last)
				}
				last = rel
			}
		}
		if !found || !strings.HasSuffix(sentence, ").") || !strings.Contains(sentence, "against") || !strings.Contains(sentence, "p ") {
			t.Errorf("summary sentence %q", sentence)
		}
	}

	// unreliable: fewer than 30 cases or CV above 30%, and nothing else
	flagged := 0
	for _, ind := range rep.Indicators {
		for _, g := range append(append([]GroupEstimate{ind.All}, ind.ByMigrant...), ind.BySex...) {
			cv := float64(g.SE) / math.Abs(float64(g.Estimate))
			want := g.N < MinReliableN || cv > MaxReliableCV
			if (g.Unreliable != "") != want {
				t.Errorf("%s %s: n %d, CV %.3f, flagged %q", ind.ID, g.Group, g.N, cv, g.Unreliable)
			}
			if g.Unreliable != "" {
				flagged++
			}
		}
	}
	small, err := IndicatorReport(synthTable(t, 300, 3), synthSpec)
	if err != nil {
		t.Fatal(err)
	}
	smallFlags := 0
	for _, ind := range small.Indicators {
		for _, g := range append(ind.ByMigrant, ind.BySex...) {
			if g.Unreliable != "" {
				smallFlags++
			}
		}
	}
	if smallFlags == 0 {
		t.Error("a sample of 300 households has no unreliable group estimate")
	}
	t.Logf("unreliable estimates: %d of the 6000-household report, %d of a 300-household one", flagged, smallFlags)

	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{
		"<td>Country</td><td>Demoland</td>", "2026-03-02 to 2026-04-17", "<td>6\u202f500</td>", "Response rate (AAPOR RR1)</td><td>92.3%",
		"raked to census totals", "Variance estimation</td><td>" + rep.Design.Variance,
		"Unit: DML per person per month; n counts households.", "Unit: % of children aged 6–17; n counts households with children aged 6–17.",
		"Unit: % of male-headed households; n counts male-headed households.", "<li>" + rep.Summary[0][:30],
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// one font family: the page's and the charts'
	if strings.Contains(html, "Serif") || strings.Count(html, "font-family:Liberation Sans") < len(indicators) {
		t.Errorf("fonts: %d chart styles in Liberation Sans, serif present %v", strings.Count(html, "font-family:Liberation Sans"), strings.Contains(html, "Serif"))
	}
	// amounts: thousands separated, in the tables and on the charts' axes
	cons := rep.Indicators[2]
	if v := float64(cons.All.Estimate); !strings.Contains(html, "<td>"+amount(v, false)+"</td>") {
		t.Errorf("consumption %v is not in the table as %s", v, amount(v, false))
	}
	for v, want := range map[float64]string{12345.6: "12\u202f346", -2500: "−2\u202f500", 99.44: "99.4", 1e6: "1\u202f000\u202f000"} {
		if got := amount(v, false); got != want {
			t.Errorf("amount(%v) = %q, want %q", v, got, want)
		}
	}
	// shares: % in the table, the chart's axis in % from 0
	share := rep.Indicators[0]
	if !strings.Contains(html, fmt.Sprintf("<td>%.1f%%</td>", 100*float64(share.All.Estimate))) {
		t.Errorf("the share %v is not in the table in %%", share.All.Estimate)
	}
	svg, err := chartSVG(share, "DML")
	if err != nil {
		t.Fatal(err)
	}
	ticks := svgTicks(string(svg))
	if len(ticks) == 0 || ticks[0] != "0" || !strings.Contains(string(svg), ">% of households<") {
		t.Errorf("share chart: axis ticks %v, want %% from 0 and the label %% of households", ticks)
	}
	for _, tk := range ticks {
		if v, err := strconv.ParseFloat(tk, 64); err == nil && v > 100 {
			t.Errorf("share chart tick %s above 100%%", tk)
		}
	}
	big := cons // amounts in the thousands: a richer country's
	big.ByMigrant = append([]GroupEstimate(nil), cons.ByMigrant...)
	for _, g := range []*GroupEstimate{&big.All, &big.ByMigrant[0], &big.ByMigrant[1]} {
		g.Estimate, g.CI = 100*g.Estimate, [2]Num{100 * g.CI[0], 100 * g.CI[1]}
	}
	consSVG, err := chartSVG(big, "DML")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(consSVG), ">DML per person per month<") || !strings.Contains(string(consSVG), "\u202f") {
		t.Errorf("consumption chart: no currency label or thousands separators: ticks %v", svgTicks(string(consSVG)))
	}

	// CSV: unit, what n counts, CV and reliability on every row
	var c bytes.Buffer
	if err := rep.WriteCSV(&c); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(rows[0], ","); h != "id,indicator,unit,n_counts,by,group,estimate,se,ci_low,ci_high,n,cv,unreliable,difference,p" {
		t.Errorf("CSV header %s", h)
	}
	for _, r := range rows[1:] {
		if r[2] == "" || r[3] == "" {
			t.Errorf("CSV row without a unit: %v", r)
		}
	}
}

// svgTicks lists the texts of a gonum SVG chart's left axis from the
// bottom: the numeric texts in the order drawn.
func svgTicks(svg string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`>([−\-0-9.,\x{202f}%]+)</text>`).FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1])
	}
	return out
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
