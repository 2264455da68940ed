package exports

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
)

// IndividualRisk is sdcMicro's approximate Benedetti–Franconi individual
// re-identification risk of a record whose key (combination of
// quasi-identifier values) occurs fk times in the sample with a sum of
// sampling weights Fk (the estimated population frequency), pk = fk/Fk:
//
//	fk = 1: r = pk/(1−pk) · log(1/pk)
//	fk = 2: r = pk/(1−pk) − (pk/(1−pk))² · log(1/pk)
//	fk > 2: r = pk / (fk − (1−pk))
//
// (Benedetti and Franconi 1998; Franconi and Polettini 2004; as in sdcMicro's
// indivRisk(method = "approx"), which measure_risk uses). When pk ≥ 1 (the
// sample is the population: no weights, or weights of 1) the formulas have
// the limit 1/fk, which is returned. It returns NaN for fk < 1.
func IndividualRisk(fk int, Fk float64) float64 {
	if fk < 1 || math.IsNaN(Fk) {
		return math.NaN()
	}
	f := float64(fk)
	pk := f / Fk
	if pk >= 1 || Fk <= 0 {
		return 1 / f
	}
	switch fk {
	case 1:
		return pk / (1 - pk) * math.Log(1/pk)
	case 2:
		r := pk / (1 - pk)
		return r - r*r*math.Log(1/pk)
	}
	return pk / (f - (1 - pk))
}

// Risk summarizes the re-identification risk of a table on its
// quasi-identifiers.
type Risk struct {
	ExpectedReidentifications float64 `json:"expected_reidentifications"` // Σ r_i
	Global                    float64 `json:"global"`                     // Σ r_i / n
	MaxIndividual             float64 `json:"max_individual"`
	KViolations               int     `json:"k_violations"` // records whose key occurs fewer than k times
	SampleUniques             int     `json:"sample_uniques"`
}

// keys holds the quasi-identifier values of a table as small integer codes
// (−1 = null) and the sampling weights, for frequency counting.
type keys struct {
	names  []string
	cols   [][]int32
	labels [][]string // code -> value as text, per column
	w      []float64
	n      int
	mult   []uint64 // mixed-radix multipliers when every key fits in 64 bits
	fits   bool
	// blanksMatch lets a null match any value in risk (sdcMicro's
	// default); otherwise a null is a value of its own.
	blanksMatch bool
}

func newKeys(t *Table, names []string, weight *Column) (*keys, error) {
	cols := make([][]int32, 0, len(names))
	labels := make([][]string, 0, len(names))
	for _, name := range names {
		codes, l := encodeColumn(t.Column(name))
		cols = append(cols, codes)
		labels = append(labels, l)
	}
	return keysOf(t.Name, t.Rows(), names, cols, labels, weight)
}

// keysOf makes the keys of n records of table name from their columns'
// codes and labels (see encodeColumn) and the weight column (nil: 1).
func keysOf(name string, n int, names []string, cols [][]int32, labels [][]string, weight *Column) (*keys, error) {
	k := &keys{names: names, n: n, w: make([]float64, n), blanksMatch: true, cols: cols, labels: labels}
	for i := range k.w {
		k.w[i] = 1
	}
	if weight != nil {
		for i := range k.w {
			w := weight.Float(i)
			if math.IsNaN(w) || math.IsInf(w, 0) || w <= 0 {
				return nil, fmt.Errorf("table %s: column %s: row %d: weight %q is not a positive number", name, weight.Name, i+1, weight.Format(i))
			}
			k.w[i] = w
		}
	}
	k.fits = true
	prod := uint64(1)
	for _, l := range labels {
		k.mult = append(k.mult, prod)
		card := uint64(len(l))
		if card == 0 {
			card = 1
		}
		hi, lo := bits.Mul64(prod, card)
		if hi != 0 || lo > 1<<62 {
			k.fits = false
		}
		prod = lo
	}
	return k, nil
}

