package questionnaire

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Validate checks one submission's answers against the form, as the tablet
// does, and returns the normalized answers and every problem found (nil
// when the answers are valid).
//
// Answers are keyed by question name; groups are transparent; a repeat is
// an array of objects. Normalized answers: integer as int64, decimal as
// float64, select_multiple as []string (a JSON array or an ODK
// space-separated string is accepted), geopoint as map[string]any with
// float64 "lat", "lon", "alt", "accuracy" (an object or the ODK string
// "lat lon alt accuracy" is accepted), acknowledge as "OK", dates, times
// and texts as strings, repeats as []any of map[string]any. Answers that
// are not relevant are dropped (and reported); calculations are recomputed
// and stored with the server's value (int64 when integral, float64, or
// string), replacing what the client sent.
//
// Problems have the codes required, type, choice, constraint,
// not_relevant, repeat_count and unknown_field. A problem that follows
// from another (the expression that produced it read an answer with a
// problem, see Problem.Cause) names its root cause in Cause; root causes
// come first, in form order, then their consequences, in form order.
func (f *Form) Validate(answers map[string]any, opts ValidateOptions) (map[string]any, []Problem) {
	return f.validate(answers, opts, true)
}

// validate is Validate; reuse lets the check pass reuse the relevance
// pass's results when that pass changed no answer (see relevantOnce) and
// the later passes keep a top-level calculation whose inputs have not
// changed (see calcHolds). Without it every expression is evaluated in
// every pass.
func (f *Form) validate(answers map[string]any, opts ValidateOptions, reuse bool) (map[string]any, []Problem) {
	if f.c == nil {
		return nil, []Problem{{Path: "", Code: CodeType, Message: "the form is not compiled (call Compile)"}}
	}
	lang := opts.Lang
	if lang == "" {
		lang = f.DefaultLanguage
	}
	st := &vstate{f: f, c: f.c, lang: lang, now: opts.Now}
	st.reuse = reuse
	st.rec = make([]bool, 0, 128)
	st.changes = st.changeArr[:0]
	if reuse && f.c.topCalcs > 0 {
		st.calcAt = st.calcAtArr[:0]
		if f.c.topCalcs > len(st.calcAtArr) {
			st.calcAt = make([]int, 0, f.c.topCalcs)
		}
		st.calcAt = st.calcAt[:f.c.topCalcs]
		for i := range st.calcAt {
			st.calcAt[i] = -1
		}
	}
	st.memos = st.memoLevels[:0]
	root := st.normalizeLevel(nil, answers, st.steps[:0])
	st.root = root
	st.env.buf = make(nodeset, 0, 16)
	frames := st.frames[:0]
	st.pass(nil, frames, root, passCalc)
	st.recording, st.recVer = reuse, st.ver
	st.pass(nil, frames, root, passRelevance)
	st.recording = false
	st.replaying = reuse && st.ver == st.recVer
	st.pass(nil, frames, root, passCheck)
	if len(st.problems) == 0 {
		return root, nil
	}
	st.resolveCauses()
	st.sortProblems()
	out := make([]Problem, len(st.problems))
	for i, p := range st.problems {
		out[i] = p.Problem
	}
	return root, out
}

type orderedProblem struct {
	Problem
	order int
	reads []traceRead // what the expressions that produced it read (see resolveCauses)
	key   []int       // form position (see sortProblems)
}

type vstate struct {
	f         *Form
	c         *compiled
	lang      string
	now       time.Time
	root      map[string]any
	problems  []orderedProblem
	bad       map[string]bool // paths with a type or choice problem (nil: none)
	seq       int
	ver       int       // counts changes to the answers during the passes
	changes   []*item   // the item of each change (see changed)
	calcAt    []int     // by calcSlot: the version a top-level calculation was computed on (-1: not yet)
	reuse     bool      // see validate
	changeArr [32]*item // room for changes and calcAt
	calcAtArr [16]int
	env       evalEnv  // the environment of the current evaluation (see envFor)
	frames    [4]frame // room for the frames of nested repeat instances
	// relevance results of the relevance pass, replayed by the check
	// pass while the answers are those of answers version recVer (see
	// relevantOnce)
	rec                  []bool
	recVer, replayed     int
	recording, replaying bool
	memos                [][]relMemo // groups' relevance in the current instances, by repeat depth (see relevant)
	memoLevels           [4][]relMemo
	steps                [4]instStep // room for the instPaths of nested repeat instances
	// tracing evaluations note the answers they read in traced (see
	// trace); traces counts them
	tracing bool
	traced  []traceRead
	traces  int
}

