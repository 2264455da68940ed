package exports

import (
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Options are the per-release inputs of [Anonymize] that are not part of the
// reusable profile. Neither is ever written into a release.
type Options struct {
	// IDKey is the HMAC key of the pseudonymous household id and design
	// codes. Nil draws a new random 32-byte key, so that two releases cannot
	// be joined; a publisher who wants joinable releases passes the same key.
	IDKey []byte
	// Rand drives geographic displacement and the shuffle of record order.
	// Nil seeds one from crypto/rand. Tests pass a seeded generator.
	Rand *rand.Rand

	// perTable turns the linked analysis off, as dotm did before it had
	// one: only the attacker test sets it (export_test.go), to show what
	// the linked analysis prevents.
	perTable bool
	// noCarrierGuard lets person-level suppression null cells that another
	// table shows anyway (the head's age): only the attacker test sets it,
	// as the positive control of its person-level attack.
	noCarrierGuard bool
}

// TableReport is what disclosure control did to one table and the risk
// before and after.
type TableReport struct {
	Table            string         `json:"table"`
	Rows             int            `json:"rows"`
	QuasiIdentifiers []string       `json:"quasi_identifiers"`
	Dropped          []Dropped      `json:"dropped,omitempty"`
	Suppressed       map[string]int `json:"suppressed"` // nulled values per quasi-identifier
	SuppressedTotal  int            `json:"suppressed_total"`
	Before           Risk           `json:"risk_before"`
	After            Risk           `json:"risk_after"`
	Problems         []string       `json:"problems,omitempty"`
	Worst            []Combination  `json:"worst_combinations,omitempty"` // only when refused
	// ReleasedAsIs lists quasi-identifiers that other released data
	// determine (a design code, a count of rows): neither suppressed nor
	// coarsened, since that would be undone, and counted in the risk.
	ReleasedAsIs map[string]string `json:"released_as_is,omitempty"`
	// Carriers lists, per quasi-identifier, the other places its value can
	// be read from, which get the same coarsening and suppression.
	Carriers map[string][]string `json:"carriers,omitempty"`
	// Secondary counts values nulled because they would give a suppressed
	// value back (a column that determines it, or a table that carries it).
	Secondary map[string]int `json:"secondary_suppression,omitempty"`
	// Perturbed gives, per perturbed column, the relative difference of its
	// weighted mean released vs original.
	Perturbed map[string]float64 `json:"perturbed,omitempty"`
	// ResidualK counts records below k on the released-as-is
	// quasi-identifiers alone (every other one suppressed): suppression
	// cannot help them; they are counted in the risk.
	ResidualK int `json:"residual_k_violations,omitempty"`
	// Suppression is local suppression's count against its lower bound
	// and the greedy heuristic.
	Suppression *Suppression `json:"local_suppression,omitempty"`
	// The risk after disclosure control by both measures: a blank
	// matching any value (sdcMicro's default) and a blank as a value of its
	// own (dotm's default); After is the one the profile enforces.
	AfterBlanksMatchAny  Risk `json:"risk_after_blanks_match_any"`
	AfterBlanksAreValues Risk `json:"risk_after_blanks_are_values"`
}

// Dropped is a column left out of the release and why.
type Dropped struct {
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// Report is the disclosure-control report of a release
// (disclosure-report.json).
type Report struct {
	K                int      `json:"k"`
	MaxRisk          float64  `json:"max_risk"`
	QuasiIdentifiers []string `json:"quasi_identifiers"`
	RiskMethod       string   `json:"risk_method"`
	// Overrides lists the floors the profile set aside (k below 3).
	Overrides []string      `json:"overrides,omitempty"`
	Tables    []TableReport `json:"tables"`
	Passed    bool          `json:"passed"`
	// Replicates describes the replicate weights the release carries.
	Replicates *ReplicateInfo `json:"replicate_weights,omitempty"`
	// Joint is the risk of each person-level table on the data joined to
	// its households; HouseholdRisk is sdcMicro's household risk over all
	// of them (a household is re-identified when any of its people is).
	Joint         []JointRisk    `json:"joined,omitempty"`
	HouseholdRisk *HouseholdRisk `json:"household_risk,omitempty"`
	// InformationLoss is what disclosure control cost: cells suppressed,
	// categories merged, key indicators released vs full.
	InformationLoss *InformationLoss `json:"information_loss,omitempty"`
}

// RefusedError is returned by [Anonymize] (and [Create]) when a table still
// violates k-anonymity or its global risk exceeds max_risk. Report lists the
// problems and the worst combinations; nothing may be published.
type RefusedError struct {
	Report *Report
}

func (e *RefusedError) Error() string {
	var probs []string
	for _, t := range e.Report.Tables {
		for _, p := range t.Problems {
			probs = append(probs, "table "+t.Table+": "+p)
		}
	}
	return "exports: release refused: " + strings.Join(probs, "; ")
}

// worstLimit is how many combinations a refusal lists per table.
const worstLimit = 10

// Anonymize applies the profile's disclosure control to every table of ds
// (see the package documentation for the steps) and returns the anonymized
// copy (ds is not changed) and the report. A release that violates k or
// max_risk returns the report and a *RefusedError; a profile that does not
// fit the data (a listed column missing from every table, a recode of a text
// column) returns an error naming the column.
func Anonymize(ds *Dataset, p *Profile, opts Options) (*Dataset, *Report, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	if err := checkColumnsExist(ds, p); err != nil {
		return nil, nil, err
	}
	key := opts.IDKey
	if key == nil {
		key = make([]byte, 32)
		if _, err := crand.Read(key); err != nil {
			return nil, nil, fmt.Errorf("exports: release key: %w", err)
		}
	}
	rng := opts.Rand
	if rng == nil {
		var seed [16]byte
		if _, err := crand.Read(seed[:]); err != nil {
			return nil, nil, fmt.Errorf("exports: seed: %w", err)
		}
		rng = rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	}
	d := p.design()
	out := &Dataset{Survey: ds.Survey, Languages: ds.Languages}
	rep := &Report{K: p.K, MaxRisk: p.MaxRisk, QuasiIdentifiers: p.QuasiIdentifiers, Passed: true,
		RiskMethod: "sdcMicro measure_risk: Benedetti-Franconi individual risk (approx), a blank (suppressed value) is a value of its own; " +
			"quasi-identifiers that other released data determine are counted at their true values"}
	if p.BlanksMatchAny {
		rep.RiskMethod = "sdcMicro measure_risk: Benedetti-Franconi individual risk (approx), a blank matches any value (blanks_match_any); " +
			"quasi-identifiers that other released data determine are counted at their true values"
	}
	if p.K < KFloor {
		rep.Overrides = append(rep.Overrides, fmt.Sprintf("k = %d, below the floor of %d (allow_k_below_3)", p.K, KFloor))
	}
	codes := designCodes(ds, d, key)
	for _, in := range ds.Tables {
		if err := in.Check(); err != nil {
			return nil, nil, fmt.Errorf("exports: %w", err)
		}
	}
	// The household table first: what it suppresses, the tables that
	// carry its quasi-identifiers suppress too.
	lk := findLinks(ds, p, d)
	if opts.perTable {
		lk = &links{}
	}
	order := make([]int, 0, len(ds.Tables))
	for i, t := range ds.Tables {
		if t == lk.house {
			order = append([]int{i}, order...)
		} else {
			order = append(order, i)
		}
	}
	tables := make([]*Table, len(ds.Tables))
	reports := make([]TableReport, len(ds.Tables))
	var houseTL *tableLinks
	var houseIDs []string
	for _, i := range order {
		in := ds.Tables[i]
		tl := lk.linksFor(in, d, p, houseTL, houseIDs)
		t, tr, err := anonymizeTable(in, p, d, key, codes, rng, tl)
		if err != nil {
			return nil, nil, err
		}
		if in == lk.house {
			houseTL = tl
			id := in.Column(d.ID)
			houseIDs = make([]string, id.Len())
			for r := range houseIDs {
				houseIDs[r] = id.Format(r)
			}
			tr.Carriers = map[string][]string{}
			for q, cs := range lk.carriers {
				for _, c := range cs {
					tr.Carriers[q] = append(tr.Carriers[q], c.String())
				}
			}
		}
		if _, person := p.PersonQuasiIdentifiers[in.Name]; in != lk.house && !person && len(tl.preNull) > 0 {
			// Values nulled because the household's were stay nulled.
			protectCarried(t, sortedKeys(tl.preNull), []string{d.ID, d.Stratum, d.PSU, d.Weight, d.FPC}, tr)
		}
		if len(tr.Problems) > 0 {
			rep.Passed = false
		}
		tables[i], reports[i] = t, *tr
	}
	if !opts.perTable && len(p.PersonQuasiIdentifiers) > 0 {
		joint, hh, err := protectPersons(ds.Tables, tables, reports, p, d, lk, !opts.noCarrierGuard)
		if err != nil {
			return nil, nil, err
		}
		rep.Joint, rep.HouseholdRisk = joint, hh
		for _, tr := range reports {
			if len(tr.Problems) > 0 {
				rep.Passed = false
			}
		}
	}
	out.Tables = tables
	rep.Tables = reports
	if !rep.Passed {
		return nil, rep, &RefusedError{Report: rep}
	}
	for i := range rep.Tables {
		rep.Tables[i].Worst = nil
	}
	if p.ReplicateWeights != nil {
		factors, info, err := replicateFactors(ds, d, p.ReplicateWeights, rng)
		if err != nil {
			return nil, nil, err
		}
		if err := addReplicateWeights(ds, out, d, factors, info); err != nil {
			return nil, nil, err
		}
		rep.Replicates = info
	}
	il, err := informationLoss(ds.Tables, out.Tables, rep.Tables, p, d)
	if err != nil {
		return nil, nil, err
	}
	rep.InformationLoss = il
	return out, rep, nil
}

func checkColumnsExist(ds *Dataset, p *Profile) error {
	has := func(name string) bool {
		for _, t := range ds.Tables {
			if t.Column(name) != nil {
				return true
			}
		}
		return false
	}
	check := func(key string, names []string) error {
		for _, n := range names {
			if !has(n) {
				return fmt.Errorf("profile: %s: column %s is in no table", key, n)
			}
		}
		return nil
	}
	if err := check("quasi_identifiers", p.QuasiIdentifiers); err != nil {
		return err
	}
	for key, m := range map[string][]string{"recode": sortedKeys(p.Recode), "top_code": sortedKeys(p.TopCode), "group_rare": sortedKeys(p.GroupRare)} {
		if err := check(key, m); err != nil {
			return err
		}
	}
	for _, table := range sortedKeys(p.PersonQuasiIdentifiers) {
		t := ds.Table(table)
		if t == nil {
			return fmt.Errorf("profile: person_quasi_identifiers: no table %s", table)
		}
		if t.Column(p.design().ID) == nil {
			return fmt.Errorf("profile: person_quasi_identifiers: table %s has no household id column %s to join it to its households", table, p.design().ID)
		}
		for _, q := range p.PersonQuasiIdentifiers[table] {
			if t.Column(q) == nil {
				return fmt.Errorf("profile: person_quasi_identifiers.%s: table %s has no column %s", table, table, q)
			}
		}
	}
	// direct, sensitive and drop may name columns that a given input lacks:
	// a profile lists every identifier it knows of.
	return nil
}

// pseudonym is the keyed HMAC-SHA-256 of a value, hex, truncated to 128 bits.
func pseudonym(key []byte, kind, value string) string {
	return newPseudonymizer(key).pseudonym(kind, value)
}

// pseudonymizer computes keyed HMACs with one reusable MAC.
type pseudonymizer struct {
	mac hash.Hash
	sum []byte
}

func newPseudonymizer(key []byte) *pseudonymizer {
	return &pseudonymizer{mac: hmac.New(sha256.New, key)}
}

func (p *pseudonymizer) pseudonym(kind, value string) string {
	p.mac.Reset()
	io.WriteString(p.mac, kind)
	p.mac.Write([]byte{0})
	io.WriteString(p.mac, value)
	p.sum = p.mac.Sum(p.sum[:0])
	return hex.EncodeToString(p.sum[:16])
}

// designCodes maps every stratum and PSU value found in any table to a short
// code ("S01", "P0001"), numbered in the order of their keyed HMACs so that
// the codes carry no information about the original labels or their order.
func designCodes(ds *Dataset, d Design, key []byte) map[string]map[string]string {
	codes := map[string]map[string]string{}
	ps := newPseudonymizer(key)
	for _, v := range []struct{ col, kind, prefix string }{{d.Stratum, "stratum", "S"}, {d.PSU, "psu", "P"}} {
		set := map[string]string{}
		for _, t := range ds.Tables {
			c := t.Column(v.col)
			if c == nil {
				continue
			}
			for i := 0; i < c.Len(); i++ {
				if c.IsNull(i) {
					continue
				}
				if s := c.Format(i); set[s] == "" {
					set[s] = ps.pseudonym(v.kind, s)
				}
			}
		}
		type labelled struct{ value, mac string }
		vals := make([]labelled, 0, len(set))
		for s, mac := range set {
			vals = append(vals, labelled{s, mac})
		}
		sort.Slice(vals, func(a, b int) bool { return vals[a].mac < vals[b].mac })
		width := max(2, len(strconv.Itoa(len(vals))))
		m := make(map[string]string, len(vals))
		for i, l := range vals {
			m[l.value] = fmt.Sprintf("%s%0*d", v.prefix, width, i+1)
		}
		codes[v.col] = m
	}
	return codes
}

func anonymizeTable(in *Table, p *Profile, d Design, key []byte, codes map[string]map[string]string, rng *rand.Rand, tl *tableLinks) (*Table, *TableReport, error) {
	tr := &TableReport{Table: in.Name, Rows: in.Rows(), Suppressed: map[string]int{}}
	inList := func(list []string, s string) bool { return slices.Contains(list, s) }

	// 1. Drop direct identifiers and columns the profile drops; copy the
	// rest (the input is never changed). The profile gives sensitivity
	// classes to files without a form.
	t := &Table{Name: in.Name}
	for _, c := range in.Columns {
		sens := c.Meta.Sensitivity
		switch {
		case inList(p.Direct, c.Name):
			sens = Direct
		case inList(p.QuasiIdentifiers, c.Name) && sens == "":
			sens = Quasi
		case inList(p.Sensitive, c.Name) && sens == "":
			sens = Sensitive
		}
		reason := ""
		switch {
		case sens == Direct && inList(p.QuasiIdentifiers, c.Name):
			return nil, nil, fmt.Errorf("profile: quasi_identifiers: %s is a direct identifier", c.Name)
		case sens == Direct:
			reason = "direct identifier"
		case inList(p.Drop, c.Name):
			reason = "dropped by the release profile"
		case c.Meta.FreeText && !inList(p.Keep, c.Name):
			reason = "free text or paradata: dropped unless the profile keeps it (keep:)"
		}
		if reason != "" {
			tr.Dropped = append(tr.Dropped, Dropped{c.Name, reason})
			continue
		}
		cc := c.clone()
		cc.Meta.Sensitivity = sens
		t.Columns = append(t.Columns, cc)
	}
	// Geographic coordinates: dropped or displaced (before PSU codes replace
	// the PSU labels displacement is grouped by).
	if err := geoStep(t, p, d, rng, tr); err != nil {
		return nil, nil, err
	}
	// Values of the household table's suppressed quasi-identifiers that
	// this table carries.
	tr.Secondary = map[string]int{}
	for _, name := range sortedKeys(tl.preNull) {
		c := t.Column(name)
		if c == nil {
			continue
		}
		for _, r := range tl.preNull[name] {
			c.SetNull(r)
		}
		c.Nullable = true
		tr.Secondary[name] += len(tl.preNull[name])
		c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("%d values set to null where the household's %s was suppressed (this column carries it)", len(tl.preNull[name]), tl.inherit[name].from))
	}
	if len(tl.fixed) > 0 {
		tr.ReleasedAsIs = tl.fixed
	}
	// 2. Pseudonymous design variables.
	if c := t.Column(d.ID); c != nil {
		ps := newPseudonymizer(key)
		pseudonymize(c, func(s string) string { return ps.pseudonym("household", s) },
			"replaced by a keyed HMAC-SHA-256 pseudonym (128 bits, hex) with a key new to this release")
		c.Meta.Choices = nil
	}
	for _, col := range []string{d.Stratum, d.PSU} {
		if c := t.Column(col); c != nil {
			m := codes[col]
			pseudonymize(c, func(s string) string { return m[s] }, "replaced by a pseudonymous code")
			c.Meta.Choices = nil
		}
	}
	var weight *Column
	if c := t.Column(d.Weight); c != nil {
		if c.Type != Float && c.Type != Int {
			return nil, nil, fmt.Errorf("table %s: column %s: weight must be numeric, not %s", t.Name, c.Name, c.Type)
		}
		weight = c
	}
	qis := []string{}
	for _, q := range p.QuasiIdentifiers {
		if t.Column(q) != nil {
			qis = append(qis, q)
		}
	}
	if _, ok := p.PersonQuasiIdentifiers[in.Name]; ok {
		// A person-level table is protected on the joined data
		// (protectPersons), not on its own.
		qis = []string{}
	}
	tr.QuasiIdentifiers = qis
	before, err := newKeys(t, qis, weight)
	if err != nil {
		return nil, nil, err
	}
	before.blanksMatch = p.BlanksMatchAny
	tr.Before, _, _, _ = before.risk(p.K)
	before = nil

	// 3. Dates to month and year.
	for _, c := range t.Columns {
		if c.Type == Date {
			for i, v := range c.Ints {
				if !c.IsNull(i) {
					c.Ints[i] = firstOfMonth(v)
				}
			}
			c.Meta.Transforms = append(c.Meta.Transforms, "truncated to month and year (day set to 1)")
		}
	}
	// 4. Recode and top-code (not the quasi-identifiers other released data
	// determine: that would be undone; carriers share their
	// quasi-identifier's rule).
	asIs := func(name string, c *Column) bool {
		why := tl.fixed[name]
		if why != "" {
			c.Meta.Transforms = append(c.Meta.Transforms, "not coarsened or suppressed: "+why)
		}
		return why != ""
	}
	tl.caps, tl.kept = map[string]float64{}, map[string]map[string]bool{}
	for _, name := range sortedKeys(p.Recode) {
		if c := t.Column(name); c != nil && !asIs(name, c) {
			if err := recode(t, c, p.Recode[name]); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, name := range sortedKeys(tl.inherit) {
		c, rule := t.Column(name), tl.inherit[name]
		if c == nil {
			continue
		}
		if rule.recode != nil && (c.Type == Int || c.Type == Float) {
			if err := recode(t, c, *rule.recode); err != nil {
				return nil, nil, err
			}
			c.Meta.Transforms = append(c.Meta.Transforms, "recoded as "+rule.from+" is, because it carries "+rule.from)
		}
		if rule.cap != nil && (c.Type == Int || c.Type == Float) {
			capAt(c, *rule.cap, rule.from)
		}
		if rule.keep != nil && c.Type == String {
			keepOnly(c, rule.keep, rule.from)
		}
	}
	for _, name := range sortedKeys(p.TopCode) {
		if c := t.Column(name); c != nil && !asIs(name, c) {
			cp, capped, err := topCode(t, c, p.TopCode[name])
			if err != nil {
				return nil, nil, err
			}
			tl.caps[name] = cp
			for _, r := range tl.ratios[name] {
				capRatio(t, c, r, cp, capped)
			}
		}
	}
	// 4b. Noise on continuous amounts, new for each release: two releases
	// of one survey cannot be joined on exact amounts. After top-coding: a
	// top-coded value stays at its cap, and no other value rises above it.
	if p.PerturbSD > 0 {
		tr.Perturbed = perturb(t, p, d, tl.caps, rng)
	}
	// 5. Group rare categories.
	for _, name := range sortedKeys(p.GroupRare) {
		if c := t.Column(name); c != nil && !asIs(name, c) {
			if err := groupRare(t, c, p.GroupRare[name]); err != nil {
				return nil, nil, err
			}
			keep := map[string]bool{}
			for i := 0; i < c.Len(); i++ {
				if !c.IsNull(i) {
					keep[c.Format(i)] = true
				}
			}
			tl.kept[name] = keep
		}
	}
	// 6. Local suppression, least important quasi-identifier first.
	ks, err := newKeys(t, qis, weight)
	if err != nil {
		return nil, nil, err
	}
	var order []int
	for i := len(qis) - 1; i >= 0; i-- {
		if tl.fixed[qis[i]] == "" {
			order = append(order, i)
		}
	}
	if len(qis) > 0 {
		// A column that recodes a quasi-identifier one to one (head_female
		// for head_sex) would give suppressed values away: it loses the
		// same values.
		linked := make([][]*Column, len(qis))
		for j, q := range qis {
			linked[j] = aliases(t, t.Column(q), qis)
		}
		nulled, sup := localSuppression(ks, p, order, nil)
		tr.Suppression = &sup
		tl.nulled = map[string][]int{}
		for j, rows := range nulled {
			tl.nulled[qis[j]] = rows
			c := t.Column(qis[j])
			for _, i := range rows {
				c.SetNull(i)
			}
			tr.Suppressed[qis[j]] = len(rows)
			tr.SuppressedTotal += len(rows)
			if len(rows) > 0 {
				c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("local suppression: %d values set to null for %d-anonymity", len(rows), p.K))
			}
		}
		for _, q := range qis {
			t.Column(q).Nullable = true
		}
		for j, q := range qis {
			for _, a := range linked[j] {
				for _, i := range nulled[j] {
					a.SetNull(i)
				}
				a.Nullable = true
				if len(nulled[j]) > 0 {
					a.Meta.Transforms = append(a.Meta.Transforms, fmt.Sprintf("%d values set to null where %s, which it recodes one to one, was suppressed", len(nulled[j]), q))
				}
			}
		}
	}
	// 6b. Secondary suppression: no other column gives a suppressed value
	// back through a functional dependency.
	skip := append([]string{d.ID, d.Stratum, d.PSU, d.Weight, d.FPC}, tl.counted...)
	for _, q := range qis {
		if tl.fixed[q] != "" {
			skip = append(skip, q)
		}
	}
	for _, q := range qis {
		for col, n := range secondarySuppression(t, t.Column(q), tl.nulled[q], skip) {
			tr.Secondary[col] += n
			c := t.Column(col)
			c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("%d values set to null where %s was suppressed and this column would give it back", n, q))
		}
	}
	if len(tr.Secondary) == 0 {
		tr.Secondary = nil
	}
	// 7. Risk after, and the verdict.
	ks.blanksMatch = p.BlanksMatchAny
	after, fk, Fk, r := ks.risk(p.K)
	tr.AfterBlanksMatchAny, tr.AfterBlanksAreValues = bothMeasures(ks, p.K, after)
	tr.After = after
	if len(qis) > 0 && after.KViolations > 0 {
		// Records whose every suppressible quasi-identifier is already
		// suppressed stand out only on values other released data give
		// (design codes, roster size): no suppression can help them. They
		// are reported and weigh in the risk (max_risk still applies);
		// the profile can drop design codes or coarsen geography.
		residual := 0
		for i, f := range fk {
			if f >= p.K {
				continue
			}
			left := false
			for _, j := range order {
				if !t.Column(qis[j]).IsNull(i) {
					left = true
					break
				}
			}
			if !left {
				residual++
			}
		}
		tr.ResidualK = residual
		if residual > p.ResidualK {
			// Accepting them is the profile's explicit decision.
			tr.Problems = append(tr.Problems, fmt.Sprintf("%d records violate k=%d on %s", after.KViolations, p.K, strings.Join(qis, ", ")))
			if residual > 0 {
				tr.Problems = append(tr.Problems, fmt.Sprintf("%d of them only on values other released data determine (%s); no suppression can help them: coarsen or drop those carriers, or allow them with residual_k: %d", residual, strings.Join(sortedKeys(tl.fixed), ", "), residual))
			}
		} else if after.KViolations > residual {
			tr.Problems = append(tr.Problems, fmt.Sprintf("%d records violate k=%d on %s", after.KViolations-residual, p.K, strings.Join(qis, ", ")))
		}
	}
	if p.MaxRisk > 0 && after.Global > p.MaxRisk {
		tr.Problems = append(tr.Problems, fmt.Sprintf("global risk %.4g (%.4g expected re-identifications in %d records) exceeds max_risk %v",
			after.Global, after.ExpectedReidentifications, tr.Rows, p.MaxRisk))
	}
	if len(tr.Problems) > 0 && len(qis) > 0 {
		tr.Worst = ks.worst(fk, Fk, r, worstLimit)
	}
	// 8. Shuffle record order.
	perm := rng.Perm(t.Rows())
	for _, c := range t.Columns {
		c.permute(perm)
	}
	return t, tr, nil
}

// aliases returns the columns of t, other than the quasi-identifiers, whose
// values correspond one to one with those of q (same rows null, each value
// of q always with the same value of the column and the reverse).
func aliases(t *Table, q *Column, qis []string) []*Column {
	var out []*Column
	for _, c := range t.Columns {
		if c == q || slices.Contains(qis, c.Name) || c.Type == Float {
			continue
		}
		if isAlias(q, c) {
			out = append(out, c)
		}
	}
	return out
}

func isAlias(a, b *Column) bool {
	fwd, bwd := map[string]string{}, map[string]string{}
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) != b.IsNull(i) {
			return false
		}
		if a.IsNull(i) {
			continue
		}
		x, y := a.Format(i), b.Format(i)
		if v, ok := fwd[x]; ok && v != y {
			return false
		} else if !ok {
			fwd[x] = y
		}
		if v, ok := bwd[y]; ok && v != x {
			return false
		} else if !ok {
			bwd[y] = x
		}
		if len(fwd) > 1000 {
			return false // not a recode of a categorical variable
		}
	}
	return len(fwd) > 1
}

