package exports

import (
	"fmt"
	"math"
	"strings"
)

// Risk over the release as one linked dataset: person-level tables.
//
// A person-level table (the roster, the household's migrants, its return
// migrants) is joined to its households on the household id: each row's key
// is its household's quasi-identifiers, as released, followed by the
// table's own (the profile's person_quasi_identifiers), so that a person is
// k-anonymous only if k people share the household's key and the person's.
// Local suppression then nulls person-level values only (the household's
// were settled by the household table), never a value that another table
// shows anyway (the head's age in the roster, while the household table
// shows head_age).
//
// Household risk is sdcMicro's (measure_risk with hid): a household is
// re-identified when at least one of its members is, so its risk is
// 1 − Π(1 − r_i) over the members' individual risks r_i; sdcMicro's
// expected number of re-identifications with household structure
// (hier_risk_ER) gives each person the risk of their household and sums over
// persons, and hier_risk divides it by the number of persons.

// HouseholdRisk is sdcMicro's household (hierarchical) risk.
type HouseholdRisk struct {
	// ExpectedReidentifications is sdcMicro's hier_risk_ER: the sum over
	// persons of their household's risk; Global is hier_risk, that sum over
	// the number of persons.
	ExpectedReidentifications float64 `json:"hier_risk_er"`
	Global                    float64 `json:"hier_risk"`
	// ExpectedHouseholds is the sum over households of their risk: the
	// expected number of households re-identified.
	ExpectedHouseholds float64 `json:"expected_households_reidentified"`
	MaxHousehold       float64 `json:"max_household_risk"`
	Households         int     `json:"households"`
}

// HouseholdRiskOf computes household risk from each person's household id
// and individual risk (see HouseholdRisk); perHousehold maps a household id
// to its risk 1 − Π(1 − r_i). Rows with a NaN risk are left out.
func HouseholdRiskOf(ids []string, r []float64) (HouseholdRisk, map[string]float64) {
	if len(ids) != len(r) {
		panic("exports: HouseholdRiskOf: ids and risks differ in length")
	}
	safe := map[string]float64{}
	var order []string // households in order of first appearance: sums are the same in every run
	for i, id := range ids {
		if math.IsNaN(r[i]) {
			continue
		}
		if _, ok := safe[id]; !ok {
			safe[id] = 1
			order = append(order, id)
		}
		safe[id] *= 1 - r[i]
	}
	per := make(map[string]float64, len(safe))
	var out HouseholdRisk
	for _, id := range order {
		s := safe[id]
		per[id] = 1 - s
		out.ExpectedHouseholds += 1 - s
		out.MaxHousehold = math.Max(out.MaxHousehold, 1-s)
	}
	n := 0
	for i, id := range ids {
		if math.IsNaN(r[i]) {
			continue
		}
		out.ExpectedReidentifications += per[id]
		n++
	}
	if n > 0 {
		out.Global = out.ExpectedReidentifications / float64(n)
	}
	out.Households = len(per)
	return out, per
}

// JointRisk is the disclosure control of one person-level table measured on
// the joined data.
type JointRisk struct {
	Table           string        `json:"table"`
	Records         int           `json:"records"`
	HouseholdKeys   []string      `json:"household_quasi_identifiers"`
	PersonKeys      []string      `json:"person_quasi_identifiers"`
	Before          Risk          `json:"risk_before"`
	After           Risk          `json:"risk_after"`
	HouseholdBefore HouseholdRisk `json:"household_risk_before"`
	HouseholdAfter  HouseholdRisk `json:"household_risk_after"`
	// Exposed counts records below k on the joined key only because their
	// household's released key is held by fewer than k households (the
	// household table's residual, which the profile allows there).
	Exposed int `json:"records_in_residual_households"`
}

// joinRows is, for each row of person-level table t, its id and its
// household's row in h (−1: none).
func joinRows(t, h *Table, d Design) ([]string, []int) {
	hid := h.Column(d.ID)
	row := make(map[string]int, hid.Len())
	for i := 0; i < hid.Len(); i++ {
		row[hid.Format(i)] = i
	}
	tid := t.Column(d.ID)
	n := t.Rows()
	ids := make([]string, n)
	hrow := make([]int, n)
	for r := 0; r < n; r++ {
		ids[r] = tid.Format(r)
		i, ok := row[ids[r]]
		if !ok {
			i = -1
		}
		hrow[r] = i
	}
	return ids, hrow
}