// encodeColumn gives each distinct non-null value a code in order of first
// appearance.
func encodeColumn(c *Column) ([]int32, []string) {
	codes := make([]int32, c.Len())
	var labels []string
	switch c.Type {
	case String:
		m := map[string]int32{}
		for i, s := range c.Strings {
			if c.IsNull(i) {
				codes[i] = -1
				continue
			}
			code, ok := m[s]
			if !ok {
				code = int32(len(m))
				m[s] = code
				labels = append(labels, s)
			}
			codes[i] = code
		}
	default:
		m := map[uint64]int32{}
		for i := range codes {
			if c.IsNull(i) {
				codes[i] = -1
				continue
			}
			var v uint64
			switch c.Type {
			case Int, Date:
				v = uint64(c.Ints[i])
			case Float:
				v = math.Float64bits(c.Floats[i])
			case Bool:
				if c.Bools[i] {
					v = 1
				}
			}
			code, ok := m[v]
			if !ok {
				code = int32(len(m))
				m[v] = code
				labels = append(labels, c.Format(i))
			}
			codes[i] = code
		}
	}
	return codes, labels
}

func (k *keys) mask(i int) uint64 {
	var m uint64
	for j, col := range k.cols {
		if col[i] >= 0 {
			m |= 1 << j
		}
	}
	return m
}

type agg struct {
	f int
	w float64
}

// frequencies returns, for each query record i with observed-variable mask
// masks[q], the number of records fk and their weight sum Fk that agree with
// it on every variable observed in both (a null matches any value, as in
// sdcMicro's freqCalc with alpha = 1). A nil queries means every record with
// its own mask.
func (k *keys) frequencies(queries []int, masks []uint64) ([]int, []float64) {
	if queries == nil {
		queries = make([]int, k.n)
		masks = make([]uint64, k.n)
		for i := range queries {
			queries[i] = i
			masks[i] = k.mask(i)
		}
	}
	data := map[uint64][]int{}
	for i := 0; i < k.n; i++ {
		m := k.mask(i)
		data[m] = append(data[m], i)
	}
	byMask := map[uint64][]int{} // query mask -> positions in queries
	for q, m := range masks {
		byMask[m] = append(byMask[m], q)
	}
	fk := make([]int, len(queries))
	Fk := make([]float64, len(queries))
	if k.fits {
		countMatches(k, data, byMask, queries, fk, Fk, k.intKey)
	} else {
		countMatches(k, data, byMask, queries, fk, Fk, k.stringKey)
	}
	return fk, Fk
}

func (k *keys) intKey(i int, s uint64) uint64 {
	var key uint64
	for j := range k.cols {
		if s&(1<<j) != 0 {
			key += uint64(k.cols[j][i]) * k.mult[j]
		}
	}
	return key
}

func (k *keys) stringKey(i int, s uint64) string {
	var b strings.Builder
	for j := range k.cols {
		if s&(1<<j) != 0 {
			c := k.cols[j][i]
			b.Write([]byte{byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24)})
		}
	}
	return b.String()
}

func countMatches[K comparable](k *keys, data, byMask map[uint64][]int, queries []int, fk []int, Fk []float64, key func(int, uint64) K) {
	type pair struct{ s, q uint64 }
	cache := map[pair]map[K]agg{}
	// The data's masks in order, so that each query's weight sum adds the
	// same numbers in the same order in every run.
	dataMasks := make([]uint64, 0, len(data))
	for q := range data {
		dataMasks = append(dataMasks, q)
	}
	slices.Sort(dataMasks)
	for p, qpos := range byMask {
		for _, q := range dataMasks {
			rows := data[q]
			s := p & q
			idx, ok := cache[pair{s, q}]
			if !ok {
				idx = make(map[K]agg)
				for _, i := range rows {
					kk := key(i, s)
					a := idx[kk]
					a.f++
					a.w += k.w[i]
					idx[kk] = a
				}
				cache[pair{s, q}] = idx
			}
			for _, pos := range qpos {
				a := idx[key(queries[pos], s)]
				fk[pos] += a.f
				Fk[pos] += a.w
			}
		}
	}
}

