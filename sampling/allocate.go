package sampling

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// AllocationMethod says how Allocate shares PSUs among strata.
type AllocationMethod int

// The allocation methods.
const (
	// Proportional: n_h ∝ M_h, the stratum's total measure of size.
	Proportional AllocationMethod = iota
	// Equal: the same n_h in every stratum.
	Equal
	// Power: n_h ∝ M_h^α with 0 ≤ α ≤ 1 (Kish's power allocation; α = 1 is
	// proportional, α = 0 equal).
	Power
	// Fixed: n_h given per stratum (Allocation.Fixed).
	Fixed
)

// Allocation is an allocation rule.
type Allocation struct {
	Method AllocationMethod
	Alpha  float64        // for Power
	Fixed  map[string]int // for Fixed: n_h by stratum name
}

// MinPerStratum is the smallest number of PSUs Allocate gives a stratum
// (unless the stratum has fewer units): two are needed to estimate a variance
// within a stratum.
const MinPerStratum = 2

// ParseAllocation parses "proportional", "equal" or "power:ALPHA".
func ParseAllocation(s string) (Allocation, error) {
	switch {
	case s == "proportional":
		return Allocation{Method: Proportional}, nil
	case s == "equal":
		return Allocation{Method: Equal}, nil
	case strings.HasPrefix(s, "power:"):
		a, err := strconv.ParseFloat(strings.TrimPrefix(s, "power:"), 64)
		if err != nil || !(a >= 0 && a <= 1) {
			return Allocation{}, fmt.Errorf("allocation %q: ALPHA must be a number between 0 and 1", s)
		}
		return Allocation{Method: Power, Alpha: a}, nil
	}
	return Allocation{}, fmt.Errorf("allocation %q: want proportional, equal or power:ALPHA", s)
}

// ReadAllocationTable reads a CSV with columns stratum and n (a whole number
// of PSUs per stratum) into a Fixed allocation.
func ReadAllocationTable(r io.Reader) (Allocation, error) {
	t, err := ReadTable(r)
	if err != nil {
		return Allocation{}, err
	}
	strata, err1 := t.Strings("stratum", true)
	ns, err2 := t.Strings("n", true)
	if err1 != nil || err2 != nil {
		return Allocation{}, joinInput(err1, err2)
	}
	var ex errs
	a := Allocation{Method: Fixed, Fixed: map[string]int{}}
	first := map[string]int{}
	for i := range strata {
		line := t.Lines[i]
		if f, dup := first[strata[i]]; dup {
			ex.add(line, "stratum", "stratum %q appears twice (first on line %d)", strata[i], f)
			continue
		}
		first[strata[i]] = line
		n, err := strconv.Atoi(ns[i])
		if err != nil || n < 0 {
			ex.add(line, "n", "want a whole number >= 0, got %q", ns[i])
			continue
		}
		a.Fixed[strata[i]] = n
	}
	return a, ex.err()
}

// joinInput merges InputErrors (nil ones are skipped).
func joinInput(list ...error) error {
	var all InputErrors
	for _, err := range list {
		switch e := err.(type) {
		case nil:
		case InputErrors:
			all = append(all, e...)
		case *InputError:
			all = append(all, e)
		default:
			all = append(all, &InputError{Msg: e.Error()})
		}
	}
	if len(all) == 0 {
		return nil
	}
	return all
}

