package analysis

import (
	"fmt"
	"strings"
	"testing"
)

const replicateStatistics = `
estimates:
  - {id: quantile.cons, quantile: cons, p: [0.5], na_rm: true}
  - {id: quantile.amt.return, quantile: amt, p: [0.25, 0.5], na_rm: true, subset: "migrant = 'return'"}
  - {id: ttest.bank.sex_head, compare: bank, between: sex_head}
  - {id: ttest.cons.remit.migrants, compare: cons, between: remit, subset: "migrant != 'none'"}
  - {id: chisq.migrant.bank, chisq: [migrant, bank]}
  - {id: chisq.sex_head.bank.notnorth, chisq: [sex_head, bank], subset: "region != 'north'"}
  - {id: lm, lm: "cons ~ migrant + urban + hh_size"}
  - {id: logit, logit: "bank ~ migrant + urban + hh_size"}
`

// statisticResults names a plan's quantile, compare, chisq, lm and logit
// results as the golden scripts do.
func statisticResults(res *Results) map[string][]float64 {
	got := map[string][]float64{"degf": {float64(res.Design.DF)}}
	for _, r := range res.Results {
		switch r.Type {
		case "quantile":
			for i, q := range r.Quantiles {
				key := r.ID
				if len(r.Quantiles) > 1 {
					key = fmt.Sprintf("%s.%d", r.ID, i+1)
					got[r.ID+".df"] = []float64{float64(q.DF)}
				}
				got[key] = []float64{float64(q.Estimate), float64(q.SE), float64(q.CI[0]), float64(q.CI[1])}
			}
		case "compare":
			got[r.ID] = []float64{val(r.Difference), val(r.T), float64(*r.DF), val(r.P)}
		case "chisq":
			got[r.ID] = []float64{val(r.F), val(r.NDF), val(r.DDF), val(r.P)}
		case "lm", "logit":
			var c, se, p []float64
			for _, k := range r.Coefficients {
				c, se, p = append(c, float64(k.Estimate)), append(se, float64(k.SE)), append(p, float64(k.P))
			}
			got[r.ID+".coef"], got[r.ID+".se"], got[r.ID+".p"] = c, se, p
			got[r.ID+".df"] = []float64{float64(*r.DF)}
		}
	}
	return got
}

// TestReplicateStatisticsMatchR: quantiles (Woodruff intervals, in a
// domain with missing values), t tests (svyttest, in a domain), Rao–Scott
// chi-square tests (svychisq, in a domain) and regressions (svyglm gaussian
// and quasibinomial, every replicate refitted) on JK1, JKn, bootstrap and
// mse replicate designs equal R's svrepdesign to 1e-9 relative, with R's
// degrees of freedom (the rank of the replicate weights in the domain).
func TestReplicateStatisticsMatchR(t *testing.T) {
	want := readGolden(t, "testdata/r-replicate/expected.tsv")
	tb := loadCSV(t, "testdata/r-replicate/replicates.csv")
	checked := 0
	for _, c := range []struct{ name, typ string }{{"jk1", "JK1"}, {"jkn", "JKn"}, {"boot", "bootstrap"}, {"other", "other"}} {
		t.Run(c.name, func(t *testing.T) {
			spec := want[c.name+".spec"]
			var cols []string
			for r := 1; r <= int(spec[0]); r++ {
				cols = append(cols, fmt.Sprintf("%s_%d", c.name, r))
			}
			var rscales []string
			for _, v := range spec[2:] {
				rscales = append(rscales, strconvG(v))
			}
			design := fmt.Sprintf("data: x\ndesign: {weight: w0, replicates: {columns: [%s], type: %s, scale: %s, rscales: [%s], mse: %v}}\n",
				strings.Join(cols, ", "), c.typ, strconvG(spec[1]), strings.Join(rscales, ", "), c.name == "other")
			plan, err := ParsePlan([]byte(design + replicateStatistics))
			if err != nil {
				t.Fatal(err)
			}
			res, err := RunTable(plan, tb)
			if err != nil {
				t.Fatal(err)
			}
			got := statisticResults(res)
			n := 0
			for key, w := range want {
				short, ok := strings.CutPrefix(key, c.name+".")
				if !ok || !statisticKey(short) {
					continue
				}
				g := got[short]
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
			if n != 17 {
				t.Errorf("checked %d golden rows of %s, want 17", n, c.name)
			}
			checked += n
		})
	}
	t.Logf("checked %d golden rows", checked)
}

// statisticKey reports whether a golden row is one of statisticResults'.
func statisticKey(short string) bool {
	for _, p := range []string{"quantile.", "ttest.", "chisq.", "lm.", "logit."} {
		if strings.HasPrefix(short, p) {
			return true
		}
	}
	return short == "degf"
}
