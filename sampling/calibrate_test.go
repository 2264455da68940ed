package sampling

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// calibrationFixture loads testdata/calibration_data.csv and its margins.
func calibrationFixture(t *testing.T, marginsFile string) (*Table, []float64, []MarginVariable) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "calibration_data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := ReadTable(f)
	if err != nil {
		t.Fatal(err)
	}
	w, err := tab.Floats("weight")
	if err != nil {
		t.Fatal(err)
	}
	mf, err := os.Open(filepath.Join("testdata", marginsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	margins, err := ReadMargins(mf)
	if err != nil {
		t.Fatal(err)
	}
	vars, err := MarginVariables(tab, margins)
	if err != nil {
		t.Fatal(err)
	}
	return tab, w, vars
}

func goldenColumn(t *testing.T, name string) []float64 {
	t.Helper()
	var out []float64
	for _, r := range readGolden(t, "calibration_golden.csv") {
		out = append(out, num(t, r[name]))
	}
	return out
}

func TestWeightsMatchRSurvey(t *testing.T) {
	tab, w, vars := calibrationFixture(t, "calibration_margins.csv")
	_, _, numVars := calibrationFixture(t, "calibration_margins_numeric.csv")
	tests := []struct {
		golden string
		tol    float64
		run    func() ([]float64, error)
	}{
		{"poststratify", 1e-12, func() ([]float64, error) { return PostStratify(w, vars[0]) }},
		{"rake", 1e-8, func() ([]float64, error) {
			r, err := Rake(w, vars, 1000, 1e-14)
			if err == nil && !r.Converged {
				t.Errorf("rake did not converge: %+v", r.MaxRelDiff)
			}
			return r.Weights, err
		}},
		// IPF and the raking calibration function reach the same weights.
		{"raking", 1e-8, func() ([]float64, error) {
			r, err := Rake(w, vars, 1000, 1e-14)
			return r.Weights, err
		}},
		{"raking", 1e-8, func() ([]float64, error) {
			r, err := Calibrate(w, vars, CalibrateOptions{Fun: Raking, Epsilon: 1e-13, MaxIter: 200})
			return r.Weights, err
		}},
		{"linear", 1e-8, func() ([]float64, error) {
			r, err := Calibrate(w, vars, CalibrateOptions{})
			return r.Weights, err
		}},
		{"linear_bounded", 1e-8, func() ([]float64, error) {
			r, err := Calibrate(w, vars, CalibrateOptions{Lower: 0.6, Upper: 1.6, Epsilon: 1e-13, MaxIter: 200})
			return r.Weights, err
		}},
		{"raking_bounded", 1e-8, func() ([]float64, error) {
			r, err := Calibrate(w, vars, CalibrateOptions{Fun: Raking, Lower: 0.6, Upper: 1.6, Epsilon: 1e-13, MaxIter: 200})
			return r.Weights, err
		}},
		{"linear_numeric", 1e-8, func() ([]float64, error) {
			r, err := Calibrate(w, numVars, CalibrateOptions{})
			return r.Weights, err
		}},
		{"linear_bounded_scaled", 1e-8, func() ([]float64, error) {
			scaled := make([]MarginVariable, len(vars))
			for k, v := range vars {
				scaled[k] = v
				scaled[k].Totals = make([]float64, len(v.Totals))
				for c, x := range v.Totals {
					scaled[k].Totals[c] = 30 * x
				}
			}
			r, err := Calibrate(w, scaled, CalibrateOptions{Lower: 0.6, Upper: 1.6, Epsilon: 1e-13, MaxIter: 200})
			return r.Weights, err
		}},
		{"trim", 1e-12, func() ([]float64, error) {
			r, err := Trim(w, 30, 90, false)
			return r.Weights, err
		}},
		{"trim_strict", 1e-12, func() ([]float64, error) {
			r, err := Trim(w, 30, 90, true)
			return r.Weights, err
		}},
		{"trim_upper", 1e-12, func() ([]float64, error) {
			r, err := Trim(w, math.Inf(-1), 80, true)
			return r.Weights, err
		}},
	}
	if len(w) != len(tab.Rows) || len(w) < 200 {
		t.Fatalf("fixture has %d rows", len(w))
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			want := goldenColumn(t, tc.golden)
			got, err := tc.run()
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range want {
				worst = math.Max(worst, math.Abs(got[i]-want[i])/math.Abs(want[i]))
			}
			t.Logf("max relative difference to R: %.3g", worst)
			if worst > tc.tol {
				t.Errorf("max relative difference %g > %g", worst, tc.tol)
			}
		})
	}
}

