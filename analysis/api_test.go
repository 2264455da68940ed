package analysis

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// relTol is the agreement required with R's printed values.
const relTol = 1e-9

func loadCSV(t *testing.T, path string) *Table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tb, err := ReadCSV(f, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tb
}

// readGolden reads "name<TAB>value<TAB>value..." lines (# comments).
func readGolden(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		var vals []float64
		for _, p := range parts[1:] {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil {
				if p == "NA" || p == "NaN" {
					v = math.NaN()
				} else {
					t.Fatalf("%s: %q: %v", path, line, err)
				}
			}
			vals = append(vals, v)
		}
		out[parts[0]] = vals
	}
	return out
}

// maxRel records the largest relative difference seen, for the report.
var maxRel float64

var maxName string

func checkClose(t *testing.T, name string, got, want float64) {
	t.Helper()
	if r := math.Abs(got-want) / math.Abs(want); r > maxRel && want != 0 {
		maxName = name
		maxRel = r
	}
	if math.IsNaN(want) && math.IsNaN(got) {
		return
	}
	diff := math.Abs(got - want)
	if diff > relTol*math.Abs(want) && diff > 1e-300 {
		t.Errorf("%s: got %.15g, R %.15g (rel diff %.3g)", name, got, want, diff/math.Abs(want))
	}
}

func mustDesign(t *testing.T, tb *Table, spec DesignSpec) *Design {
	t.Helper()
	d, err := NewDesign(tb, spec)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func num(t *testing.T, tb *Table, name string) []float64 {
	t.Helper()
	x, err := tb.numeric(name)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestRSurveyAPI(t *testing.T) {
	dir := "testdata/r-survey-api/"
	want := readGolden(t, dir+"expected.tsv")
	strat := loadCSV(t, dir+"apistrat.csv")
	clus1 := loadCSV(t, dir+"apiclus1.csv")
	clus2 := loadCSV(t, dir+"apiclus2.csv")
	dstrat := mustDesign(t, strat, DesignSpec{Strata: "stype", Weight: "pw", FPC: []string{"fpc"}})
	dclus1 := mustDesign(t, clus1, DesignSpec{PSU: []string{"dnum"}, Weight: "pw", FPC: []string{"fpc"}})
	dclus1nofpc := mustDesign(t, clus1, DesignSpec{PSU: []string{"dnum"}, Weight: "pw"})
	dclus2 := mustDesign(t, clus2, DesignSpec{PSU: []string{"dnum", "snum"}, FPC: []string{"fpc1", "fpc2"}})
	got := map[string][2]float64{}
	put := func(name string, a, b float64) { got[name] = [2]float64{a, b} }
	est := func(e Estimate, err error) Estimate {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := est(dstrat.Mean("api00", num(t, strat, "api00"), nil, false, dstrat.DF(nil)))
	put("dstrat.svymean.api00", e.Estimate, e.SE)
	e = est(dstrat.Total("enroll", num(t, strat, "enroll"), nil, false, dstrat.DF(nil)))
	put("dstrat.svytotal.enroll", e.Estimate, e.SE)
	e = est(dclus1.Mean("api00", num(t, clus1, "api00"), nil, false, dclus1.DF(nil)))
	put("dclus1.svymean.api00", e.Estimate, e.SE)
	e = est(dclus1.Total("enroll", num(t, clus1, "enroll"), nil, false, dclus1.DF(nil)))
	put("dclus1.svytotal.enroll", e.Estimate, e.SE)
	e = est(dclus1nofpc.Mean("api00", num(t, clus1, "api00"), nil, false, 0))
	put("dclus1nofpc.svymean.api00", e.Estimate, e.SE)
	e = est(dclus2.Mean("api00", num(t, clus2, "api00"), nil, false, 0))
	put("dclus2.svymean.api00", e.Estimate, e.SE)
	e = est(dclus1.Ratio("api.stu", "enroll", num(t, clus1, "api.stu"), num(t, clus1, "enroll"), nil, false, 0))
	put("dclus1.svyratio.api.stu/enroll", e.Estimate, e.SE)
	st, _ := strat.Column("stype")
	f := asFactor(st)
	for lv, name := range f.levels {
		in := make([]bool, strat.Len())
		for i, c := range f.codes {
			in[i] = c == int32(lv)
		}
		e = est(dstrat.Mean("api00", num(t, strat, "api00"), in, false, 0))
		put("dstrat.svyby.api00.stype="+name, e.Estimate, e.SE)
	}
	sw, _ := clus1.Column("sch.wide")
	tt, err := dclus1.Compare("api00", num(t, clus1, "api00"), sw, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	put("dclus1.svyttest.api00~sch.wide(diff,t)", tt.Difference, tt.T)
	stc, _ := clus1.Column("stype")
	cs, err := dclus1.ChiSqTest(sw, stc, nil)
	if err != nil {
		t.Fatal(err)
	}
	put("dclus1.svychisq.sch.wide+stype(F,p)", cs.F, cs.P)
	put("dclus1.svychisq.sch.wide+stype(ndf,ddf)", cs.NDF, cs.DDF)
	g, err := dclus1.GLM(clus1, "api00 ~ ell + meals + mobility", Gaussian, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Coefficients {
		put("dclus1.svyglm.api00~ell+meals+mobility."+c.Term, c.Estimate, c.SE)
	}
	lg, err := dclus1.GLM(clus1, "sch.wide ~ ell + meals", Quasibinomial, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range lg.Coefficients {
		put("dclus1.svyglm.logit.sch.wide~ell+meals."+c.Term, c.Estimate, c.SE)
	}
	qs, err := dclus1.Quantiles("api00", num(t, clus1, "api00"), []float64{0.25, 0.5}, nil, false, dclus1.DF(nil))
	if err != nil {
		t.Fatal(err)
	}
	put("dclus1.svyquantile.api00.q25", qs[0].Estimate, qs[0].SE)
	put("dclus1.svyquantile.api00.q50", qs[1].Estimate, qs[1].SE)
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: not computed", name)
			continue
		}
		checkClose(t, name+"[1]", g[0], w[0])
		checkClose(t, name+"[2]", g[1], w[1])
	}
	if len(want) < 20 {
		t.Fatalf("only %d golden values read", len(want))
	}
	t.Logf("%d golden values, max relative difference %.3g", len(want), maxRel)
}
