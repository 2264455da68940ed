package exports

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Type is the type of a column's values.
type Type int

// Column types. Dates are days since 1970-01-01 (Parquet DATE).
const (
	String Type = iota
	Int
	Float
	Bool
	Date
)

var typeNames = [...]string{String: "string", Int: "integer", Float: "float", Bool: "boolean", Date: "date"}

// String returns the type's name as the codebook shows it.
func (t Type) String() string {
	if t < 0 || int(t) >= len(typeNames) {
		return "Type(" + strconv.Itoa(int(t)) + ")"
	}
	return typeNames[t]
}

// Sensitivity classes (DESIGN.md, Confidentiality); the empty class is "none".
const (
	Direct    = "direct"
	Quasi     = "quasi"
	Sensitive = "sensitive"
)

// Choice is one value label of a categorical column: the value as stored
// (the choice name) and its label per language.
type Choice struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Meta describes a column for the codebook and for disclosure control. The
// dataset step fills it from questionnaire.Field: Sensitivity from
// Field.Sensitivity, Question from Field.Labels, Choices from Field.Choices,
// Source from Field.Name.
type Meta struct {
	Sensitivity string            // "direct", "quasi", "sensitive" or "" (none)
	Question    map[string]string // language code -> question text
	Choices     []Choice          // value labels of a categorical column, in order
	Source      string            // the form field or derivation the column comes from
	// FreeText marks a free-text answer or paradata (device id, start and
	// end times, …): dropped from releases unless the profile keeps it.
	FreeText   bool
	Transforms []string // what disclosure control did to the column (filled by Anonymize)
	// Label is the variable's label in the researcher's tools (Stata,
	// DDI, the Parquet field's dotm.label) when it has no question text:
	// derived variables say what they measure.
	Label string
	// Multiple marks a select_multiple answer: the choice names given,
	// separated by spaces. A release adds one 0/1 column per choice.
	Multiple bool
}

// Column is one named, typed column with nullable values. Exactly one of the
// value slices is used, by Type: Strings for String, Ints for Int and Date
// (days since 1970-01-01), Floats for Float, Bools for Bool. Valid marks the
// non-null rows; a nil Valid means no nulls. Nullable declares that the
// column may hold nulls (it is written as an optional Parquet column even
// when this release happens to have none).
type Column struct {
	Name     string
	Type     Type
	Strings  []string
	Ints     []int64
	Floats   []float64
	Bools    []bool
	Valid    []bool
	Nullable bool
	Meta     Meta
}

// Len returns the number of rows of c.
func (c *Column) Len() int {
	switch c.Type {
	case String:
		return len(c.Strings)
	case Int, Date:
		return len(c.Ints)
	case Float:
		return len(c.Floats)
	case Bool:
		return len(c.Bools)
	}
	return 0
}

// IsNull reports whether row i is null.
func (c *Column) IsNull(i int) bool { return c.Valid != nil && !c.Valid[i] }

// SetNull makes row i null (and the column nullable).
func (c *Column) SetNull(i int) {
	if c.Valid == nil {
		c.Valid = make([]bool, c.Len())
		for j := range c.Valid {
			c.Valid[j] = true
		}
	}
	c.Valid[i] = false
	c.Nullable = true
}

// NullCount returns the number of null rows.
func (c *Column) NullCount() int {
	n := 0
	for _, v := range c.Valid {
		if !v {
			n++
		}
	}
	return n
}

// Format returns row i as text ("" when null), as the codebook and the
// disclosure report show values.
func (c *Column) Format(i int) string {
	if c.IsNull(i) {
		return ""
	}
	switch c.Type {
	case String:
		return c.Strings[i]
	case Int:
		return strconv.FormatInt(c.Ints[i], 10)
	case Date:
		return time.Unix(c.Ints[i]*86400, 0).UTC().Format(time.DateOnly)
	case Float:
		return strconv.FormatFloat(c.Floats[i], 'g', -1, 64)
	case Bool:
		return strconv.FormatBool(c.Bools[i])
	}
	return ""
}