// add records a problem; seq orders problems found at the same place
// (see sortProblems).
func (st *vstate) add(path, code, msg string) {
	st.seq++
	st.problems = append(st.problems, orderedProblem{Problem: Problem{Path: path, Code: code, Message: msg}, order: st.seq})
}

const (
	passCalc      = iota // compute calculations (forward references settle)
	passRelevance        // drop and report non-relevant answers, recompute
	passCheck            // required, constraint, choice filter, repeat count
)

type frame struct {
	rep *item
	idx int
	m   map[string]any
}

// pathOf is the path of the answer name in the repeat instances frames:
// "members[2].age".
func pathOf(frames []frame, name string) string {
	if len(frames) == 0 {
		return name
	}
	var b strings.Builder
	for _, fr := range frames {
		b.WriteString(fr.rep.q.Name)
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(fr.idx))
		b.WriteString("].")
	}
	b.WriteString(name)
	return b.String()
}

// markBad records that the answer at path has a type or choice problem.
func (st *vstate) markBad(path string) {
	if st.bad == nil {
		st.bad = map[string]bool{}
	}
	st.bad[path] = true
}

// isBad reports whether the answer name in frames has a type or choice
// problem.
func (st *vstate) isBad(frames []frame, name string) bool {
	return len(st.bad) > 0 && st.bad[pathOf(frames, name)]
}

// envFor points the state's one evaluation environment at an item in a
// context. Evaluation does not nest, so one environment serves a whole
// pass.
func (st *vstate) envFor(frames []frame, m map[string]any, cur *item) *evalEnv {
	e := &st.env
	e.st, e.frames, e.m, e.cur, e.choice, e.buf = st, frames, m, cur, nil, e.buf[:0]
	return e
}

