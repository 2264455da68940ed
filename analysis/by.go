package analysis

import (
	"slices"
	"strings"
)

// domain is one cell of the by variables: its rows, its label and the
// level of each variable.
type domain struct {
	in     []bool
	label  string
	values []string
}

// describe names the domain in errors: "migrant = current, region = north".
func (dm domain) describe(by []string) string {
	if len(dm.values) != len(by) {
		// One variable: its level is the label (values is nil).
		return strings.Join(by, ", ") + " = " + dm.label
	}
	parts := make([]string, len(by))
	for k, name := range by {
		parts[k] = name + " = " + dm.values[k]
	}
	return strings.Join(parts, ", ")
}

// byDomains splits the rows of in (nil: all) by the crossed levels of the
// variables by, as R's svyby(formula, ~a + b + …): one domain per
// combination that occurs among rows with a positive weight, ordered as
// R's sort(unique(interaction(a, b, …))) (the first variable varies
// fastest), labelled as R labels its rows (levels joined by "."). Rows
// missing any by variable belong to no domain. With one variable Values
// is nil and the label is the level.
func byDomains(t *Table, by []string, in []bool) ([]domain, error) {
	fs := make([]factor, len(by))
	for k, name := range by {
		c, err := t.Column(name)
		if err != nil {
			return nil, err
		}
		fs[k] = asFactor(c)
	}
	n := t.Len()
	type key []int32
	// Each row's combination is one mixed-radix number (the first
	// variable's code in the lowest place), looked up in a map of a few
	// cells; a combination that does not fit in 63 bits (thousands of
	// levels in several variables) is keyed by its codes' bytes instead.
	radix := make([]uint64, len(fs))
	fits := true
	span := uint64(1)
	for j, f := range fs {
		radix[j] = span
		m := uint64(len(f.levels)) + 1
		if span > (1<<63)/m {
			fits = false
			break
		}
		span *= m
	}
	cells := map[uint64]int{}
	wide := map[string]int{}
	var buf []byte
	var keys []key
	cellOf := bigMake[int](n, n)
	for i := 0; i < n; i++ {
		cellOf[i] = -1
		if in != nil && !in[i] {
			continue
		}
		var code uint64
		ok := true
		buf = buf[:0]
		for j, f := range fs {
			v := f.codes[i]
			if v < 0 {
				ok = false
				break
			}
			if fits {
				code += uint64(v) * radix[j]
			} else {
				buf = append(buf, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
			}
		}
		if !ok {
			continue
		}
		var c int
		var seen bool
		if fits {
			c, seen = cells[code]
		} else {
			c, seen = wide[string(buf)]
		}
		if !seen {
			c = len(keys)
			if fits {
				cells[code] = c
			} else {
				wide[string(buf)] = c
			}
			k := make(key, len(fs))
			for j, f := range fs {
				k[j] = f.codes[i]
			}
			keys = append(keys, k)
		}
		cellOf[i] = c
	}
	order := make([]int, len(keys))
	for c := range order {
		order[c] = c
	}
	// The last variable varies slowest.
	slices.SortFunc(order, func(a, b int) int {
		for j := len(fs) - 1; j >= 0; j-- {
			if keys[a][j] != keys[b][j] {
				return int(keys[a][j] - keys[b][j])
			}
		}
		return 0
	})
	out := make([]domain, 0, len(keys))
	pos := make([]int, len(keys))
	for p, c := range order {
		pos[c] = p
		dm := domain{in: make([]bool, n)}
		vals := make([]string, len(fs))
		for j, f := range fs {
			vals[j] = f.levels[keys[c][j]]
		}
		dm.label = strings.Join(vals, ".")
		if len(fs) > 1 {
			dm.values = vals
		}
		out = append(out, dm)
	}
	for i, c := range cellOf {
		if c >= 0 {
			out[pos[c]].in[i] = true
		}
	}
	return out, nil
}
