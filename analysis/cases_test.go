package analysis

import (
	"strings"
	"testing"
)

// TestRCases reproduces testdata/r-cases/expected.tsv (made by cases.R).
func TestRCases(t *testing.T) {
	want := readGolden(t, "testdata/r-cases/expected.tsv")
	api := "testdata/r-survey-api/"
	strat := loadCSV(t, api+"apistrat.csv")
	clus1 := loadCSV(t, api+"apiclus1.csv")
	clus2 := loadCSV(t, api+"apiclus2.csv")
	lonely := loadCSV(t, "testdata/r-cases/lonely.csv")
	dstrat := mustDesign(t, strat, DesignSpec{Strata: "stype", Weight: "pw", FPC: []string{"fpc"}})
	dclus1 := mustDesign(t, clus1, DesignSpec{PSU: []string{"dnum"}, Weight: "pw", FPC: []string{"fpc"}})
	dclus2 := mustDesign(t, clus2, DesignSpec{PSU: []string{"dnum", "snum"}, FPC: []string{"fpc1", "fpc2"}})

	got := map[string][]float64{}
	put := func(name string, v ...float64) { got[name] = v }
	ok := func(e Estimate, err error) Estimate {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	col := func(tb *Table, name string) *Column {
		c, err := tb.Column(name)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	levelMask := func(tb *Table, name, level string) []bool {
		f := asFactor(col(tb, name))
		m := make([]bool, tb.Len())
		for i, c := range f.codes {
			m[i] = c >= 0 && f.levels[c] == level
		}
		return m
	}
	stypes := []string{"E", "H", "M"}

	e := ok(dclus1.Mean("api00", num(t, clus1, "api00"), nil, false, dclus1.DF(nil)))
	put("dclus1.mean.api00(est,se,deff)", e.Estimate, e.SE, e.DEff)
	put("dclus1.mean.api00.ci", e.CI[0], e.CI[1])
	e = ok(dclus1.Total("enroll", num(t, clus1, "enroll"), nil, false, 0))
	put("dclus1.total.enroll(est,se,deff)", e.Estimate, e.SE, e.DEff)
	e = ok(dstrat.Mean("api00", num(t, strat, "api00"), nil, false, 0))
	put("dstrat.mean.api00(est,se,deff)", e.Estimate, e.SE, e.DEff)
	e = ok(dstrat.Total("enroll", num(t, strat, "enroll"), nil, false, 0))
	put("dstrat.total.enroll(est,se,deff)", e.Estimate, e.SE, e.DEff)
	e = ok(dstrat.Ratio("api.stu", "enroll", num(t, strat, "api.stu"), num(t, strat, "enroll"), nil, false, 0))
	put("dstrat.ratio.api.stu/enroll(est,se,deff)", e.Estimate, e.SE, e.DEff)
	props, err := dclus1.proportions(asFactor(col(clus1, "stype")), nil, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range props {
		put("dclus1.prop.stype"+p.Level+"(est,se,deff)", p.Estimate.Estimate, p.SE, p.DEff)
	}

	// fpc as sampling fractions: n_h / N_h.
	st := asFactor(col(strat, "stype"))
	nh := map[int32]float64{}
	for _, c := range st.codes {
		nh[c]++
	}
	fpc := num(t, strat, "fpc")
	frac := make([]float64, strat.Len())
	for i, c := range st.codes {
		frac[i] = nh[c] / fpc[i]
	}
	strat.AddNumeric("frac", frac)
	dfrac := mustDesign(t, strat, DesignSpec{Strata: "stype", Weight: "pw", FPC: []string{"frac"}})
	e = ok(dfrac.Mean("api00", num(t, strat, "api00"), nil, false, 0))
	put("dfrac.mean.api00", e.Estimate, e.SE)

	for _, s := range stypes {
		e = ok(dclus1.Mean("api00", num(t, clus1, "api00"), levelMask(clus1, "stype", s), false, 0))
		put("dclus1.by.mean.api00.stype="+s, e.Estimate, e.SE)
		e = ok(dclus1.Total("enroll", num(t, clus1, "enroll"), levelMask(clus1, "stype", s), false, 0))
		put("dclus1.by.total.enroll.stype="+s, e.Estimate, e.SE)
		e = ok(dclus2.Mean("api00", num(t, clus2, "api00"), levelMask(clus2, "stype", s), false, 0))
		put("dclus2.by.mean.api00.stype="+s, e.Estimate, e.SE)
		e = ok(dstrat.Ratio("api.stu", "enroll", num(t, strat, "api.stu"), num(t, strat, "enroll"), levelMask(strat, "stype", s), false, 0))
		put("dstrat.by.ratio.api.stu/enroll.stype="+s, e.Estimate, e.SE)
	}
	e = ok(dclus2.Total("enroll", num(t, clus2, "enroll"), nil, true, 0))
	put("dclus2.total.enroll", e.Estimate, e.SE)
	e = ok(dclus2.Ratio("api.stu", "enroll", num(t, clus2, "api.stu"), num(t, clus2, "enroll"), nil, true, 0))
	put("dclus2.ratio.api.stu/enroll", e.Estimate, e.SE)

	e = ok(dstrat.Mean("acs.k3", num(t, strat, "acs.k3"), nil, true, 0))
	put("dstrat.mean.acs.k3.narm", e.Estimate, e.SE)
	e = ok(dclus1.Mean("acs.k3", num(t, clus1, "acs.k3"), nil, true, 0))
	put("dclus1.mean.acs.k3.narm", e.Estimate, e.SE)
	e = ok(dclus1.Total("acs.k3", num(t, clus1, "acs.k3"), nil, true, 0))
	put("dclus1.total.acs.k3.narm", e.Estimate, e.SE)
	e = ok(dclus1.Ratio("acs.k3", "enroll", num(t, clus1, "acs.k3"), num(t, clus1, "enroll"), nil, true, 0))
	put("dclus1.ratio.acs.k3/enroll.narm", e.Estimate, e.SE)
	if _, err := dclus1.Mean("acs.k3", num(t, clus1, "acs.k3"), nil, false, 0); err == nil || !strings.Contains(err.Error(), "acs.k3") {
		t.Errorf("missing values without na_rm: err = %v, want one naming acs.k3", err)
	}

	quant := func(name string, d *Design, x []float64, ps []float64, in []bool, labels []string) {
		t.Helper()
		qs, err := d.Quantiles(name, x, ps, in, false, d.DF(in))
		if err != nil {
			t.Fatal(err)
		}
		for k, q := range qs {
			put(labels[k], q.Estimate, q.SE, q.CI[0], q.CI[1])
		}
	}
	quant("api00", dstrat, num(t, strat, "api00"), []float64{0.1, 0.5, 0.9}, nil,
		[]string{"dstrat.quantile.api00.0.1", "dstrat.quantile.api00.0.5", "dstrat.quantile.api00.0.9"})
	quant("api00", dclus2, num(t, clus2, "api00"), []float64{0.5}, nil, []string{"dclus2.quantile.api00.0.5"})
	eMask := levelMask(clus1, "stype", "E")
	quant("enroll", dclus1, num(t, clus1, "enroll"), []float64{0.25, 0.75}, eMask,
		[]string{"dclus1.E.quantile.enroll.0.25", "dclus1.E.quantile.enroll.0.75"})
	e = ok(dclus1.Mean("api00", num(t, clus1, "api00"), eMask, false, 0))
	put("dclus1.E.mean.api00", e.Estimate, e.SE)

	tt, err := dstrat.Compare("api00", num(t, strat, "api00"), col(strat, "sch.wide"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	put("dstrat.ttest.api00~sch.wide(diff,t,df,p)", tt.Difference, tt.T, float64(tt.DF), tt.P)
	tt, err = dstrat.Compare("api00", num(t, strat, "api00"), col(strat, "stype"), []string{"E", "H"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	put("dstrat.ttest.api00~stype[E,H](diff,t,df,p)", tt.Difference, tt.T, float64(tt.DF), tt.P)
	tt, err = dclus2.Compare("enroll", num(t, clus2, "enroll"), col(clus2, "comp.imp"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	put("dclus2.ttest.enroll~comp.imp(diff,t,df,p)", tt.Difference, tt.T, float64(tt.DF), tt.P)

	cs, err := dstrat.ChiSqTest(col(strat, "stype"), col(strat, "awards"), nil)
	if err != nil {
		t.Fatal(err)
	}
	put("dstrat.chisq.stype+awards(F,ndf,ddf,p)", cs.F, cs.NDF, cs.DDF, cs.P)
	cs, err = dclus2.ChiSqTest(col(clus2, "sch.wide"), col(clus2, "comp.imp"), nil)
	if err != nil {
		t.Fatal(err)
	}
	put("dclus2.chisq.sch.wide+comp.imp(F,ndf,ddf,p)", cs.F, cs.NDF, cs.DDF, cs.P)

	glm := func(prefix string, d *Design, tb *Table, formula string, fam Family) {
		t.Helper()
		g, err := d.GLM(tb, formula, fam, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range g.Coefficients {
			put(prefix+c.Term, c.Estimate, c.SE, c.P)
		}
	}
	glm("dstrat.lm.api00~ell+meals+stype.", dstrat, strat, "api00 ~ ell + meals + stype", Gaussian)
	glm("dstrat.logit.sch.wide~ell+stype.", dstrat, strat, "sch.wide ~ ell + stype", Quasibinomial)
	glm("dclus2.lm.api00~ell+mobility.", dclus2, clus2, "api00 ~ ell + mobility", Gaussian)

	for _, rule := range []string{LonelyRemove, LonelyCertainty, LonelyAdjust, LonelyAverage} {
		dl := mustDesign(t, lonely, DesignSpec{PSU: []string{"dnum"}, Strata: "lstrat", Weight: "pw", LonelyPSU: rule})
		e = ok(dl.Mean("api00", num(t, lonely, "api00"), nil, false, 0))
		put("lonely."+rule+".mean.api00", e.Estimate, e.SE)
		e = ok(dl.Total("enroll", num(t, lonely, "enroll"), nil, false, 0))
		put("lonely."+rule+".total.enroll", e.Estimate, e.SE)
		for _, s := range stypes {
			e = ok(dl.Mean("api00", num(t, lonely, "api00"), levelMask(lonely, "stype", s), false, 0))
			put("lonely."+rule+".by.mean.api00.stype="+s, e.Estimate, e.SE)
		}
	}
	dfail := mustDesign(t, lonely, DesignSpec{PSU: []string{"dnum"}, Strata: "lstrat", Weight: "pw"})
	if _, err := dfail.Mean("api00", num(t, lonely, "api00"), nil, false, 0); err == nil || !strings.Contains(err.Error(), "stratum A") {
		t.Errorf("lonely PSU under fail: err = %v, want one naming stratum A", err)
	}

	n := 0
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: not computed", name)
			continue
		}
		if len(g) != len(w) {
			t.Errorf("%s: %d values, R has %d", name, len(g), len(w))
			continue
		}
		for k := range w {
			checkClose(t, name, g[k], w[k])
			n++
		}
	}
	if n < 150 {
		t.Fatalf("only %d golden values compared", n)
	}
	t.Logf("%d values, max relative difference so far %.3g (%s)", n, maxRel, maxName)
}