// pass runs one pass over the items answered at a repeat level (nil = top)
// in the instance m. frames lists the enclosing repeat instances; the
// slice's spare capacity is used for the nested instances' frames, so
// frames must not be kept beyond an evaluation. Paths are built only for
// problems.
func (st *vstate) pass(level *item, frames []frame, m map[string]any, pass int) {
	d := len(frames)
	for len(st.memos) <= d {
		st.memos = append(st.memos, nil)
	}
	st.memos[d] = st.memos[d][:0]
	for _, it := range st.c.members[level] {
		if it.kind == kindNote {
			continue
		}
		if pass == passCalc && it.calc == nil && !it.calcInside {
			continue // nothing to compute
		}
		relevant := pass == passCalc || st.relevantOnce(it, frames, m)
		if it.kind == kindRepeat {
			list, _ := m[it.key].([]any)
			if !relevant {
				if pass == passRelevance && len(list) > 0 {
					st.add(pathOf(frames, it.key), CodeNotRelevant, st.text(msgRepeatNotRelevant, it.q.Name, st.entries(len(list))))
					st.traceRelevance(it, frames, m)
					st.attachReads()
				}
				st.remove(it, m)
				continue
			}
			for i, x := range list {
				inst, _ := x.(map[string]any)
				if inst == nil {
					continue
				}
				st.pass(it, append(frames, frame{rep: it, idx: i, m: inst}), inst, pass)
			}
			if pass == passCheck && it.count != nil && !st.isBad(frames, it.key) {
				want := it.count.evalValue(st.envFor(frames, m, nil)).number()
				if math.IsNaN(want) {
					want = 0
				}
				if float64(len(list)) != want {
					st.add(pathOf(frames, it.key), CodeRepeatCount, st.text(msgRepeatCount, it.q.Name, st.entries(len(list)), formatNumber(want), it.q.RepeatCount))
					st.trace(it.count, frames, m, nil, nil)
					st.attachReads()
				}
			}
			continue
		}
		if !relevant {
			if pass == passRelevance && !isEmpty(m[it.key]) && it.base != "calculate" {
				st.add(pathOf(frames, it.key), CodeNotRelevant, st.text(msgNotRelevant, it.q.Name))
				st.traceRelevance(it, frames, m)
				st.attachReads()
			}
			st.remove(it, m)
			continue
		}
		if it.calc != nil && !(it.clientHeld && !isEmpty(m[it.key])) && !st.unchanged() && !st.calcHolds(it, pass) {
			old, had := m[it.key]
			at := st.ver
			setCalcValue(m, it.key, it.calc.evalValue(st.envFor(frames, m, it)))
			if v, has := m[it.key]; has != had || has && !sameScalar(old, v) {
				st.changed(it)
			}
			if it.calcSlot >= 0 && st.reuse {
				st.calcAt[it.calcSlot] = at
			}
		}
		if pass != passCheck || st.isBad(frames, it.key) {
			continue
		}
		v := m[it.key]
		if isEmpty(v) {
			required := it.requiredStatic || it.required != nil && it.required.evalValue(st.envFor(frames, m, it)).boolean()
			if required && it.base != "calculate" {
				st.add(pathOf(frames, it.key), CodeRequired, st.message(it.q.RequiredMessage, defaultRequired, it.q.Name))
				st.traceRelevance(it, frames, m)
				st.trace(it.required, frames, m, it, nil)
				st.attachReads()
			}
			continue
		}
		if it.constraint != nil && !it.constraint.evalValue(st.envFor(frames, m, it)).boolean() {
			st.add(pathOf(frames, it.key), CodeConstraint, st.message(it.q.ConstraintMessage, defaultConstraint, it.q.Constraint))
			st.trace(it.constraint, frames, m, it, nil)
			st.attachReads()
		}
		if it.filter != nil {
			var one [1]string
			var chosen []string
			switch x := v.(type) {
			case string:
				one[0] = x
				chosen = one[:]
				if it.external && strings.HasPrefix(it.base, "select_multiple") {
					chosen = strings.Fields(x)
				}
			case []string:
				chosen = x
			}
			for _, name := range chosen {
				if !st.choiceAllowed(it, st.envFor(frames, m, it), name) {
					msg := st.text(msgChoiceFilter, it.q.Name, name, it.q.ChoiceFilter)
					if it.sens == "direct" {
						msg = st.text(msgChoiceFilterDirect, it.q.Name, it.q.ChoiceFilter)
					}
					st.add(pathOf(frames, it.key), CodeChoice, msg)
					st.trace(it.filter, frames, m, it, st.choiceRow(it, name))
					st.attachReads()
				}
			}
		}
	}
}

// choiceAllowed reports whether the choice_filter of it lets the choice
// name through in env's context (env.choice is set for each candidate
// and cleared again).
func (st *vstate) choiceAllowed(it *item, env *evalEnv, name string) bool {
	if it.orOther && name == "other" {
		return true
	}
	defer func() { env.choice = nil }()
	for _, ch := range it.choices {
		if ch.Name != name {
			continue
		}
		env.choice = ch
		env.buf = env.buf[:0]
		if it.filter.evalValue(env).boolean() {
			return true
		}
	}
	return it.external && it.choices == nil
}

// choiceRow is the row of the choice name in the list of it (nil: none).
func (st *vstate) choiceRow(it *item, name string) *ChoiceRow {
	for _, ch := range it.choices {
		if ch.Name == name {
			return ch
		}
	}
	return nil
}