// Allocate shares n PSUs among strata. Every stratum gets at least
// min(MinPerStratum, N_h) and at most N_h PSUs (N_h units in its frame).
// Proportional, Equal and Power first compute real shares n·s_h/Σs; strata
// above N_h are fixed at N_h and the rest re-shared, repeatedly, then strata
// below the minimum are fixed at it and the rest re-shared, repeatedly; the
// real shares are rounded by largest remainders (ties to the earlier
// stratum), so the n_h always sum to n. A Fixed allocation is checked against
// the same bounds (n is then ignored unless positive, when it must equal the
// table's total).
func Allocate(strata []Stratum, n int, a Allocation) (map[string]int, error) {
	lo := make([]float64, len(strata))
	hi := make([]float64, len(strata))
	var sumLo, sumHi float64
	for h, s := range strata {
		lo[h] = float64(min(MinPerStratum, s.Units))
		hi[h] = float64(s.Units)
		sumLo += lo[h]
		sumHi += hi[h]
	}
	if a.Method == Fixed {
		return checkFixed(strata, n, a.Fixed)
	}
	if float64(n) < sumLo {
		return nil, fmt.Errorf("allocate: n = %d is less than the %g PSUs needed for at least %d per stratum", n, sumLo, MinPerStratum)
	}
	if float64(n) > sumHi {
		return nil, fmt.Errorf("allocate: n = %d is more than the %g PSUs in the frame", n, sumHi)
	}
	share := make([]float64, len(strata))
	for h, s := range strata {
		switch a.Method {
		case Proportional:
			share[h] = s.Size
		case Equal:
			share[h] = 1
		case Power:
			share[h] = math.Pow(s.Size, a.Alpha)
		default:
			return nil, fmt.Errorf("allocate: unknown method %d", a.Method)
		}
	}
	x := make([]float64, len(strata))
	fixed := make([]bool, len(strata))
	spread := func() {
		rest, total := float64(n), 0.0
		for h := range strata {
			if fixed[h] {
				rest -= x[h]
			} else {
				total += share[h]
			}
		}
		for h := range strata {
			if !fixed[h] {
				x[h] = rest * share[h] / total
			}
		}
	}
	for _, bound := range []struct {
		b    []float64
		over func(x, b float64) bool
	}{
		{hi, func(x, b float64) bool { return x > b }},
		{lo, func(x, b float64) bool { return x < b }},
	} {
		for {
			spread()
			changed := false
			for h := range strata {
				if !fixed[h] && bound.over(x[h], bound.b[h]) {
					fixed[h], x[h], changed = true, bound.b[h], true
				}
			}
			if !changed {
				break
			}
		}
	}
	// Largest remainders.
	out := make(map[string]int, len(strata))
	alloc := make([]int, len(strata))
	left := n
	order := make([]int, len(strata))
	for h := range strata {
		alloc[h] = int(math.Floor(x[h]))
		left -= alloc[h]
		order[h] = h
	}
	sort.SliceStable(order, func(i, j int) bool {
		return x[order[i]]-math.Floor(x[order[i]]) > x[order[j]]-math.Floor(x[order[j]])
	})
	for _, h := range order {
		if left <= 0 {
			break
		}
		if float64(alloc[h]) < hi[h] {
			alloc[h]++
			left--
		}
	}
	for h, s := range strata {
		out[s.Name] = alloc[h]
	}
	return out, nil
}

func checkFixed(strata []Stratum, n int, table map[string]int) (map[string]int, error) {
	known := map[string]bool{}
	var problems []string
	total := 0
	for _, s := range strata {
		known[s.Name] = true
		nh, ok := table[s.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("stratum %q has no n", s.Name))
		case nh > s.Units:
			problems = append(problems, fmt.Sprintf("stratum %q: n = %d but the frame has %d units", s.Name, nh, s.Units))
		case nh < min(MinPerStratum, s.Units):
			problems = append(problems, fmt.Sprintf("stratum %q: n = %d, at least %d needed", s.Name, nh, min(MinPerStratum, s.Units)))
		}
		total += nh
	}
	names := make([]string, 0, len(table))
	for name := range table {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !known[name] {
			problems = append(problems, fmt.Sprintf("stratum %q is not in the frame", name))
		}
	}
	if n > 0 && total != n {
		problems = append(problems, fmt.Sprintf("the table allocates %d PSUs, not n = %d", total, n))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("allocate: %s", strings.Join(problems, "; "))
	}
	out := make(map[string]int, len(strata))
	for _, s := range strata {
		out[s.Name] = table[s.Name]
	}
	return out, nil
}
