package exports

import (
	"math/bits"
	"math/rand/v2"
	"strconv"
	"testing"
)

// bruteForce is the fewest cells any pattern assignment suppresses so that
// every key (a blank a value of its own) holding a non-residual record holds
// at least k records, residual records losing every suppressible cell as
// suppressMinimal's policy says; -1 when none is feasible.
func bruteForce(k *keys, kAnon int, order []int) int {
	var sm uint64
	for _, j := range order {
		sm |= 1 << j
	}
	n := k.n
	masks := make([]uint64, n)
	for i := range masks {
		for _, j := range order {
			if k.cols[j][i] >= 0 {
				masks[i] |= 1 << j
			}
		}
	}
	// Residual: no pattern reaches a key that k records can reach.
	reach := map[string]int{}
	keysOf := make([][]string, n)
	for i := 0; i < n; i++ {
		m := masks[i]
		for s := m; ; s = (s - 1) & m {
			key := k.patternKey(i, s)
			keysOf[i] = append(keysOf[i], key)
			reach[key]++
			if s == 0 {
				break
			}
		}
	}
	residual := make([]bool, n)
	for i := range residual {
		residual[i] = true
		for _, key := range keysOf[i] {
			if reach[key] >= kAnon {
				residual[i] = false
			}
		}
	}
	gid := map[string]int{}
	for i := range keysOf {
		for _, key := range keysOf[i] {
			if _, ok := gid[key]; !ok {
				gid[key] = len(gid)
			}
		}
	}
	gOf := make([]map[uint64]int, n)
	for i := range gOf {
		gOf[i] = map[uint64]int{}
		m := masks[i]
		for s := m; ; s = (s - 1) & m {
			gOf[i][s] = gid[k.patternKey(i, s)]
			if s == 0 {
				break
			}
		}
	}
	best := -1
	pat := make([]uint64, n)
	g := make([]int, n)
	cnt, nonres := make([]int, len(gid)), make([]int, len(gid))
	var rec func(i, c int)
	rec = func(i, c int) {
		if best >= 0 && c >= best {
			return
		}
		if i == n {
			clear(cnt)
			clear(nonres)
			for r := 0; r < n; r++ {
				cnt[g[r]]++
				if !residual[r] {
					nonres[g[r]]++
				}
			}
			for x, c := range cnt {
				if nonres[x] > 0 && c < kAnon {
					return
				}
			}
			best = c
			return
		}
		m := masks[i]
		if residual[i] {
			pat[i] = m
			g[i] = gOf[i][m]
			rec(i+1, c+bits.OnesCount64(m))
			return
		}
		for s := m; ; s = (s - 1) & m {
			pat[i] = s
			g[i] = gOf[i][s]
			rec(i+1, c+bits.OnesCount64(s))
			if s == 0 {
				break
			}
		}
	}
	rec(0, 0)
	_ = sm
	return best
}

// TestSuppressMinimal: on small random tables (one column that cannot be
// suppressed, three that can), minimal suppression gives a table where every
// key holds k records counting blanks as values (but residual records),
// suppresses no fewer cells than its lower bound and no more than greedy,
// and, where it says its search completed, exactly as few as a brute-force
// search over every assignment.
func TestSuppressMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	beatGreedy := 0
	for it := 0; it < 60; it++ {
		n := 5 + rng.IntN(2)
		rows := make([][]string, n)
		for i := range rows {
			rows[i] = []string{
				"b" + strconv.Itoa(rng.IntN(2)),
				"s" + strconv.Itoa(rng.IntN(2)),
				"a" + strconv.Itoa(rng.IntN(3)),
				"d" + strconv.Itoa(rng.IntN(3)),
			}
		}
		names := []string{"block", "sex", "age", "dest"}
		tbl := strTable(names, rows...)
		kAnon := 2 + it%2
		order := []int{3, 2, 1}
		ref, _ := newKeys(tbl, names, nil)
		want := bruteForce(ref, kAnon, order)
		k, _ := newKeys(tbl, names, nil)
		nulled, rep := k.suppressMinimal(kAnon, order, nil)
		got := 0
		for _, r := range nulled {
			got += len(r)
		}
		if got != rep.Cells {
			t.Fatalf("iteration %d: report says %d cells, %d nulled", it, rep.Cells, got)
		}
		if len(nulled[0]) > 0 {
			t.Fatalf("iteration %d: suppressed the column that cannot be", it)
		}
		if rep.LowerBound > got {
			t.Errorf("iteration %d: %d cells below the lower bound %d", it, got, rep.LowerBound)
		}
		if want >= 0 && rep.LowerBound > want {
			t.Errorf("iteration %d: lower bound %d above the optimum %d", it, rep.LowerBound, want)
		}
		if rep.GreedyBelowK == 0 && got > rep.Greedy {
			t.Errorf("iteration %d: %d cells, greedy %d", it, got, rep.Greedy)
		}
		if rep.Greedy > got || rep.GreedyBelowK > 0 {
			beatGreedy++
		}
		if limit := int64(rep.Blocks)*firstPassBudget + releaseBudget; rep.Nodes > limit || rep.Searched > releaseBudget/secondPassBudget {
			t.Errorf("iteration %d: %d search nodes, %d blocks in the second pass: over the policy's %d nodes", it, rep.Nodes, rep.Searched, limit)
		}
		if rep.Blocks > 0 && rep.Nodes == 0 && rep.Exact < rep.Blocks {
			t.Errorf("iteration %d: %d of %d blocks not optimal with no search node counted", it, rep.Blocks-rep.Exact, rep.Blocks)
		}
		if rep.Exact == rep.Blocks && want >= 0 && got != want {
			t.Errorf("iteration %d: %d cells, optimum %d (rows %v, k %d)", it, got, want, rows, kAnon)
		}
		if want >= 0 && rep.Residual == 0 {
			fk, _ := k.exactFrequencies()
			for i, f := range fk {
				if f < kAnon {
					t.Errorf("iteration %d: row %d in a group of %d < %d", it, i, f, kAnon)
				}
			}
		}
	}
	if beatGreedy == 0 {
		t.Error("the search never did better than greedy on 60 random tables")
	}
	t.Logf("better than greedy on %d of 60 tables", beatGreedy)
}
