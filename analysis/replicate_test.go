package analysis

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestReplicateDesignsMatchR: means, totals, ratios, proportions, domains
// and by-groups on replicate-weight designs (JK1, JKn, bootstrap, and
// "other" with mse) equal R's svrepdesign to 1e-9 relative, on the very
// replicate weights R made (testdata/r-replicate).
func TestReplicateDesignsMatchR(t *testing.T) {
	want := readGolden(t, "testdata/r-replicate/expected.tsv")
	tb := loadCSV(t, "testdata/r-replicate/replicates.csv")
	checked := 0
	for _, c := range []struct{ name, typ string }{{"jk1", "JK1"}, {"jkn", "JKn"}, {"boot", "bootstrap"}, {"other", "other"}} {
		spec := want[c.name+".spec"]
		R := int(spec[0])
		var cols []string
		for r := 1; r <= R; r++ {
			cols = append(cols, fmt.Sprintf("%s_%d", c.name, r))
		}
		rs := &ReplicateSpec{Columns: cols, Type: c.typ, RScales: spec[2:], MSE: c.name == "other"}
		if c.name == "boot" || c.name == "other" {
			rs.Scale = spec[1] // as.svrepdesign's own scale
		}
		d, err := NewDesign(tb, DesignSpec{Weight: "w0", Replicates: rs})
		if err != nil {
			t.Fatal(err)
		}
		if c.name == "jk1" || c.name == "jkn" {
			if math.Abs(d.rep.scale-spec[1]) > 1e-15 {
				t.Errorf("%s: default scale %g, R %g", c.name, d.rep.scale, spec[1])
			}
		}
		plan, err := ParsePlan([]byte(`data: x
estimates:
  - {id: mean.cons, mean: cons, na_rm: true}
  - {id: total.remit, total: remit}
  - {id: ratio, ratio: {numerator: remit, denominator: hh_size}}
  - {id: prop, proportion: migrant}
  - {id: domain.bank.current, mean: bank, subset: "migrant = 'current'"}
  - {id: by, mean: bank, by: migrant}
`))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]float64{}
		for i := range plan.Estimates {
			r, err := runOne(d, tb, &plan.Estimates[i])
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case r.Type == "proportion":
				for _, l := range r.Levels {
					got["prop.migrant"+l.Level] = []float64{val(l.Estimate), val(l.SE)}
				}
			case r.By != "":
				for _, g := range r.Domains {
					got["by.bank."+g.Level] = []float64{val(g.Estimate), val(g.SE)}
				}
			default:
				got[r.ID] = []float64{val(r.Estimate), val(r.SE)}
			}
		}
		for key, w := range want {
			if !strings.HasPrefix(key, c.name+".") || strings.HasSuffix(key, ".spec") || statisticKey(strings.TrimPrefix(key, c.name+".")) {
				continue
			}
			g := got[strings.TrimPrefix(key, c.name+".")]
			if len(g) != len(w) {
				t.Errorf("%s: got %v, R %v", key, g, w)
				continue
			}
			for i := range w {
				if !closeRel(g[i], w[i], 1e-9, 1e-12) {
					t.Errorf("%s[%d] = %.15g, R %.15g", key, i, g[i], w[i])
				}
			}
			checked++
		}
	}
	t.Logf("checked %d golden rows", checked)
	if checked < 40 {
		t.Errorf("checked %d golden rows", checked)
	}
}
