package analysis

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestParsePlanErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", "", "empty"},
		{"no data", "estimates: [{id: a, mean: x}]", "data"},
		{"both sources", "data: a.csv\nsurvey: s1\nestimates: [{id: a, mean: x}]", "not both"},
		{"no estimates", "data: a.csv", "no estimates"},
		{"unknown key", "data: a.csv\nestimates: [{id: a, mean: x, colour: red}]", "colour"},
		{"no id", "data: a.csv\nestimates: [{mean: x}]", "no id"},
		{"dup id", "data: a.csv\nestimates: [{id: a, mean: x}, {id: a, mean: y}]", "twice"},
		{"two kinds", "data: a.csv\nestimates: [{id: a, mean: x, total: y}]", "exactly one"},
		{"compare without between", "data: a.csv\nestimates: [{id: a, compare: x}]", "between"},
		{"bad lonely", "data: a.csv\ndesign: {lonely_psu: maybe}\nestimates: [{id: a, mean: x}]", "lonely_psu"},
		{"bad p", "data: a.csv\nestimates: [{id: a, quantile: x, p: [1.5]}]", "p = 1.5"},
		{"bad formula", "data: a.csv\nestimates: [{id: a, lm: \"y ~ a + poly(b)\"}]", "function poly is not one of"},
		{"bad subset", "data: a.csv\nestimates: [{id: a, mean: x, subset: \"x ~ 1\"}]", "subset"},
		{"chisq arity", "data: a.csv\nestimates: [{id: a, chisq: [x]}]", "two variables"},
		{"by on lm", "data: a.csv\nestimates: [{id: a, lm: \"y ~ x\", by: g}]", "by is not available"},
		{"ratio half", "data: a.csv\nestimates: [{id: a, ratio: {numerator: y}}]", "denominator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePlan([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestPlanUnknownKeys: a misspelt key, at any level of the plan, is named
// with its line and the nearest known keys, never as Go's "field x not
// found in type analysis.Plan"; a value of the wrong kind is said in YAML's
// terms, not Go's ("cannot unmarshal !!str into float64").
func TestPlanUnknownKeys(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"top level", "data: a.csv\ndesign: {weight: w}\nestimats:\n  - {id: m1, mean: x}\n",
			`plan: line 3: unknown key "estimats"; did you mean "estimates"?`},
		{"design", "data: a.csv\ndesign:\n  strata: s\n  wieght: w\nestimates: [{id: a, mean: x}]\n",
			`plan: line 4: unknown key "wieght" in design; did you mean "weight"?`},
		{"estimate", "data: a.csv\nestimates:\n  - {id: a, mean: x}\n  - {id: b, maen: x}\n",
			`plan: line 4: unknown key "maen" in estimates[1]; did you mean "mean"?`},
		{"ratio", "data: a.csv\nestimates:\n  - id: r\n    ratio: {numerator: a, denominatr: b}\n",
			`plan: line 4: unknown key "denominatr" in estimates[0].ratio; did you mean "denominator"?`},
		{"calibration step", "data: a.csv\ndesign:\n  calibration: {method: rake, variables: [r], befor: w0}\nestimates: [{id: a, mean: x}]\n",
			`plan: line 3: unknown key "befor" in design.calibration; did you mean "before"?`},
		{"calibration list", "data: a.csv\ndesign:\n  calibration:\n    - {method: rake, variables: [r], before: w0}\n    - {methd: linear}\nestimates: [{id: a, mean: x}]\n",
			`plan: line 5: unknown key "methd" in design.calibration[1]; did you mean "method"?`},
		{"replicates", "data: a.csv\ndesign: {weight: w, replicates: {colums: [r1, r2], type: JK1}}\nestimates: [{id: a, mean: x}]\n",
			`plan: line 2: unknown key "colums" in design.replicates; did you mean "columns"?`},
		{"a value of the wrong kind", "data: a.csv\nestimates:\n  - {id: q, quantile: x, p: [abc]}\n  - {id: m, mean: x, na_rm: maybe}\n",
			`plan: line 3: "abc" is not a number; line 4: "maybe" is not true or false`},
		{"a mapping for a list", "data: a.csv\nestimates: {id: a, mean: x}\n",
			`plan: line 2: a mapping (key: value) where a list is expected`},
		{"nothing near", "data: a.csv\ncolour: red\nestimates: [{id: a, mean: x}]\n",
			`plan: line 2: unknown key "colour"; the keys here are data, survey, surveys, rescale, design, estimates`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePlan([]byte(tt.yaml))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant    %s", err, tt.want)
			}
			if _, err := ParseReportPlan([]byte(tt.yaml)); err == nil || err.Error() != tt.want {
				t.Fatalf("report plan: err = %v\nwant    %s", err, tt.want)
			}
		})
	}
}

