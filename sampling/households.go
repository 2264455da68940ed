package sampling

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// ListedHousehold is one household of a PSU's listing, screened into a class
// (current_migrant, return_migrant or non_migrant in a DotM survey).
type ListedHousehold struct {
	PSU   string
	ID    string // unique within the PSU
	Class string
	// Order is the household's position in the listing (the enumerator's
	// walk): systematic selection runs in this order, ties broken by the
	// order of the slice. ReadListing sets it to the file line, and error
	// messages report it as the line.
	Order int
	Extra []string // values of the listing's extra columns, if any
}

// Listing is a household listing read from CSV.
type Listing struct {
	Households   []ListedHousehold
	ExtraColumns []string
}

// ListingColumns names the columns of a listing CSV.
type ListingColumns struct {
	PSU, ID, Class string
}

// ReadListing reads a listing CSV with the given PSU, household id and class
// columns and any others (kept as Extra). Problems are reported with line and
// column: missing columns, empty values, a household id listed twice in the
// same PSU.
func ReadListing(r io.Reader, cols ListingColumns) (*Listing, error) {
	t, err := ReadTable(r)
	if err != nil {
		return nil, err
	}
	var ex errs
	idx := map[string]int{}
	for _, c := range []string{cols.PSU, cols.ID, cols.Class} {
		j, err := t.Index(c)
		if err != nil {
			ex.list = append(ex.list, err.(*InputError))
		}
		idx[c] = j
	}
	if cols.PSU == "" || cols.PSU == cols.ID || cols.PSU == cols.Class || cols.ID == cols.Class {
		ex.add(1, "", "the PSU, id and class columns must be three different columns (got %q, %q, %q)", cols.PSU, cols.ID, cols.Class)
	}
	if err := ex.err(); err != nil {
		return nil, err
	}
	if len(t.Rows) == 0 {
		return nil, &InputError{Msg: "the listing has no households"}
	}
	l := &Listing{Households: make([]ListedHousehold, len(t.Rows))}
	var extra []int
	for j, h := range t.Header {
		if h != cols.PSU && h != cols.ID && h != cols.Class {
			l.ExtraColumns = append(l.ExtraColumns, h)
			extra = append(extra, j)
		}
	}
	first := map[[2]string]int{}
	for i, row := range t.Rows {
		line := t.Lines[i]
		h := ListedHousehold{PSU: trim(row[idx[cols.PSU]]), ID: trim(row[idx[cols.ID]]), Class: trim(row[idx[cols.Class]]), Order: line}
		if h.PSU == "" {
			ex.add(line, cols.PSU, "empty PSU id")
		}
		if h.Class == "" {
			ex.add(line, cols.Class, "empty class")
		}
		if h.ID == "" {
			ex.add(line, cols.ID, "empty household id")
		} else if f, dup := first[[2]string{h.PSU, h.ID}]; dup {
			ex.add(line, cols.ID, "household %q listed twice in PSU %q (first on line %d)", h.ID, h.PSU, f)
		} else {
			first[[2]string{h.PSU, h.ID}] = line
		}
		h.Extra = make([]string, len(extra))
		for k, j := range extra {
			h.Extra[k] = row[j]
		}
		l.Households[i] = h
	}
	if err := ex.err(); err != nil {
		return nil, err
	}
	return l, nil
}

// Quota is the number of households to select per screening class in each
// PSU.
type Quota map[string]int

// ParseQuota parses "current_migrant=6,return_migrant=3,non_migrant=6".
func ParseQuota(s string) (Quota, error) {
	q := Quota{}
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		name = strings.TrimSpace(name)
		n, err := strconv.Atoi(strings.TrimSpace(val))
		switch {
		case !ok || name == "":
			return nil, fmt.Errorf("quota %q: want CLASS=N[,CLASS=N...]", part)
		case err != nil || n < 0:
			return nil, fmt.Errorf("quota for %q: want a whole number >= 0, got %q", name, val)
		}
		if _, dup := q[name]; dup {
			return nil, fmt.Errorf("quota for %q given twice", name)
		}
		q[name] = n
	}
	return q, nil
}

// String formats q as ParseQuota reads it, classes sorted.
func (q Quota) String() string {
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		names[i] = k + "=" + strconv.Itoa(q[k])
	}
	return strings.Join(names, ",")
}

// HouseholdMethod is how households are drawn within a PSU and class.
type HouseholdMethod int

