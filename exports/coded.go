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

// valueCoder gives a column's values codes as they are met, equal codes
// for equal formatted texts (Column.Format) without formatting strings,
// integers and booleans; −1 is null.
type valueCoder struct {
	c    *Column
	strs map[string]int32
	ints map[int64]int32
	n    int32
}

func newValueCoder(c *Column) *valueCoder {
	v := &valueCoder{c: c}
	switch c.Type {
	case Int, Bool:
		v.ints = map[int64]int32{}
	default:
		v.strs = map[string]int32{}
	}
	return v
}

// key is row i's value as a map key of the coder's kind.
func (v *valueCoder) get(i int, add bool) (int32, bool) {
	c := v.c
	if c.IsNull(i) {
		return -1, false
	}
	if v.ints != nil {
		var x int64
		if c.Type == Int {
			x = c.Ints[i]
		} else if c.Bools[i] {
			x = 1
		}
		code, ok := v.ints[x]
		if !ok && add {
			code, ok = v.n, true
			v.ints[x] = code
			v.n++
		}
		return code, ok
	}
	var s string
	if c.Type == String {
		s = c.Strings[i]
	} else {
		s = c.Format(i)
	}
	code, ok := v.strs[s]
	if !ok && add {
		code, ok = v.n, true
		v.strs[s] = code
		v.n++
	}
	return code, ok
}

// code is row i's code, a new one for a value not met before (−1: null).
func (v *valueCoder) code(i int) int32 {
	code, _ := v.get(i, true)
	return code
}
