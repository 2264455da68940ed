package sampling

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func TestInclusionProbabilitiesMatchR(t *testing.T) {
	rows := readGolden(t, "inclusionprobabilities.csv")
	type tcase struct {
		n       float64
		a, want []float64
	}
	cases := map[string]*tcase{}
	var names []string
	for _, r := range rows {
		c, ok := cases[r["case"]]
		if !ok {
			c = &tcase{n: num(t, r["n"])}
			cases[r["case"]] = c
			names = append(names, r["case"])
		}
		c.a = append(c.a, num(t, r["a"]))
		c.want = append(c.want, num(t, r["pik"]))
	}
	if len(names) < 6 {
		t.Fatalf("only %d golden cases", len(names))
	}
	for _, name := range names {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			got := InclusionProbabilities(c.a, c.n)
			worst := 0.0
			certain := 0
			for i := range got {
				worst = math.Max(worst, math.Abs(got[i]-c.want[i]))
				if got[i] == 1 {
					certain++
				}
			}
			if worst > 1e-12 {
				t.Errorf("max |Go − R| = %g > 1e-12", worst)
			}
			t.Logf("%d units, n = %g, %d certainty, max |Go − R| = %.3g", len(got), c.n, certain, worst)
		})
	}
}

func TestUPSystematicMatchesR(t *testing.T) {
	rows := readGolden(t, "upsystematic.csv")
	type draw struct {
		u        float64
		pik      []float64
		selected []bool
	}
	draws := map[string]*draw{}
	var seeds []string
	for _, r := range rows {
		d, ok := draws[r["seed"]]
		if !ok {
			d = &draw{u: num(t, r["u"])}
			draws[r["seed"]] = d
			seeds = append(seeds, r["seed"])
		}
		d.pik = append(d.pik, num(t, r["pik"]))
		d.selected = append(d.selected, r["selected"] == "1")
	}
	for _, s := range seeds {
		d := draws[s]
		got := UPSystematic(d.pik, d.u)
		for i := range got {
			if got[i] != d.selected[i] {
				t.Errorf("seed %s (u = %g): unit %d selected = %v, R says %v", s, d.u, i+1, got[i], d.selected[i])
			}
		}
	}
}

// smallFrame has two strata, one with a certainty unit.
func smallFrame() *Frame {
	f := &Frame{}
	sizes := map[string][]float64{
		"A": {120, 80, 45, 300, 60, 95, 150, 30, 70, 210, 55, 1800},
		"B": {40, 40, 65, 90, 20, 110, 75, 35, 50},
	}
	for _, s := range []string{"A", "B"} {
		for i, m := range sizes[s] {
			f.Units = append(f.Units, Unit{ID: fmt.Sprintf("%s%02d", s, i+1), Stratum: s, Size: m})
		}
	}
	return f
}

// TestSelectPSUsFrequencies draws the sample with 2,000 fixed seeds and
// checks (1) the sample size in every stratum is exactly n_h every time and
// (2) each unit's selection count X_i matches π_i: the statistic
// Σ (X_i − Rπ_i)²/(Rπ_i(1−π_i)) over the non-certainty units is compared
// with the 0.999 quantile of χ² with as many degrees of freedom (each term
// has expectation 1 whatever the joint design). The seeds are fixed, so the
// outcome is deterministic.
func TestSelectPSUsFrequencies(t *testing.T) {
	f := smallFrame()
	alloc := map[string]int{"A": 4, "B": 3}
	const R = 2000
	for _, randomSort := range []bool{false, true} {
		t.Run(fmt.Sprintf("randomSort=%v", randomSort), func(t *testing.T) {
			counts := make([]int, len(f.Units))
			var pi []float64
			for seed := uint64(1); seed <= R; seed++ {
				draws, err := SelectPSUs(f, alloc, seed, SelectOptions{RandomSort: randomSort})
				if err != nil {
					t.Fatal(err)
				}
				per := map[string]int{}
				for i, d := range draws {
					if d.Selected {
						counts[i]++
						per[d.Stratum]++
					}
				}
				for s, n := range alloc {
					if per[s] != n {
						t.Fatalf("seed %d: stratum %s has %d selected, want %d", seed, s, per[s], n)
					}
				}
				if pi == nil {
					for _, d := range draws {
						pi = append(pi, d.Pi)
					}
				}
			}
			for i, p := range pi {
				if p == 1 && counts[i] != R {
					t.Errorf("certainty unit %s selected %d times of %d", f.Units[i].ID, counts[i], R)
				}
			}
			chi2, df := chiSquare(counts, pi, R)
			crit := distuv.ChiSquared{K: float64(df)}.Quantile(0.999)
			t.Logf("chi-square = %.2f on %d df (0.999 quantile %.2f)", chi2, df, crit)
			if chi2 > crit {
				t.Errorf("selection frequencies do not match pi: chi-square %.2f > %.2f", chi2, crit)
			}
			// The test has power: the same counts against equal
			// probabilities n_h/N_h are rejected.
			equal := make([]float64, len(pi))
			for i, u := range f.Units {
				if pi[i] < 1 {
					equal[i] = map[string]float64{"A": 3.0 / 11, "B": 3.0 / 9}[u.Stratum]
				} else {
					equal[i] = 1
				}
			}
			if wrong, _ := chiSquare(counts, equal, R); wrong <= crit {
				t.Errorf("counts not rejected against equal probabilities: %.2f <= %.2f", wrong, crit)
			}
		})
	}
}

