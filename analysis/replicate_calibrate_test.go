package analysis

import (
	"fmt"
	"strings"
	"testing"
)

// repcalSteps are the calibrations of testdata/r-repcal/repcal.R as plan
// YAML (%s: the column of the calibrated weights).
var repcalSteps = map[string]string{
	"ps":      `{method: poststratify, variables: [region, urban], before: w0}`,
	"rake":    `{method: rake, variables: [region, sex_head], before: w0}`,
	"greg":    `{method: linear, variables: [region, factor(urban), hh_size, age_head, land], before: w0}`,
	"bgreg":   `{method: linear, variables: [region, factor(urban), hh_size, age_head, land], before: w0, bounds: [0.75, 1.3]}`,
	"raking":  `{method: raking, variables: [region, sex_head], before: w0}`,
	"braking": `{method: raking, variables: [region, sex_head], before: w0, bounds: [0.8, 1.25]}`,
}

// TestCalibratedReplicatesMatchR: replicates made from a design whose
// weights were post-stratified, raked, or calibrated (GREG, bounded GREG,
// raking, bounded raking) are each calibrated in the same way, and every
// estimate — means, totals, ratios, proportions, domains, by, the SE of a
// calibration margin's total (zero) and a regression — equals R's
// calibrate/rake/postStratify on as.svrepdesign (JKn and Fay) to 1e-9.
func TestCalibratedReplicatesMatchR(t *testing.T) {
	want := readGolden(t, "testdata/r-repcal/expected.tsv")
	tb := loadCSV(t, "testdata/r-repcal/calibrated.csv")
	checked := 0
	for _, typ := range []string{"JKn", "Fay"} {
		for cal, step := range repcalSteps {
			name := strings.ToLower(typ) + "." + cal
			t.Run(name, func(t *testing.T) {
				make := "{type: JKn}"
				if typ == "Fay" {
					make = "{type: Fay, rho: 0.5, large: merge}"
				}
				src := fmt.Sprintf(`data: x
design:
  strata: stratum
  psu: psu
  weight: w_%s_%s
  calibration: %s
  replicates: {make: %s}
estimates:
  - {id: mean.cons, mean: cons, na_rm: true}
  - {id: total.remit, total: remit}
  - {id: ratio, ratio: {numerator: remit, denominator: hh_size}}
  - {id: prop, proportion: migrant}
  - {id: domain.bank.current, mean: bank, subset: "migrant = 'current'"}
  - {id: by, mean: bank, by: migrant}
  - {id: total.region, proportion: region}
  - {id: lm, lm: "cons ~ migrant + urban + hh_size"}
`, strings.ToLower(typ), cal, step, make)
				plan, err := ParsePlan([]byte(src))
				if err != nil {
					t.Fatal(err)
				}
				res, err := RunTable(plan, tb)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(res.Design.Variance, "each replicate calibrated") {
					t.Errorf("variance method: %s", res.Design.Variance)
				}
				got := map[string][]float64{"degf": {float64(res.Design.DF)}}
				for _, r := range res.Results {
					switch {
					case r.ID == "total.region":
						// The SE of a margin's total is zero: R prints rounding noise.
						var se []float64
						for _, l := range r.Levels {
							se = append(se, val(l.SE))
						}
						got[r.ID] = se
					case r.Type == "proportion":
						for _, l := range r.Levels {
							got["prop.migrant"+l.Level] = []float64{val(l.Estimate), val(l.SE)}
						}
					case r.By != "":
						for _, g := range r.Domains {
							got["by.bank."+g.Level] = []float64{val(g.Estimate), val(g.SE)}
						}
					case r.Type == "lm":
						var c, se []float64
						for _, k := range r.Coefficients {
							c, se = append(c, float64(k.Estimate)), append(se, float64(k.SE))
						}
						got["lm.coef"], got["lm.se"] = c, se
					default:
						got[r.ID] = []float64{val(r.Estimate), val(r.SE)}
					}
				}
				n := 0
				for key, w := range want {
					short, ok := strings.CutPrefix(key, name+".")
					if !ok {
						continue
					}
					g := got[short]
					if short == "total.region" {
						// Shares' SEs of a calibration margin: zero up to the
						// calibration's convergence (R's grake stops at a
						// relative misfit of 1e-7; R's own SEs of these totals
						// are 3e-8 of the totals).
						for i := range g {
							if g[i] > 1e-7 {
								t.Errorf("%s: SE of a calibrated margin's share %g, want 0", key, g[i])
							}
						}
						n++
						continue
					}
					if len(g) != len(w) {
						t.Errorf("%s: got %v, R %v", key, g, w)
						continue
					}
					for i := range w {
						if !closeRel(g[i], w[i], 1e-9, 1e-12) {
							t.Errorf("%s[%d] = %.15g, R %.15g", key, i, g[i], w[i])
						}
					}
					n++
				}
				if n != 14 {
					t.Errorf("checked %d golden rows, want 14", n)
				}
				checked += n
			})
		}
	}
	t.Logf("checked %d golden rows", checked)
}

// TestCalibratedReplicatesRefused: what cannot be calibrated per replicate
// says why.
func TestCalibratedReplicatesRefused(t *testing.T) {
	tb := loadCSV(t, "testdata/r-repcal/calibrated.csv")
	for _, c := range []struct{ design, err string }{
		{`{strata: stratum, psu: psu, weight: w_jkn_ps, calibration: {method: poststratify, variables: [region, urban], before: w0}, replicates: {columns: [w0, w_jkn_ps], type: JK1}}`,
			"taken as final weights"},
		{`{strata: stratum, psu: psu, weight: w_jkn_ps, calibration: {method: logit, variables: [region], before: w0, bounds: [0.5, 2]}, replicates: {make: {type: JKn}}}`,
			"calibrating replicates with logit is not available"},
		{`{strata: stratum, psu: psu, weight: w_jkn_greg, calibration: [{method: linear, variables: [region], before: w0, after: w_jkn_ps}, {method: linear, variables: [region], before: w_jkn_rake}], replicates: {make: {type: JKn}}}`,
			"cannot be trimmed between calibrations"},
	} {
		plan, err := ParsePlan([]byte("data: x\ndesign: " + c.design + "\nestimates: [{id: a, total: remit}]\n"))
		if err == nil {
			_, err = RunTable(plan, tb)
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: got %v, want an error saying %q", c.design, err, c.err)
		}
	}
}
