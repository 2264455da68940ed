package questionnaire

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
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
// Problems are reported in form order with the codes required, type,
// choice, constraint, not_relevant, repeat_count and unknown_field.
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
	sort.SliceStable(st.problems, func(i, j int) bool { return st.problems[i].order < st.problems[j].order })
	out := make([]Problem, len(st.problems))
	for i, p := range st.problems {
		out[i] = p.Problem
	}
	return root, out
}

type orderedProblem struct {
	Problem
	order int
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
}

// add records a problem; seq orders problems of the same pass by form
// position (normalization problems come first).
func (st *vstate) add(path, code, msg string) {
	st.seq++
	st.problems = append(st.problems, orderedProblem{Problem{Path: path, Code: code, Message: msg}, st.seq})
}

// ---- normalization ----

func (st *vstate) normalizeLevel(level *item, in map[string]any, inst instPath) map[string]any {
	// room for the answers and the calculations the passes add
	out := make(map[string]any, len(in)+st.c.calcs[level])
	// known keys in form order (the level's members), then unknown keys
	// sorted
	known := 0
	for _, it := range st.c.members[level] {
		v, ok := in[it.q.Name]
		if !ok {
			continue
		}
		known++
		st.normalizeAnswer(it, v, out, inst)
	}
	if known == len(in) {
		return out
	}
	var unknown []string
	for k := range in {
		if it, ok := st.c.byName[k]; !ok || it.kind == kindGroup || it.level() != level {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		it, ok := st.c.byName[k]
		msg := fmt.Sprintf("%s is not a question of this form", k)
		switch {
		case ok && it.kind == kindGroup:
			msg = fmt.Sprintf("%s is a group; its questions' answers go beside it, not inside it", k)
		case ok && it.level() == nil:
			msg = fmt.Sprintf("%s is a top-level question, not part of this repeat", k)
		case ok:
			msg = fmt.Sprintf("%s belongs in repeat %s", k, it.level().q.Name)
		}
		st.add(inst.prefix()+k, CodeUnknownField, msg)
	}
	return out
}

// normalizeAnswer checks the answer v of it (a member of the level whose
// answers out collects) and stores its normalized value in out.
func (st *vstate) normalizeAnswer(it *item, v any, out map[string]any, inst instPath) {
	k := it.q.Name
	if v == nil {
		return
	}
	switch it.kind {
	case kindNote:
		if s, isStr := v.(string); !isStr || s != "" {
			st.add(inst.prefix()+k, CodeUnknownField, fmt.Sprintf("%s is a note and takes no answer", k))
		}
		return
	case kindRepeat:
		list, isList := v.([]any)
		if !isList {
			path := inst.prefix() + k
			st.add(path, CodeType, fmt.Sprintf("%s is a repeat: expected an array of objects", k))
			st.markBad(path)
			return
		}
		insts := make([]any, 0, len(list))
		for i, x := range list {
			m, isMap := x.(map[string]any)
			if !isMap {
				ipath := inst.prefix() + k + "[" + strconv.Itoa(i) + "]"
				st.add(ipath, CodeType, fmt.Sprintf("%s: expected an object", ipath))
				m = map[string]any{}
			}
			insts = append(insts, st.normalizeLevel(it, m, append(inst, instStep{rep: k, idx: i})))
		}
		out[k] = insts
		return
	}
	nv, code, msg := normalizeValue(it, v, st.c)
	if code != "" {
		path := inst.prefix() + k
		st.add(path, code, fmt.Sprintf("%s: %s", k, msg))
		st.markBad(path)
		return
	}
	if nv != nil {
		out[k] = nv
	}
}

// instPath names a repeat instance being normalized, by the repeats and
// indices leading to it (empty = the top level); its path is spelled out
// only for a problem. Nested instances' paths are appended in the spare
// capacity (of vstate.steps), so an instPath is not kept.
type instPath []instStep

type instStep struct {
	rep string
	idx int
}

// prefix is the path prefix of the instance's answers: "" at the top
// level, "members[2]." in an instance.
func (p instPath) prefix() string {
	var b strings.Builder
	for _, s := range p {
		b.WriteString(s.rep)
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(s.idx))
		b.WriteString("].")
	}
	return b.String()
}

