package questionnaire

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// Root causes and their consequences.
//
// One wrong answer can make many others fail: consent "maybe" is not a
// choice, so consent is empty, so every question relevant only with
// consent is not relevant, and each answer given to one is reported. The
// validator reports such problems as consequences of the first: a problem
// follows from another when the expression that produced it (the
// relevance of a not_relevant or required answer, a required expression,
// a constraint, a choice_filter, a repeat_count) read an answer that has a
// problem itself; an answer read without a problem of its own passes the
// problem on when it is a calculation that read one, or when it is empty
// because its relevance, which read one, is false. Problem.Cause names
// the root: a problem at the end of that chain that follows from none.
//
// The reads are recorded by evaluating the producing expression once more
// when a problem is added (tracing), so a valid submission pays nothing.

// traceRead is an answer (or a repeat) an evaluation read: the item and
// the frames of the instance holding it.
type traceRead struct {
	it *item
	fs []frame
}

func (r traceRead) path() string { return pathOf(r.fs, r.it.key) }

const (
	maxTraceReads = 256    // reads noted per traced expression
	traceBudget   = 20000  // traced evaluations per submission
	causeBudget   = 200000 // reads followed to find causes per submission
)

// noteRead notes a read of it in the instance fs during a traced
// evaluation. Groups hold no answer.
func (st *vstate) noteRead(it *item, fs []frame) {
	if it.kind == kindGroup || len(st.traced) >= maxTraceReads {
		return
	}
	st.traced = append(st.traced, traceRead{it: it, fs: append([]frame(nil), fs...)})
}

// trace evaluates x in the context (frames, m, cur, choice) noting the
// answers it reads in st.traced.
func (st *vstate) trace(x *Expr, frames []frame, m map[string]any, cur *item, choice *ChoiceRow) value {
	if x == nil || st.traces >= traceBudget {
		return value{}
	}
	st.traces++
	st.tracing = true
	env := st.envFor(frames, m, cur)
	env.choice = choice
	v := x.evalValue(env)
	st.tracing = false
	env.choice = nil
	return v
}

// traceRelevance is relevant, traced and without memos.
func (st *vstate) traceRelevance(it *item, frames []frame, m map[string]any) bool {
	for _, g := range it.relChain {
		if g.relevant != nil && st.traces < traceBudget && !st.trace(g.relevant, frames, m, g, nil).boolean() {
			return false
		}
	}
	return true
}

// takeReads returns the reads noted since the last call.
func (st *vstate) takeReads() []traceRead {
	r := st.traced
	st.traced = nil
	return r
}

// attachReads gives the last problem added the reads noted for it.
func (st *vstate) attachReads() {
	st.problems[len(st.problems)-1].reads = st.takeReads()
}

// derivedReads are what an answer read without a problem of its own
// depends on: the reads of its relevance when it is not relevant (it is
// empty because of them), and those of its calculation.
func (st *vstate) derivedReads(r traceRead) []traceRead {
	m := st.root
	if len(r.fs) > 0 {
		m = r.fs[len(r.fs)-1].m
	}
	if st.traceRelevance(r.it, r.fs, m) {
		st.takeReads()
	}
	if r.it.calc != nil {
		st.trace(r.it.calc, r.fs, m, r.it, nil)
	}
	return st.takeReads()
}

