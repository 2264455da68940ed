package sampling

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/dotm-survey/dotm/internal/csvsafe"
	"github.com/dotm-survey/dotm/internal/suggest"
)

// InputError is a problem with one cell, row or column of an input table.
type InputError struct {
	Line   int    // line of the row in the file (the header is line 1); 0 when about the whole file
	Column string // column name; empty when about the whole row or file
	Msg    string
}

func (e *InputError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if e.Column != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "column %q", e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// InputErrors is every problem found in one input, in the order found. Its
// Error lists the first 20.
type InputErrors []*InputError

// maxInputErrors bounds how many problems one input reports.
const maxInputErrors = 100

func (es InputErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i == 20 {
			fmt.Fprintf(&b, "\n(and %d more)", len(es)-20)
			break
		}
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// errs accumulates InputErrors up to maxInputErrors.
type errs struct{ list InputErrors }

func (x *errs) add(line int, col, format string, args ...any) {
	if len(x.list) < maxInputErrors {
		x.list = append(x.list, &InputError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)})
	}
}

func (x *errs) err() error {
	if len(x.list) == 0 {
		return nil
	}
	return x.list
}

// Table is a CSV file held as strings: a header and rows of the same width.
type Table struct {
	Header []string
	Rows   [][]string
	Lines  []int // Lines[i] is the file line of Rows[i]
}

// ReadTable reads a CSV file with a header row. Header names are trimmed of
// spaces (and a leading byte order mark); they must be non-empty and unique.
// Every row must have as many fields as the header. A file separated by
// semicolons or tabs is a *csvsafe.SeparatorError.
func ReadTable(r io.Reader) (*Table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &InputError{Msg: "empty file: no header row"}
	}
	if err != nil {
		return nil, csvError(err)
	}
	if err := csvsafe.CheckSeparator("", header); err != nil {
		return nil, err
	}
	t := &Table{Header: make([]string, len(header))}
	var ex errs
	seen := map[string]bool{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = csvsafe.Unescape(strings.TrimSpace(h))
		t.Header[i] = h
		switch {
		case h == "":
			ex.add(1, "", "header field %d is empty", i+1)
		case seen[h]:
			ex.add(1, h, "column appears twice in the header")
		}
		seen[h] = true
	}
	if err := ex.err(); err != nil {
		return nil, err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			ex.add(0, "", "%v", csvError(err))
			return nil, ex.err()
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(t.Header) {
			ex.add(line, "", "%d fields, the header has %d", len(rec), len(t.Header))
			if len(ex.list) >= maxInputErrors {
				break
			}
			continue
		}
		for i, f := range rec {
			rec[i] = csvsafe.Unescape(f)
		}
		t.Rows = append(t.Rows, rec)
		t.Lines = append(t.Lines, line)
	}
	if err := ex.err(); err != nil {
		return nil, err
	}
	return t, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &InputError{Line: pe.Line, Msg: pe.Err.Error()}
	}
	return err
}

// Index returns the position of column name, or an InputError naming it.
func (t *Table) Index(name string) (int, error) {
	for i, h := range t.Header {
		if h == name {
			return i, nil
		}
	}
	msg := fmt.Sprintf("missing column (the header has %s)", strings.Join(t.Header, ", "))
	if hint := suggest.DidYouMean(name, t.Header); hint != "" {
		msg = "missing column; " + hint
	}
	return -1, &InputError{Line: 1, Column: name, Msg: msg}
}

// Strings returns column name; with nonEmpty, empty cells are errors.
func (t *Table) Strings(name string, nonEmpty bool) ([]string, error) {
	j, err := t.Index(name)
	if err != nil {
		return nil, err
	}
	var ex errs
	out := make([]string, len(t.Rows))
	for i, row := range t.Rows {
		out[i] = strings.TrimSpace(row[j])
		if nonEmpty && out[i] == "" {
			ex.add(t.Lines[i], name, "empty value")
		}
	}
	return out, ex.err()
}

// Floats parses column name as finite numbers.
func (t *Table) Floats(name string) ([]float64, error) {
	j, err := t.Index(name)
	if err != nil {
		return nil, err
	}
	var ex errs
	out := make([]float64, len(t.Rows))
	for i, row := range t.Rows {
		v, err := parseFloat(row[j])
		if err != nil {
			ex.add(t.Lines[i], name, "%v", err)
		}
		out[i] = v
	}
	return out, ex.err()
}

// Flags parses column name as 0/1 (also true/false, yes/no).
func (t *Table) Flags(name string) ([]bool, error) {
	j, err := t.Index(name)
	if err != nil {
		return nil, err
	}
	var ex errs
	out := make([]bool, len(t.Rows))
	for i, row := range t.Rows {
		switch strings.ToLower(strings.TrimSpace(row[j])) {
		case "1", "true", "yes":
			out[i] = true
		case "0", "false", "no":
		default:
			ex.add(t.Lines[i], name, "want 0 or 1, got %q", row[j])
		}
	}
	return out, ex.err()
}

// SetColumn replaces column name with values, or appends it when absent.
// It panics if len(values) differs from the number of rows.
func (t *Table) SetColumn(name string, values []string) {
	if len(values) != len(t.Rows) {
		panic("sampling: SetColumn length mismatch")
	}
	j, err := t.Index(name)
	if err != nil {
		t.Header = append(t.Header, name)
		j = len(t.Header) - 1
		for i := range t.Rows {
			t.Rows[i] = append(t.Rows[i], "")
		}
	}
	for i := range t.Rows {
		t.Rows[i][j] = values[i]
	}
}

// Write writes the table as CSV, text cells that a spreadsheet would run as
// formulas escaped (csvsafe; ReadTable undoes it).
func (t *Table) Write(w io.Writer) error {
	cw := csv.NewWriter(w)
	rec := make([]string, 0, len(t.Header))
	if err := cw.Write(csvsafe.Row(append(rec[:0], t.Header...))); err != nil {
		return err
	}
	for _, r := range t.Rows {
		if err := cw.Write(csvsafe.Row(append(rec[:0], r...))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// FormatFloat formats x with full precision (the shortest representation
// that parses back to the same float64).
func FormatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// FormatFloats formats every element of xs with FormatFloat.
func FormatFloats(xs []float64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = FormatFloat(x)
	}
	return out
}

func parseFloat(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty value, want a number")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("want a finite number, got %q", s)
	}
	return v, nil
}

func trim(s string) string { return strings.TrimSpace(s) }
