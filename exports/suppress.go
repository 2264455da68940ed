package exports

import (
	"fmt"
	"math/bits"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Minimal local suppression.
//
// Local suppression sets quasi-identifier values to null (suppresses
// cells) until every record's key occurs at least k times. dotm counts a
// null as a value of its own (a blank matches only a blank), so that the
// k records a key promises are k records an intruder cannot tell apart;
// sdcMicro's default lets a null match any value, which can hide a unique
// record behind records that differ from it (see Profile.BlanksMatchAny).
//
// With blanks as values, records that share the values of the columns that
// cannot be suppressed (design codes and roster size: the block) never
// share a key with records of another block, so each block is solved on
// its own. In a block, each record gets a pattern: the subset of its
// suppressible cells it loses. A solution is feasible when every key that
// holds a record holds at least k (keys held only by records that no
// pattern can bring to k, "residual" records, are exempt: those records
// lose every suppressible cell, and the report counts them).
//
// The search minimizes the number of suppressed cells, ties broken by
// importance (the profile lists quasi-identifiers most important first; a
// less important one is suppressed first, as in sdcMicro's localSuppression
// with importance). It starts from a greedy solution (for each column,
// least important first, every record still below k loses that column's
// value; records left below k take donors: records of groups holding more
// than k that move to their key), then searches the block depth first with
// the lower bound below, within a node budget (the policy below).
//
// Budget policy: the work of a release is bounded and grows linearly with
// its blocks. First every block is searched with firstPassBudget nodes;
// most finish (their result is optimal). Then the blocks left unfinished,
// those farthest above their lower bound first (ties in the blocks'
// order), are searched again with secondPassBudget nodes each, as many as
// releaseBudget nodes allow; the others keep the best solution of the
// first pass (the greedy start, improved where the first pass found
// better). The budgets depend only on the data, never on timing, so the
// result is the same on any number of cores.
//
// Lower bound: a record's group must hold at least k records that can reach
// its key, so a record loses at least the fewest cells of a pattern whose
// key at least k records of the block can reach. The sum over records is a
// lower bound on the cells any feasible solution suppresses; where the
// search completes, its optimum is the block's bound.

// Suppression reports local suppression against its lower bound and the
// greedy heuristic.
type Suppression struct {
	Method string `json:"method"`
	// Cells is the number of cells suppressed; LowerBound no solution can
	// suppress fewer (residual records included in both); Greedy is what
	// the greedy heuristic alone suppresses (where it finds no feasible
	// solution, records left below k lose every suppressible cell, for
	// both).
	Cells      int `json:"cells"`
	LowerBound int `json:"lower_bound"`
	Greedy     int `json:"greedy_cells"`
	// GreedyBelowK counts the records the greedy heuristic leaves below k
	// beyond the residual ones (they lose every suppressible cell).
	GreedyBelowK int `json:"greedy_records_below_k,omitempty"`
	// Blocks is the number of blocks (records sharing the values that
	// cannot be suppressed) that needed suppression; Exact of them were
	// searched to the end (their result is optimal).
	Blocks int `json:"blocks"`
	Exact  int `json:"blocks_optimal"`
	// Searched counts the unfinished blocks given the second, larger
	// budget; Nodes is the search nodes spent over all blocks.
	Searched int   `json:"blocks_second_pass"`
	Nodes    int64 `json:"search_nodes"`
	// Residual counts records no suppression can bring to k (they lose
	// every suppressible cell).
	Residual int `json:"residual_records"`
}

func (s *Suppression) add(o Suppression) {
	s.Cells += o.Cells
	s.LowerBound += o.LowerBound
	s.Greedy += o.Greedy
	s.GreedyBelowK += o.GreedyBelowK
	s.Blocks += o.Blocks
	s.Exact += o.Exact
	s.Residual += o.Residual
	s.Searched += o.Searched
	s.Nodes += o.Nodes
}

// The search budgets (see the policy above), in nodes; a node costs tens
// of nanoseconds.
const (
	firstPassBudget  = 5_000
	secondPassBudget = 200_000
	releaseBudget    = 40_000_000
)

// importanceCost is the cost of suppressing one cell; the rank of the
// column (0 = least important) is added to break ties.
const importanceCost = 1 << 10

// suppressMinimal suppresses cells of k's columns so that, counting a null
// as a value, every record's key occurs at least kAnon times (see above).
// order lists the suppressible columns, least important first; the others
// are never suppressed. can reports whether cell (record i, column j) may
// be suppressed (nil: every cell of the columns in order). It changes k's
// codes and returns the suppressed rows by column. Blocks are solved in
// parallel; the result does not depend on how many at once.
func (k *keys) suppressMinimal(kAnon int, order []int, can func(i, j int) bool) ([][]int, Suppression) {
	out := make([][]int, len(k.cols))
	rep := Suppression{Method: fmt.Sprintf("search per block with a lower bound, from a greedy start (blanks are values); "+
		"every block searched up to %d nodes, then the blocks left farthest above their bound up to %d nodes each, %d nodes in all",
		firstPassBudget, secondPassBudget, releaseBudget)}
	if len(order) == 0 || k.n == 0 {
		return out, rep
	}
	cost := make([]int, len(k.cols))
	var suppressible uint64
	for rank, j := range order {
		cost[j] = importanceCost + rank
		suppressible |= 1 << j
	}
	fixed := (uint64(1)<<len(k.cols) - 1) &^ suppressible
	kr := k.keyer()
	var blockOrder [][]int
	if kr.fits {
		blockOrder = groupRows(k.n, func(i int) uint64 { return kr.key(i, fixed) })
	} else {
		blockOrder = groupRows(k.n, func(i int) string { return k.stringKey(i, fixed) })
	}
	pats := make([][]uint64, len(blockOrder))
	reps := make([]Suppression, len(blockOrder))
	budget := make([]int, len(blockOrder))
	for i := range budget {
		budget[i] = firstPassBudget
	}
	solveBlock := func(bi int) {
		recs := blockOrder[bi]
		masks := make([]uint64, len(recs))
		for p, i := range recs {
			for _, j := range order {
				if k.cols[j][i] >= 0 && (can == nil || can(i, j)) {
					masks[p] |= 1 << j
				}
			}
		}
		bs := &block{k: k, kr: kr, kAnon: kAnon, recs: recs, masks: masks, cost: cost, order: order, budget: budget[bi]}
		pats[bi], reps[bi] = bs.solve()
	}
	// Blocks read only their own records' codes: they are solved on
	// every core, the biggest first, and the codes changed afterwards in
	// the blocks' order.
	bySize := make([]int, len(blockOrder))
	for i := range bySize {
		bySize[i] = i
	}
	sort.SliceStable(bySize, func(x, y int) bool { return len(blockOrder[bySize[x]]) > len(blockOrder[bySize[y]]) })
	parallel(len(bySize), func(i int) { solveBlock(bySize[i]) })
	// Second pass: the unfinished blocks farthest above their bound.
	var open []int
	for bi, r := range reps {
		if r.Blocks > 0 && r.Exact == 0 && r.Cells > r.LowerBound {
			open = append(open, bi)
		}
	}
	sort.SliceStable(open, func(x, y int) bool {
		return reps[open[x]].Cells-reps[open[x]].LowerBound > reps[open[y]].Cells-reps[open[y]].LowerBound
	})
	open = open[:min(len(open), releaseBudget/secondPassBudget)]
	for _, bi := range open {
		budget[bi] = secondPassBudget
	}
	parallel(len(open), func(i int) {
		first := reps[open[i]]
		solveBlock(open[i])
		reps[open[i]].Nodes += first.Nodes
		reps[open[i]].Searched = 1
	})
	for bi, recs := range blockOrder {
		rep.add(reps[bi])
		for p, i := range recs {
			for s := pats[bi][p]; s != 0; s &= s - 1 {
				j := bits.TrailingZeros64(s)
				k.cols[j][i] = -1
				out[j] = append(out[j], i)
			}
		}
	}
	for _, rows := range out {
		sort.Ints(rows)
	}
	return out, rep
}

// parallel calls f(0), …, f(n−1) on GOMAXPROCS goroutines, in order of i
// as goroutines become free.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// keyer gives a record's key with some cells suppressed as one integer,
// a null counting as a value of its own (code + 1 in a mixed radix of
// each column's values and the null), when every key fits in 63 bits.
type keyer struct {
	k    *keys
	mult []uint64
	fits bool
}

func (k *keys) keyer() keyer {
	kr := keyer{k: k, fits: true}
	prod := uint64(1)
	for j := range k.cols {
		kr.mult = append(kr.mult, prod)
		hi, lo := bits.Mul64(prod, uint64(len(k.labels[j]))+1)
		if hi != 0 || lo > 1<<62 {
			kr.fits = false
		}
		prod = lo
	}
	return kr
}

// key is record i's key on the columns of keep (the others null).
func (kr keyer) key(i int, keep uint64) uint64 {
	var key uint64
	for j := range kr.k.cols {
		if keep&(1<<j) != 0 {
			key += uint64(kr.k.cols[j][i]+1) * kr.mult[j]
		}
	}
	return key
}

// block is one block's suppression problem.
//
// Each record p has every pattern (subset of its suppressible cells
// masks[p]) in flat arrays at off[p] … off[p+1]−1, largest first (the
// order s = m, (s−1)&m, …, 0): sub holds the pattern, gid the group (key)
// it puts the record in, numbered in order of first appearance. The index
// of pattern s of record p is off[p] + 2^|m| − 1 − compress(s, m).
type block struct {
	k     *keys
	kr    keyer
	kAnon int
	recs  []int    // record indices
	masks []uint64 // suppressible, non-null cells per record
	cost  []int
	order []int
	// budget bounds the nodes of the search; nodes counts them.
	budget int
	nodes  int

	off      []int
	sub      []uint64
	gid      []int32
	groups   int
	residual []bool
	// Feasible patterns of record p (their key can hold k records),
	// cheapest first: indices into sub at cand[candOff[p]:candOff[p+1]].
	candOff []int
	cand    []int
}

// compress packs the bits of s at the positions of m's set bits (PEXT).
func compress(s, m uint64) uint64 {
	var r, bit uint64 = 0, 1
	for ; m != 0; m &= m - 1 {
		if s&m&-m != 0 {
			r |= bit
		}
		bit <<= 1
	}
	return r
}

// at is the index in sub of record p's pattern s.
func (b *block) at(p int, s uint64) int {
	m := b.masks[p]
	return b.off[p] + (1<<bits.OnesCount64(m) - 1) - int(compress(s, m))
}

// gidOf is the group record p joins with pattern s.
func (b *block) gidOf(p int, s uint64) int { return int(b.gid[b.at(p, s)]) }

func (b *block) cands(p int) []int { return b.cand[b.candOff[p]:b.candOff[p+1]] }

func (b *block) patternCost(s uint64) int {
	c := 0
	for ; s != 0; s &= s - 1 {
		c += b.cost[bits.TrailingZeros64(s)]
	}
	return c
}

// solve returns each record's pattern and the block's report.
func (b *block) solve() ([]uint64, Suppression) {
	n := len(b.recs)
	b.off = make([]int, n+1)
	for p := range b.recs {
		b.off[p+1] = b.off[p] + 1<<bits.OnesCount64(b.masks[p])
	}
	b.sub = make([]uint64, b.off[n])
	b.gid = make([]int32, b.off[n])
	var reach []int // group → records that can reach it
	newGroup := func() int32 {
		reach = append(reach, 0)
		return int32(len(reach) - 1)
	}
	if b.kr.fits {
		gid := map[uint64]int32{}
		for p, i := range b.recs {
			m := b.masks[p]
			full := b.kr.key(i, ^uint64(0))
			x := b.off[p]
			for s := m; ; s = (s - 1) & m {
				key := full
				for t := s; t != 0; t &= t - 1 {
					j := bits.TrailingZeros64(t)
					key -= uint64(b.k.cols[j][i]+1) * b.kr.mult[j]
				}
				g, ok := gid[key]
				if !ok {
					g = newGroup()
					gid[key] = g
				}
				b.sub[x], b.gid[x] = s, g
				reach[g]++
				x++
				if s == 0 {
					break
				}
			}
		}
	} else {
		gid := map[string]int32{}
		for p, i := range b.recs {
			m := b.masks[p]
			x := b.off[p]
			for s := m; ; s = (s - 1) & m {
				key := b.k.patternKey(i, s)
				g, ok := gid[key]
				if !ok {
					g = newGroup()
					gid[key] = g
				}
				b.sub[x], b.gid[x] = s, g
				reach[g]++
				x++
				if s == 0 {
					break
				}
			}
		}
	}
	b.groups = len(reach)
	b.residual = make([]bool, n)
	b.candOff = make([]int, n+1)
	lb := 0
	lbCells := 0
	for p := range b.recs {
		from := len(b.cand)
		for x := b.off[p]; x < b.off[p+1]; x++ {
			if reach[b.gid[x]] >= b.kAnon {
				b.cand = append(b.cand, x)
			}
		}
		b.candOff[p+1] = len(b.cand)
		cs := b.cand[from:]
		if len(cs) == 0 {
			b.residual[p] = true
			lbCells += bits.OnesCount64(b.masks[p])
			continue
		}
		// The cheapest first; among equals, in the order above (the
		// first of them is the bound's pattern).
		sort.SliceStable(cs, func(x, y int) bool { return b.patternCost(b.sub[cs[x]]) < b.patternCost(b.sub[cs[y]]) })
		lb += b.patternCost(b.sub[cs[0]])
		lbCells += bits.OnesCount64(b.sub[cs[0]])
	}
	// A block where every record is already safe needs nothing.
	start := make([]uint64, n)
	for p := range start {
		if b.residual[p] {
			start[p] = b.masks[p]
		}
	}
	if b.feasible(start) && !anyResidual(b.residual) {
		return start, Suppression{Greedy: 0}
	}
	rep := Suppression{Blocks: 1}
	for p := range b.residual {
		if b.residual[p] {
			rep.Residual++
		}
	}
	greedy, ok := b.greedy(start)
	best, bestCost := greedy, -1
	if ok {
		bestCost = b.total(greedy)
	} else {
		greedy = b.lastResort(greedy)
		cnt, _ := b.counts(greedy)
		for p, s := range greedy {
			if !b.residual[p] && cnt[b.gidOf(p, s)] < b.kAnon {
				rep.GreedyBelowK++
			}
		}
	}
	rep.Greedy = cells(greedy)
	exact := false
	if lb < bestCost || bestCost < 0 {
		var sol []uint64
		sol, exact = b.search(start, bestCost)
		if sol != nil {
			best, bestCost = sol, b.total(sol)
		}
	} else {
		exact = true // the greedy solution meets the bound
	}
	if !b.feasible(best) {
		best = b.lastResort(best)
		exact = false
	}
	rep.Cells = cells(best)
	rep.LowerBound = lbCells
	rep.Nodes = int64(b.nodes)
	if exact && bestCost >= 0 {
		rep.Exact = 1
		rep.LowerBound = rep.Cells
	}
	return best, rep
}

// lastResort makes records left below k lose every suppressible cell (they
// then count as residual), as sdcMicro's localSuppression does when nothing
// else helps.
func (b *block) lastResort(pat []uint64) []uint64 {
	pat = append([]uint64(nil), pat...)
	for changed := true; changed; {
		changed = false
		cnt, _ := b.counts(pat)
		for p, s := range pat {
			if !b.residual[p] && cnt[b.gidOf(p, s)] < b.kAnon && s != b.masks[p] {
				pat[p] = b.masks[p]
				changed = true
			}
		}
	}
	return pat
}

func anyResidual(r []bool) bool {
	for _, x := range r {
		if x {
			return true
		}
	}
	return false
}

func cells(pat []uint64) int {
	n := 0
	for _, s := range pat {
		n += bits.OnesCount64(s)
	}
	return n
}

func (b *block) total(pat []uint64) int {
	c := 0
	for _, s := range pat {
		c += b.patternCost(s)
	}
	return c
}

// counts returns the records per group, and per group those not residual.
func (b *block) counts(pat []uint64) (cnt, nonres []int) {
	cnt, nonres = make([]int, b.groups), make([]int, b.groups)
	for p, s := range pat {
		g := b.gidOf(p, s)
		cnt[g]++
		if !b.residual[p] {
			nonres[g]++
		}
	}
	return cnt, nonres
}

func (b *block) feasible(pat []uint64) bool {
	cnt, nonres := b.counts(pat)
	for g := range cnt {
		if nonres[g] > 0 && cnt[g] < b.kAnon {
			return false
		}
	}
	return true
}

// greedy is the baseline: for each column, least important first, every
// record below k loses that column's value; then groups still below k take
// donors (records of groups above k that can reach their key, cheapest
// first).
func (b *block) greedy(start []uint64) ([]uint64, bool) {
	pat := append([]uint64(nil), start...)
	below := func() []bool {
		cnt, _ := b.counts(pat)
		out := make([]bool, len(pat))
		for p, s := range pat {
			out[p] = !b.residual[p] && cnt[b.gidOf(p, s)] < b.kAnon
		}
		return out
	}
	for _, j := range b.order {
		bl := below()
		for p := range pat {
			if bl[p] && b.masks[p]&(1<<j) != 0 {
				pat[p] |= 1 << j
			}
		}
	}
	for range len(pat) {
		cnt, nonres := b.counts(pat)
		short := -1
		for g := range cnt {
			if nonres[g] > 0 && cnt[g] < b.kAnon {
				short = g
				break
			}
		}
		if short < 0 {
			return pat, true
		}
		for cnt[short] < b.kAnon {
			donor, dpat, dcost := -1, uint64(0), 0
			for p, s := range pat {
				g := b.gidOf(p, s)
				if g == short || b.residual[p] || cnt[g] <= b.kAnon {
					continue
				}
				for x := b.off[p]; x < b.off[p+1]; x++ {
					if t := b.sub[x]; t&s == s && int(b.gid[x]) == short {
						if c := b.patternCost(t) - b.patternCost(s); donor < 0 || c < dcost {
							donor, dpat, dcost = p, t, c
						}
					}
				}
			}
			if donor < 0 {
				return pat, false
			}
			cnt[b.gidOf(donor, pat[donor])]--
			pat[donor] = dpat
			cnt[short]++
		}
	}
	return pat, b.feasible(pat)
}

// search is a depth-first branch and bound over the records' feasible
// patterns. It returns the best solution cheaper than bound (bound < 0: any)
// or nil, and whether the search completed within the budget.
func (b *block) search(start []uint64, bound int) ([]uint64, bool) {
	n := len(b.recs)
	// Records to place, most constrained first; identical records
	// (same values, same suppressible cells) next to each other.
	var pos []int
	for p := range b.recs {
		if !b.residual[p] {
			pos = append(pos, p)
		}
	}
	// Two records have the same values when their unsuppressed keys are
	// one group.
	type typeKey struct {
		g    int
		mask uint64
	}
	tk := func(p int) typeKey { return typeKey{b.gidOf(p, 0), b.masks[p]} }
	types := map[typeKey]int{}
	typ := make([]int, n)
	for _, p := range pos {
		t, ok := types[tk(p)]
		if !ok {
			t = len(types)
			types[tk(p)] = t
		}
		typ[p] = t
	}
	sort.SliceStable(pos, func(x, y int) bool {
		px, py := pos[x], pos[y]
		if nx, ny := b.candOff[px+1]-b.candOff[px], b.candOff[py+1]-b.candOff[py]; nx != ny {
			return nx < ny
		}
		return typ[px] < typ[py]
	})
	same := make([]bool, len(pos))
	for d := 1; d < len(pos); d++ {
		same[d] = typ[pos[d]] == typ[pos[d-1]]
	}
	last := make([]int, b.groups)
	for g := range last {
		last[g] = -1
	}
	for d, p := range pos {
		for _, x := range b.cands(p) {
			g := b.gid[x]
			last[g] = max(last[g], d)
		}
	}
	checkAt := make([][]int32, len(pos))
	for g, d := range last {
		if d >= 0 {
			checkAt[d] = append(checkAt[d], int32(g))
		}
	}
	// The candidates of the record at each depth: pattern, group, cost.
	type cand struct {
		s    uint64
		g    int32
		cost int32
	}
	cands := make([][]cand, len(pos))
	for d, p := range pos {
		cs := b.cands(p)
		cands[d] = make([]cand, len(cs))
		for ci, x := range cs {
			cands[d][ci] = cand{b.sub[x], b.gid[x], int32(b.patternCost(b.sub[x]))}
		}
	}
	suffix := make([]int, len(pos)+1)
	for d := len(pos) - 1; d >= 0; d-- {
		suffix[d] = suffix[d+1] + int(cands[d][0].cost)
	}
	cnt := make([]int32, b.groups)
	for p := range b.recs {
		if b.residual[p] {
			cnt[b.gidOf(p, start[p])]++
		}
	}
	nonres := make([]int32, b.groups)
	kAnon := int32(b.kAnon)
	choice := make([]int, len(pos))
	cur := make([]uint64, n)
	copy(cur, start)
	var best []uint64
	bestCost := bound
	nodes := 0
	complete := true
	// dfs places the records from depth d on, at cost c so far; the
	// caller has checked that c + suffix[d] is under the best cost. A
	// node is a call below the last depth (the budget counts them).
	var dfs func(d, c int)
	dfs = func(d, c int) {
		if d == len(pos) {
			best = append(best[:0], cur...)
			bestCost = c
			return
		}
		nodes++
		if nodes > b.budget {
			complete = false
			return
		}
		p := pos[d]
		from := 0
		if same[d] {
			from = choice[d-1]
		}
		cs := cands[d]
		next := suffix[d+1]
		for ci := from; ci < len(cs); ci++ {
			x := cs[ci]
			cc := c + int(x.cost)
			if bestCost >= 0 && cc+next >= bestCost {
				// The candidates are cheapest first: none after
				// this one is under the best cost either.
				break
			}
			choice[d] = ci
			cur[p] = x.s
			cnt[x.g]++
			nonres[x.g]++
			ok := true
			for _, h := range checkAt[d] {
				if nonres[h] > 0 && cnt[h] < kAnon {
					ok = false
					break
				}
			}
			if ok {
				dfs(d+1, cc)
			}
			cnt[x.g]--
			nonres[x.g]--
			if !complete {
				return
			}
		}
	}
	if bestCost < 0 || suffix[0] < bestCost {
		dfs(0, 0)
	}
	b.nodes = min(nodes, b.budget)
	if best == nil {
		return nil, complete
	}
	return best, complete
}

// patternKey is record i's key with the cells of s suppressed; a null is a
// value of its own.
func (k *keys) patternKey(i int, s uint64) string {
	var b strings.Builder
	for j := range k.cols {
		c := k.cols[j][i]
		if s&(1<<j) != 0 {
			c = -1
		}
		b.Write([]byte{byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24)})
	}
	return b.String()
}