func TestParseCondition(t *testing.T) {
	tb := NewTable(4)
	tb.AddNumeric("x", []float64{1, 2, math.NaN(), 1})
	tb.AddStrings("g", []string{"a", "b", "a", "a b"})
	tests := []struct {
		cond string
		want []bool
	}{
		{"x = 1", []bool{true, false, false, true}},
		{"x == 1 and g = a", []bool{true, false, false, false}},
		{"x >= 1 & g != 'a'", []bool{false, true, false, true}},
		{"g = \"a b\"", []bool{false, false, false, true}},
		{"x < 2", []bool{true, false, false, true}},
		{"x > 1", []bool{false, true, false, false}},
		{"x <= 2 && g < b", []bool{true, false, false, true}},
	}
	for _, tt := range tests {
		c, err := parseCondition(tt.cond)
		if err != nil {
			t.Fatalf("%s: %v", tt.cond, err)
		}
		got, err := c.mask(tb)
		if err != nil {
			t.Fatalf("%s: %v", tt.cond, err)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: row %d = %v, want %v", tt.cond, i, got[i], tt.want[i])
			}
		}
	}
	for _, bad := range []string{"", "= 1", "x", "x =", "x = 'a", "x = 1 or y = 2"} {
		if _, err := parseCondition(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	c, _ := parseCondition("x = a")
	if _, err := c.mask(tb); err == nil || !strings.Contains(err.Error(), "column x") {
		t.Errorf("text value on numeric column: err = %v", err)
	}
	c, _ = parseCondition("nope = 1")
	if _, err := c.mask(tb); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown column: err = %v", err)
	}
}

