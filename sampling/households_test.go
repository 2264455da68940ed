package sampling

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// listing builds a PSU listing with the given number of households per class.
func listing(psu string, counts map[string]int) []ListedHousehold {
	var out []ListedHousehold
	k := 0
	for _, c := range []string{"current_migrant", "return_migrant", "non_migrant"} {
		for i := 0; i < counts[c]; i++ {
			k++
			out = append(out, ListedHousehold{PSU: psu, ID: fmt.Sprintf("%s-%03d", psu, k), Class: c, Order: k})
		}
	}
	return out
}

func TestSelectHouseholds(t *testing.T) {
	q, err := ParseQuota("current_migrant=6,return_migrant=3,non_migrant=6")
	if err != nil {
		t.Fatal(err)
	}
	hh := append(listing("E1", map[string]int{"current_migrant": 14, "return_migrant": 2, "non_migrant": 80}),
		listing("E2", map[string]int{"current_migrant": 6, "return_migrant": 9, "non_migrant": 31})...)
	for _, method := range []HouseholdMethod{SimpleRandom, Systematic} {
		t.Run(fmt.Sprint(method), func(t *testing.T) {
			draws, err := SelectHouseholds(hh, q, method, 11)
			if err != nil {
				t.Fatal(err)
			}
			type key struct{ psu, class string }
			got := map[key]int{}
			pi2 := map[key]float64{}
			for _, d := range draws {
				if d.Selected {
					got[key{d.PSU, d.Class}]++
				}
				pi2[key{d.PSU, d.Class}] = d.Pi2
			}
			want := map[key][2]float64{ // selected, pi2
				{"E1", "current_migrant"}: {6, 6.0 / 14}, {"E1", "return_migrant"}: {2, 1}, {"E1", "non_migrant"}: {6, 6.0 / 80},
				{"E2", "current_migrant"}: {6, 1}, {"E2", "return_migrant"}: {3, 3.0 / 9}, {"E2", "non_migrant"}: {6, 6.0 / 31},
			}
			for k, w := range want {
				if float64(got[k]) != w[0] || pi2[k] != w[1] {
					t.Errorf("%v: %d selected with pi2 %v, want %v with %v", k, got[k], pi2[k], w[0], w[1])
				}
			}
			// A PSU's draw does not depend on the other PSUs in the call.
			alone, _ := SelectHouseholds(hh[96:], q, method, 11)
			for i, d := range alone {
				if d.Selected != draws[96+i].Selected {
					t.Fatalf("E2 household %s drawn differently alone", d.ID)
				}
			}
		})
	}
	if _, err := SelectHouseholds([]ListedHousehold{{PSU: "E1", ID: "1", Class: "other", Order: 7}}, q, SimpleRandom, 1); err == nil ||
		!strings.Contains(err.Error(), `line 7, column "class": PSU "E1" household "1": class "other" has no quota`) {
		t.Errorf("unknown class: %v", err)
	}
}

// TestSelectHouseholdsFrequencies: with 2,000 fixed seeds each household of
// a class is selected with frequency m/M (chi-square, as for PSUs), for both
// methods, and the class sample size is always m.
func TestSelectHouseholdsFrequencies(t *testing.T) {
	hh := listing("E9", map[string]int{"current_migrant": 13, "return_migrant": 4, "non_migrant": 29})
	q := Quota{"current_migrant": 5, "return_migrant": 3, "non_migrant": 7}
	const R = 2000
	for _, method := range []HouseholdMethod{SimpleRandom, Systematic} {
		counts := make([]int, len(hh))
		var pi []float64
		for seed := uint64(1); seed <= R; seed++ {
			draws, err := SelectHouseholds(hh, q, method, seed)
			if err != nil {
				t.Fatal(err)
			}
			per := map[string]int{}
			pi = pi[:0]
			for i, d := range draws {
				pi = append(pi, d.Pi2)
				if d.Selected {
					counts[i]++
					per[d.Class]++
				}
			}
			if per["current_migrant"] != 5 || per["return_migrant"] != 3 || per["non_migrant"] != 7 {
				t.Fatalf("seed %d: sizes %v", seed, per)
			}
		}
		chi2, df := chiSquare(counts, pi, R)
		crit := df2crit(df)
		t.Logf("method %d: chi-square %.2f on %d df (0.999 quantile %.2f)", method, chi2, df, crit)
		if chi2 > crit {
			t.Errorf("method %d: chi-square %.2f > %.2f", method, chi2, crit)
		}
	}
}

