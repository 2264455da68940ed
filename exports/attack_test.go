package exports_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dotm-survey/dotm/dataset"
	"github.com/dotm-survey/dotm/exports"
	"github.com/dotm-survey/dotm/fieldsim"
	"github.com/dotm-survey/dotm/questionnaire"
)

// attackProfile is the demo's release profile.
const attackProfile = exports.HouseholdProfile

// roundDataset is a Development on the Move round as the demo makes it: 80
// enumeration areas of a simulated country, 15 households each (6 current
// migrant, 3 return, 6 non-migrant), interviewed, validated and turned into
// the release tables by the dataset package.
func roundDataset(t *testing.T, seed uint64) *exports.Dataset {
	t.Helper()
	country := fieldsim.NewCountry(600, seed)
	form := questionnaire.Household()
	rng := rand.New(rand.NewPCG(seed, 11))
	var hh []dataset.Household
	end := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for e := 0; e < len(country.EAs) && len(hh) < 700; e += 12 {
		ea := country.EAs[e]
		quota := map[string]int{fieldsim.CurrentMigrant: 6, fieldsim.ReturnMigrant: 3, fieldsim.NonMigrant: 6}
		for _, l := range fieldsim.List(ea, rng) {
			if quota[l.Class] == 0 {
				continue
			}
			quota[l.Class]--
			raw := fieldsim.Interview(rng, fieldsim.Household{ID: l.ID, Region: ea.Region, Urban: ea.Urban, Class: l.Class}, end)
			answers, problems := form.Validate(raw, questionnaire.ValidateOptions{Now: end})
			if len(problems) > 0 {
				t.Fatalf("simulated interview %s is invalid: %+v", l.ID, problems[0])
			}
			if answers["consent"] != "yes" {
				continue
			}
			hh = append(hh, dataset.Household{ID: l.ID, Stratum: ea.Stratum, PSU: ea.ID, Weight: float64(ea.Size) / 15 * (1 + rng.Float64()),
				FPC: 60, Interviewed: end, Answers: answers})
		}
	}
	ds, err := dataset.Build("attack", form, hh)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// released is a release read back with arrow-go: every value as text, ""
// for null.
type released map[string]map[string][]string

func readRelease(t *testing.T, dir string, tables []string) released {
	t.Helper()
	out := released{}
	for _, name := range tables {
		rdr, err := file.OpenParquetFile(filepath.Join(dir, name+".parquet"), false)
		if err != nil {
			t.Fatalf("arrow: %v", err)
		}
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		cols := map[string][]string{}
		for i, f := range tbl.Schema().Fields() {
			var vals []string
			for _, chunk := range tbl.Column(i).Data().Chunks() {
				for r := 0; r < chunk.Len(); r++ {
					if chunk.IsNull(r) {
						vals = append(vals, "")
					} else {
						vals = append(vals, normNum(chunk.ValueStr(r)))
					}
				}
			}
			cols[f.Name] = vals
		}
		tbl.Release()
		rdr.Close()
		out[name] = cols
	}
	return out
}

// normNum writes numbers one way ("3" for 3.0) so that an integer column
// and a float column with the same values compare equal.
func normNum(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "-:T") || err == nil && strings.HasPrefix(s, "-") {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return s
}

// attackResult counts what the attacker recovered.
type attackResult struct {
	recovered map[string]int // by technique and column
	total     int
	tried     int // suppressed household cells the attacker looked at
	// triedPersons counts suppressed cells of person-level tables.
	triedPersons int
}

func (a *attackResult) add(how string, n int) {
	if n > 0 {
		a.recovered[how] += n
		a.total += n
	}
}

func (a attackResult) String() string {
	keys := make([]string, 0, len(a.recovered))
	for k := range a.recovered {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-60s %d", k, a.recovered[k])
	}
	return b.String()
}

// attack plays a researcher who holds the release and tries every join and
// copy it can find to fill in suppressed cells, then counts the cells it
// filled with the true value (truth: the original dataset, matched through
// the household pseudonym, which the test can compute with the release key).
//
// Techniques, all generic (nothing names a column):
//   - functional dependencies inside a table: a column X whose every value
//     goes with one value of the suppressed column q in the rows that show q
//     (support ≥ 2), e.g. a copy, a finer code, a design code;
//   - joins to the other tables on the household id: the number of a
//     household's rows, the value of a column in the row where another
//     column has a given value (the head's row), the value all of a
//     household's rows agree on;
//   - arithmetic: q = a/b or q = a·b for two numeric columns of the table,
//     which undoes top-coding.
func attack(t *testing.T, rel released, orig *exports.Dataset, key []byte) attackResult {
	t.Helper()
	res := attackResult{recovered: map[string]int{}}
	truth := func(table, col, hid string) (string, bool) {
		ot := orig.Table(table)
		if ot == nil {
			return "", false
		}
		c := ot.Column(col)
		id := ot.Column("household_id")
		if c == nil || id == nil || table != "households" {
			return "", false
		}
		row, ok := origIndex(t, orig, key)[hid]
		if !ok || c.IsNull(row) {
			return "", false
		}
		return normNum(c.Format(row)), true
	}
	H := rel["households"]
	ids := H["household_id"]
	n := len(ids)
	// Suppressed (or top-coded) household cells: null in the release but
	// not in the original, or different from it.
	type cell struct {
		row  int
		col  string
		true string
	}
	var cells []cell
	for col, vals := range H {
		for i := 0; i < n; i++ {
			tv, ok := truth("households", col, ids[i])
			if ok && vals[i] == "" {
				// The attacker can at best recover the value as the
				// release codes it (an age band, a top-code).
				cells = append(cells, cell{i, col, coded(tv, vals)})
			}
		}
	}
	res.tried = len(cells)
	recovered := map[[2]string]bool{}
	got := func(how string, c cell, v string) {
		k := [2]string{strconv.Itoa(c.row), c.col}
		if v == c.true && !recovered[k] {
			recovered[k] = true
			res.add(how+" → "+c.col, 1)
		}
	}
	// 1. Functional dependencies inside the households table: X → q holds
	// when no value of X goes with two values of q in the rows that show
	// q; a suppressed cell is filled when its X value was seen at least
	// twice with q shown.
	byCol := map[string][]cell{}
	for _, c := range cells {
		byCol[c.col] = append(byCol[c.col], c)
	}
	for qcol, list := range byCol {
		q := H[qcol]
		for x, xv := range H {
			if x == qcol {
				continue
			}
			m, ok := functionalDependency(xv, q)
			if !ok {
				continue
			}
			for _, c := range list {
				if e, ok := m[xv[c.row]]; ok && e.n >= 2 {
					got("same table: "+x, c, e.v)
				}
			}
		}
	}
	// 2. Joins on the household id: every derivation is computed once per
	// household, then tried against every column with suppressed cells.
	type derivation struct {
		how  string
		vals []string // per household row; "" when it does not answer
	}
	for table, T := range rel {
		if table == "households" || T["household_id"] == nil {
			continue
		}
		rows := map[string][]int{}
		for r, h := range T["household_id"] {
			rows[h] = append(rows[h], r)
		}
		var ders []derivation
		derive := func(how string, f func(i int) (string, bool)) {
			v := make([]string, n)
			for i := range v {
				if x, ok := f(i); ok {
					v[i] = x
				}
			}
			ders = append(ders, derivation{how, v})
		}
		derive(table+": number of rows", func(i int) (string, bool) { return strconv.Itoa(len(rows[ids[i]])), true })
		small := map[string][]string{}
		for rcol, rvals := range T {
			if rcol != "household_id" && distinct(rvals) <= 12 {
				small[rcol] = values(rvals)
			}
		}
		for col, vals := range T {
			if col == "household_id" {
				continue
			}
			derive(table+": value all rows agree on, "+col, func(i int) (string, bool) {
				v := ""
				for _, r := range rows[ids[i]] {
					if vals[r] == "" {
						continue
					}
					if v != "" && vals[r] != v {
						return "", false
					}
					v = vals[r]
				}
				return v, v != ""
			})
			for rcol, rvs := range small {
				if rcol == col {
					continue
				}
				rvals := T[rcol]
				for _, rv := range rvs {
					derive(fmt.Sprintf("%s: %s where %s = %s", table, col, rcol, rv), func(i int) (string, bool) {
						for _, r := range rows[ids[i]] {
							if rvals[r] == rv && vals[r] != "" {
								return vals[r], true
							}
						}
						return "", false
					})
				}
			}
		}
		for qcol, list := range byCol {
			q := H[qcol]
			for _, dv := range ders {
				if !holds(n, q, func(i int) (string, bool) { return dv.vals[i], dv.vals[i] != "" }) {
					continue
				}
				for _, c := range list {
					if v := dv.vals[c.row]; v != "" {
						got(dv.how, c, v)
					}
				}
			}
		}
	}
	// 3. Arithmetic undoing top-coding: q = a/b or a·b where q is not capped.
	for qcol, qv := range H {
		capv, ok := maxNum(qv)
		if !ok {
			continue
		}
		atCap := 0
		for _, v := range qv {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f == capv {
				atCap++
			}
		}
		if atCap < 3 { // not top-coded: nothing to undo
			continue
		}
		for a, av := range H {
			for b, bv := range H {
				if a == qcol || b == qcol || a == b {
					continue
				}
				for _, op := range []string{"/", "*"} {
					f := func(i int) (float64, bool) {
						x, e1 := strconv.ParseFloat(av[i], 64)
						y, e2 := strconv.ParseFloat(bv[i], 64)
						if e1 != nil || e2 != nil || (op == "/" && y == 0) {
							return 0, false
						}
						if op == "/" {
							return x / y, true
						}
						return x * y, true
					}
					match, total := 0, 0
					for i := 0; i < n; i++ {
						q, err := strconv.ParseFloat(qv[i], 64)
						if err != nil || q == capv {
							continue
						}
						if v, ok := f(i); ok {
							total++
							if math.Abs(v-q) <= 1e-9*math.Max(1, math.Abs(q)) {
								match++
							}
						}
					}
					if total < 20 || match < total*99/100 {
						continue
					}
					for i := 0; i < n; i++ {
						q, err := strconv.ParseFloat(qv[i], 64)
						if err != nil || q != capv {
							continue
						}
						tv, ok := truth("households", qcol, ids[i])
						if v, ok2 := f(i); ok && ok2 && v > capv {
							if tf, err := strconv.ParseFloat(tv, 64); err == nil && math.Abs(tf-v) <= 1e-9*math.Max(1, math.Abs(tf)) {
								res.add("top-code undone: "+qcol+" = "+a+" "+op+" "+b, 1)
							}
						}
					}
				}
			}
		}
	}
	attackPersons(t, rel, orig, key, &res)
	return res
}

var interval = regexp.MustCompile(`^[\[(](-?[0-9.e+]+),(-?[0-9.e+]+)([\])])$`)

// coded is the true value v as a released column with values released
// codes it: the interval of a recoded number ("[40,60)"), the cap of a
// top-coded one (its maximum, held by at least 3 rows), else v.
func coded(v string, released []string) string {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return v
	}
	seen := map[string]bool{}
	numeric, top, atTop := true, math.Inf(-1), 0
	for _, s := range released {
		if s == "" || seen[s] {
			if f, err := strconv.ParseFloat(s, 64); err == nil && f == top {
				atTop++
			}
			continue
		}
		seen[s] = true
		if m := interval.FindStringSubmatch(s); m != nil {
			lo, _ := strconv.ParseFloat(m[1], 64)
			hi, _ := strconv.ParseFloat(m[2], 64)
			if x >= lo && (x < hi || (m[3] == "]" && x == hi)) {
				return s
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			numeric = false
			continue
		}
		if f > top {
			top, atTop = f, 1
		} else if f == top {
			atTop++
		}
	}
	if numeric && atTop >= 3 && x > top {
		return normNum(strconv.FormatFloat(top, 'g', -1, 64))
	}
	return v
}

// attackPersons attacks the suppressed cells of the person-level tables
// (tables with a line number): the true value, as the release codes it,
// comes from the original row with the same household and line. Techniques,
// generic again:
//   - functional dependencies inside the table, as for households;
//   - a household column joined on the household id, in the rows where a
//     column of the person table has a given value (the household's
//     head_age in the row where relationship = head), or in every row.
func attackPersons(t *testing.T, rel released, orig *exports.Dataset, key []byte, res *attackResult) {
	t.Helper()
	H := rel["households"]
	hrow := map[string]int{}
	for i, h := range H["household_id"] {
		hrow[h] = i
	}
	for _, name := range sortedTables(rel) {
		T := rel[name]
		ot := orig.Table(name)
		if name == "households" || T["line"] == nil || ot == nil || ot.Column("line") == nil {
			continue
		}
		oid, oline := ot.Column("household_id"), ot.Column("line")
		orow := map[[2]string]int{}
		for r := 0; r < ot.Rows(); r++ {
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte("household\x00" + oid.Format(r)))
			orow[[2]string{hex.EncodeToString(mac.Sum(nil)[:16]), normNum(oline.Format(r))}] = r
		}
		n := len(T["household_id"])
		type pcell struct {
			row  int
			true string
		}
		cells := map[string][]pcell{}
		for col, vals := range T {
			oc := ot.Column(col)
			if col == "household_id" || col == "line" || oc == nil {
				continue
			}
			for r := 0; r < n; r++ {
				o, ok := orow[[2]string{T["household_id"][r], T["line"][r]}]
				if !ok || vals[r] != "" || oc.IsNull(o) {
					continue
				}
				cells[col] = append(cells[col], pcell{r, coded(normNum(oc.Format(o)), vals)})
			}
		}
		recovered := map[[2]string]bool{}
		got := func(how, col string, c pcell, v string) {
			k := [2]string{strconv.Itoa(c.row), col}
			if v == c.true && !recovered[k] {
				recovered[k] = true
				res.add(name+": "+how+" → "+col, 1)
			}
		}
		for col, list := range cells {
			res.triedPersons += len(list)
			for x, xv := range T {
				if x == col {
					continue
				}
				m, ok := functionalDependency(xv, T[col])
				if !ok {
					continue
				}
				for _, c := range list {
					if e, ok := m[xv[c.row]]; ok && e.n >= 2 {
						got("same table: "+x, col, c, e.v)
					}
				}
			}
		}
		// Household columns joined, unconditionally or where a small
		// column of this table has a given value.
		type cond struct{ w, v string }
		conds := []cond{{}}
		for w, wv := range T {
			if w != "household_id" && distinct(wv) <= 12 {
				for _, v := range values(wv) {
					conds = append(conds, cond{w, v})
				}
			}
		}
		for x, hv := range H {
			if x == "household_id" {
				continue
			}
			for _, cd := range conds {
				dv := make([]string, n)
				var rows []int // where the derivation answers
				for r := 0; r < n; r++ {
					if cd.w != "" && T[cd.w][r] != cd.v {
						continue
					}
					if i, ok := hrow[T["household_id"][r]]; ok && hv[i] != "" {
						dv[r] = hv[i]
						rows = append(rows, r)
					}
				}
				for col, list := range cells {
					q := T[col]
					match, total := 0, 0
					for _, r := range rows {
						if q[r] != "" {
							total++
							if q[r] == dv[r] {
								match++
							}
						}
					}
					if total < 20 || match*100 < total*95 { // as holds
						continue
					}
					how := "households." + x
					if cd.w != "" {
						how += " where " + cd.w + " = " + cd.v
					}
					for _, c := range list {
						if dv[c.row] != "" {
							got(how, col, c, dv[c.row])
						}
					}
				}
			}
		}
	}
}