// exactFrequencies returns, for each record, the number of records and
// their weight sum with the same key, a null counting as a value of its
// own (a blank matches only a blank).
func (k *keys) exactFrequencies() ([]int, []float64) {
	type agg2 struct {
		f int
		w float64
	}
	fk, Fk := make([]int, k.n), make([]float64, k.n)
	if kr := k.keyer(); kr.fits {
		all := uint64(1)<<len(k.cols) - 1
		m := make(map[uint64]agg2, k.n/4)
		ks := make([]uint64, k.n)
		for i := range ks {
			ks[i] = kr.key(i, all)
			a := m[ks[i]]
			a.f++
			a.w += k.w[i]
			m[ks[i]] = a
		}
		for i, s := range ks {
			a := m[s]
			fk[i], Fk[i] = a.f, a.w
		}
		return fk, Fk
	}
	m := map[string]agg2{}
	ks := make([]string, k.n)
	for i := range ks {
		ks[i] = k.patternKey(i, 0)
		a := m[ks[i]]
		a.f++
		a.w += k.w[i]
		m[ks[i]] = a
	}
	for i, s := range ks {
		fk[i], Fk[i] = m[s].f, m[s].w
	}
	return fk, Fk
}

// localSuppression suppresses as the profile asks: minimal suppression with
// blanks as values, or, with blanks_match_any, the greedy heuristic of
// [keys.suppress] (sdcMicro's semantics, where a suppressed value matches
// any other). k's blanksMatch is left as the profile says.
func localSuppression(k *keys, p *Profile, order []int, can func(i, j int) bool) ([][]int, Suppression) {
	k.blanksMatch = p.BlanksMatchAny
	if !p.BlanksMatchAny {
		return k.suppressMinimal(p.K, order, can)
	}
	nulled := k.suppressGreedy(p.K, order, can)
	n := 0
	for _, rows := range nulled {
		n += len(rows)
	}
	return nulled, Suppression{Method: "greedy, a blank matching any value (blanks_match_any; no lower bound)", Cells: n, Greedy: n, LowerBound: -1}
}

// bothMeasures returns k's risk with a blank matching any value and with a
// blank as a value of its own; have is k's risk as k.blanksMatch says,
// already measured, so only the other one is computed.
func bothMeasures(k *keys, kAnon int, have Risk) (match, values Risk) {
	was := k.blanksMatch
	k.blanksMatch = !was
	other, _, _, _ := k.risk(kAnon)
	k.blanksMatch = was
	if was {
		return have, other
	}
	return other, have
}

// groupRows groups rows 0..n-1 by key, groups in order of their first row.
func groupRows[K comparable](n int, key func(int) K) [][]int {
	at := map[K]int{}
	var groups [][]int
	for i := 0; i < n; i++ {
		k := key(i)
		g, ok := at[k]
		if !ok {
			g = len(groups)
			at[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}
