package analysis

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
)

// calibratedPlans are the designs of testdata/r-calibrated/calibrated.R as
// plan YAML: the same sample, weights made by each calibration, declared
// so that the variance is the calibrated design's.
var calibratedPlans = map[string]string{
	"fixed": ``,
	"rake": `
  weight: w_rake
  calibration: {method: rake, variables: [region, sex_head], before: w0}`,
	"ps": `
  weight: w_ps
  calibration: {method: poststratify, variables: [region, urban], before: w0}`,
	"greg": `
  weight: w_greg
  calibration:
    method: linear
    variables: [region, factor(urban), sex_head, hh_size, age_head, land, x1, x2, x3, x4]
    before: w0`,
	"brake": `
  weight: w_brake
  calibration: {method: raking, variables: [region, sex_head], before: w0}`,
	"trim": `
  weight: w_cal2
  calibration:
    - {method: linear, variables: [region, factor(urban)], before: w0, after: w_cal1}
    - {method: linear, variables: [region, factor(urban)], before: w_trim}`,
}

const calibratedEstimates = `
estimates:
  - {id: mean.cons, mean: cons, na_rm: true}
  - {id: total.remit, total: remit}
  - {id: prop.migrant, proportion: migrant}
  - {id: prop.sex_head, proportion: sex_head}
  - {id: ratio, ratio: {numerator: remit, denominator: hh_size}}
  - {id: domain.bank.current, mean: bank, subset: "migrant = 'current'"}
  - {id: by.bank, mean: bank, by: migrant}
  - {id: quantile.cons, quantile: cons, p: [0.5], na_rm: true}
  - {id: ttest, compare: bank, between: sex_head}
  - {id: chisq, chisq: [migrant, bank]}
  - {id: lm.cons, lm: "cons ~ migrant + urban + hh_size"}
  - {id: quantile.amt.return, quantile: amt, p: [0.5], na_rm: true, subset: "migrant = 'return'"}
`

// TestCalibratedDesignsMatchR: every statistic of a plan on a calibrated
// design equals R survey's (calibrate, rake, postStratify, trimWeights) to
// 1e-9 relative; the fixed-weights design is the control that shows the
// calibration changes the answers.
func TestCalibratedDesignsMatchR(t *testing.T) {
	want := readGolden(t, "testdata/r-calibrated/expected.tsv")
	tb := loadCSV(t, "testdata/r-calibrated/sample.csv")
	names := make([]string, 0, len(calibratedPlans))
	for k := range calibratedPlans {
		names = append(names, k)
	}
	sort.Strings(names)
	checked := 0
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			design := calibratedPlans[name]
			if design == "" {
				design = "\n  weight: w0"
			}
			src := "data: sample.csv\ndesign:\n  strata: stratum\n  psu: [psu, hh]\n  fpc: [fpc1, fpc2]\n  lonely_psu: adjust" + design + calibratedEstimates
			plan, err := ParsePlan([]byte(src))
			if err != nil {
				t.Fatalf("plan: %v\n%s", err, src)
			}
			res, err := RunTable(plan, tb)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]float64{}
			for _, r := range res.Results {
				switch r.Type {
				case "mean", "total", "ratio":
					if r.By != "" {
						for _, g := range r.Domains {
							got[fmt.Sprintf("by.bank.%s", g.Level)] = []float64{val(g.Estimate), val(g.SE)}
						}
						continue
					}
					got[r.ID] = []float64{val(r.Estimate), val(r.SE)}
				case "proportion":
					for _, l := range r.Levels {
						got["prop."+r.Variable+l.Level] = []float64{val(l.Estimate), val(l.SE)}
					}
				case "quantile":
					q := r.Quantiles[0]
					if r.ID == "quantile.amt.return" {
						got[r.ID] = []float64{float64(q.Estimate), float64(q.SE), float64(q.CI[0]), float64(q.CI[1]), float64(q.DF)}
						continue
					}
					got["quantile.cons.0.5"] = []float64{float64(q.Estimate), float64(q.SE), float64(q.CI[0]), float64(q.CI[1])}
				case "compare":
					got["ttest.bank.sex_head"] = []float64{val(r.Difference), val(r.T), float64(*r.DF), val(r.P)}
				case "chisq":
					got["chisq.migrant.bank"] = []float64{val(r.F), val(r.NDF), val(r.DDF), val(r.P)}
				case "lm":
					var v []float64
					for _, c := range r.Coefficients {
						v = append(v, float64(c.Estimate))
					}
					for _, c := range r.Coefficients {
						v = append(v, float64(c.SE))
					}
					got["lm.cons"] = v
				}
			}
			got["ratio.remit/hh_size"] = got["ratio"]
			delete(got, "ratio")
			for key, w := range want {
				if !strings.HasPrefix(key, name+".") {
					continue
				}
				short := strings.TrimPrefix(key, name+".")
				g, ok := got[short]
				if !ok {
					t.Errorf("%s: no result", key)
					continue
				}
				if len(g) != len(w) {
					t.Errorf("%s: got %d values %v, R has %d %v", key, len(g), g, len(w), w)
					continue
				}
				for i := range w {
					if !closeRel(g[i], w[i], 1e-9, 1e-12) {
						t.Errorf("%s[%d] = %.15g, R %.15g (rel diff %.2g)", key, i, g[i], w[i], math.Abs(g[i]-w[i])/math.Abs(w[i]))
					}
				}
				checked++
			}
		})
	}
	t.Logf("checked %d golden rows", checked)
	if checked < 102 {
		t.Errorf("checked %d golden rows; expected every design's rows of expected.tsv (102)", checked)
	}
}

