package exports

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
)

// Disclosure control over the release as one linked dataset.
//
// A release's tables are joined by the household id, and a value that
// disclosure control hides in one place must not be readable in another:
// the roster gives a household's size and its head's age and sex, the
// migrants table a household's destination, design codes determine the
// region, a copy (n_members) gives what was suppressed in hh_size. Before
// anything is changed, findLinks looks, in the data themselves, for every
// place each household quasi-identifier can be read from:
//
//   - determined by the design: a stratum or PSU code (released, since the
//     variance needs it) goes with one value of the quasi-identifier. The
//     value cannot be hidden in a row; it is released as it is, counted in
//     the risk, and k-anonymity is reached on the other quasi-identifiers;
//   - determined by a count: the number of a household's rows in another
//     table equals it (hh_size and the roster). Likewise released as is:
//     top-coding or suppressing it would be undone by counting rows;
//   - carried by another table: a column of another table equals it in the
//     row where a third column has a given value (the head's row of the
//     roster), or in every row of the household (the destination of its
//     migrants). The carrier gets the same recode, top-code or grouping of
//     rare categories (whole column), and the household's suppression
//     (those rows);
//   - carried in the same table: a column whose values go with one value of
//     the quasi-identifier (a functional dependency, n_members → hh_size)
//     loses its value wherever the quasi-identifier was suppressed and the
//     dependency would give it back (secondary suppression).
//
// Top-coded values are protected against arithmetic: where a top-coded
// column equals a/b or a·b of two other columns, a is capped with it so
// that the ratio gives the cap, not the true value.

// tableLinks is what the linked analysis asks of one table's disclosure
// control, and what that control reports back for the others.
type tableLinks struct {
	fixed   map[string]string    // quasi-identifier → why it is released as it is
	counted []string             // columns a count of rows in another table gives
	inherit map[string]inherited // carrier column → the rule it shares
	preNull map[string][]int     // column → rows (input order) nulled first
	ratios  map[string][]ratio   // top-coded column → relations to keep capped

	// Filled by anonymizeTable.
	nulled map[string][]int           // quasi-identifier → suppressed rows (input order)
	caps   map[string]float64         // top-code caps applied
	kept   map[string]map[string]bool // categories left by group_rare
}

// inherited is a carrier's share of a quasi-identifier's coarsening.
type inherited struct {
	from   string // the quasi-identifier it carries
	recode *Recode
	cap    *float64
	keep   map[string]bool
}

// ratio says column == a/b (div) or a·b over (nearly) every row.
type ratio struct {
	a, b string
	div  bool
}

// carrier is a place in another table that gives a household
// quasi-identifier's value.
type carrier struct {
	table, column string
	// where, equals: the household's first row (in table order) where
	// column `where` = equals and column shows a value, as valueWhere
	// reads it; "" with all: every row.
	where, equals string
	all           bool
}

func (c carrier) String() string {
	if c.all {
		return fmt.Sprintf("%s.%s (every row of the household)", c.table, c.column)
	}
	return fmt.Sprintf("%s.%s (the first row where %s = %s)", c.table, c.column, c.where, c.equals)
}

// links is the linked analysis of a dataset.
type links struct {
	house *Table
	// counted lists the household columns that equal the number of the
	// household's rows in another table: nulling them hides nothing.
	counted  []string
	fixed    map[string]string
	carriers map[string][]carrier // quasi-identifier → carriers in other tables
	ratios   map[string][]ratio
}

// houseTable is the table holding the household quasi-identifiers: the
// table named households, else the first table with the id column.
func houseTable(ds *Dataset, d Design) *Table {
	if t := ds.Table("households"); t != nil && t.Column(d.ID) != nil {
		return t
	}
	for _, t := range ds.Tables {
		if t.Column(d.ID) != nil {
			return t
		}
	}
	return nil
}