// The household selection methods.
const (
	// SimpleRandom draws m of M households without replacement.
	SimpleRandom HouseholdMethod = iota
	// Systematic takes every (M/m)-th household in listing order from a
	// random start (UPSystematic with π = m/M).
	Systematic
)

// ParseHouseholdMethod parses "srs" (or "simple") and "systematic".
func ParseHouseholdMethod(s string) (HouseholdMethod, error) {
	switch s {
	case "srs", "simple":
		return SimpleRandom, nil
	case "systematic":
		return Systematic, nil
	}
	return 0, fmt.Errorf("household method %q: want srs or systematic", s)
}

// HouseholdDraw is a listed household with its second-stage inclusion
// probability and whether it was selected.
type HouseholdDraw struct {
	ListedHousehold
	Pi2      float64 // m/M for its PSU and class
	Listed   int     // M: households of this class listed in the PSU
	Taken    int     // m = min(quota, M)
	Selected bool
}

// SelectHouseholds draws, in every PSU of the listing and for every
// screening class c, m = min(q_c, M) of the M households listed in that
// class (all of them when M ≤ q_c), by simple random sampling or
// systematically; π2 = m/M (zero when q_c = 0). Each PSU draws from
// NewRand(seed, "psu:"+PSU id), classes in sorted order, households in
// listing order (Order, then slice order), so a PSU's draw does not depend on
// the other PSUs passed in the same call: selecting PSU by PSU as listings
// arrive gives the same sample as selecting all at once. Every class must
// have a quota, and a household id may appear only once per PSU; problems
// are InputErrors whose Line is the household's Order. The result is in the
// order of hh.
func SelectHouseholds(hh []ListedHousehold, q Quota, method HouseholdMethod, seed uint64) ([]HouseholdDraw, error) {
	var ex errs
	type cell struct{ psu, class string }
	groups := map[cell][]int{}
	psuClasses := map[string][]string{}
	var psus []string
	seen := map[[2]string]int{}
	for i, h := range hh {
		if _, ok := q[h.Class]; !ok {
			ex.add(h.Order, "class", "PSU %q household %q: class %q has no quota (quota: %s)", h.PSU, h.ID, h.Class, q)
			continue
		}
		key := [2]string{h.PSU, h.ID}
		if f, dup := seen[key]; dup {
			ex.add(h.Order, "household_id", "household %q listed twice in PSU %q (first at %d)", h.ID, h.PSU, f)
			continue
		}
		seen[key] = h.Order
		c := cell{h.PSU, h.Class}
		if _, ok := psuClasses[h.PSU]; !ok {
			psus = append(psus, h.PSU)
			psuClasses[h.PSU] = nil
		}
		if _, ok := groups[c]; !ok {
			psuClasses[h.PSU] = append(psuClasses[h.PSU], h.Class)
		}
		groups[c] = append(groups[c], i)
	}
	if err := ex.err(); err != nil {
		return nil, err
	}
	out := make([]HouseholdDraw, len(hh))
	for _, psu := range psus {
		r := NewRand(seed, "psu:"+psu)
		classes := psuClasses[psu]
		sort.Strings(classes)
		for _, class := range classes {
			idx := groups[cell{psu, class}]
			sort.SliceStable(idx, func(a, b int) bool { return hh[idx[a]].Order < hh[idx[b]].Order })
			M, m := len(idx), min(q[class], len(idx))
			pi2 := float64(m) / float64(M)
			for _, i := range idx {
				out[i] = HouseholdDraw{ListedHousehold: hh[i], Pi2: pi2, Listed: M, Taken: m, Selected: m == M}
			}
			if m == M || m == 0 {
				continue
			}
			switch method {
			case SimpleRandom:
				perm := append([]int(nil), idx...)
				for k := 0; k < m; k++ {
					j := k + uniformIndex(r, M-k)
					perm[k], perm[j] = perm[j], perm[k]
					out[perm[k]].Selected = true
				}
			case Systematic:
				u := uniformOpen(r)
				prev := 0.0
				for k, i := range idx {
					c := float64((k+1)*m) / float64(M)
					out[i].Selected = floorDiff(prev, c, u)
					prev = c
				}
			default:
				return nil, fmt.Errorf("select households: unknown method %d", method)
			}
		}
	}
	return out, nil
}

// floorDiff reports whether a point u + j falls in (a, b].
func floorDiff(a, b, u float64) bool { return floor(b-u) > floor(a-u) }