// TestAdjustDomainLonely: R's options(survey.adjust.domain.lonely) for a
// domain in which a stratum keeps one of its PSUs, under the adjust and
// average rules (average then gives NaN in R, from the second stage, and
// so here), and without the option.
func TestAdjustDomainLonely(t *testing.T) {
	want := readGolden(t, "testdata/r-calibrated/expected.tsv")
	tb := loadCSV(t, "testdata/r-calibrated/sample.csv")
	for _, rule := range []string{"adjust", "average"} {
		for _, adj := range []bool{true, false} {
			src := fmt.Sprintf(`data: sample.csv
design: {strata: stratum, psu: [psu, hh], fpc: [fpc1, fpc2], weight: w0, lonely_psu: %s, adjust_domain_lonely: %v}
estimates:
  - {id: m, mean: bank, subset: "hh_size >= 8"}
`, rule, adj)
			plan, err := ParsePlan([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			res, err := RunTable(plan, tb)
			if err != nil {
				t.Fatal(err)
			}
			key := rule + ".mean.bank"
			if adj {
				key = "adjdom." + key
			} else {
				key = "noadjdom." + key
			}
			w := want[key]
			g := []float64{val(res.Results[0].Estimate), val(res.Results[0].SE)}
			for i := range w {
				if !closeRel(g[i], w[i], 1e-9, 1e-12) {
					t.Errorf("%s[%d] = %.15g, R %.15g", key, i, g[i], w[i])
				}
			}
		}
	}
}

// closeRel: equal to rel relative, or both within abs of zero (R's
// standard error of a raking margin's share is ~1e-18, rounding noise).
func closeRel(got, want, rel, abs float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.Abs(want) < abs {
		return math.Abs(got) < abs
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// TestDFInf: df: inf gives normal intervals, as R's confint(..., df = Inf)
// and svyquantile(..., df = Inf).
func TestDFInf(t *testing.T) {
	want := readGolden(t, "testdata/r-calibrated/expected.tsv")
	tb := loadCSV(t, "testdata/r-calibrated/sample.csv")
	plan, err := ParsePlan([]byte(`data: sample.csv
design: {strata: stratum, psu: [psu, hh], fpc: [fpc1, fpc2], weight: w0, lonely_psu: adjust}
estimates:
  - {id: m, mean: cons, na_rm: true, df: inf}
  - {id: q, quantile: cons, p: [0.5], na_rm: true, df: Inf}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunTable(plan, tb)
	if err != nil {
		t.Fatal(err)
	}
	m, q := res.Results[0], res.Results[1].Quantiles[0]
	got := map[string][]float64{
		"dfinf.mean.cons":     {val(m.Estimate), val(m.SE), float64(m.CI[0]), float64(m.CI[1])},
		"dfinf.quantile.cons": {float64(q.Estimate), float64(q.SE), float64(q.CI[0]), float64(q.CI[1])},
	}
	for k, g := range got {
		w := want[k]
		for i := range w {
			if !closeRel(g[i], w[i], 1e-9, 1e-12) {
				t.Errorf("%s[%d] = %.15g, R %.15g", k, i, g[i], w[i])
			}
		}
	}
	if _, err := ParsePlan([]byte("data: x.csv\nestimates:\n  - {id: m, mean: cons, df: lots}\n")); err == nil || !strings.Contains(err.Error(), "df") {
		t.Errorf("df: lots accepted: %v", err)
	}
}
