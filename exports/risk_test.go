package exports

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestIndividualRiskHand(t *testing.T) {
	for _, tc := range []struct {
		fk   int
		Fk   float64
		want float64
	}{
		// pk = 0.1: 0.1/0.9 · ln 10
		{1, 10, 0.1 / 0.9 * math.Ln10},
		// pk = 0.2: 0.25 − 0.0625 · ln 5
		{2, 10, 0.25 - 0.0625*math.Log(5)},
		// pk = 0.1: 0.1 / (4 − 0.9)
		{4, 40, 0.1 / 3.1},
		// no weights (pk = 1): the limit 1/fk
		{1, 1, 1},
		{2, 2, 0.5},
		{5, 5, 0.2},
		{3, 2.5, 1.0 / 3}, // weights below 1
	} {
		if got := IndividualRisk(tc.fk, tc.Fk); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("IndividualRisk(%d, %v) = %.17g, want %.17g", tc.fk, tc.Fk, got, tc.want)
		}
	}
	if !math.IsNaN(IndividualRisk(0, 3)) {
		t.Error("IndividualRisk(0, …) should be NaN")
	}
	// Continuity at pk → 1 for fk = 1 and 2.
	for _, fk := range []int{1, 2} {
		near := IndividualRisk(fk, float64(fk)*(1+1e-4))
		if math.Abs(near-1/float64(fk)) > 1e-4 { // the fk = 2 formula cancels badly as pk → 1
			t.Errorf("fk=%d: risk near pk=1 is %v, want about %v", fk, near, 1/float64(fk))
		}
	}
}

// TestRiskGolden compares fk, Fk and the individual risks with
// testdata/indivrisk.csv (made by testdata/indivrisk.R).
func TestRiskGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/indivrisk.csv")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := ReadCSV(bytes.NewReader(data), "indivrisk.csv")
	if err != nil {
		t.Fatal(err)
	}
	k, err := newKeys(tbl, []string{"region", "sex", "size"}, tbl.Column("weight"))
	if err != nil {
		t.Fatal(err)
	}
	sum, fk, Fk, r := k.risk(3)
	var maxRel float64
	for i := 0; i < tbl.Rows(); i++ {
		if fk[i] != int(tbl.Column("fk").Ints[i]) {
			t.Fatalf("row %d: fk %d, want %d", i+1, fk[i], tbl.Column("fk").Ints[i])
		}
		wantF := tbl.Column("Fk").Floats[i]
		wantR := tbl.Column("risk").Floats[i]
		maxRel = math.Max(maxRel, math.Abs(Fk[i]-wantF)/wantF)
		maxRel = math.Max(maxRel, math.Abs(r[i]-wantR)/wantR)
	}
	if maxRel > 1e-12 {
		t.Errorf("max relative difference to R: %g", maxRel)
	}
	g, _ := os.ReadFile("testdata/indivrisk.global.txt")
	wantER := parseAfter(t, string(g), "global_risk_ER=")
	if math.Abs(sum.ExpectedReidentifications-wantER) > 1e-12*wantER {
		t.Errorf("expected re-identifications %v, want %v", sum.ExpectedReidentifications, wantER)
	}
}