func pseudonymize(c *Column, f func(string) string, note string) {
	vals := make([]string, c.Len())
	for i := range vals {
		if !c.IsNull(i) {
			vals[i] = f(c.Format(i))
		}
	}
	c.Type, c.Strings, c.Ints, c.Floats, c.Bools = String, vals, nil, nil, nil
	c.Meta.Transforms = append(c.Meta.Transforms, note)
}

// firstOfMonth maps days since 1970-01-01 to the first day of its month.
func firstOfMonth(days int64) int64 {
	y, m, _ := civil(days)
	return daysFromCivil(y, m, 1)
}

// civil and daysFromCivil convert between days since 1970-01-01 and the
// proleptic Gregorian calendar (Howard Hinnant's algorithms), valid for any
// int64 day count that fits a year in int64.
func civil(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func fmtNum(v float64) string { return FormatNumber(v) }

// recode applies a recode rule. Breaks b0 < … < bm make the category
// "[b_i,b_{i+1})" for b_i ≤ x < b_{i+1}, the last interval closed
// "[b_{m−1},b_m]"; values outside [b0, bm] are an error (the profile must
// cover the data). Top/Bottom cap the value and keep the column's type.
func recode(t *Table, c *Column, r Recode) error {
	if c.Type != Int && c.Type != Float {
		return fmt.Errorf("profile: recode.%s: table %s: column is %s, want a number", c.Name, t.Name, c.Type)
	}
	if len(r.Breaks) > 0 {
		b := r.Breaks
		cats := make([]string, len(b)-1)
		for i := range cats {
			if i == len(cats)-1 {
				cats[i] = "[" + fmtNum(b[i]) + "," + fmtNum(b[i+1]) + "]"
			} else {
				cats[i] = "[" + fmtNum(b[i]) + "," + fmtNum(b[i+1]) + ")"
			}
		}
		vals := make([]string, c.Len())
		for i := range vals {
			if c.IsNull(i) {
				continue
			}
			x := c.Float(i)
			j := sort.SearchFloat64s(b, x) // first break ≥ x
			if j < len(b) && b[j] == x {
				j++ // x is the lower bound of interval j
			}
			j-- // interval index
			if x == b[len(b)-1] {
				j = len(cats) - 1
			}
			if j < 0 || j >= len(cats) {
				return fmt.Errorf("profile: recode.%s: table %s: row %d: value %s outside the breaks [%s, %s]",
					c.Name, t.Name, i+1, c.Format(i), fmtNum(b[0]), fmtNum(b[len(b)-1]))
			}
			vals[i] = cats[j]
		}
		c.Type, c.Strings, c.Ints, c.Floats = String, vals, nil, nil
		c.Meta.Choices = nil
		for _, cat := range cats {
			c.Meta.Choices = append(c.Meta.Choices, Choice{Name: cat})
		}
		c.Meta.Transforms = append(c.Meta.Transforms, "recoded into intervals with breaks "+joinNums(b))
		return nil
	}
	for _, bound := range []struct {
		v   *float64
		top bool
	}{{r.Top, true}, {r.Bottom, false}} {
		if bound.v == nil {
			continue
		}
		v := *bound.v
		if c.Type == Int && v != math.Trunc(v) {
			return fmt.Errorf("profile: recode.%s: table %s: %v is not an integer, the column is", c.Name, t.Name, v)
		}
		n := 0
		for i := 0; i < c.Len(); i++ {
			if c.IsNull(i) {
				continue
			}
			x := c.Float(i)
			if (bound.top && x > v) || (!bound.top && x < v) {
				n++
				if c.Type == Int {
					c.Ints[i] = int64(v)
				} else {
					c.Floats[i] = v
				}
			}
		}
		if bound.top {
			c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("top-coded: values above %s set to %s (%s means %s or more)", fmtNum(v), fmtNum(v), fmtNum(v), fmtNum(v)))
		} else {
			c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("bottom-coded: values below %s set to %s", fmtNum(v), fmtNum(v)))
		}
	}
	return nil
}