// Float returns row i as a number (NaN when null or not numeric), for
// weights, quantiles and coordinates.
func (c *Column) Float(i int) float64 {
	if c.IsNull(i) {
		return math.NaN()
	}
	switch c.Type {
	case Int, Date:
		return float64(c.Ints[i])
	case Float:
		return c.Floats[i]
	case Bool:
		if c.Bools[i] {
			return 1
		}
		return 0
	}
	return math.NaN()
}

// permute reorders the rows of c so that new row i is old row perm[i].
func (c *Column) permute(perm []int) {
	switch c.Type {
	case String:
		c.Strings = permuteSlice(c.Strings, perm)
	case Int, Date:
		c.Ints = permuteSlice(c.Ints, perm)
	case Float:
		c.Floats = permuteSlice(c.Floats, perm)
	case Bool:
		c.Bools = permuteSlice(c.Bools, perm)
	}
	if c.Valid != nil {
		c.Valid = permuteSlice(c.Valid, perm)
	}
}

func permuteSlice[T any](s []T, perm []int) []T {
	out := make([]T, len(s))
	for i, p := range perm {
		out[i] = s[p]
	}
	return out
}

// clone returns a deep copy of c, so that Anonymize never changes its input.
func (c *Column) clone() *Column {
	d := *c
	d.Strings = append([]string(nil), c.Strings...)
	d.Ints = append([]int64(nil), c.Ints...)
	d.Floats = append([]float64(nil), c.Floats...)
	d.Bools = append([]bool(nil), c.Bools...)
	if c.Valid != nil {
		d.Valid = append([]bool(nil), c.Valid...)
	}
	d.Meta.Transforms = append([]string(nil), c.Meta.Transforms...)
	return &d
}

// Table is a named set of equally long columns: households, persons,
// migrants, return_migrants.
type Table struct {
	Name    string
	Columns []*Column
}

// Rows returns the number of rows (0 for a table without columns).
func (t *Table) Rows() int {
	if len(t.Columns) == 0 {
		return 0
	}
	return t.Columns[0].Len()
}

// Column returns the column called name, or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Check reports the first structural problem of t: an empty or repeated
// column name, an unknown type, a column whose length differs from the
// first column's, or a Valid slice of the wrong length.
func (t *Table) Check() error {
	seen := map[string]bool{}
	n := t.Rows()
	for _, c := range t.Columns {
		if c.Name == "" {
			return fmt.Errorf("table %s: column with an empty name", t.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("table %s: column %s appears twice", t.Name, c.Name)
		}
		seen[c.Name] = true
		if c.Type < String || c.Type > Date {
			return fmt.Errorf("table %s: column %s: unknown type %d", t.Name, c.Name, c.Type)
		}
		if c.Len() != n {
			return fmt.Errorf("table %s: column %s has %d rows, want %d", t.Name, c.Name, c.Len(), n)
		}
		if c.Valid != nil && len(c.Valid) != n {
			return fmt.Errorf("table %s: column %s: %d validity flags for %d rows", t.Name, c.Name, len(c.Valid), n)
		}
	}
	return nil
}

func (t *Table) remove(name string) {
	for i, c := range t.Columns {
		if c.Name == name {
			t.Columns = append(t.Columns[:i], t.Columns[i+1:]...)
			return
		}
	}
}

// Dataset is what a release is made from: the tables of one survey round
// (or of one file given on the command line) and the languages in which the
// codebook gives question texts and value labels.
type Dataset struct {
	Survey    string   // survey id, or the input file's name
	Languages []string // language codes of Meta.Question and Choice.Labels, first = default
	Tables    []*Table
}

// Table returns the table called name, or nil.
func (d *Dataset) Table(name string) *Table {
	for _, t := range d.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Source gives the tables of a survey for a release. The dataset step
// implements it over approved submissions (households, persons, migrants,
// return_migrants with design variables and final weights, and column
// metadata from the form); cmd/dotm wires it.
type Source interface {
	// Dataset returns the release tables of the survey with the given id.
	// It returns an error wrapping a not-found error of the implementer's
	// kind when the survey does not exist.
	Dataset(ctx context.Context, survey string) (*Dataset, error)
}