func sortedTables(rel released) []string {
	var out []string
	for name := range rel {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

type fdEntry struct {
	v string
	n int
}

// functionalDependency maps each value of x to the one value of q it goes
// with in the rows that show both, or reports false when some x value goes
// with two q values (no dependency).
func functionalDependency(x, q []string) (map[string]fdEntry, bool) {
	m := map[string]fdEntry{}
	for i := range x {
		if x[i] == "" || q[i] == "" {
			continue
		}
		e, seen := m[x[i]]
		if seen && e.v != q[i] {
			return nil, false
		}
		m[x[i]] = fdEntry{q[i], e.n + 1}
	}
	return m, len(m) > 0
}

// holds reports whether f(i) equals q[i] in at least 95% (and at least 20)
// of the rows that show q and where f answers.
func holds(n int, q []string, f func(int) (string, bool)) bool {
	match, total := 0, 0
	for i := 0; i < n; i++ {
		if q[i] == "" {
			continue
		}
		v, ok := f(i)
		if !ok {
			continue
		}
		total++
		if v == q[i] {
			match++
		}
	}
	return total >= 20 && match*100 >= total*95
}

func distinct(v []string) int {
	m := map[string]bool{}
	for _, s := range v {
		m[s] = true
	}
	return len(m)
}

func values(v []string) []string {
	m := map[string]bool{}
	var out []string
	for _, s := range v {
		if s != "" && !m[s] {
			m[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func maxNum(v []string) (float64, bool) {
	m, ok := math.Inf(-1), false
	for _, s := range v {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			m, ok = math.Max(m, f), true
		}
	}
	return m, ok
}

var origIndexCache = map[*exports.Dataset]map[string]int{}

// origIndex maps a household's release pseudonym to its row in the
// original households table (the release key is the test's).
func origIndex(t *testing.T, orig *exports.Dataset, key []byte) map[string]int {
	if m, ok := origIndexCache[orig]; ok {
		return m
	}
	id := orig.Table("households").Column("household_id")
	m := map[string]int{}
	for i := 0; i < id.Len(); i++ {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte("household\x00" + id.Format(i)))
		m[hex.EncodeToString(mac.Sum(nil)[:16])] = i
	}
	origIndexCache[orig] = m
	return m
}

// TestAttackRecoversNothing: the researcher's attack on a release made as
// the demo makes it recovers no suppressed or top-coded value; the same
// attack on the same data protected table by table (as releases were made
// before the linked analysis) recovers hundreds — the positive control that
// shows the attack works.
func TestAttackRecoversNothing(t *testing.T) {
	ds := roundDataset(t, 1)
	p, err := exports.ParseProfile([]byte(attackProfile))
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("attack test key")
	for _, mode := range []string{"table by table", "no carrier guard", "linked"} {
		opts := exports.Options{IDKey: key, Rand: rand.New(rand.NewPCG(3, 4))}
		perTable := mode == "table by table"
		switch mode {
		case "table by table":
			opts = exports.PerTable(opts)
		case "no carrier guard":
			opts = exports.NoCarrierGuard(opts)
		}
		name := mode
		dir := filepath.Join(t.TempDir(), "release")
		_, rep, err := exports.Create(ds, p, dir, exports.Info{ID: "r1", Survey: "attack"}, opts)
		if err != nil {
			t.Fatalf("%s release: %v (%+v)", name, err, rep)
		}
		rel := readRelease(t, dir, []string{"households", "persons", "migrants", "return_migrants"})
		res := attack(t, rel, ds, key)
		t.Logf("%s: attacked %d suppressed household cells and %d person-level cells; recovered %d:%s", name, res.tried, res.triedPersons, res.total, res)
		persons := 0
		for how, n := range res.recovered {
			if strings.HasPrefix(how, "persons: ") || strings.HasPrefix(how, "migrants: households.") {
				persons += n
			}
		}
		switch {
		case perTable && res.total < 100:
			t.Errorf("positive control: the attack recovered only %d values from a release protected table by table; it should find hundreds", res.total)
		case mode == "no carrier guard" && persons < 20:
			t.Errorf("positive control: with person-level suppression free to null what the household table shows, the attack recovered only %d person-level values", persons)
		case mode == "linked" && res.total != 0:
			t.Errorf("the attack recovered %d values:%s", res.total, res)
		}
		if mode == "linked" {
			if res.triedPersons < 1000 {
				t.Errorf("only %d suppressed person-level cells to attack", res.triedPersons)
			}
			h := rep.Tables[0]
			t.Logf("linked: %d cells suppressed, %d secondary (%v), released as is %v, residual k violations %d, global risk %.4f",
				h.SuppressedTotal, sum(h.Secondary), h.Secondary, keysOf(h.ReleasedAsIs), h.ResidualK, h.After.Global)
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