// findLinks analyses the original dataset (see the package comment above).
func findLinks(ds *Dataset, p *Profile, d Design) *links {
	lk := &links{fixed: map[string]string{}, carriers: map[string][]carrier{}, ratios: map[string][]ratio{}}
	h := houseTable(ds, d)
	if h == nil {
		return lk
	}
	lk.house = h
	id := h.Column(d.ID)
	row := map[string]int{}
	for i := 0; i < id.Len(); i++ {
		row[id.Format(i)] = i
	}
	for _, q := range p.QuasiIdentifiers {
		qc := h.Column(q)
		if qc == nil {
			continue
		}
		for _, dc := range []string{d.Stratum, d.PSU} {
			if c := h.Column(dc); c != nil && determines(c, qc) {
				lk.fixed[q] = fmt.Sprintf("determined by the design code %s, which the release keeps: released as it is and counted in the risk", dc)
				break
			}
		}
	}
	for _, t := range ds.Tables {
		if t == h || t.Column(d.ID) == nil {
			continue
		}
		tid := t.Column(d.ID)
		rows := make([][]int, id.Len()) // household row → rows of t
		for r := 0; r < tid.Len(); r++ {
			if i, ok := row[tid.Format(r)]; ok {
				rows[i] = append(rows[i], r)
			}
		}
		for _, c := range h.Columns {
			if c.Type == Int && agreesCount(c, rows) {
				lk.counted = append(lk.counted, c.Name)
			}
		}
		// The quasi-identifiers to look for carriers of, as the release
		// codes them (a recoded age's band: the spouse's band is nearly
		// always the head's).
		type wanted struct {
			q     string
			qk    *coded
			code  func(string) string
			found []carrier
		}
		var want []*wanted
		for _, q := range p.QuasiIdentifiers {
			qc := h.Column(q)
			if qc == nil || lk.fixed[q] != "" {
				continue
			}
			if agreesCount(qc, rows) {
				lk.fixed[q] = fmt.Sprintf("equals the number of the household's rows in %s: released as it is (top-coding or suppressing it would be undone by counting rows) and counted in the risk", t.Name)
				continue
			}
			code := func(s string) string { return s }
			if r, ok := p.Recode[q]; ok && len(r.Breaks) > 1 {
				code = func(s string) string { return bandOf(s, r.Breaks) }
			}
			qcoded := qc
			if len(p.Recode[q].Breaks) > 1 {
				qcoded = &Column{Name: qc.Name, Type: String, Strings: make([]string, qc.Len()), Valid: make([]bool, qc.Len())}
				for i := 0; i < qc.Len(); i++ {
					if !qc.IsNull(i) {
						qcoded.Strings[i], qcoded.Valid[i] = code(qc.Format(i)), true
					}
				}
			}
			want = append(want, &wanted{q: q, qk: codeColumn(qcoded), code: code})
		}
		// Columns that can say which row is the household's (at most 12
		// values): coded once.
		type where struct {
			w      *Column
			codes  []int8
			values []string // sorted
			index  map[string]int8
		}
		var wheres []*where
		if len(want) > 0 {
			for _, w := range t.Columns {
				if w.Name == d.ID || w.Name == d.Stratum || w.Name == d.PSU || w.Name == d.Weight || w.Name == d.FPC || w.Type == Float || countDistinct(w, 13) > 12 {
					continue
				}
				wk := codeColumn(w)
				x := &where{w: w, codes: make([]int8, len(wk.codes)), values: wk.sorted(), index: map[string]int8{}}
				for r, v := range wk.codes {
					x.codes[r] = int8(v)
				}
				for s, v := range wk.index {
					x.index[s] = int8(v)
				}
				wheres = append(wheres, x)
			}
		}
		for _, c := range t.Columns {
			if len(want) == 0 {
				break
			}
			if c.Name == d.ID || c.Name == d.Weight || c.Name == d.Stratum || c.Name == d.PSU || c.Type == Float {
				continue
			}
			ck := codeColumn(c)
			for _, wq := range want {
				// c's codes as codes of the quasi-identifier's texts.
				cq := make([]int32, len(ck.texts))
				for x, s := range ck.texts {
					cq[x] = -2
					if y, ok := wq.qk.index[wq.code(s)]; ok {
						cq[x] = y
					}
				}
				// The row where another column has a given value (the head's
				// row) is the precise carrier; failing that, the value every
				// row of the household agrees on (the destination of all its
				// migrants), when that answers for most households.
				for _, w := range wheres {
					if w.w == c {
						continue
					}
					for _, v := range w.values {
						vc := w.index[v]
						if agreesCoded(wq.qk, func(i int) (int32, bool) {
							for _, r := range rows[i] {
								if w.codes[r] == vc && ck.codes[r] >= 0 {
									return cq[ck.codes[r]], true
								}
							}
							return 0, false
						}) {
							wq.found = append(wq.found, carrier{table: t.Name, column: c.Name, where: w.w.Name, equals: v})
						}
					}
				}
				if agreesCoded(wq.qk, func(i int) (int32, bool) {
					v := int32(-1)
					for _, r := range rows[i] {
						x := ck.codes[r]
						if x < 0 {
							continue
						}
						if v >= 0 && x != v {
							return 0, false
						}
						v = x
					}
					if v < 0 {
						return 0, false
					}
					return cq[v], true
				}) {
					wq.found = append(wq.found, carrier{table: t.Name, column: c.Name, all: true})
				}
			}
		}
		for _, wq := range want {
			lk.carriers[wq.q] = append(lk.carriers[wq.q], wq.found...)
		}
	}
	for q := range p.TopCode {
		qc := h.Column(q)
		if qc == nil || (qc.Type != Float && qc.Type != Int) {
			continue
		}
		lk.ratios[q] = ratiosOf(h, qc)
	}
	return lk
}