// relevant evaluates the item's relevant and those of its enclosing groups
// (inside its repeat level) in the current context. st.memos keeps the
// groups' results for the instance m at answers version st.ver: a group's
// relevant is evaluated again only when an answer has changed since.
func (st *vstate) relevant(it *item, frames []frame, m map[string]any) bool {
	memo := &st.memos[len(frames)]
	for _, g := range it.relChain {
		if g.relevant == nil {
			continue
		}
		if g == it {
			if !g.relevant.evalValue(st.envFor(frames, m, g)).boolean() {
				return false
			}
			continue
		}
		k := -1
		for i := range *memo {
			if (*memo)[i].g == g {
				k = i
				break
			}
		}
		if k < 0 {
			*memo = append(*memo, relMemo{g: g, ver: -1})
			k = len(*memo) - 1
		}
		r := &(*memo)[k]
		if r.ver != st.ver {
			r.val, r.ver = g.relevant.evalValue(st.envFor(frames, m, g)).boolean(), st.ver
		}
		if !r.val {
			return false
		}
	}
	return true
}

// relevantOnce is relevant, evaluated once for both the relevance and the
// check pass when the relevance pass changed no answer: the relevance
// pass records its results in order, and the check pass, which visits
// the same items in the same instances in the same order, replays them
// as long as the answers stay unchanged.
func (st *vstate) relevantOnce(it *item, frames []frame, m map[string]any) bool {
	if st.replaying {
		if st.unchanged() && st.replayed < len(st.rec) {
			st.replayed++
			return st.rec[st.replayed-1]
		}
		st.replaying = false
	}
	v := st.relevant(it, frames, m)
	if st.recording {
		st.rec = append(st.rec, v)
	}
	return v
}

// unchanged reports whether the check pass runs on the answers the
// relevance pass left, none changed since (so the relevance pass's
// relevance and calculations still hold).
func (st *vstate) unchanged() bool { return st.replaying && st.ver == st.recVer }

// relMemo is a group's relevance in one repeat instance (or the top
// level) at answers version ver.
type relMemo struct {
	g   *item
	ver int
	val bool
}

// remove deletes the answer of it in m, counting the change.
func (st *vstate) remove(it *item, m map[string]any) {
	if _, ok := m[it.key]; ok {
		delete(m, it.key)
		st.changed(it)
		if it.calcSlot >= 0 && st.calcAt != nil {
			st.calcAt[it.calcSlot] = -1 // to be computed again when relevant again
		}
	}
}

// changed counts a change to an answer of it: st.changes[v] is the item
// whose answer changed to make version v+1.
func (st *vstate) changed(it *item) {
	st.ver++
	st.changes = append(st.changes, it)
}

// calcHolds reports whether the top-level calculation it still has the
// value it was given at version st.calcAt: no answer it depends on
// (calcDeps) has changed since. The calculation pass always computes.
func (st *vstate) calcHolds(it *item, pass int) bool {
	if pass == passCalc || it.calcSlot < 0 || !st.reuse {
		return false
	}
	at := st.calcAt[it.calcSlot]
	if at < 0 {
		return false
	}
	for _, ch := range st.changes[at:] {
		for _, d := range it.calcDeps {
			if ch == d {
				return false
			}
		}
	}
	return true
}

// sameScalar reports whether two stored answers are the same value.
func sameScalar(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	return false
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []string:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// setCalcValue stores a calculation's result: int64 when integral, float64,
// or string; empty and NaN results remove the answer.
func setCalcValue(m map[string]any, name string, v value) {
	if v.k == vNodes {
		if len(v.ns) == 1 && v.ns[0].num {
			v = numV(v.ns[0].number())
		} else {
			v = strV(v.str())
		}
	}
	if v.k == vNum {
		x := v.f
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			delete(m, name)
		case x == math.Trunc(x) && math.Abs(x) <= 1<<53:
			if old, ok := m[name].(int64); !ok || old != int64(x) { // the value stored in an earlier pass is kept
				m[name] = int64(x)
			}
		default:
			if old, ok := m[name].(float64); !ok || math.Float64bits(old) != math.Float64bits(x) {
				m[name] = x
			}
		}
		return
	}
	s := v.str()
	if s == "" {
		delete(m, name)
		return
	}
	if old, ok := m[name].(string); !ok || old != s {
		m[name] = s
	}
}