func TestMarginErrors(t *testing.T) {
	data := "id,region,sex,w\n1,r1,f,10\n2,r2,m,10\n3,r9,f,10\n"
	tab, err := ReadTable(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, margins, want string
	}{
		{"unknown category", "variable,category,total\nregion,r1,10\nregion,r2,20\n", `line 4, column "region": value "r9" has no population total`},
		{"missing column", "variable,category,total\nage,a1,10\n", `column "age": missing column`},
		{"empty category with total", "variable,category,total\nsex,f,10\nsex,m,10\nsex,x,5\n", `category "x" has population total 5 but no units`},
		{"disagreeing totals", "variable,category,total\nsex,f,10\nsex,m,10\nregion,r1,1\nregion,r2,1\nregion,r9,1\n", `the margins disagree`},
		{"duplicate", "variable,category,total\nsex,f,10\nsex,f,10\n", `line 3, column "category": variable "sex" category "f" appears twice`},
		{"negative", "variable,category,total\nsex,f,-1\n", `line 2, column "total": a category total must be >= 0`},
		{"mixed", "variable,category,total\nsex,f,1\nsex,,3\n", `line 3, column "category": variable "sex" has both`},
		{"not a number", "variable,category,total\nsex,f,many\n", `line 2, column "total": want a finite number`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadMargins(strings.NewReader(tc.margins))
			if err == nil {
				_, err = MarginVariables(tab, m)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// A zero-total category without units is dropped, as R does.
	m, _ := ReadMargins(strings.NewReader("variable,category,total\nsex,f,10\nsex,m,10\nsex,x,0\n"))
	vars, err := MarginVariables(tab, m)
	if err != nil || len(vars[0].Categories) != 2 {
		t.Errorf("zero-total empty category: %v, %v", vars, err)
	}
}

func TestRakeReportsNonConvergence(t *testing.T) {
	_, w, vars := calibrationFixture(t, "calibration_margins.csv")
	r, err := Rake(w, vars, 2, 1e-14)
	if err != nil {
		t.Fatal(err)
	}
	if r.Converged || r.Iterations != 2 || r.MaxRelDiff == 0 {
		t.Errorf("2 iterations at tol 1e-14: %+v", r)
	}
	r, err = Rake(w, vars, 100, 1e-6)
	if err != nil || !r.Converged || r.MaxRelDiff >= 1e-6 {
		t.Errorf("tol 1e-6: %+v %v", r, err)
	}
	if _, err := Calibrate(w, vars, CalibrateOptions{Lower: 0.99, Upper: 1.01, MaxIter: 5}); err == nil {
		t.Error("infeasible bounds: want ErrNotConverged")
	}
}

func TestTrimSemantics(t *testing.T) {
	w := []float64{1, 2, 3, 10, 4}
	// 10 → 6, excess 4 shared by the 4 others: 2, 3, 4, 5.
	r, err := Trim(w, 0, 6, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{2, 3, 4, 6, 5}
	for i := range want {
		if r.Weights[i] != want[i] {
			t.Fatalf("got %v, want %v", r.Weights, want)
		}
	}
	if r.Trimmed != 1 || r.Rounds != 1 {
		t.Errorf("trimmed %d rounds %d", r.Trimmed, r.Rounds)
	}
	// Strict: the shares push a unit over again, repeat until inside.
	r, err = Trim([]float64{1, 1, 1, 5.5, 5.5, 12}, 0, 6, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range r.Weights {
		if x > 6 {
			t.Errorf("strict left %v above 6", r.Weights)
		}
	}
	if math.Abs(sum(r.Weights)-26) > 1e-12 || r.Rounds < 2 {
		t.Errorf("strict: %+v", r)
	}
	if _, err := Trim([]float64{10, 10}, 0, 6, true); err == nil {
		t.Error("total above n·upper: want an error")
	}
}

func TestRakeZeroTotal(t *testing.T) {
	tab, _ := ReadTable(strings.NewReader("sex,region,w\nf,a,1\nm,a,2\nf,b,3\nm,b,4\nf,c,5\n"))
	m, _ := ReadMargins(strings.NewReader("variable,category,total\nsex,f,10\nsex,m,10\nregion,a,8\nregion,b,12\nregion,c,0\n"))
	vars, err := MarginVariables(tab, m)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := tab.Floats("w")
	r, err := Rake(w, vars, 100, 1e-12)
	if err != nil || !r.Converged || r.Weights[4] != 0 {
		t.Errorf("rake with a zero-total category: %+v %v", r, err)
	}
}
