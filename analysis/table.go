package analysis

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Column is one variable of a [Table]: either numeric (Num, NaN marks a
// missing value) or text (Codes index Levels; code −1 marks a missing value).
type Column struct {
	Name   string
	Num    []float64
	Codes  []int32
	Levels []string
}

// IsText reports whether the column holds text.
func (c *Column) IsText() bool { return c.Num == nil }

// Len is the number of rows.
func (c *Column) Len() int {
	if c.Num != nil {
		return len(c.Num)
	}
	return len(c.Codes)
}

// Table is a set of equally long columns.
type Table struct {
	n     int
	cols  map[string]*Column
	order []string
}

// NewTable returns an empty table with n rows.
func NewTable(n int) *Table { return &Table{n: n, cols: map[string]*Column{}} }

// Len is the number of rows.
func (t *Table) Len() int { return t.n }

// Names lists the columns in the order they were added.
func (t *Table) Names() []string { return append([]string(nil), t.order...) }

// AddNumeric adds (or replaces) a numeric column; NaN marks missing values.
// It panics if len(x) differs from the table's length.
func (t *Table) AddNumeric(name string, x []float64) {
	if len(x) != t.n {
		panic(fmt.Sprintf("analysis: column %s has %d rows, table has %d", name, len(x), t.n))
	}
	t.add(&Column{Name: name, Num: x})
}

// AddText adds (or replaces) a text column from codes into levels; code −1
// marks a missing value. It panics on a length mismatch or a code out of range.
func (t *Table) AddText(name string, codes []int32, levels []string) {
	if len(codes) != t.n {
		panic(fmt.Sprintf("analysis: column %s has %d rows, table has %d", name, len(codes), t.n))
	}
	for _, c := range codes {
		if c < -1 || int(c) >= len(levels) {
			panic(fmt.Sprintf("analysis: column %s has code %d outside its %d levels", name, c, len(levels)))
		}
	}
	t.add(&Column{Name: name, Codes: codes, Levels: levels})
}

// AddStrings adds a text column from plain strings (one per row).
func (t *Table) AddStrings(name string, values []string) {
	idx := map[string]int32{}
	codes := make([]int32, len(values))
	var levels []string
	for i, v := range values {
		c, ok := idx[v]
		if !ok {
			c = int32(len(levels))
			idx[v] = c
			levels = append(levels, v)
		}
		codes[i] = c
	}
	t.AddText(name, codes, levels)
}

func (t *Table) add(c *Column) {
	if _, ok := t.cols[c.Name]; !ok {
		t.order = append(t.order, c.Name)
	}
	t.cols[c.Name] = c
}

// Column returns the named column or an error naming it.
func (t *Table) Column(name string) (*Column, error) {
	c, ok := t.cols[name]
	if !ok {
		return nil, fmt.Errorf("unknown column %q", name)
	}
	return c, nil
}

// numeric returns the named column as numbers, or an error naming it.
func (t *Table) numeric(name string) ([]float64, error) {
	c, err := t.Column(name)
	if err != nil {
		return nil, err
	}
	if c.IsText() {
		for i, code := range c.Codes {
			if code >= 0 {
				return nil, fmt.Errorf("column %s: non-numeric value %q in row %d", name, c.Levels[code], i+1)
			}
		}
		return nil, fmt.Errorf("column %s: no numeric values", name)
	}
	return c.Num, nil
}

// Source supplies the columns a plan needs. The command line reads CSV and
// Parquet files; a store-backed source reads approved submissions.
type Source interface {
	// Load returns a table holding at least the named columns.
	Load(ctx context.Context, columns []string) (*Table, error)
}

// factor is a column seen as a categorical variable: codes 0..k−1 in
// sorted level order (text sorted bytewise, numbers numerically), −1 for
// missing, as R's factor() orders levels.
type factor struct {
	name   string
	codes  []int32
	levels []string
}

// asFactor turns any column into a factor.
func asFactor(c *Column) factor {
	if c.IsText() {
		used := make([]bool, len(c.Levels))
		for _, code := range c.Codes {
			if code >= 0 {
				used[code] = true
			}
		}
		var order []int
		for i, u := range used {
			if u {
				order = append(order, i)
			}
		}
		sort.Slice(order, func(a, b int) bool { return c.Levels[order[a]] < c.Levels[order[b]] })
		remap := make([]int32, len(c.Levels))
		levels := make([]string, len(order))
		for newc, old := range order {
			remap[old] = int32(newc)
			levels[newc] = c.Levels[old]
		}
		codes := bigMake[int32](len(c.Codes), len(c.Codes))
		for i, code := range c.Codes {
			if code < 0 {
				codes[i] = -1
			} else {
				codes[i] = remap[code]
			}
		}
		return factor{name: c.Name, codes: codes, levels: levels}
	}
	idx := map[float64]int32{}
	var vals []float64
	for _, v := range c.Num {
		if math.IsNaN(v) {
			continue
		}
		if _, ok := idx[v]; !ok {
			idx[v] = 0
			vals = append(vals, v)
		}
	}
	sort.Float64s(vals)
	levels := make([]string, len(vals))
	for i, v := range vals {
		idx[v] = int32(i)
		levels[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	codes := make([]int32, len(c.Num))
	for i, v := range c.Num {
		if math.IsNaN(v) {
			codes[i] = -1
		} else {
			codes[i] = idx[v]
		}
	}
	return factor{name: c.Name, codes: codes, levels: levels}
}
