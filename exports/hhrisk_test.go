package exports

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestHouseholdRiskGolden compares the joined person-level risk (a blank a
// value of its own) and sdcMicro's household risk with testdata/hhrisk.csv
// and hhrisk.global.txt, made by testdata/hhrisk.R from the published
// formulas, to 1e-12 relative.
func TestHouseholdRiskGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/hhrisk.csv")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := ReadCSV(bytes.NewReader(data), "hhrisk.csv")
	if err != nil {
		t.Fatal(err)
	}
	k, err := newKeys(tbl, []string{"region", "size", "sex", "age"}, tbl.Column("weight"))
	if err != nil {
		t.Fatal(err)
	}
	k.blanksMatch = false
	_, fk, Fk, r := k.risk(3)
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }
	ids := make([]string, tbl.Rows())
	for i := range ids {
		ids[i] = tbl.Column("hid").Format(i)
		if want := int(tbl.Column("fk").Float(i)); fk[i] != want {
			t.Errorf("row %d: fk %d, R %d", i+1, fk[i], want)
		}
		if want := tbl.Column("Fk").Float(i); !close(Fk[i], want) {
			t.Errorf("row %d: Fk %.17g, R %.17g", i+1, Fk[i], want)
		}
		if want := tbl.Column("risk").Float(i); !close(r[i], want) {
			t.Errorf("row %d: risk %.17g, R %.17g", i+1, r[i], want)
		}
	}
	hr, per := HouseholdRiskOf(ids, r)
	for i, id := range ids {
		if want := tbl.Column("hhrisk").Float(i); !close(per[id], want) {
			t.Errorf("household %s: risk %.17g, R %.17g", id, per[id], want)
		}
	}
	glob, err := os.ReadFile("testdata/hhrisk.global.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, f := range strings.Fields(string(glob)) {
		kv := strings.SplitN(f, "=", 2)
		v, err := strconv.ParseFloat(kv[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		want[kv[0]] = v
	}
	for name, got := range map[string]float64{"hier_risk_ER": hr.ExpectedReidentifications, "hier_risk": hr.Global, "expected_households": hr.ExpectedHouseholds} {
		if !close(got, want[name]) {
			t.Errorf("%s %.17g, R %.17g", name, got, want[name])
		}
	}
	if hr.Households != 40 {
		t.Errorf("%d households, want 40", hr.Households)
	}
}

// ExampleHouseholdRiskOf: a household of two members with individual risks
// 0.5 and 0.2 is re-identified unless neither is: 1 − 0.5·0.8 = 0.6.
func ExampleHouseholdRiskOf() {
	hr, per := HouseholdRiskOf([]string{"a", "a", "b"}, []float64{0.5, 0.2, 0.1})
	fmt.Printf("a %.2f, b %.2f, hier_risk_ER %.2f, expected households %.2f\n", per["a"], per["b"], hr.ExpectedReidentifications, hr.ExpectedHouseholds)
	// Output: a 0.60, b 0.10, hier_risk_ER 1.30, expected households 0.70
}