func parseAfter(t *testing.T, s, key string) float64 {
	t.Helper()
	i := strings.Index(s, key)
	if i < 0 {
		t.Fatalf("%s not in %q", key, s)
	}
	f := strings.Fields(s[i+len(key):])[0]
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// strTable builds a table of text columns; "" is null.
func strTable(names []string, rows ...[]string) *Table {
	t := &Table{Name: "t"}
	for j, n := range names {
		c := &Column{Name: n, Type: String}
		for _, r := range rows {
			c.Strings = append(c.Strings, r[j])
		}
		for i, r := range rows {
			if r[j] == "" {
				c.SetNull(i)
			}
		}
		t.Columns = append(t.Columns, c)
	}
	return t
}

func TestFrequenciesWithNulls(t *testing.T) {
	tbl := strTable([]string{"a", "b"},
		[]string{"x", "1"},
		[]string{"x", ""},
		[]string{"y", "1"},
		[]string{"", ""},
		[]string{"y", "2"},
	)
	k, err := newKeys(tbl, []string{"a", "b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Row 1 (x,1) matches rows 1, 2, 4; row 2 (x,*) matches 1, 2, 4;
	// row 3 (y,1) matches 3, 4; row 4 (*,*) matches all; row 5 (y,2) matches 4, 5.
	want := []int{3, 3, 2, 5, 2}
	for _, fits := range []bool{true, false} {
		k.fits = fits
		fk, Fk := k.frequencies(nil, nil)
		for i := range want {
			if fk[i] != want[i] || Fk[i] != float64(want[i]) {
				t.Errorf("fits=%v row %d: fk %d Fk %v, want %d", fits, i+1, fk[i], Fk[i], want[i])
			}
		}
	}
}

func TestSuppress(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rows      [][]string
		k         int
		wantTotal int
		wantCol   map[string]int
	}{
		{
			name: "one value of the least important variable",
			rows: [][]string{
				{"r1", "u", "5"}, {"r1", "u", "5"}, {"r1", "u", "5"}, {"r1", "u", "6"},
			},
			k: 2, wantTotal: 1, wantCol: map[string]int{"size": 1},
		},
		{
			name: "already k-anonymous",
			rows: [][]string{{"r1", "u", "5"}, {"r1", "u", "5"}, {"r2", "r", "1"}, {"r2", "r", "1"}},
			k:    2, wantTotal: 0, wantCol: map[string]int{},
		},
		{
			name: "two variables needed",
			rows: [][]string{
				{"r1", "u", "5"}, {"r1", "u", "5"}, {"r2", "r", "1"}, {"r2", "r", "1"}, {"r1", "r", "9"},
			},
			k: 2, wantTotal: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tbl := strTable([]string{"region", "urban", "size"}, tc.rows...)
			k, _ := newKeys(tbl, []string{"region", "urban", "size"}, nil)
			nulled := k.suppress(tc.k, []int{2, 1, 0})
			total := 0
			for j, rows := range nulled {
				total += len(rows)
				if w, ok := tc.wantCol[k.names[j]]; ok && w != len(rows) {
					t.Errorf("%s: %d suppressed, want %d", k.names[j], len(rows), w)
				}
			}
			if total != tc.wantTotal {
				t.Errorf("%d values suppressed, want %d", total, tc.wantTotal)
			}
			fk, _ := k.frequencies(nil, nil)
			for i, f := range fk {
				if f < tc.k {
					t.Errorf("row %d: fk %d < k %d after suppression", i+1, f, tc.k)
				}
			}
		})
	}
}

// TestSuppressProperty: on random tables, suppression always reaches k
// (n ≥ k), never touches a value it need not (a k-anonymous table is left
// alone), and nulls only quasi-identifier values.
func TestSuppressProperty(t *testing.T) {
	iters := 30
	if testing.Short() {
		iters = 10
	}
	for it := 0; it < iters; it++ {
		tbl := householdTable(200+it*10, uint64(100+it))
		qis := []string{"region", "urban", "hh_size", "head_sex", "head_age"}
		k, err := newKeys(tbl, qis, tbl.Column("weight"))
		if err != nil {
			t.Fatal(err)
		}
		kAnon := 2 + it%4
		k.suppress(kAnon, []int{4, 3, 2, 1, 0})
		fk, _ := k.frequencies(nil, nil)
		for i, f := range fk {
			if f < kAnon {
				t.Fatalf("iteration %d: row %d fk %d < %d", it, i, f, kAnon)
			}
		}
		again := k.suppress(kAnon, []int{4, 3, 2, 1, 0})
		for j, rows := range again {
			if len(rows) > 0 {
				t.Fatalf("iteration %d: second pass suppressed %d values of %s", it, len(rows), qis[j])
			}
		}
	}
}