// asNumber reads a JSON number (float64, json.Number, Go integer) or a
// numeric string.
func asNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil && !math.IsInf(f, 0)
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, false
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false
}

// scalarText reads an answer that should be a string; numbers are taken
// as their JSON text (choice names such as "1" sent as numbers).
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), true
	case json.Number:
		return x.String(), true
	case float64, int, int64:
		f, _ := asNumber(x)
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return "", false
}

// normalizeValue checks one answer's type and returns its normalized value
// (nil = empty), or a problem code and message.
func normalizeValue(it *item, v any, c *compiled) (any, string, string) {
	switch it.base {
	case "integer":
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			return nil, "", ""
		}
		if n, ok := v.(json.Number); ok {
			if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
				return i, "", ""
			}
		}
		if i, ok := v.(int64); ok {
			return i, "", ""
		}
		f, ok := asNumber(v)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, CodeType, fmt.Sprintf("expected an integer, got %s", describe(v))
		}
		return int64(f), "", ""
	case "decimal":
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			return nil, "", ""
		}
		f, ok := asNumber(v)
		if !ok {
			return nil, CodeType, fmt.Sprintf("expected a number, got %s", describe(v))
		}
		return f, "", ""
	case "select_one":
		s, ok := scalarText(v)
		if !ok {
			return nil, CodeType, fmt.Sprintf("expected a choice name, got %s", describe(v))
		}
		if s == "" {
			return nil, "", ""
		}
		if !it.hasChoice(s, c) {
			return nil, CodeChoice, fmt.Sprintf("%q is not a choice of list %s", s, it.list)
		}
		return keepString(v, s), "", ""
	case "select_multiple":
		var items []string
		switch x := v.(type) {
		case string:
			items = strings.Fields(x)
		case []any:
			for _, e := range x {
				s, ok := scalarText(e)
				if !ok || s == "" || strings.ContainsAny(s, " \t\n") {
					return nil, CodeType, fmt.Sprintf("expected an array of choice names, got an element %s", describe(e))
				}
				items = append(items, s)
			}
		case []string:
			items = append(items, x...)
		default:
			return nil, CodeType, fmt.Sprintf("expected an array of choice names or a space-separated string, got %s", describe(v))
		}
		if len(items) == 0 {
			return nil, "", ""
		}
		var badOnes []string
		for i, s := range items {
			if slices.Contains(items[:i], s) {
				return nil, CodeType, fmt.Sprintf("choice %q is selected twice", s)
			}
			if !it.hasChoice(s, c) {
				badOnes = append(badOnes, strconv.Quote(s))
			}
		}
		if len(badOnes) > 0 {
			return nil, CodeChoice, fmt.Sprintf("%s not a choice of list %s", strings.Join(badOnes, ", ")+map[bool]string{true: " is", false: " are"}[len(badOnes) == 1], it.list)
		}
		return items, "", ""
	case "date", "today":
		s, ok := v.(string)
		if !ok {
			return nil, CodeType, fmt.Sprintf("expected a date YYYY-MM-DD, got %s", describe(v))
		}
		if s = strings.TrimSpace(s); s == "" {
			return nil, "", ""
		}
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return nil, CodeType, fmt.Sprintf("expected a date YYYY-MM-DD, got %q", s)
		}
		return keepString(v, s), "", ""
	case "datetime", "start", "end":
		s, ok := v.(string)
		if !ok {
			return nil, CodeType, fmt.Sprintf("expected an RFC 3339 date-time, got %s", describe(v))
		}
		if s = strings.TrimSpace(s); s == "" {
			return nil, "", ""
		}
		if _, ok := parseDateValue(s); !ok || len(s) <= 10 {
			return nil, CodeType, fmt.Sprintf("expected an RFC 3339 date-time, got %q", s)
		}
		return keepString(v, s), "", ""
	case "time":
		s, ok := v.(string)
		if !ok {
			return nil, CodeType, fmt.Sprintf("expected a time HH:MM[:SS], got %s", describe(v))
		}
		if s = strings.TrimSpace(s); s == "" {
			return nil, "", ""
		}
		if !validTime(s) {
			return nil, CodeType, fmt.Sprintf("expected a time HH:MM[:SS], got %q", s)
		}
		return keepString(v, s), "", ""
	case "geopoint":
		return normalizeGeopoint(v)
	case "acknowledge":
		switch x := v.(type) {
		case bool:
			if x {
				return "OK", "", ""
			}
			return nil, "", ""
		case string:
			switch strings.ToUpper(strings.TrimSpace(x)) {
			case "OK", "TRUE", "YES":
				return "OK", "", ""
			case "":
				return nil, "", ""
			}
		}
		return nil, CodeType, fmt.Sprintf("expected \"OK\" or true, got %s", describe(v))
	case "calculate":
		switch v.(type) {
		case string, float64, int64, int, bool, json.Number:
			return v, "", "" // replaced by the server's value
		}
		return nil, CodeType, fmt.Sprintf("expected a single value, got %s", describe(v))
	case "audit":
		return v, "", ""
	}
	// text and the other text-like types (barcode, media file names,
	// metadata, geotrace, external selects)
	s, ok := v.(string)
	if !ok {
		return nil, CodeType, fmt.Sprintf("expected a string, got %s", describe(v))
	}
	if s == "" {
		return nil, "", ""
	}
	return keepString(v, s), "", ""
}

