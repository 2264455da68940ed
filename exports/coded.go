package exports

import "sort"

// coded is a column's values as they are formatted (Column.Format), each
// distinct text given a code in order of first appearance; −1 is null. The
// linked analysis compares values across columns and tables as text: codes
// let it compare integers instead, with the same answers.
type coded struct {
	codes []int32
	texts []string // code → text
	index map[string]int32
}

func codeColumn(c *Column) *coded {
	out := &coded{codes: make([]int32, c.Len()), index: map[string]int32{}}
	for i := range out.codes {
		if c.IsNull(i) {
			out.codes[i] = -1
			continue
		}
		s := c.Format(i)
		code, ok := out.index[s]
		if !ok {
			code = int32(len(out.texts))
			out.index[s] = code
			out.texts = append(out.texts, s)
		}
		out.codes[i] = code
	}
	return out
}

// sorted is the distinct texts in order (valuesOf).
func (c *coded) sorted() []string {
	out := append([]string(nil), c.texts...)
	sort.Strings(out)
	return out
}

// codedCache codes each column once.
type codedCache map[*Column]*coded

func (cc codedCache) of(c *Column) *coded {
	x, ok := cc[c]
	if !ok {
		x = codeColumn(c)
		cc[c] = x
	}
	return x
}

// agreesCoded is agrees(q, f) where f(i) answers with a code of q's texts
// (−2: a text q never has; ok false: no answer). It stops as soon as the
// answer is certain: when the mismatches already exceed 5% of every row
// that could still answer.
func agreesCoded(q *coded, f func(i int) (code int32, ok bool)) bool {
	match, total := 0, 0
	n := len(q.codes)
	for i, qc := range q.codes {
		if qc < 0 {
			continue
		}
		v, ok := f(i)
		if !ok {
			continue
		}
		total++
		if v == qc {
			match++
		} else if (total-match)*20 > total+(n-i-1) {
			return false
		}
	}
	return total >= 20 && match*100 >= total*95
}