// jointKeys builds the keys of the joined table of person-level table t:
// the household quasi-identifiers of its household in h (as
// "household.NAME"; hrow from joinRows, hcoded codes h's columns), then its
// own quasi-identifiers, and the weight (t's, else its household's). A
// household value is coded as its text, as if copied to the person's row.
func jointKeys(t, h *Table, hqis, pqis []string, d Design, hrow []int, hcoded codedCache) (*keys, error) {
	n := t.Rows()
	if len(hqis)+len(pqis) == 0 {
		n = 0
	}
	var names []string
	var cols [][]int32
	var labels [][]string
	for _, q := range hqis {
		hk := hcoded.of(h.Column(q))
		remap := make([]int32, len(hk.texts))
		for x := range remap {
			remap[x] = -1
		}
		codes := make([]int32, n)
		var l []string
		for r := range codes {
			codes[r] = -1
			if hr := hrow[r]; hr >= 0 {
				if x := hk.codes[hr]; x >= 0 {
					if remap[x] < 0 {
						remap[x] = int32(len(l))
						l = append(l, hk.texts[x])
					}
					codes[r] = remap[x]
				}
			}
		}
		cols = append(cols, codes)
		labels = append(labels, l)
		names = append(names, "household."+q)
	}
	for _, q := range pqis {
		codes, l := encodeColumn(t.Column(q))
		cols = append(cols, codes)
		labels = append(labels, l)
		names = append(names, q)
	}
	w := t.Column(d.Weight)
	if w == nil && h.Column(d.Weight) != nil {
		hw := h.Column(d.Weight)
		w = &Column{Name: d.Weight, Type: Float, Floats: make([]float64, n)}
		for r := 0; r < n; r++ {
			w.Floats[r] = math.NaN()
			if hrow[r] >= 0 {
				w.Floats[r] = hw.Float(hrow[r])
			}
		}
	}
	return keysOf(t.Name, n, names, cols, labels, w)
}