// determines reports whether every value of a goes with one value of b in
// the rows where both are present (a functional dependency a → b).
func determines(a, b *Column) bool {
	m := map[string]string{}
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) || b.IsNull(i) {
			continue
		}
		x, y := a.Format(i), b.Format(i)
		if v, ok := m[x]; ok && v != y {
			return false
		}
		m[x] = y
	}
	return len(m) > 0
}

// agreesCount reports whether q's value is the number of the household's
// rows (rows[i]) in at least 95% of the rows (at least 20) where q is
// present: agrees with the count as text.
func agreesCount(q *Column, rows [][]int) bool {
	if q.Type == Int {
		match, total := 0, 0
		for i := 0; i < q.Len(); i++ {
			if q.IsNull(i) {
				continue
			}
			total++
			if q.Ints[i] == int64(len(rows[i])) {
				match++
			}
		}
		return total >= 20 && match*100 >= total*95
	}
	return agrees(q, func(i int) (string, bool) { return strconv.Itoa(len(rows[i])), true })
}

// agrees reports whether f(i) equals q's value in at least 95% of the rows
// (at least 20) where q is present and f answers.
func agrees(q *Column, f func(i int) (string, bool)) bool {
	match, total := 0, 0
	for i := 0; i < q.Len(); i++ {
		if q.IsNull(i) {
			continue
		}
		v, ok := f(i)
		if !ok {
			continue
		}
		total++
		if v == q.Format(i) {
			match++
		}
	}
	return total >= 20 && match*100 >= total*95
}

// allAgree is the value all non-null rows of c among rows share.
func allAgree(c *Column, rows []int) (string, bool) {
	v, ok := "", false
	for _, r := range rows {
		if c.IsNull(r) {
			continue
		}
		s := c.Format(r)
		if ok && s != v {
			return "", false
		}
		v, ok = s, true
	}
	return v, ok
}

// firstWhere marks, for each household (id), its first row where w = v and
// c is not null: the row valueWhere reads.
func firstWhere(id, c, w *Column, v string) []bool {
	ids := newValueCoder(id)
	house := make([]int32, id.Len())
	for r := range house {
		house[r] = ids.code(r)
	}
	return firstWhereIn(house, int(ids.n), c, w, v)
}