// risk computes every record's individual risk and the summary.
func (k *keys) risk(kAnon int) (Risk, []int, []float64, []float64) {
	var fk []int
	var Fk []float64
	if k.blanksMatch {
		fk, Fk = k.frequencies(nil, nil)
	} else {
		fk, Fk = k.exactFrequencies()
	}
	r := make([]float64, k.n)
	var s Risk
	for i := range r {
		r[i] = IndividualRisk(fk[i], Fk[i])
		s.ExpectedReidentifications += r[i]
		s.MaxIndividual = math.Max(s.MaxIndividual, r[i])
		if fk[i] < kAnon {
			s.KViolations++
		}
		if fk[i] == 1 {
			s.SampleUniques++
		}
	}
	if k.n > 0 {
		s.Global = s.ExpectedReidentifications / float64(k.n)
	}
	return s, fk, Fk, r
}

// Combination is one key of the quasi-identifiers with its frequencies, as
// the refusal report lists the worst ones. A suppressed (null) value is "*".
type Combination struct {
	Values            map[string]string `json:"values"`
	Records           int               `json:"records"`            // fk
	WeightedFrequency float64           `json:"weighted_frequency"` // Fk
	Risk              float64           `json:"risk"`
}

// worst returns up to limit distinct combinations, highest risk first.
func (k *keys) worst(fk []int, Fk, r []float64, limit int) []Combination {
	seen := map[string]bool{}
	var out []Combination
	order := make([]int, k.n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ia, ib := order[a], order[b]
		if r[ia] != r[ib] {
			return r[ia] > r[ib]
		}
		return fk[ia] < fk[ib]
	})
	for _, i := range order {
		key := k.stringKey(i, k.mask(i)) + fmt.Sprint(k.mask(i))
		if seen[key] {
			continue
		}
		seen[key] = true
		c := Combination{Values: map[string]string{}, Records: fk[i], WeightedFrequency: Fk[i], Risk: r[i]}
		for j, name := range k.names {
			if code := k.cols[j][i]; code >= 0 {
				c.Values[name] = k.labels[j][code]
			} else {
				c.Values[name] = "*"
			}
		}
		out = append(out, c)
		if len(out) == limit {
			break
		}
	}
	return out
}

// suppress sets quasi-identifier values to null until every record's key
// occurs at least kAnon times, and returns which (record, column) pairs it
// nulled, by column. order lists column indices, least important first.
//
// Finding the fewest suppressions is NP-hard; this is a greedy heuristic in
// the spirit of sdcMicro's localSuppression with importance:
//
//  1. for each variable, least important first: every record that still
//     violates k and would satisfy it with just this value suppressed loses
//     this value;
//  2. then, for each variable, least important first: every record that
//     still violates k loses this value, until none does.
//
// Suppressing a value only ever raises other records' frequencies (a null
// matches anything), so step 1's decisions stay valid.
func (k *keys) suppress(kAnon int, order []int) [][]int {
	return k.suppressGreedy(kAnon, order, nil)
}

// suppressGreedy is suppress where can (nil: every cell) says which cells
// (record i, column j) may be suppressed.
func (k *keys) suppressGreedy(kAnon int, order []int, can func(i, j int) bool) [][]int {
	out := make([][]int, len(k.cols))
	unsafe := func() []int {
		fk, _ := k.frequencies(nil, nil)
		var u []int
		for i, f := range fk {
			if f < kAnon {
				u = append(u, i)
			}
		}
		return u
	}
	for _, v := range order {
		u := unsafe()
		if len(u) == 0 {
			return out
		}
		var cand []int
		var masks []uint64
		for _, i := range u {
			if k.cols[v][i] >= 0 && (can == nil || can(i, v)) {
				cand = append(cand, i)
				masks = append(masks, k.mask(i)&^(1<<v))
			}
		}
		if len(cand) == 0 {
			continue
		}
		fk, _ := k.frequencies(cand, masks)
		for p, i := range cand {
			if fk[p] >= kAnon {
				k.cols[v][i] = -1
				out[v] = append(out[v], i)
			}
		}
	}
	for _, v := range order {
		u := unsafe()
		if len(u) == 0 {
			return out
		}
		for _, i := range u {
			if k.cols[v][i] >= 0 && (can == nil || can(i, v)) {
				k.cols[v][i] = -1
				out[v] = append(out[v], i)
			}
		}
	}
	return out
}