// protectPersons applies person-level disclosure control to the
// person-level tables the profile declares, on the joined data: orig are the
// input tables, out the anonymized ones (same order), reports their reports.
// It returns the joint risk per table and overall household risk.
//
// guard false turns off the protection of cells other tables show (only the
// attacker test's positive control does).
func protectPersons(orig, out []*Table, reports []TableReport, p *Profile, d Design, lk *links, guard bool) ([]JointRisk, *HouseholdRisk, error) {
	find := func(ts []*Table, name string) (*Table, int) {
		for i, t := range ts {
			if t.Name == name {
				return t, i
			}
		}
		return nil, -1
	}
	if lk.house == nil {
		return nil, nil, fmt.Errorf("profile: person_quasi_identifiers: no household table with the id column %s", d.ID)
	}
	hIn, hi := find(orig, lk.house.Name)
	hOut := out[hi]
	var hqis []string
	for _, q := range p.QuasiIdentifiers {
		if hIn.Column(q) != nil {
			hqis = append(hqis, q)
		}
	}
	var joint []JointRisk
	var allIDs []string
	var allRisk []float64
	for _, name := range sortedKeys(p.PersonQuasiIdentifiers) {
		pqis := p.PersonQuasiIdentifiers[name]
		tIn, ti := find(orig, name)
		tOut := out[ti]
		tr := &reports[ti]
		jr := JointRisk{Table: name, Records: tOut.Rows(), HouseholdKeys: hqis, PersonKeys: pqis}

		// The risk before reads only the input tables: it is measured
		// on the other core while the released table is protected.
		var (
			riskBefore      Risk
			householdBefore HouseholdRisk
			beforeErr       error
			beforeDone      = make(chan struct{})
		)
		go func() {
			defer close(beforeDone)
			ids, inRow := joinRows(tIn, hIn, d)
			before, err := jointKeys(tIn, hIn, hqis, pqis, d, inRow, codedCache{})
			if err != nil {
				beforeErr = err
				return
			}
			before.blanksMatch = p.BlanksMatchAny
			var rb []float64
			riskBefore, _, _, rb = before.risk(p.K)
			householdBefore, _ = HouseholdRiskOf(ids, rb)
		}()
		// fail returns err, or the risk before's error, which came
		// first when the steps ran one after the other.
		fail := func(err error) ([]JointRisk, *HouseholdRisk, error) {
			<-beforeDone
			if beforeErr != nil {
				return nil, nil, beforeErr
			}
			return nil, nil, err
		}

		// hOut is not changed here: its columns are coded once.
		hcoded := codedCache{}
		ids, hr := joinRows(tOut, hOut, d)
		ks, err := jointKeys(tOut, hOut, hqis, pqis, d, hr, hcoded)
		if err != nil {
			return fail(err)
		}
		// Each row's household as a code (the id's, in order of first
		// appearance; −1: a null id), and the rows of each household
		// that hOut holds.
		houseOf := newValueCoder(tOut.Column(d.ID))
		house := make([]int32, len(ids))
		for r := range house {
			house[r] = houseOf.code(r)
		}
		var houses [][]int
		{
			at := make([]int32, houseOf.n)
			for r, h := range house {
				if h < 0 || hr[r] < 0 {
					continue
				}
				if at[h] == 0 {
					houses = append(houses, nil)
					at[h] = int32(len(houses))
				}
				houses[at[h]-1] = append(houses[at[h]-1], r)
			}
		}
		// Cells another table shows anyway are never suppressed: the
		// carrier's row (the head's) while its household shows the value.
		// A shown cell is a row where where = equals (with rows set, only
		// the rows it marks: the first such row of each household, which
		// is the one a carrier found by valueWhere names) whose
		// household shows q.
		type shown struct {
			where  *Column
			equals string
			q      *Column
			rows   []bool
		}
		carries := make([][]shown, len(pqis))
		for pj, pq := range pqis {
			for _, q := range sortedKeys(lk.carriers) {
				for _, c := range lk.carriers[q] {
					if c.table == name && c.column == pq && !c.all && tOut.Column(c.where) != nil && hOut.Column(q) != nil {
						w := tOut.Column(c.where)
						carries[pj] = append(carries[pj], shown{w, c.equals, hOut.Column(q), firstWhereIn(house, int(houseOf.n), tOut.Column(pq), w, c.equals)})
					}
				}
			}
		}
		// Carriers as released: after recoding, a person's value may agree
		// with a household value it did not agree with before (the
		// spouse's age band and the head's). Found on the released
		// codes, with a margin (carrierAgreement), they are guarded as the others, and
		// lose their value where the household's was suppressed.
		if tr.Secondary == nil {
			tr.Secondary = map[string]int{}
		}
		// Values are compared as coded texts (see coded), read afresh
		// where the loop nulls cells.
		// tOut's columns coded once; a column the loop nulls is coded
		// again. Columns of more than 12 texts keep only their texts.
		tcoded := map[*Column]*coded{}
		codedOf := func(c *Column, full bool) *coded {
			x, ok := tcoded[c]
			if !ok || (full && x.codes == nil) {
				x = codeColumn(c)
				if !full && len(x.texts) > 12 {
					x = &coded{texts: x.texts}
				}
				tcoded[c] = x
			}
			return x
		}
		var match, total []int
		for pj, pq := range pqis {
			pc := tOut.Column(pq)
			for _, q := range hqis {
				qc := hOut.Column(q)
				qk := hcoded.of(qc)
				pk := codedOf(pc, true)
				pq2q := make([]int32, len(pk.texts)) // pc's code → qc's code
				for x, s := range pk.texts {
					pq2q[x] = -2
					if y, ok := qk.index[s]; ok {
						pq2q[x] = y
					}
				}
				for _, w := range tOut.Columns {
					if w == pc || w.Name == d.ID || w.Name == d.Stratum || w.Name == d.PSU || w.Name == d.Weight || w.Name == d.FPC || w.Type == Float {
						continue
					}
					wk := codedOf(w, false)
					if len(wk.texts) > 12 {
						continue
					}
					// Agreement per value of w, in one pass: the rows of
					// one value are not the rows another value nulls.
					match = append(match[:0], make([]int, len(wk.texts))...)
					total = append(total[:0], make([]int, len(wk.texts))...)
					for r, vc := range wk.codes {
						h := hr[r]
						if vc < 0 || h < 0 || pc.IsNull(r) || qk.codes[h] < 0 {
							continue
						}
						total[vc]++
						if pq2q[pk.codes[r]] == qk.codes[h] {
							match[vc]++
						}
					}
					for _, v := range wk.sorted() {
						vc := wk.index[v]
						if total[vc] < 20 || match[vc]*100 < total[vc]*carrierAgreement {
							continue
						}
						carries[pj] = append(carries[pj], shown{w, v, qc, nil})
						n := 0
						for r := 0; r < pc.Len(); r++ {
							if h := hr[r]; h >= 0 && qk.codes[h] < 0 && !pc.IsNull(r) && wk.codes[r] == vc {
								pc.SetNull(r)
								n++
							}
						}
						if n > 0 {
							delete(tcoded, pc)
							pc.Nullable = true
							tr.Secondary[pq] += n
							pc.Meta.Transforms = append(pc.Meta.Transforms, fmt.Sprintf("%d values set to null where %s = %s and the household's %s, which this column then nearly always equals, was suppressed", n, w.Name, v, q))
						}
					}
				}
			}
		}
		if n := len(carries); n > 0 {
			// The keys were read before: read them again.
			if ks, err = jointKeys(tOut, hOut, hqis, pqis, d, hr, hcoded); err != nil {
				return fail(err)
			}
		}
		nh := len(hqis)
		// The guard on codes, made once: per carrier, the rows it names
		// (where = equals; with rows set, only those), and the person's
		// value as a code of the household column's texts. A cell's value
		// never changes, it can only become null, which is read live.
		type guardOf struct {
			sel   []bool
			where *Column
			q     *Column
			qk    *coded
			p2q   []int32 // the person's code → qk's code (−2: none)
		}
		guards := make([][]guardOf, len(pqis))
		pcs := make([]*Column, len(pqis))
		pks := make([]*coded, len(pqis))
		for pj, pq := range pqis {
			pcs[pj] = tOut.Column(pq)
			if !guard || len(carries[pj]) == 0 {
				continue
			}
			pks[pj] = codeColumn(pcs[pj])
			for _, s := range carries[pj] {
				g := guardOf{sel: make([]bool, pcs[pj].Len()), where: s.where, q: s.q, qk: hcoded.of(s.q)}
				for i := range g.sel {
					g.sel[i] = (s.rows == nil || s.rows[i]) && !s.where.IsNull(i) && s.where.Format(i) == s.equals
				}
				g.p2q = make([]int32, len(pks[pj].texts))
				for x, t := range pks[pj].texts {
					g.p2q[x] = -2
					if y, ok := g.qk.index[t]; ok {
						g.p2q[x] = y
					}
				}
				guards[pj] = append(guards[pj], g)
			}
		}
		can := func(i, j int) bool {
			if j < nh {
				return false
			}
			if !guard {
				return true
			}
			// The household shows the cell only where the person's value
			// is the household's: a carrier row whose value differs (the
			// first adult is not always the head) hides something when
			// suppressed, and must be allowed to be.
			pj := j - nh
			if pcs[pj].IsNull(i) {
				return true
			}
			for _, g := range guards[pj] {
				if !g.sel[i] || g.where.IsNull(i) {
					continue
				}
				if h := hr[i]; h >= 0 && !g.q.IsNull(h) && g.qk.codes[h] >= 0 && g.p2q[pks[pj].codes[i]] == g.qk.codes[h] {
					return false
				}
			}
			return true
		}
		var order []int
		for j := len(pqis) - 1; j >= 0; j-- {
			order = append(order, nh+j)
		}
		tr.QuasiIdentifiers = append(prefixed(hqis), pqis...)
		tr.Suppressed = map[string]int{}
		tr.SuppressedTotal = 0
		if tr.Secondary == nil {
			tr.Secondary = map[string]int{}
		}
		// Suppression, secondary suppression and the carriers' rule
		// until nothing changes: each null they add makes a key of its
		// own (a blank is a value), which the next round brings to k.
		for round := 0; ; round++ {
			if round > 0 {
				if ks, err = jointKeys(tOut, hOut, hqis, pqis, d, hr, hcoded); err != nil {
					return fail(err)
				}
			}
			nulled, sup := localSuppression(ks, p, order, can)
			if tr.Suppression == nil {
				tr.Suppression = &sup
			} else {
				// A later round's cells add to the first's (its bound
				// no longer holds for the whole).
				tr.Suppression.Cells += sup.Cells
				tr.Suppression.Greedy += sup.Greedy
			}
			changed := sup.Cells
			skip := []string{d.ID, d.Stratum, d.PSU, d.Weight, d.FPC}
			for pj, pq := range pqis {
				rows := nulled[nh+pj]
				c := tOut.Column(pq)
				for _, r := range rows {
					c.SetNull(r)
				}
				c.Nullable = true
				tr.Suppressed[pq] += len(rows)
				tr.SuppressedTotal += len(rows)
				if len(rows) > 0 {
					c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("local suppression on the data joined to the households: %d values set to null for %d-anonymity of each person on the household's and the person's quasi-identifiers", len(rows), p.K))
				}
				for col, n := range secondarySuppression(tOut, c, rows, append(skip, pqis...)) {
					tr.Secondary[col] += n
					changed += n
					tOut.Column(col).Meta.Transforms = append(tOut.Column(col).Meta.Transforms, fmt.Sprintf("%d values set to null where %s was suppressed and this column would give it back", n, pq))
				}
			}
			// A column every row of a household carries (the members' sex,
			// all the head's when the others' are suppressed) gives a
			// suppressed household value back where the rows left all agree:
			// they lose it too.
			for _, q := range sortedKeys(lk.carriers) {
				qOut := hOut.Column(q)
				for _, c := range lk.carriers[q] {
					col := tOut.Column(c.column)
					if !c.all || c.table != name || col == nil || qOut == nil || !guard {
						continue
					}
					n := 0
					for _, rows := range houses {
						if !qOut.IsNull(hr[rows[0]]) {
							continue
						}
						if _, agree := allAgree(col, rows); !agree {
							continue
						}
						for _, r := range rows {
							if !col.IsNull(r) {
								col.SetNull(r)
								n++
							}
						}
					}
					changed += n
					if n > 0 {
						col.Nullable = true
						tr.Secondary[c.column] += n
						col.Meta.Transforms = append(col.Meta.Transforms, fmt.Sprintf("%d values set to null where the household's %s was suppressed and the values left would all agree on it", n, q))
					}
				}
			}
			// Values nulled by the carriers' rule (and by the household
			// table's suppression) lose what would give them back too.
			// Transitively: a column nulled to protect another is
			// protected in turn.
			for _, pq := range append(append([]string(nil), pqis...), sortedKeys(tr.Secondary)...) {
				c := tOut.Column(pq)
				if c == nil {
					continue
				}
				var rows []int
				for r := 0; r < c.Len(); r++ {
					if c.IsNull(r) {
						rows = append(rows, r)
					}
				}
				for col, n := range secondarySuppression(tOut, c, rows, append(skip, pqis...)) {
					tr.Secondary[col] += n
					changed += n
					tOut.Column(col).Meta.Transforms = append(tOut.Column(col).Meta.Transforms, fmt.Sprintf("%d values set to null where %s is null and this column would give it back", n, pq))
				}
				// Columns that are never nulled (design codes) must not
				// give a nulled value back either: where one determines
				// the column, the values it would read from the rest of
				// the group go too.
				if n := unsupport(tOut, c, skip); n > 0 {
					tr.Secondary[pq] += n
					changed += n
					c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("%d values set to null because a design code would give the column's nulled values back from them", n))
				}
			}
			if changed == 0 || round == 4 {
				break
			}
		}
		if len(tr.Secondary) == 0 {
			tr.Secondary = nil
		}
		ks.blanksMatch = p.BlanksMatchAny
		after, fk, _, ra := ks.risk(p.K)
		tr.AfterBlanksMatchAny, tr.AfterBlanksAreValues = bothMeasures(ks, p.K, after)
		jr.After = after
		jr.HouseholdAfter, _ = HouseholdRiskOf(ids, ra)
		<-beforeDone
		if beforeErr != nil {
			return nil, nil, beforeErr
		}
		jr.Before, jr.HouseholdBefore = riskBefore, householdBefore
		tr.Before, tr.After = jr.Before, after
		allIDs = append(allIDs, ids...)
		allRisk = append(allRisk, ra...)

		// Records below k: those in households whose released key fewer
		// than k households share are the household table's residual;
		// the others count against residual_k.
		hk, err := newKeys(hOut, hqis, nil)
		if err != nil {
			return fail(err)
		}
		hk.blanksMatch = p.BlanksMatchAny
		_, hfk, _, _ := hk.risk(p.K)
		own, other := 0, 0
		for i, f := range fk {
			if f >= p.K {
				continue
			}
			if h := hr[i]; h >= 0 && hfk[h] < p.K {
				jr.Exposed++
				continue
			}
			left := false
			for _, j := range order {
				if ks.cols[j][i] >= 0 && can(i, j) {
					left = true
				}
			}
			if left {
				other++
			} else {
				own++
			}
		}
		tr.ResidualK = own
		if other > 0 {
			tr.Problems = append(tr.Problems, fmt.Sprintf("%d records violate k=%d on the joined %s", other, p.K, strings.Join(tr.QuasiIdentifiers, ", ")))
		}
		if own > p.ResidualK {
			tr.Problems = append(tr.Problems, fmt.Sprintf("%d records stay below k=%d on the joined data with every person-level value suppressed that may be; allow them with residual_k: %d or coarsen", own, p.K, own))
		}
		if p.MaxRisk > 0 && after.Global > p.MaxRisk {
			tr.Problems = append(tr.Problems, fmt.Sprintf("global risk on the joined data %.4g exceeds max_risk %v", after.Global, p.MaxRisk))
		}
		joint = append(joint, jr)
	}
	if len(joint) == 0 {
		return nil, nil, nil
	}
	all, _ := HouseholdRiskOf(allIDs, allRisk)
	return joint, &all, nil
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "household." + n
	}
	return out
}