// resolveCauses sets the Cause of every problem whose reads lead to
// another problem (see the comment at the top of this file).
func (st *vstate) resolveCauses() {
	ps := st.problems
	byPath := make(map[string][]int, len(ps))
	for i := range ps {
		byPath[ps[i].Path] = append(byPath[ps[i].Path], i)
	}
	const (
		unseen = iota
		visiting
		done
	)
	mark := make([]uint8, len(ps))
	derived := map[string][]traceRead{}
	steps := 0 // reads followed, up to causeBudget: beyond, problems count as roots
	var causeOf func(i int) string
	// rootAt is the root cause of the problems at path: path itself when
	// one of them is a root.
	rootAt := func(path string) string {
		first := ""
		for _, j := range byPath[path] {
			c := causeOf(j)
			if c == "" {
				return path
			}
			if first == "" {
				first = c
			}
		}
		return first
	}
	var readCause func(r traceRead, own string, seen map[string]bool) string
	readCause = func(r traceRead, own string, seen map[string]bool) string {
		if steps >= causeBudget {
			return ""
		}
		steps++
		path := r.path()
		if path == own || seen[path] {
			return ""
		}
		seen[path] = true
		if _, has := byPath[path]; has {
			return rootAt(path)
		}
		d, ok := derived[path]
		if !ok {
			d = st.derivedReads(r)
			derived[path] = d
		}
		for _, x := range d {
			if c := readCause(x, own, seen); c != "" {
				return c
			}
		}
		return ""
	}
	causeOf = func(i int) string {
		switch mark[i] {
		case done:
			return ps[i].Cause
		case visiting:
			return "" // a cycle: this one counts as a root
		}
		mark[i] = visiting
		p := &ps[i]
		if len(p.reads) > 0 {
			seen := map[string]bool{}
			for _, r := range p.reads {
				if c := readCause(r, p.Path, seen); c != "" && c != p.Path {
					p.Cause = c
					break
				}
			}
		}
		mark[i] = done
		return p.Cause
	}
	for i := range ps {
		causeOf(i)
	}
	// A cycle can leave a cause that is itself a consequence: follow the
	// chain to a root, or make the problem one.
	isRoot := func(path string) bool {
		for _, j := range byPath[path] {
			if ps[j].Cause == "" {
				return true
			}
		}
		return false
	}
	for i := range ps {
		c := ps[i].Cause
		for steps := 0; c != "" && !isRoot(c) && steps < len(ps); steps++ {
			c = ps[byPath[c][0]].Cause
		}
		if c == ps[i].Path || c != "" && !isRoot(c) {
			c = ""
		}
		ps[i].Cause = c
	}
}

// sortProblems orders the problems: root causes first, then their
// consequences, each in form order (a repeat's own problems before those
// of its entries, entries by index, unknown names after the questions of
// their level), problems at the same place in the order found.
func (st *vstate) sortProblems() {
	pos := make(map[string]int, len(st.c.all))
	for i, it := range st.c.all {
		pos[it.key] = i
	}
	for i := range st.problems {
		st.problems[i].key = formKey(st.problems[i].Path, pos)
	}
	sort.SliceStable(st.problems, func(i, j int) bool {
		a, b := &st.problems[i], &st.problems[j]
		if (a.Cause == "") != (b.Cause == "") {
			return a.Cause == ""
		}
		for k := 0; k < len(a.key) && k < len(b.key); k++ {
			if a.key[k] != b.key[k] {
				return a.key[k] < b.key[k]
			}
		}
		if len(a.key) != len(b.key) {
			return len(a.key) < len(b.key)
		}
		return a.order < b.order
	})
}

// formKey is the form position of a problem path: "members[2].age" gives
// the positions of members and age in the form with the index between.
// Names not in the form sort last at their level.
func formKey(path string, pos map[string]int) []int {
	var key []int
	name := func(s string) int {
		if p, ok := pos[s]; ok {
			return p
		}
		return math.MaxInt
	}
	for path != "" {
		open := strings.IndexByte(path, '[')
		if open < 0 {
			return append(key, name(path))
		}
		end := strings.IndexByte(path[open:], ']')
		idx, err := 0, error(nil)
		if end > 0 {
			idx, err = strconv.Atoi(path[open+1 : open+end])
		}
		if end < 0 || err != nil {
			return append(key, name(path))
		}
		key = append(key, name(path[:open]), idx)
		path = strings.TrimPrefix(path[open+end+1:], ".")
	}
	return key
}