// chiSquare is Σ (X_i − Rπ_i)²/(Rπ_i(1−π_i)) over units with π_i < 1.
func chiSquare(counts []int, pi []float64, R int) (chi2 float64, df int) {
	for i, p := range pi {
		if p >= 1 {
			continue
		}
		e := float64(R) * p
		chi2 += (float64(counts[i]) - e) * (float64(counts[i]) - e) / (e * (1 - p))
		df++
	}
	return chi2, df
}

// TestSystematicExactDesign enumerates the whole systematic design over
// u ∈ (0, 1) (the selected set only changes where u crosses a fractional
// part of the cumulated π) and checks that each unit's inclusion
// probability is exactly π_i and every sample has n units.
func TestSystematicExactDesign(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sizes []float64
		n     int
	}{
		{"A", []float64{120, 80, 45, 300, 60, 95, 150, 30, 70, 210, 55}, 3},
		{"uneven", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 5},
		{"equal", []float64{5, 5, 5, 5, 5, 5, 5}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pik := InclusionProbabilities(tc.sizes, float64(tc.n))
			breaks := []float64{0, 1}
			c := 0.0
			for _, p := range pik {
				c += p
				breaks = append(breaks, c-math.Floor(c))
			}
			sort.Float64s(breaks)
			got := make([]float64, len(pik))
			for k := 0; k+1 < len(breaks); k++ {
				lo, hi := breaks[k], breaks[k+1]
				if hi-lo < 1e-15 {
					continue
				}
				s := UPSystematic(pik, (lo+hi)/2)
				n := 0
				for i, sel := range s {
					if sel {
						got[i] += hi - lo
						n++
					}
				}
				if n != tc.n {
					t.Fatalf("u in (%g, %g): %d selected, want %d", lo, hi, n, tc.n)
				}
			}
			for i := range pik {
				if math.Abs(got[i]-pik[i]) > 1e-12 {
					t.Errorf("unit %d: design probability %g, pi %g", i, got[i], pik[i])
				}
			}
		})
	}
}

func TestSelectPSUsDeterministic(t *testing.T) {
	f := smallFrame()
	alloc := map[string]int{"A": 4, "B": 3}
	a, _ := SelectPSUs(f, alloc, 42, SelectOptions{RandomSort: true})
	b, _ := SelectPSUs(f, alloc, 42, SelectOptions{RandomSort: true})
	// Moving stratum A after B must not change either stratum's draw.
	moved := &Frame{Units: append(append([]Unit(nil), f.Units[12:]...), f.Units[:12]...)}
	c, _ := SelectPSUs(moved, alloc, 42, SelectOptions{RandomSort: true})
	selA, selB, selC := selectedIDs(a), selectedIDs(b), selectedIDs(c)
	if selA != selB {
		t.Errorf("same seed, different samples: %s vs %s", selA, selB)
	}
	if selA != selC {
		t.Errorf("reordering strata changed the sample: %s vs %s", selA, selC)
	}
	d, _ := SelectPSUs(f, alloc, 43, SelectOptions{RandomSort: true})
	if selectedIDs(d) == selA {
		t.Errorf("seeds 42 and 43 gave the same sample %s", selA)
	}
	// Pinned sample: the draw must not change between releases.
	if want := "A02 A06 A10 A12 B01 B03 B07"; selA != want {
		t.Errorf("seed 42 sample: %s, want %s", selA, want)
	}
}

func selectedIDs(ds []PSUDraw) string {
	var ids []string
	for _, d := range ds {
		if d.Selected {
			ids = append(ids, d.ID)
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, " ")
}

func TestAllocate(t *testing.T) {
	strata := []Stratum{{"a", 40, 4000}, {"b", 10, 500}, {"c", 3, 60}, {"d", 1, 20}, {"e", 20, 1000}}
	tests := []struct {
		name  string
		n     int
		alloc string
		want  map[string]int
	}{
		{"proportional", 20, "proportional", map[string]int{"a": 12, "b": 2, "c": 2, "d": 1, "e": 3}},
		{"equal", 20, "equal", map[string]int{"a": 6, "b": 5, "c": 3, "d": 1, "e": 5}},
		{"power0", 20, "power:0", map[string]int{"a": 6, "b": 5, "c": 3, "d": 1, "e": 5}},
		{"power.5", 30, "power:0.5", map[string]int{"a": 15, "b": 5, "c": 2, "d": 1, "e": 7}},
		{"minimum", 8, "proportional", map[string]int{"a": 2, "b": 2, "c": 1, "d": 1, "e": 2}},
		{"everything", 74, "equal", map[string]int{"a": 40, "b": 10, "c": 3, "d": 1, "e": 20}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseAllocation(tc.alloc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Allocate(strata, tc.n, a)
			if tc.name == "minimum" {
				if err == nil {
					t.Fatalf("n = 8 < 9 needed: want an error, got %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, s := range strata {
				total += got[s.Name]
				if got[s.Name] < min(2, s.Units) || got[s.Name] > s.Units {
					t.Errorf("stratum %s: %d outside [%d, %d]", s.Name, got[s.Name], min(2, s.Units), s.Units)
				}
			}
			if total != tc.n {
				t.Errorf("total %d, want %d", total, tc.n)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := Allocate(strata, 75, Allocation{Method: Equal}); err == nil {
		t.Error("n above the frame size: want an error")
	}
	fixed := Allocation{Method: Fixed, Fixed: map[string]int{"a": 5, "b": 1, "c": 2, "d": 1, "e": 4, "z": 3}}
	_, err := Allocate(strata, 0, fixed)
	if err == nil || !strings.Contains(err.Error(), `stratum "b": n = 1, at least 2`) || !strings.Contains(err.Error(), `"z" is not in the frame`) {
		t.Errorf("fixed table errors: %v", err)
	}
}

func df2crit(df int) float64 { return distuv.ChiSquared{K: float64(df)}.Quantile(0.999) }
