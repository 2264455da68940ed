package sampling

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSelectPSUs selects 1,000 PSUs from a 1,000,000-unit frame in
// 100 strata (proportional allocation, frame order).
func BenchmarkSelectPSUs(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	f := &Frame{Units: make([]Unit, 1_000_000)}
	for i := range f.Units {
		f.Units[i] = Unit{ID: fmt.Sprint("E", i), Stratum: fmt.Sprint("s", i%100), Size: 20 + r.ExpFloat64()*150}
	}
	alloc, err := Allocate(f.Strata(), 1000, Allocation{Method: Proportional})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := SelectPSUs(f, alloc, 7, SelectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRake rakes 1,000,000 households to 3 margins (10 regions, 2
// sexes, 6 age groups) until the relative misfit is below 1e-10.
func BenchmarkRake(b *testing.B) {
	const n = 1_000_000
	r := rand.New(rand.NewPCG(3, 4))
	w := make([]float64, n)
	vars := []MarginVariable{
		{Name: "region", Categories: make([]string, 10), Totals: make([]float64, 10), Code: make([]int, n)},
		{Name: "sex", Categories: make([]string, 2), Totals: make([]float64, 2), Code: make([]int, n)},
		{Name: "agegrp", Categories: make([]string, 6), Totals: make([]float64, 6), Code: make([]int, n)},
	}
	for i := range w {
		w[i] = 50 + 100*r.Float64()
		for k := range vars {
			vars[k].Code[i] = r.IntN(len(vars[k].Categories))
		}
	}
	N := 1.2e8
	for k := range vars {
		m := len(vars[k].Categories)
		s := 0.0
		for c := 0; c < m; c++ {
			vars[k].Categories[c] = fmt.Sprint(c)
			vars[k].Totals[c] = float64(c + 3)
			s += float64(c + 3)
		}
		for c := range vars[k].Totals {
			vars[k].Totals[c] *= N / s
		}
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := Rake(w, vars, 100, 1e-10)
		if err != nil || !res.Converged {
			b.Fatal(err, res.MaxRelDiff)
		}
		b.ReportMetric(float64(res.Iterations), "iterations")
	}
}
