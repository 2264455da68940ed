package synth

import (
	"math"
	"testing"
)

func TestGenerate(t *testing.T) {
	for _, n := range []int{20, 101, 5000} {
		h, err := Generate(n, 7)
		if err != nil {
			t.Fatal(err)
		}
		if h.Len() != n {
			t.Fatalf("n=%d: got %d rows", n, h.Len())
		}
		psuStratum := map[string]string{}
		byClass := map[string][2]float64{}
		for i := 0; i < n; i++ {
			if h.Weight[i] < 1 || math.IsNaN(h.Weight[i]) {
				t.Fatalf("row %d: weight %g", i, h.Weight[i])
			}
			if s, ok := psuStratum[h.PSU[i]]; ok && s != h.Stratum[i] {
				t.Fatalf("psu %s in two strata", h.PSU[i])
			}
			psuStratum[h.PSU[i]] = h.Stratum[i]
			if h.ChildrenEnroll[i] > h.Children6to17[i] {
				t.Fatalf("row %d: more enrolled than children", i)
			}
			if (h.RemitReceived[i] == 1) != (h.RemitAmount[i] > 0) {
				t.Fatalf("row %d: remit_received %d with amount %g", i, h.RemitReceived[i], h.RemitAmount[i])
			}
			if (h.Migrant[i] == CurrentMigrant) != (h.NMigrants[i] > 0) || (h.DestCountry[i] != "") != (h.NMigrants[i] > 0) {
				t.Fatalf("row %d: migrant %s with %d abroad, destination %q", i, h.Migrant[i], h.NMigrants[i], h.DestCountry[i])
			}
			c := byClass[h.Migrant[i]]
			c[0] += h.Weight[i] * float64(h.RemitReceived[i])
			c[1] += h.Weight[i]
			byClass[h.Migrant[i]] = c
		}
		if n >= 5000 {
			cur := byClass[CurrentMigrant][0] / byClass[CurrentMigrant][1]
			non := byClass[NonMigrant][0] / byClass[NonMigrant][1]
			if cur < 0.5 || non > 0.15 {
				t.Errorf("remittance shares: current %g, non-migrant %g", cur, non)
			}
		}
	}
	a, _ := Generate(500, 3)
	b, _ := Generate(500, 3)
	for i := range a.ConsPC {
		if a.Weight[i] != b.Weight[i] || a.PSU[i] != b.PSU[i] {
			t.Fatal("same seed, different data")
		}
	}
	if _, err := Generate(5, 1); err == nil {
		t.Error("n = 5 accepted")
	}
}