func joinNums(b []float64) string {
	s := make([]string, len(b))
	for i, v := range b {
		s[i] = fmtNum(v)
	}
	return strings.Join(s, ", ")
}

// Quantile is the type 7 sample quantile of R's quantile() (the default),
// computed as R does: index = 1 + (n−1)·q, lo = ⌊index⌋, h = index − lo,
// Q = (1−h)·x[lo] + h·x[lo+1] (1-based). It panics on an empty x or q
// outside [0, 1]; x must be sorted.
func Quantile(x []float64, q float64) float64 {
	if len(x) == 0 || q < 0 || q > 1 {
		panic("exports: Quantile of an empty slice or q outside [0, 1]")
	}
	index := 1 + float64(len(x)-1)*q
	lo := math.Floor(index)
	i := int(lo) - 1
	h := index - lo
	if h == 0 || i+1 >= len(x) || x[i+1] == x[i] {
		return x[i]
	}
	return (1-h)*x[i] + h*x[i+1]
}

// topCode caps a numeric column at its q-quantile (type 7, over non-null
// values, unweighted).
func topCode(t *Table, c *Column, q float64) (float64, []int, error) {
	if c.Type != Int && c.Type != Float {
		return 0, nil, fmt.Errorf("profile: top_code.%s: table %s: column is %s, want a number", c.Name, t.Name, c.Type)
	}
	var xs []float64
	for i := 0; i < c.Len(); i++ {
		if !c.IsNull(i) {
			xs = append(xs, c.Float(i))
		}
	}
	if len(xs) == 0 {
		return math.Inf(1), nil, nil
	}
	sort.Float64s(xs)
	cap := Quantile(xs, q)
	if c.Type == Int {
		cap = math.Floor(cap)
	}
	n := 0
	var capped []int
	for i := 0; i < c.Len(); i++ {
		if !c.IsNull(i) && c.Float(i) > cap {
			n++
			capped = append(capped, i)
			if c.Type == Int {
				c.Ints[i] = int64(cap)
			} else {
				c.Floats[i] = cap
			}
		}
	}
	c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("top-coded at the %v quantile: %d values above %s set to %s", q, n, fmtNum(cap), fmtNum(cap)))
	return cap, capped, nil
}

