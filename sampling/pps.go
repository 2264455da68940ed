package sampling

import (
	"fmt"
	"math"
)

// InclusionProbabilities returns the inclusion probabilities of a sample of
// size n drawn with probability proportional to the sizes a, exactly as R's
// sampling::inclusionprobabilities(a, n) (package sampling 2.9):
// π_i = n·a_i/Σa; while some π_i ≥ 1, those units are fixed at 1 and the
// others recomputed as (n − l)·a_i/Σ_{not fixed} a, with l the number fixed,
// until the set of fixed units stops growing. Negative sizes count as zero;
// units of size zero get π = 0. The result sums to n (up to rounding) when
// n does not exceed the number of units with positive size.
func InclusionProbabilities(a []float64, n float64) []float64 {
	pik1 := make([]float64, len(a))
	aa := make([]float64, len(a))
	allZero := true
	for i, v := range a {
		if v > 0 {
			aa[i] = v
			allZero = false
		}
	}
	if allZero {
		return pik1
	}
	s := sum(aa)
	for i, v := range aa {
		pik1[i] = n * v / s
	}
	// pik = pik1[pik1 > 0], worked on in place through pos.
	var pos []int
	for i, p := range pik1 {
		if p > 0 {
			pos = append(pos, i)
		}
	}
	pik := make([]float64, len(pos))
	for k, i := range pos {
		pik[k] = pik1[i]
	}
	list := make([]bool, len(pik))
	l := 0
	for k, p := range pik {
		if p >= 1 {
			list[k] = true
			l++
		}
	}
	if l > 0 {
		l1 := 0
		x := make([]float64, 0, len(pik))
		for l != l1 {
			x = x[:0]
			for k, p := range pik {
				if !list[k] {
					x = append(x, p)
				}
			}
			sx := sum(x)
			j := 0
			for k := range pik {
				if !list[k] {
					pik[k] = (n - float64(l)) * (x[j] / sx)
					j++
				} else {
					pik[k] = 1
				}
			}
			l1 = l
			l = 0
			for k, p := range pik {
				list[k] = p >= 1
				if list[k] {
					l++
				}
			}
		}
		for k, i := range pos {
			pik1[i] = pik[k]
		}
	}
	return pik1
}

// sum adds xs with Neumaier's compensation, close to R's sum (which
// accumulates in extended precision).
func sum(xs []float64) float64 {
	var s, c float64
	for _, x := range xs {
		t := s + x
		if math.Abs(s) >= math.Abs(x) {
			c += (s - t) + x
		} else {
			c += (x - t) + s
		}
		s = t
	}
	return s + c
}

// UPSystematicEps is the eps of R's sampling::UPsystematic: units with
// π ≤ eps are never selected and units with π ≥ 1 − eps always are.
const UPSystematicEps = 1e-6

// UPSystematic draws a systematic sample with unequal probabilities pik and
// random start u in (0, 1), as R's sampling::UPsystematic(pik) when its
// runif(1) returns u: the units with eps < π < 1 − eps are taken in the
// given order, their π cumulated (C_0 = 0, C_k = π_1 + … + π_k), and unit k
// is selected when (C_{k−1} − u) mod 1 > (C_k − u) mod 1, i.e. when a point
// u + j (j = 0, 1, …) falls in (C_{k−1}, C_k]. Units with π ≥ 1 − eps are
// selected (R returns their π, which is 1 for certainty units) and units with
// π ≤ eps are not.
func UPSystematic(pik []float64, u float64) []bool {
	s := make([]bool, len(pik))
	prev := 0.0
	for k, p := range pik {
		switch {
		case p >= 1-UPSystematicEps:
			s[k] = true
		case p > UPSystematicEps:
			c := prev + p
			s[k] = math.Floor(c-u) > math.Floor(prev-u)
			prev = c
		}
	}
	return s
}

// PSUDraw is one frame unit with its first-stage inclusion probability and
// whether it was selected.
type PSUDraw struct {
	Unit
	Pi        float64 // π1, exactly 1 for certainty units
	Certainty bool    // π1 = 1: selected with certainty
	Selected  bool
}

// SelectOptions tunes SelectPSUs.
type SelectOptions struct {
	// RandomSort shuffles the units of each stratum before the systematic
	// pass; otherwise the pass follows frame order (implicit
	// stratification by whatever the frame is sorted on).
	RandomSort bool
}

// SelectPSUs draws n_h = alloc[stratum] PSUs in each stratum of f with
// probability proportional to size, systematically, with certainty units:
// π1 = InclusionProbabilities(sizes in the stratum, n_h); units with π1 = 1
// are selected with certainty and the others by UPSystematic over the
// stratum (in frame order, or shuffled with RandomSort). Each stratum draws
// from NewRand(seed, "stratum:"+stratum name): the optional shuffle first, then the
// start u. Exactly n_h units are selected in every stratum. The result is in
// frame order.
func SelectPSUs(f *Frame, alloc map[string]int, seed uint64, opt SelectOptions) ([]PSUDraw, error) {
	out := make([]PSUDraw, len(f.Units))
	pos := map[string]int{}
	var names []string
	var counts []int
	stratum := make([]int32, len(f.Units))
	for i, u := range f.Units {
		h, ok := pos[u.Stratum]
		if !ok {
			h = len(names)
			pos[u.Stratum] = h
			names = append(names, u.Stratum)
			counts = append(counts, 0)
		}
		stratum[i] = int32(h)
		counts[h]++
		out[i].Unit = u
	}
	members := make([][]int, len(names))
	for h, c := range counts {
		members[h] = make([]int, 0, c)
	}
	for i, h := range stratum {
		members[h] = append(members[h], i)
	}
	for h, name := range names {
		idx := members[h]
		nh, ok := alloc[name]
		if !ok {
			return nil, fmt.Errorf("select PSUs: stratum %q has no allocation", name)
		}
		if nh < 0 || nh > len(idx) {
			return nil, fmt.Errorf("select PSUs: stratum %q: n = %d but the frame has %d units", name, nh, len(idx))
		}
		sizes := make([]float64, len(idx))
		for k, i := range idx {
			sizes[k] = f.Units[i].Size
		}
		pik := InclusionProbabilities(sizes, float64(nh))
		rest := nh
		var order []int
		for k, i := range idx {
			out[i].Pi = pik[k]
			if pik[k] >= 1 {
				out[i].Pi, out[i].Certainty, out[i].Selected = 1, true, true
				rest--
			} else {
				order = append(order, i)
			}
		}
		r := NewRand(seed, "stratum:"+name)
		if opt.RandomSort {
			shuffle(r, order)
		}
		u := uniformOpen(r)
		if rest > 0 {
			systematic(out, order, rest, u)
		}
	}
	return out, nil
}

// systematic selects among out[order[0]], out[order[1]], … (π all in (0, 1),
// summing to the whole number m up to rounding) with start u, as
// UPSystematic, but with the cumulated total pinned to m so that rounding
// can never gain or lose a unit: exactly m units are selected.
func systematic(out []PSUDraw, order []int, m int, u float64) {
	total := float64(m)
	prev := 0.0
	for n, i := range order {
		c := math.Min(prev+out[i].Pi, total)
		if n == len(order)-1 {
			c = total
		}
		out[i].Selected = math.Floor(c-u) > math.Floor(prev-u)
		prev = c
	}
}

func floor(x float64) float64 { return math.Floor(x) }
