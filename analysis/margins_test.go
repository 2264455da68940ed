package analysis

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/sampling"
)

// TestRakeToMarginsMatchesR: a plan that names the margins makes the raked
// weight itself (R's rake inside one script): the weights equal R's
// rake() weights of testdata/r-calibrated (w_rake, made from the same
// margins: N = 1.04 Σ w0 split .24/.33/.31/.12 by region and .37/.63 by
// sex of head) to 1e-9, and every estimate equals the plan that reads
// R's weights and declares the same calibration (which
// TestCalibratedDesignsMatchR checks against R's svyrecvar).
func TestRakeToMarginsMatchesR(t *testing.T) {
	tb := loadCSV(t, "testdata/r-calibrated/sample.csv")
	w0, err := tb.numeric("w0")
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, w := range w0 {
		n += w
	}
	n *= 1.04
	var margins []sampling.Margin
	for i, r := range []string{"east", "north", "south", "west"} {
		margins = append(margins, sampling.Margin{Variable: "region", Category: r, Total: n * []float64{.24, .33, .31, .12}[i]})
	}
	margins = append(margins, sampling.Margin{Variable: "sex_head", Category: "female", Total: n * .37},
		sampling.Margin{Variable: "sex_head", Category: "male", Total: n * .63})

	head := "data: sample.csv\ndesign:\n  strata: stratum\n  psu: [psu, hh]\n  fpc: [fpc1, fpc2]\n  lonely_psu: adjust\n"
	declared, err := ParsePlan([]byte(head + "  weight: w_rake\n  calibration: {method: rake, variables: [region, sex_head], before: w0}" + calibratedEstimates))
	if err != nil {
		t.Fatal(err)
	}
	made, err := ParsePlan([]byte(head + "  weight: w_made\n  calibration: {method: rake, variables: [region, sex_head], before: w0, margins: m.csv, tol: 1e-14, max_iter: 200}" + calibratedEstimates))
	if err != nil {
		t.Fatal(err)
	}
	if cols := strings.Join(made.Columns(), ","); strings.Contains(cols, "w_made") {
		t.Errorf("the plan asks the data for the weight it makes: %s", cols)
	}
	made.Design.Calibration[0].MarginRows = margins
	want, err := RunTable(declared, tb)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RunTable(made, loadCSV(t, "testdata/r-calibrated/sample.csv"))
	if err != nil {
		t.Fatal(err)
	}

	// The weights: R's w_rake.
	tb2 := loadCSV(t, "testdata/r-calibrated/sample.csv")
	made.Design.Calibration[0].MarginRows = margins
	if err := rakeToMargins(tb2, made.Design.Spec()); err != nil {
		t.Fatal(err)
	}
	rw, _ := tb2.numeric("w_rake")
	mw, err := tb2.numeric("w_made")
	if err != nil {
		t.Fatal(err)
	}
	for i := range rw {
		if !closeRel(mw[i], rw[i], 1e-9, 0) {
			t.Fatalf("row %d: raked weight %.15g, R's rake %.15g", i+1, mw[i], rw[i])
		}
	}

	// Every estimate: the same numbers (JSON of each result, numbers
	// compared to 1e-9).
	if len(got.Results) != len(want.Results) {
		t.Fatalf("%d results, want %d", len(got.Results), len(want.Results))
	}
	compared := 0
	for i := range want.Results {
		var a, b any
		ja, _ := json.Marshal(got.Results[i])
		jb, _ := json.Marshal(want.Results[i])
		json.Unmarshal(ja, &a)
		json.Unmarshal(jb, &b)
		compared += sameJSON(t, want.Results[i].ID, a, b)
	}
	if compared < 50 {
		t.Errorf("only %d numbers compared", compared)
	}

	// Refusals name what is wrong.
	for _, c := range []struct{ design, want string }{
		{"  weight: w0\n  calibration: {method: rake, variables: [region, sex_head], before: w0, margins: m.csv}", "is in the data"},
		{"  weight: w_made\n  calibration: {method: linear, variables: [region, sex_head], before: w0, margins: m.csv}", "method linear"},
		{"  weight: w_made\n  calibration: {method: rake, variables: [region, urban], before: w0, margins: m.csv}", "urban has no margins"},
	} {
		p, err := ParsePlan([]byte(head + c.design + calibratedEstimates))
		if err != nil {
			t.Fatal(err)
		}
		p.Design.Calibration[0].MarginRows = margins
		if _, err := RunTable(p, loadCSV(t, "testdata/r-calibrated/sample.csv")); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.design, err, c.want)
		}
	}
}

// sameJSON compares two decoded JSON values, numbers to 1e-9 relative,
// and returns how many numbers it compared.
func sameJSON(t *testing.T, path string, a, b any) int {
	t.Helper()
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok || !closeRel(x, y, 1e-9, 1e-12) {
			t.Errorf("%s: %v, want %v", path, a, b)
		}
		return 1
	case map[string]any:
		y, _ := b.(map[string]any)
		if len(x) != len(y) {
			t.Errorf("%s: keys %v, want %v", path, x, y)
			return 0
		}
		n := 0
		for k := range x {
			n += sameJSON(t, path+"."+k, x[k], y[k])
		}
		return n
	case []any:
		y, _ := b.([]any)
		if len(x) != len(y) {
			t.Errorf("%s: %d items, want %d", path, len(x), len(y))
			return 0
		}
		n := 0
		for i := range x {
			n += sameJSON(t, path, x[i], y[i])
		}
		return n
	default:
		if a != b {
			t.Errorf("%s: %v, want %v", path, a, b)
		}
		return 0
	}
}