// capAt caps c at cp, as the quantile-identifier it carries was.
func capAt(c *Column, cp float64, from string) {
	n := 0
	for i := 0; i < c.Len(); i++ {
		if !c.IsNull(i) && c.Float(i) > cp {
			n++
			if c.Type == Int {
				c.Ints[i] = int64(cp)
			} else {
				c.Floats[i] = cp
			}
		}
	}
	c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("top-coded at %s as %s is, because it carries it: %d values", fmtNum(cp), from, n))
}

// keepOnly groups the categories of c that the quasi-identifier it
// carries no longer has into "other".
func keepOnly(c *Column, keep map[string]bool, from string) {
	n := 0
	for i, s := range c.Strings {
		if !c.IsNull(i) && !keep[s] {
			c.Strings[i] = Other
			n++
		}
	}
	groupChoices(c, func(name string) bool { return !keep[name] })
	c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("%d values grouped into %q as in %s, because it carries it", n, Other, from))
}

// capRatio keeps q = a/b (or a·b) from undoing q's top-code: in the capped
// rows, a becomes cap·b (or cap/b), so the ratio gives the cap.
func capRatio(t *Table, q *Column, r ratio, cp float64, rows []int) {
	a, b := t.Column(r.a), t.Column(r.b)
	if a == nil || b == nil {
		return
	}
	n := 0
	for _, i := range rows {
		if a.IsNull(i) || b.IsNull(i) {
			continue
		}
		v := cp * b.Float(i)
		if !r.div {
			if b.Float(i) == 0 {
				continue
			}
			v = cp / b.Float(i)
		}
		if a.Type == Int {
			a.Ints[i] = int64(math.Round(v))
		} else {
			a.Floats[i] = v
		}
		n++
	}
	op := "/"
	if !r.div {
		op = "·"
	}
	a.Meta.Transforms = append(a.Meta.Transforms, fmt.Sprintf("%d values changed where %s was top-coded, so that %s %s %s gives the cap and not the true value", n, q.Name, r.a, op, r.b))
}

