package sampling

import (
	"io"
)

// PSUSample is the result of SelectPSUs with the names of the frame's extra
// columns, as written by WritePSUs.
type PSUSample struct {
	Draws        []PSUDraw
	ExtraColumns []string
}

// PSUColumns are the leading columns of a PSU sample CSV; the frame's extra
// columns follow them.
var PSUColumns = []string{"psu_id", "stratum", "size", "pi", "certainty", "selected"}

// Table returns the sample as a table with PSUColumns then the extra
// columns, floats at full precision, certainty and selected as 0/1. With
// all = false only the selected units are included.
func (s *PSUSample) Table(all bool) *Table {
	t := &Table{Header: append(append([]string(nil), PSUColumns...), s.ExtraColumns...)}
	for _, d := range s.Draws {
		if !all && !d.Selected {
			continue
		}
		row := []string{d.ID, d.Stratum, FormatFloat(d.Size), FormatFloat(d.Pi), flag(d.Certainty), flag(d.Selected)}
		t.Rows = append(t.Rows, append(row, d.Extra...))
	}
	return t
}

// ReadPSUSample reads a PSU sample CSV (PSUColumns and any extra columns).
func ReadPSUSample(r io.Reader) (*PSUSample, error) {
	t, err := ReadTable(r)
	if err != nil {
		return nil, err
	}
	ids, e1 := t.Strings("psu_id", true)
	strata, e2 := t.Strings("stratum", true)
	sizes, e3 := t.Floats("size")
	pis, e4 := t.Floats("pi")
	cert, e5 := t.Flags("certainty")
	sel, e6 := t.Flags("selected")
	if err := joinInput(e1, e2, e3, e4, e5, e6); err != nil {
		return nil, err
	}
	var ex errs
	s := &PSUSample{Draws: make([]PSUDraw, len(t.Rows))}
	extra := extraIndexes(t, PSUColumns, &s.ExtraColumns)
	first := map[string]int{}
	for i := range t.Rows {
		line := t.Lines[i]
		if f, dup := first[ids[i]]; dup {
			ex.add(line, "psu_id", "duplicate PSU id %q (first on line %d)", ids[i], f)
		}
		first[ids[i]] = line
		if !(pis[i] > 0 && pis[i] <= 1) {
			ex.add(line, "pi", "inclusion probability must be in (0, 1], got %s", FormatFloat(pis[i]))
		}
		d := PSUDraw{Unit: Unit{ID: ids[i], Stratum: strata[i], Size: sizes[i]}, Pi: pis[i], Certainty: cert[i], Selected: sel[i]}
		for _, j := range extra {
			d.Extra = append(d.Extra, t.Rows[i][j])
		}
		s.Draws[i] = d
	}
	return s, ex.err()
}

// HouseholdSample is the result of SelectHouseholds with the names of the
// listing's extra columns.
type HouseholdSample struct {
	Draws        []HouseholdDraw
	ExtraColumns []string
}

// HouseholdColumns are the leading columns of a household sample CSV.
var HouseholdColumns = []string{"psu_id", "household_id", "class", "pi2", "selected"}

// Table returns the sample as a table: HouseholdColumns, then the extra
// columns.
func (s *HouseholdSample) Table() *Table {
	t := &Table{Header: append(append([]string(nil), HouseholdColumns...), s.ExtraColumns...)}
	for _, d := range s.Draws {
		row := []string{d.PSU, d.ID, d.Class, FormatFloat(d.Pi2), flag(d.Selected)}
		t.Rows = append(t.Rows, append(row, d.Extra...))
	}
	return t
}

// ReadHouseholdSample reads a household sample CSV (HouseholdColumns and
// any extra columns).
func ReadHouseholdSample(r io.Reader) (*HouseholdSample, error) {
	t, err := ReadTable(r)
	if err != nil {
		return nil, err
	}
	psus, e1 := t.Strings("psu_id", true)
	ids, e2 := t.Strings("household_id", true)
	classes, e3 := t.Strings("class", false)
	pis, e4 := t.Floats("pi2")
	sel, e5 := t.Flags("selected")
	if err := joinInput(e1, e2, e3, e4, e5); err != nil {
		return nil, err
	}
	var ex errs
	s := &HouseholdSample{Draws: make([]HouseholdDraw, len(t.Rows))}
	extra := extraIndexes(t, HouseholdColumns, &s.ExtraColumns)
	for i := range t.Rows {
		if !(pis[i] >= 0 && pis[i] <= 1) || (sel[i] && pis[i] == 0) {
			ex.add(t.Lines[i], "pi2", "inclusion probability must be in (0, 1] for a selected household and in [0, 1] otherwise, got %s", FormatFloat(pis[i]))
		}
		d := HouseholdDraw{ListedHousehold: ListedHousehold{PSU: psus[i], ID: ids[i], Class: classes[i], Order: t.Lines[i]}, Pi2: pis[i], Selected: sel[i]}
		for _, j := range extra {
			d.Extra = append(d.Extra, t.Rows[i][j])
		}
		s.Draws[i] = d
	}
	return s, ex.err()
}

func extraIndexes(t *Table, known []string, names *[]string) []int {
	isKnown := map[string]bool{}
	for _, k := range known {
		isKnown[k] = true
	}
	var idx []int
	for j, h := range t.Header {
		if !isKnown[h] {
			idx = append(idx, j)
			*names = append(*names, h)
		}
	}
	return idx
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