// TestRunPlan runs a plan over the API data and checks its JSON against
// the R golden values.
func TestRunPlan(t *testing.T) {
	plan, err := ParsePlan([]byte(`
data: apiclus1.csv
design: {psu: dnum, weight: pw, fpc: fpc}
estimates:
  - {id: m, mean: api00}
  - {id: t, total: enroll}
  - {id: r, ratio: {numerator: api.stu, denominator: enroll}}
  - {id: b, mean: api00, by: stype}
  - {id: p, proportion: stype}
  - {id: d, compare: api00, between: sch.wide}
  - {id: c, chisq: [sch.wide, stype]}
  - {id: l, lm: "api00 ~ ell + meals + mobility"}
  - {id: g, logit: "sch.wide ~ ell + meals"}
  - {id: q, quantile: api00, p: [0.25, 0.5]}
  - {id: qe, quantile: enroll, p: [0.25, 0.75], subset: "stype = E"}
  - {id: na, mean: acs.k3, na_rm: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	tb := loadCSV(t, "testdata/r-survey-api/apiclus1.csv")
	res, err := RunTable(plan, tb)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	api := readGolden(t, "testdata/r-survey-api/expected.tsv")
	cases := readGolden(t, "testdata/r-cases/expected.tsv")
	get := func(r map[string]any, path ...any) float64 {
		var v any = r
		for _, p := range path {
			switch k := p.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		return v.(float64)
	}
	R := back.Results
	checkClose(t, "m", get(R[0], "estimate"), api["dclus1.svymean.api00"][0])
	checkClose(t, "m.se", get(R[0], "se"), api["dclus1.svymean.api00"][1])
	checkClose(t, "m.ci", get(R[0], "ci", 0), cases["dclus1.mean.api00.ci"][0])
	checkClose(t, "m.deff", get(R[0], "deff"), cases["dclus1.mean.api00(est,se,deff)"][2])
	checkClose(t, "t", get(R[1], "se"), api["dclus1.svytotal.enroll"][1])
	checkClose(t, "r", get(R[2], "se"), api["dclus1.svyratio.api.stu/enroll"][1])
	for k, s := range []string{"E", "H", "M"} {
		checkClose(t, "b."+s, get(R[3], "domains", k, "se"), cases["dclus1.by.mean.api00.stype="+s][1])
		checkClose(t, "p."+s, get(R[4], "levels", k, "se"), cases["dclus1.prop.stype"+s+"(est,se,deff)"][1])
	}
	checkClose(t, "d", get(R[5], "t"), api["dclus1.svyttest.api00~sch.wide(diff,t)"][1])
	checkClose(t, "c", get(R[6], "F"), api["dclus1.svychisq.sch.wide+stype(F,p)"][0])
	checkClose(t, "c.ddf", get(R[6], "ddf"), api["dclus1.svychisq.sch.wide+stype(ndf,ddf)"][1])
	checkClose(t, "l", get(R[7], "coefficients", 3, "se"), api["dclus1.svyglm.api00~ell+meals+mobility.mobility"][1])
	checkClose(t, "g", get(R[8], "coefficients", 2, "se"), api["dclus1.svyglm.logit.sch.wide~ell+meals.meals"][1])
	checkClose(t, "q", get(R[9], "quantiles", 1, "se"), api["dclus1.svyquantile.api00.q50"][1])
	checkClose(t, "qe", get(R[10], "quantiles", 0, "estimate"), cases["dclus1.E.quantile.enroll.0.25"][0])
	checkClose(t, "qe.se", get(R[10], "quantiles", 1, "se"), cases["dclus1.E.quantile.enroll.0.75"][1])
	checkClose(t, "na", get(R[11], "se"), cases["dclus1.mean.acs.k3.narm"][1])
	if R[3]["type"] != "mean" || R[5]["groups"].([]any)[1] != "Yes" {
		t.Errorf("shape: %v / %v", R[3]["type"], R[5]["groups"])
	}
	for _, f := range []func(*bytes.Buffer) error{
		func(w *bytes.Buffer) error { return res.WriteCSV(w) },
		func(w *bytes.Buffer) error { return res.WriteTable(w) },
		func(w *bytes.Buffer) error { return res.WriteHTML(w) },
	} {
		var w bytes.Buffer
		if err := f(&w); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(w.String(), "sch.wide") || !strings.Contains(w.String(), "api00") {
			t.Errorf("output misses rows:\n%s", w.String())
		}
	}
	var w bytes.Buffer
	res.WriteCSV(&w)
	if !strings.Contains(w.String(), "644.1693989071038") {
		t.Errorf("CSV lacks full precision:\n%s", w.String()[:300])
	}
}

func TestRunErrorsNameTheColumn(t *testing.T) {
	tb := loadCSV(t, "testdata/r-survey-api/apiclus1.csv")
	tests := []struct{ plan, want string }{
		{"{id: a, mean: nope}", `"nope"`},
		{"{id: a, mean: acs.k3}", "acs.k3"},
		{"{id: a, ratio: {numerator: stype, denominator: api00}}", "stype"},
		{"{id: a, total: api00, by: [stype, nope]}", `"nope"`},
		{"{id: a, ratio: {numerator: api00, denominator: name}}", "name"},
		{"{id: a, mean: api00, subset: \"api00 > 5000\"}", "zero"},
		{"{id: a, compare: api00, between: stype}", "stype has 3 levels"},
	}
	for _, tt := range tests {
		p, err := ParsePlan([]byte("data: x.csv\ndesign: {psu: dnum, weight: pw}\nestimates: [" + tt.plan + "]"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = RunTable(p, tb)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %s", tt.plan, err, tt.want)
		}
	}
	for _, tt := range []struct {
		spec DesignSpec
		want string
	}{
		{DesignSpec{PSU: []string{"dnum"}, Weight: "nope"}, "nope"},
		{DesignSpec{PSU: []string{"dnum"}, Weight: "pw", FPC: []string{"stype"}}, "stype"},
		{DesignSpec{PSU: []string{"dnum"}, Strata: "stype"}, "nest"},
		{DesignSpec{PSU: []string{"dnum"}, Weight: "pw", Prob: "pw"}, "not both"},
	} {
		if _, err := NewDesign(tb, tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.spec, err, tt.want)
		}
	}
}

func FuzzParsePlan(f *testing.F) {
	for _, seed := range []string{
		"data: a.csv\ndesign: {strata: s, psu: p, weight: w, fpc: f, lonely_psu: adjust}\nestimates:\n  - {id: m1, mean: x}\n",
		"data: a.csv\nestimates: [{id: q, quantile: x, p: [0.5], subset: \"y = 1 and z != 'a'\"}]",
		"survey: s1\ndesign: {psu: [a, b], fpc: [c, d]}\nestimates: [{id: l, lm: \"y ~ a + b\"}, {id: c, chisq: [a, b]}]",
		"data: a.csv\nestimates: [{id: d, compare: y, between: g, levels: [a, b]}, {id: r, ratio: {numerator: a, denominator: b}, by: g}]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePlan(b)
		if err != nil {
			return
		}
		for _, e := range p.Estimates {
			if e.ID == "" || e.Kind() == "" {
				t.Fatalf("accepted entry without id or statistic: %+v", e)
			}
		}
		_ = p.Columns()
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("a,b\n1,x\n2,\"y,z\"\n"))
	f.Add([]byte("a,b\r\n1,NA\r\n,\"q\"\"q\"\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := ParseCSV(b, nil)
		if err != nil {
			return
		}
		for _, name := range tb.Names() {
			c, _ := tb.Column(name)
			if c.Len() != tb.Len() {
				t.Fatalf("column %s has %d rows, table %d", name, c.Len(), tb.Len())
			}
		}
	})
}

func TestReadCSV(t *testing.T) {
	in := "id,name,x,flag\r\n1,\"a, b\",1.5,NA\r\n2,\"say \"\"hi\"\"\",,yes\r\n3,c,-2e3,no\r\n"
	tb, err := ReadCSV(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := tb.Column("x")
	if x.IsText() || x.Num[0] != 1.5 || !math.IsNaN(x.Num[1]) || x.Num[2] != -2000 {
		t.Errorf("x = %v", x.Num)
	}
	name, _ := tb.Column("name")
	if !name.IsText() || name.Levels[name.Codes[0]] != "a, b" || name.Levels[name.Codes[1]] != `say "hi"` {
		t.Errorf("name = %v %v", name.Codes, name.Levels)
	}
	flag, _ := tb.Column("flag")
	if flag.Codes[0] != -1 || flag.Levels[flag.Codes[2]] != "no" {
		t.Errorf("flag = %v %v", flag.Codes, flag.Levels)
	}
	for _, tt := range []struct{ in, want string }{
		{"a,b\n1\n", "row 1"},
		{"a,b\n1,\"x\n", "unterminated"},
		{"a,a\n1,2\n", "twice"},
		{"a,b\n1,2\n", `"c"`},
	} {
		_, err := ParseCSV([]byte(tt.in), []string{"a", "b", "c"}[:2+strings.Count(tt.want, `"c"`)])
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.in, err, tt.want)
		}
	}
	// The parallel path (≥ 1 MiB, no quotes) must agree with the serial one.
	var b strings.Builder
	b.WriteString("k,v\n")
	for i := 0; b.Len() < 3<<20; i++ {
		b.WriteString("k")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(",")
		b.WriteString(strings.TrimRight(strings.TrimRight(strconvF(float64(i)*0.37), "0"), "."))
		b.WriteString("\n")
	}
	big, err := ParseCSV([]byte(b.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := big.Column("v")
	for i, got := range v.Num {
		if want := float64(i) * 0.37; math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Fatalf("row %d: %g, want %g", i, got, want)
		}
	}
}

func TestParseNumberExact(t *testing.T) {
	for _, s := range []string{"0", "1", "-0.5", "123456789012345", "0.1", "3.14159", "1e5", "12345678901234567", "33.846996307373", "0.000123", "+7"} {
		got, ok := parseNumber([]byte(s))
		want, _ := parseFloatStd(s)
		if !ok || got != want {
			t.Errorf("%s: got %v (%v), want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"-", ".", "1.2.3", "abc", "1,5"} {
		if _, ok := parseNumber([]byte(s)); ok {
			t.Errorf("%q parsed", s)
		}
	}
}