func TestAdjustNonresponse(t *testing.T) {
	w := []float64{10, 10, 20, 5, 5, 8, 8, 3}
	keys := [][]string{{"n", "u"}, {"n", "u"}, {"n", "u"}, {"n", "r"}, {"n", "r"}, {"s", "u"}, {"s", "u"}, {"s", "r"}}
	resp := []bool{true, false, true, false, false, true, true, false}
	res, err := AdjustNonresponse(w, keys, resp)
	if err != nil {
		t.Fatal(err)
	}
	// (n,u): 40/30; (n,r) has no respondents → merged into (n,u) (same
	// first key): 50/30; (s,r) → (s,u): 19/16.
	want := []float64{10 * 50.0 / 30, 0, 20 * 50.0 / 30, 0, 0, 8 * 19.0 / 16, 8 * 19.0 / 16, 0}
	for i := range want {
		if math.Abs(res.Weights[i]-want[i]) > 1e-12 {
			t.Fatalf("weights %v, want %v", res.Weights, want)
		}
	}
	if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "(n, r) has 2 units and no respondents") || !strings.Contains(res.Warnings[0], "merged into class (n, u)") {
		t.Errorf("warnings: %q", res.Warnings)
	}
	if math.Abs(sum(res.Weights)-sum(w)) > 1e-9 {
		t.Errorf("total not kept: %v vs %v", sum(res.Weights), sum(w))
	}
	// Single column: the following class in sort order, else the preceding.
	res, err = AdjustNonresponse([]float64{1, 1, 1, 1}, [][]string{{"a"}, {"b"}, {"c"}, {"d"}}, []bool{true, false, true, false})
	if err != nil {
		t.Fatal(err)
	}
	if res.Classes[1].MergedInto[0] != "c" || res.Classes[3].MergedInto[0] != "c" {
		t.Errorf("merges: %+v", res.Classes)
	}
	if _, err := AdjustNonresponse([]float64{1}, [][]string{{"a"}}, []bool{false}); err == nil {
		t.Error("no respondents: want an error")
	}
}

func TestBaseWeights(t *testing.T) {
	psus := &PSUSample{ExtraColumns: []string{"region"}, Draws: []PSUDraw{
		{Unit: Unit{ID: "E1", Stratum: "a", Size: 10, Extra: []string{"r1"}}, Pi: 0.25, Selected: true},
		{Unit: Unit{ID: "E2", Stratum: "a", Size: 30, Extra: []string{"r2"}}, Pi: 0.75},
		{Unit: Unit{ID: "E3", Stratum: "b", Size: 5, Extra: []string{"r1"}}, Pi: 1, Certainty: true, Selected: true},
	}}
	hh := &HouseholdSample{Draws: []HouseholdDraw{
		{ListedHousehold: ListedHousehold{PSU: "E1", ID: "h1", Class: "c"}, Pi2: 0.5, Selected: true},
		{ListedHousehold: ListedHousehold{PSU: "E1", ID: "h2", Class: "c"}, Pi2: 0.5},
		{ListedHousehold: ListedHousehold{PSU: "E3", ID: "h3", Class: "n"}, Pi2: 0.2, Selected: true},
	}}
	ws, err := BaseWeights(psus, hh)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Weight != 8 || ws[1].Weight != 5 || ws[0].FPC != 2 || ws[1].FPC != 1 {
		t.Errorf("base weights: %+v", ws)
	}
	tab := BaseWeightTable(ws, psus.ExtraColumns, nil)
	if strings.Join(tab.Header, ",") != "household_id,stratum,psu,class,pi1,pi2,weight,certainty,fpc,region" || strings.Join(tab.Rows[0], ",") != "h1,a,E1,c,0.25,0.5,8,0,2,r1" {
		t.Errorf("table: %v %v", tab.Header, tab.Rows)
	}
	hh.Draws[1].Selected = true
	hh.Draws[1].PSU = "E2"
	hh.Draws[1].Order = 3
	if _, err := BaseWeights(psus, hh); err == nil || !strings.Contains(err.Error(), `line 3, column "psu_id": household "h2": PSU "E2" was not selected`) {
		t.Errorf("unselected PSU: %v", err)
	}
}

func TestSummarize(t *testing.T) {
	all, by := Summarize([]float64{1, 2, 3, 4}, []string{"x", "x", "y", "y"})
	// deff = 4·30/100 = 1.2; CV = sqrt(1.25)/2.5.
	if all.N != 4 || all.Sum != 10 || all.Ratio != 4 || math.Abs(all.Deff-1.2) > 1e-15 || math.Abs(all.CV-math.Sqrt(1.25)/2.5) > 1e-15 {
		t.Errorf("all: %+v", all)
	}
	if len(by) != 2 || by[1].Group != "y" || by[1].Min != 3 || math.Abs(by[1].Deff-4*25.0/49/2) > 1e-15 {
		t.Errorf("by: %+v", by)
	}
	if s, _ := Summarize([]float64{5, 5, 5}, nil); s.CV != 0 || s.Deff != 1 {
		t.Errorf("equal weights: %+v", s)
	}
}
