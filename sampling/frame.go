package sampling

import (
	"io"
)

// Unit is one PSU (enumeration area) of a sampling frame.
type Unit struct {
	ID      string
	Stratum string
	Size    float64  // measure of size, e.g. households at the last census; > 0
	Extra   []string // values of Frame.ExtraColumns, in that order
}

// Frame is a list of PSUs in frame order. The order matters: systematic
// selection runs down it (implicit stratification) unless the sort within
// stratum is randomized.
type Frame struct {
	Units        []Unit
	ExtraColumns []string // the CSV columns other than id, stratum and size
}

// FrameColumns names the columns of a frame CSV.
type FrameColumns struct {
	ID, Stratum, Size string
}

// ReadFrame reads a frame CSV with the given id, stratum and size columns
// and any others (kept as Extra). Every problem is reported with its line and
// column (InputErrors): missing columns, empty ids or strata, duplicate ids,
// sizes that are not positive finite numbers.
func ReadFrame(r io.Reader, cols FrameColumns) (*Frame, error) {
	t, err := ReadTable(r)
	if err != nil {
		return nil, err
	}
	var ex errs
	idx := map[string]int{}
	for _, c := range []string{cols.ID, cols.Stratum, cols.Size} {
		j, err := t.Index(c)
		if err != nil {
			ex.list = append(ex.list, err.(*InputError))
		}
		idx[c] = j
	}
	if len(cols.ID) == 0 || cols.ID == cols.Stratum || cols.ID == cols.Size || cols.Stratum == cols.Size {
		ex.add(1, "", "the id, stratum and size columns must be three different columns (got %q, %q, %q)", cols.ID, cols.Stratum, cols.Size)
	}
	if err := ex.err(); err != nil {
		return nil, err
	}
	if len(t.Rows) == 0 {
		return nil, &InputError{Msg: "the frame has no units"}
	}
	f := &Frame{Units: make([]Unit, len(t.Rows))}
	var extra []int
	for j, h := range t.Header {
		if h != cols.ID && h != cols.Stratum && h != cols.Size {
			f.ExtraColumns = append(f.ExtraColumns, h)
			extra = append(extra, j)
		}
	}
	firstLine := map[string]int{}
	for i, row := range t.Rows {
		line := t.Lines[i]
		u := Unit{ID: trim(row[idx[cols.ID]]), Stratum: trim(row[idx[cols.Stratum]])}
		if u.ID == "" {
			ex.add(line, cols.ID, "empty id")
		} else if first, dup := firstLine[u.ID]; dup {
			ex.add(line, cols.ID, "duplicate id %q (first on line %d)", u.ID, first)
		} else {
			firstLine[u.ID] = line
		}
		if u.Stratum == "" {
			ex.add(line, cols.Stratum, "empty stratum")
		}
		size, err := parseFloat(row[idx[cols.Size]])
		switch {
		case err != nil:
			ex.add(line, cols.Size, "%v", err)
		case size <= 0:
			ex.add(line, cols.Size, "size must be positive, got %s", FormatFloat(size))
		}
		u.Size = size
		u.Extra = make([]string, len(extra))
		for k, j := range extra {
			u.Extra[k] = row[j]
		}
		f.Units[i] = u
	}
	if err := ex.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// Stratum summarizes one stratum of a frame.
type Stratum struct {
	Name  string
	Units int     // number of PSUs in the frame
	Size  float64 // total measure of size
}

// Strata returns the frame's strata in order of first appearance.
func (f *Frame) Strata() []Stratum {
	pos := map[string]int{}
	var out []Stratum
	for _, u := range f.Units {
		k, ok := pos[u.Stratum]
		if !ok {
			k = len(out)
			pos[u.Stratum] = k
			out = append(out, Stratum{Name: u.Stratum})
		}
		out[k].Units++
		out[k].Size += u.Size
	}
	return out
}