// unsupport nulls, for each column x of fixed (never nulled) that
// determines q in the rows that show q, q's shown values in the groups of x
// that also hold a nulled q (where those values would give it back). It
// returns how many values it nulled.
func unsupport(t *Table, q *Column, fixed []string) int {
	n := 0
	for _, name := range fixed {
		x := t.Column(name)
		if x == nil || x == q {
			continue
		}
		if !determines(x, q) {
			continue
		}
		hasNull := map[string]bool{}
		for r := 0; r < q.Len(); r++ {
			if q.IsNull(r) && !x.IsNull(r) {
				hasNull[x.Format(r)] = true
			}
		}
		for r := 0; r < q.Len(); r++ {
			if !q.IsNull(r) && !x.IsNull(r) && hasNull[x.Format(r)] {
				q.SetNull(r)
				q.Nullable = true
				n++
			}
		}
	}
	return n
}

// carrierAgreement is the percentage of rows in which a person's released
// value must equal a household's for the person's column to count as
// carrying it: well under the 95% at which an intruder would trust the
// copy, because suppression of the rows that disagree raises the agreement
// of those left.
const carrierAgreement = 75

// protectCarried keeps the nulled values of cols (columns carrying a
// household value that was suppressed) from coming back inside table t:
// secondary suppression over every null row, transitively, and no design
// code (skip) that would give them back from the rest of its group. It
// counts what it nulls in tr.Secondary.
func protectCarried(t *Table, cols, skip []string, tr *TableReport) {
	if tr.Secondary == nil {
		tr.Secondary = map[string]int{}
	}
	for round := 0; round < 5; round++ {
		changed := 0
		for _, name := range append(append([]string(nil), cols...), sortedKeys(tr.Secondary)...) {
			c := t.Column(name)
			if c == nil {
				continue
			}
			var rows []int
			for r := 0; r < c.Len(); r++ {
				if c.IsNull(r) {
					rows = append(rows, r)
				}
			}
			for col, n := range secondarySuppression(t, c, rows, append(append([]string(nil), skip...), cols...)) {
				tr.Secondary[col] += n
				changed += n
				t.Column(col).Meta.Transforms = append(t.Column(col).Meta.Transforms, fmt.Sprintf("%d values set to null where %s is null and this column would give it back", n, name))
			}
			if n := unsupport(t, c, skip); n > 0 {
				tr.Secondary[name] += n
				changed += n
				c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("%d values set to null because a design code would give the column's nulled values back from them", n))
			}
		}
		if changed == 0 {
			break
		}
	}
	if len(tr.Secondary) == 0 {
		tr.Secondary = nil
	}
}