// Other is the category rare categories are grouped into.
const Other = "other"

// groupRare replaces the categories of a text column held by fewer than min
// records with "other".
func groupRare(t *Table, c *Column, min int) error {
	if c.Type != String {
		return fmt.Errorf("profile: group_rare.%s: table %s: column is %s, want text", c.Name, t.Name, c.Type)
	}
	count := map[string]int{}
	for i, s := range c.Strings {
		if !c.IsNull(i) && s != "" {
			count[s]++
		}
	}
	rare := map[string]bool{}
	for s, n := range count {
		if n < min && s != Other {
			rare[s] = true
		}
	}
	if len(rare) == 0 {
		return nil
	}
	n := 0
	for i, s := range c.Strings {
		if rare[s] && !c.IsNull(i) {
			c.Strings[i] = Other
			n++
		}
	}
	groupChoices(c, func(name string) bool { return rare[name] })
	c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("%d categories held by fewer than %d records (%d records) grouped into %q", len(rare), min, n, Other))
	return nil
}

// otherLabels are the labels of the category a release groups rare ones
// into, when the form has no choice of that name.
var otherLabels = map[string]string{"en": "Other (categories too rare to release on their own)"}

// groupChoices drops the choices of c that were grouped into Other and adds
// Other, labelled, if the form has no such choice, so that every released
// value has a value label.
func groupChoices(c *Column, grouped func(name string) bool) {
	if len(c.Meta.Choices) == 0 {
		return
	}
	var kept []Choice
	hasOther := false
	for _, ch := range c.Meta.Choices {
		if ch.Name == Other || !grouped(ch.Name) {
			kept = append(kept, ch)
			hasOther = hasOther || ch.Name == Other
		}
	}
	if !hasOther {
		kept = append(kept, Choice{Name: Other, Labels: otherLabels})
	}
	c.Meta.Choices = kept
}