// firstWhereIn is firstWhere with each row's household as a code
// 0 … n−1 (−1: none, as a null id).
func firstWhereIn(house []int32, n int, c, w *Column, v string) []bool {
	out := make([]bool, len(house))
	seen := make([]bool, n+1)
	for r := range house {
		if w.IsNull(r) || c.IsNull(r) || w.Format(r) != v {
			continue
		}
		if h := house[r] + 1; !seen[h] {
			seen[h] = true
			out[r] = true
		}
	}
	return out
}

// valueWhere is c's value in the first of rows where w = v.
func valueWhere(c, w *Column, v string, rows []int) (string, bool) {
	for _, r := range rows {
		if !w.IsNull(r) && w.Format(r) == v && !c.IsNull(r) {
			return c.Format(r), true
		}
	}
	return "", false
}

func countDistinct(c *Column, stop int) int {
	m := map[string]bool{}
	for i := 0; i < c.Len() && len(m) < stop; i++ {
		if !c.IsNull(i) {
			m[c.Format(i)] = true
		}
	}
	return len(m)
}

func valuesOf(c *Column) []string {
	m := map[string]bool{}
	var out []string
	for i := 0; i < c.Len(); i++ {
		if !c.IsNull(i) {
			if s := c.Format(i); !m[s] {
				m[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ratiosOf finds pairs (a, b) of numeric columns of t with q = a/b or q =
// a·b in at least 99% of the rows (at least 20) where all three are
// present, to 1e-9 relative.
func ratiosOf(t *Table, q *Column) []ratio {
	var out []ratio
	num := func(c *Column) bool { return c != q && (c.Type == Float || c.Type == Int) }
	for _, a := range t.Columns {
		if !num(a) {
			continue
		}
		for _, b := range t.Columns {
			if !num(b) || a == b {
				continue
			}
			for _, div := range []bool{true, false} {
				match, total := 0, 0
				for i := 0; i < q.Len() && total-match <= total/100+1; i++ {
					if q.IsNull(i) || a.IsNull(i) || b.IsNull(i) {
						continue
					}
					x, y, v := a.Float(i), b.Float(i), q.Float(i)
					r := x * y
					if div {
						if y == 0 {
							continue
						}
						r = x / y
					}
					total++
					if math.Abs(r-v) <= 1e-9*math.Max(1, math.Abs(v)) {
						match++
					}
				}
				if total >= 20 && match*100 >= total*99 {
					out = append(out, ratio{a: a.Name, b: b.Name, div: div})
				}
			}
		}
	}
	return out
}

// linksFor is what the analysis asks of table t, given what the household
// table's disclosure control did (nil while t is the household table).
func (lk *links) linksFor(t *Table, d Design, p *Profile, houseDone *tableLinks, houseIDs []string) *tableLinks {
	tl := &tableLinks{fixed: map[string]string{}, inherit: map[string]inherited{}, preNull: map[string][]int{}, ratios: map[string][]ratio{}}
	if lk.house == nil {
		return tl
	}
	if t == lk.house {
		tl.fixed = lk.fixed
		tl.ratios = lk.ratios
		tl.counted = lk.counted
		return tl
	}
	id := t.Column(d.ID)
	if id == nil || houseDone == nil {
		return tl
	}
	for q, cs := range lk.carriers {
		suppressed := map[string]bool{}
		for _, r := range houseDone.nulled[q] {
			suppressed[houseIDs[r]] = true
		}
		qc := lk.house.Column(q)
		qval := map[string]string{}
		hid := lk.house.Column(d.ID)
		for i := 0; i < hid.Len(); i++ {
			if !qc.IsNull(i) {
				qval[hid.Format(i)] = qc.Format(i)
			}
		}
		// The rows of this table by household, for the "every row" carriers.
		byHouse := map[string][]int{}
		for r := 0; r < id.Len(); r++ {
			byHouse[id.Format(r)] = append(byHouse[id.Format(r)], r)
		}
		sort.SliceStable(cs, func(a, b int) bool { return !cs[a].all && cs[b].all })
		for _, c := range cs {
			if c.table != t.Name {
				continue
			}
			col := t.Column(c.column)
			rule := inherited{from: q, keep: houseDone.kept[q]}
			if r, ok := p.Recode[q]; ok {
				rule.recode = &r
			}
			if cp, ok := houseDone.caps[q]; ok {
				rule.cap = &cp
			}
			tl.inherit[c.column] = rule
			if c.all {
				// Where the rows left after the precise carriers' nulls
				// still all agree on the household's value, they give it
				// back: null them too.
				done := map[int]bool{}
				for _, r := range tl.preNull[c.column] {
					done[r] = true
				}
				for h := range suppressed {
					var left []int
					agree := true
					for _, r := range byHouse[h] {
						if col.IsNull(r) || done[r] {
							continue
						}
						left = append(left, r)
						agree = agree && col.Format(r) == qval[h]
					}
					if agree && len(left) > 0 {
						tl.preNull[c.column] = append(tl.preNull[c.column], left...)
					}
				}
				continue
			}
			// Only the row the carrier was found in: the first where
			// `where` = equals. A condition many rows meet (is_child_6_17 =
			// 0, a function of age, holds for every adult) names the
			// head's row by being first, not the other adults'.
			first := firstWhere(id, col, t.Column(c.where), c.equals)
			for r := 0; r < id.Len(); r++ {
				if first[r] && suppressed[id.Format(r)] {
					tl.preNull[c.column] = append(tl.preNull[c.column], r)
				}
			}
		}
	}
	return tl
}

// secondarySuppression nulls, in each row where quasi-identifier q was
// suppressed, the value of any other column x that would give q back: x →
// q holds in the rows that show q and x's value there was seen with q.
// Design and id columns are never nulled (a quasi-identifier they
// determine is fixed, so never suppressed). It returns the count per column.
func secondarySuppression(t *Table, q *Column, rows []int, skip []string) map[string]int {
	out := map[string]int{}
	if len(rows) == 0 {
		return out
	}
	// q's codes, made as rows are read (−2: not yet): most columns stop
	// at their first row that disagrees.
	qv := newValueCoder(q)
	qc := make([]int32, q.Len())
	for i := range qc {
		qc[i] = -2
	}
	var m []int32 // x's code → q's code, in the rows that show both
	for _, x := range t.Columns {
		if x == q || slices.Contains(skip, x.Name) {
			continue
		}
		xc := newValueCoder(x)
		m = m[:0]
		ok := true
		for i := 0; i < x.Len() && ok; i++ {
			if qc[i] == -2 {
				qc[i] = qv.code(i)
			}
			if qc[i] < 0 || x.IsNull(i) {
				continue
			}
			a := xc.code(i)
			if int(a) == len(m) {
				m = append(m, qc[i])
			} else if m[a] != qc[i] {
				ok = false
			}
		}
		if !ok {
			continue
		}
		for _, r := range rows {
			if _, seen := xc.get(r, false); seen {
				x.SetNull(r)
				x.Nullable = true
				out[x.Name]++
			}
		}
	}
	return out
}

// bandOf is the interval of breaks that the number s falls in, written as
// recode writes it ("[40,60)"), or s when it is not a number in range.
func bandOf(s string, b []float64) string {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x < b[0] || x > b[len(b)-1] {
		return s
	}
	for i := 0; i+1 < len(b); i++ {
		if x < b[i+1] {
			return "[" + fmtNum(b[i]) + "," + fmtNum(b[i+1]) + ")"
		}
	}
	return "[" + fmtNum(b[len(b)-2]) + "," + fmtNum(b[len(b)-1]) + "]"
}