// keepString returns v itself when it is the string s (saving a copy
// into a new interface), else s.
func keepString(v any, s string) any {
	if x, ok := v.(string); ok && x == s {
		return v
	}
	return s
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	if f, ok := asNumber(v); ok {
		return "the number " + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprintf("a %T", v)
}

func validTime(s string) bool {
	for _, layout := range []string{"15:04", "15:04:05", "15:04:05.000", "15:04:05Z07:00", "15:04:05.000Z07:00", "15:04Z07:00"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

func normalizeGeopoint(v any) (any, string, string) {
	var vals [4]float64
	var have [4]bool
	switch x := v.(type) {
	case string:
		parts := strings.Fields(x)
		if len(parts) == 0 {
			return nil, "", ""
		}
		if len(parts) < 2 || len(parts) > 4 {
			return nil, CodeType, fmt.Sprintf("expected \"lat lon [alt [accuracy]]\", got %q", x)
		}
		for i, p := range parts {
			f, ok := asNumber(p)
			if !ok {
				return nil, CodeType, fmt.Sprintf("expected \"lat lon [alt [accuracy]]\", got %q", x)
			}
			vals[i], have[i] = f, true
		}
	case map[string]any:
		keys := []string{"lat", "lon", "alt", "accuracy"}
		for k := range x {
			known := false
			for _, want := range keys {
				known = known || k == want
			}
			if !known {
				return nil, CodeType, fmt.Sprintf("unknown geopoint member %q (want lat, lon, alt, accuracy)", k)
			}
		}
		for i, k := range keys {
			e, ok := x[k]
			if !ok || e == nil {
				continue
			}
			f, ok := asNumber(e)
			if !ok {
				return nil, CodeType, fmt.Sprintf("geopoint %s: expected a number, got %s", k, describe(e))
			}
			vals[i], have[i] = f, true
		}
	default:
		return nil, CodeType, fmt.Sprintf("expected a geopoint object or \"lat lon alt accuracy\", got %s", describe(v))
	}
	if !have[0] || !have[1] {
		return nil, CodeType, "a geopoint needs lat and lon"
	}
	if vals[0] < -90 || vals[0] > 90 || vals[1] < -180 || vals[1] > 180 {
		return nil, CodeType, fmt.Sprintf("geopoint lat %g, lon %g is out of range", vals[0], vals[1])
	}
	if vals[3] < 0 {
		return nil, CodeType, "geopoint accuracy is negative"
	}
	return map[string]any{"lat": vals[0], "lon": vals[1], "alt": vals[2], "accuracy": vals[3]}, "", ""
}

// hasChoice reports whether name is a choice of the item's list (or
// "other" for or_other selects; anything for external lists).
func (it *item) hasChoice(name string, c *compiled) bool {
	if it.external || it.orOther && name == "other" {
		return true
	}
	for _, ch := range it.choices {
		if ch.Name == name {
			return true
		}
	}
	return false
}

// ---- evaluation passes ----

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
			list, _ := m[it.q.Name].([]any)
			if !relevant {
				if pass == passRelevance && len(list) > 0 {
					st.add(pathOf(frames, it.q.Name), CodeNotRelevant, st.text(msgRepeatNotRelevant, it.q.Name, st.entries(len(list))))
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
			if pass == passCheck && it.count != nil && !st.isBad(frames, it.q.Name) {
				want := it.count.evalValue(st.envFor(frames, m, nil)).number()
				if math.IsNaN(want) {
					want = 0
				}
				if float64(len(list)) != want {
					st.add(pathOf(frames, it.q.Name), CodeRepeatCount, st.text(msgRepeatCount, it.q.Name, st.entries(len(list)), formatNumber(want), it.q.RepeatCount))
				}
			}
			continue
		}
		if !relevant {
			if pass == passRelevance && !isEmpty(m[it.q.Name]) && it.base != "calculate" {
				st.add(pathOf(frames, it.q.Name), CodeNotRelevant, st.text(msgNotRelevant, it.q.Name))
			}
			st.remove(it, m)
			continue
		}
		if it.calc != nil && !st.unchanged() && !st.calcHolds(it, pass) {
			old, had := m[it.q.Name]
			at := st.ver
			setCalcValue(m, it.q.Name, it.calc.evalValue(st.envFor(frames, m, it)))
			if v, has := m[it.q.Name]; has != had || has && !sameScalar(old, v) {
				st.changed(it)
			}
			if it.calcSlot >= 0 && st.reuse {
				st.calcAt[it.calcSlot] = at
			}
		}
		if pass != passCheck || st.isBad(frames, it.q.Name) {
			continue
		}
		v := m[it.q.Name]
		if isEmpty(v) {
			required := it.requiredStatic || it.required != nil && it.required.evalValue(st.envFor(frames, m, it)).boolean()
			if required && it.base != "calculate" {
				st.add(pathOf(frames, it.q.Name), CodeRequired, st.message(it.q.RequiredMessage, defaultRequired, it.q.Name))
			}
			continue
		}
		if it.constraint != nil && !it.constraint.evalValue(st.envFor(frames, m, it)).boolean() {
			st.add(pathOf(frames, it.q.Name), CodeConstraint, st.message(it.q.ConstraintMessage, defaultConstraint, it.q.Constraint))
		}
		if it.filter != nil {
			var one [1]string
			var chosen []string
			switch x := v.(type) {
			case string:
				one[0] = x
				chosen = one[:]
			case []string:
				chosen = x
			}
			for _, name := range chosen {
				if !st.choiceAllowed(it, st.envFor(frames, m, it), name) {
					st.add(pathOf(frames, it.q.Name), CodeChoice, st.text(msgChoiceFilter, it.q.Name, name, it.q.ChoiceFilter))
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
	return it.external
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
	if _, ok := m[it.q.Name]; ok {
		delete(m, it.q.Name)
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

var defaultRequired = Text{"en": "This question is required.", "es": "Esta pregunta es obligatoria.", "fr": "Cette question est obligatoire."}
var defaultConstraint = Text{"en": "The answer is not accepted (constraint %s).", "es": "La respuesta no es aceptada (condición %s).", "fr": "La réponse n'est pas acceptée (contrainte %s)."}

// The validator's own messages about a whole question, in the languages
// of the default required and constraint messages (English otherwise):
// the web client shows them to the enumerator next to the question. The
// verbs are those of the English text; %q quotes an answer value, which
// the collector redacts before it sends a message back.
const (
	msgRepeatNotRelevant = iota
	msgRepeatCount
	msgNotRelevant
	msgChoiceFilter
)

var validatorText = [...]Text{
	msgRepeatNotRelevant: {
		"en": "%s is not relevant for this household, but has %s",
		"es": "%s no corresponde a este hogar, pero tiene %s",
		"fr": "%s ne concerne pas ce ménage, mais a %s",
	},
	msgRepeatCount: {
		"en": "%s has %s; the form expects %s (%s)",
		"es": "%s tiene %s; el formulario espera %s (%s)",
		"fr": "%s a %s ; le formulaire en attend %s (%s)",
	},
	msgNotRelevant: {
		"en": "%s is not relevant here and must be left empty",
		"es": "%s no corresponde aquí y debe quedar vacía",
		"fr": "%s ne s'applique pas ici et doit rester vide",
	},
	msgChoiceFilter: {
		"en": "%s: %q is not offered here (choice_filter %s)",
		"es": "%s: %q no se ofrece aquí (choice_filter %s)",
		"fr": "%s : %q n'est pas proposé ici (choice_filter %s)",
	},
}

// entryWords are the singular and plural of a repeat's entries.
var entryWords = map[string][2]string{"en": {"entry", "entries"}, "es": {"entrada", "entradas"}, "fr": {"entrée", "entrées"}}

// entries counts a repeat's entries in words of the language asked for
// ("1 entry", "2 entries").
func (st *vstate) entries(n int) string {
	w, ok := entryWords[st.lang]
	if !ok {
		w = entryWords["en"]
	}
	if n == 1 {
		return "1 " + w[0]
	}
	return strconv.Itoa(n) + " " + w[1]
}

// text is one of the validator's messages in the language asked for.
func (st *vstate) text(msg int, args ...any) string {
	return fmt.Sprintf(validatorText[msg].In(st.lang, "en"), args...)
}

// message picks the form's message in the requested language, else a
// default one.
func (st *vstate) message(t Text, def Text, arg string) string {
	if s := t.In(st.lang, st.f.DefaultLanguage); s != "" {
		return s
	}
	s := def.In(st.lang, "en")
	if strings.Contains(s, "%s") {
		return fmt.Sprintf(s, arg)
	}
	return s
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

// ---- expression environment over answers ----

type evalEnv struct {
	st     *vstate
	frames []frame
	m      map[string]any // answers of the current level
	cur    *item
	choice *ChoiceRow
	buf    nodeset // node sets of the current evaluation are cut from buf
}

func valueNode(v any) xnode {
	switch x := v.(type) {
	case nil:
		return xnode{}
	case string:
		return xnode{s: x}
	case int64:
		return intNode(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return xnode{s: formatNumber(x), num: true}
		}
		return floatNode(x)
	case int:
		return intNode(int64(x))
	case json.Number:
		return xnode{s: x.String(), num: true}
	case bool:
		if x {
			return xnode{s: "true"}
		}
		return xnode{s: "false"}
	case []string:
		return xnode{s: strings.Join(x, " ")}
	case map[string]any:
		if _, ok := x["lat"]; ok {
			var b []byte
			for i, k := range [4]string{"lat", "lon", "alt", "accuracy"} {
				if i > 0 {
					b = append(b, ' ')
				}
				b = strconv.AppendFloat(b, geoFloat(x[k]), 'f', -1, 64)
			}
			return xnode{s: string(b)}
		}
	}
	return xnode{}
}

func geoFloat(v any) float64 {
	f, _ := asNumber(v)
	return f
}

func (e *evalEnv) ref(name string) nodeset { return e.resolve(name, e.frames) }

// resolve finds every answer of question name reachable from frames: in
// the current instance of each repeat the context is in, in all instances
// of the others. The nodes are appended to e.buf (see one).
func (e *evalEnv) resolve(name string, frames []frame) nodeset {
	it, ok := e.st.c.byName[name]
	if !ok {
		return nodeset{}
	}
	return e.resolveItem(it, frames)
}

// resolveItem is resolve for the question it.
func (e *evalEnv) resolveItem(it *item, frames []frame) nodeset {
	start := len(e.buf)
	chain := it.repeats
	if len(chain) <= len(frames) {
		// fast path: the context is in an instance of every repeat of
		// the question (or it is at the top level): one instance
		m, inContext := e.st.root, true
		for i, rep := range chain {
			if frames[i].rep != rep {
				inContext = false
				break
			}
			m = frames[i].m
		}
		if inContext {
			e.leaf(it, m)
			return e.buf[start:len(e.buf):len(e.buf)]
		}
	}
	e.walk(it, frames, e.st.root, 0)
	return e.buf[start:len(e.buf):len(e.buf)]
}

// walk appends the nodes of it in the instance m of repeat level
// it.repeats[level-1] (the root for level 0) and the instances below it.
func (e *evalEnv) walk(it *item, frames []frame, m map[string]any, level int) {
	chain := it.repeats
	if level == len(chain) {
		e.leaf(it, m)
		return
	}
	rep := chain[level]
	if level < len(frames) && frames[level].rep == rep {
		e.walk(it, frames, frames[level].m, level+1)
		return
	}
	list, _ := m[rep.q.Name].([]any)
	for _, x := range list {
		if inst, ok := x.(map[string]any); ok {
			e.walk(it, frames, inst, level+1)
		}
	}
}

// leaf appends the nodes of it in the instance m it is answered in: one
// empty node per entry of a repeat, one empty node for a group, the
// answer for a field.
func (e *evalEnv) leaf(it *item, m map[string]any) {
	switch it.kind {
	case kindRepeat:
		list, _ := m[it.q.Name].([]any)
		for range list {
			e.buf = append(e.buf, xnode{})
		}
	case kindGroup:
		e.buf = append(e.buf, xnode{})
	default:
		e.buf = append(e.buf, valueNode(m[it.q.Name]))
	}
}

// one returns a node set of the one node x, cut from e.buf. Node sets of
// one evaluation are cut from e.buf (capacity-limited, so appending to
// one does not overwrite another); envFor empties it before the next
// evaluation, which makes node sets valid until then only.
func (e *evalEnv) one(x xnode) nodeset {
	start := len(e.buf)
	e.buf = append(e.buf, x)
	return e.buf[start : start+1 : start+1]
}

func (e *evalEnv) indexed(name string, repeats []string, idx []int) nodeset {
	frames := append([]frame(nil), e.frames...)
	for i, rname := range repeats {
		rep, ok := e.st.c.byName[rname]
		if !ok || rep.kind != kindRepeat {
			return nodeset{}
		}
		d := len(rep.repeats)
		if len(frames) < d {
			return nodeset{}
		}
		frames = frames[:d]
		parent := e.st.root
		if d > 0 {
			if frames[d-1].rep != rep.repeats[d-1] {
				return nodeset{}
			}
			parent = frames[d-1].m
		}
		list, _ := parent[rname].([]any)
		k := idx[i] - 1
		if k < 0 || k >= len(list) {
			return nodeset{}
		}
		inst, _ := list[k].(map[string]any)
		frames = append(frames, frame{rep: rep, idx: k, m: inst})
	}
	return e.resolve(name, frames)
}

func (e *evalEnv) self() nodeset {
	if e.cur == nil {
		return nodeset{}
	}
	return e.one(valueNode(e.m[e.cur.q.Name]))
}

func (e *evalEnv) column(name string) nodeset {
	ch := e.choice
	if ch == nil {
		return nodeset{}
	}
	low := strings.ToLower(name)
	switch {
	case low == "name":
		return e.one(xnode{s: ch.Name})
	case low == "list_name":
		return e.one(xnode{s: ch.ListName})
	case low == "label":
		return e.one(xnode{s: ch.Label.In(e.st.lang, e.st.f.DefaultLanguage)})
	}
	if base, code, _ := splitHeader(name); base == "label" {
		return e.one(xnode{s: ch.Label[code]})
	}
	if v, ok := ch.Extra[low]; ok {
		return e.one(xnode{s: v})
	}
	return nodeset{}
}

func (e *evalEnv) position(repeat string) int {
	for i := len(e.frames) - 1; i >= 0; i-- {
		if repeat == "" || e.frames[i].rep.q.Name == repeat {
			return e.frames[i].idx + 1
		}
	}
	return 0
}

func (e *evalEnv) now() time.Time { return e.st.now }