// perturb multiplies each value of the continuous (Float) columns of t,
// other than weights, design columns and the profile's exclusions, by
// 1 + sd·ε, ε standard normal from the release's random source, and keeps
// values at or under their top-code cap. It returns the relative change of
// each column's weighted mean.
func perturb(t *Table, p *Profile, d Design, caps map[string]float64, rng *rand.Rand) map[string]float64 {
	out := map[string]float64{}
	w := t.Column(d.Weight)
	geo := map[*Column]bool{}
	if pairs, err := geoColumns(t); err == nil {
		for _, g := range pairs {
			geo[g.lat], geo[g.lon] = true, true // displaced or dropped, never scaled
		}
	}
	for _, c := range t.Columns {
		if c.Type != Float || geo[c] || c.Name == d.Weight || c.Name == d.FPC || strings.HasPrefix(c.Name, "weight") ||
			slices.Contains(p.PerturbExclude, c.Name) || slices.Contains(p.QuasiIdentifiers, c.Name) {
			continue
		}
		cp, capped := caps[c.Name]
		var before, after, sw float64
		n := 0
		for i, x := range c.Floats {
			if c.IsNull(i) {
				continue
			}
			wi := 1.0
			if w != nil && !w.IsNull(i) {
				wi = w.Float(i)
			}
			before += wi * x
			sw += wi
			if !(capped && x >= cp) {
				y := x * (1 + p.PerturbSD*rng.NormFloat64())
				if capped && y > cp {
					y = cp
				}
				c.Floats[i] = y
				n++
			}
			after += wi * c.Floats[i]
		}
		if n == 0 {
			continue
		}
		rel := 0.0
		if before != 0 {
			rel = (after - before) / before
		}
		out[c.Name] = rel
		c.Meta.Transforms = append(c.Meta.Transforms, fmt.Sprintf("perturbed: each value multiplied by 1 + %v·ε (ε standard normal, new for this release), so that releases cannot be linked through exact amounts; weighted mean changed by %+.3g%%", p.PerturbSD, 100*rel))
	}
	return out
}
