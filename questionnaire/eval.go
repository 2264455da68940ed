package questionnaire

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Values an expression evaluates to: a number, a string, a boolean, a
// node set or a date (see value). Expr.eval hands them out as float64,
// string, bool, nodeset or dateVal.

// xnode is one node of a node set: an answer's string value, and whether
// the answer is numeric (a numeric answer is a number in a boolean
// context, as JavaRosa unpacks it). A node made from an int64 or a finite
// float64 answer (valueNode) keeps the number itself (nk, n) and spells
// its string value only when asked (str), so that numbers are not written
// out and read back; number gives exactly what stringToNumber gives for
// the string value (float64 rounds an int64 to nearest as ParseFloat does
// its decimal string).
type xnode struct {
	s   string
	num bool
	nk  uint8  // 0: s is the value; nodeInt: n is an int64; nodeFloat: n holds a finite float64's bits
	n   uint64 // the number, for nodeInt and nodeFloat
}

func intNode(i int64) xnode { return xnode{num: true, nk: nodeInt, n: uint64(i)} }

func floatNode(f float64) xnode { return xnode{num: true, nk: nodeFloat, n: math.Float64bits(f)} }

const (
	nodeInt   = 1
	nodeFloat = 2
)

// str is the node's string value.
func (x xnode) str() string {
	switch x.nk {
	case nodeInt:
		return strconv.FormatInt(int64(x.n), 10)
	case nodeFloat:
		return formatNumber(math.Float64frombits(x.n))
	}
	return x.s
}

// number is the node's string value as a number (stringToNumber).
func (x xnode) number() float64 {
	switch x.nk {
	case nodeInt:
		return float64(int64(x.n))
	case nodeFloat:
		return math.Float64frombits(x.n)
	}
	return stringToNumber(x.s)
}

// strEq reports whether the node's string value is s, without spelling
// out a number.
func (x xnode) strEq(s string) bool {
	var buf [32]byte
	switch x.nk {
	case nodeInt:
		return string(strconv.AppendInt(buf[:0], int64(x.n), 10)) == s
	case nodeFloat:
		return string(strconv.AppendFloat(buf[:0], math.Float64frombits(x.n), 'f', -1, 64)) == s
	}
	return x.s == s
}

// nodeStrEq reports whether two nodes' string values are equal.
func nodeStrEq(a, b xnode) bool {
	switch {
	case a.nk == 0:
		return b.strEq(a.s)
	case b.nk == 0:
		return a.strEq(b.s)
	case a.nk == nodeInt && b.nk == nodeInt:
		return a.n == b.n
	}
	return a.str() == b.str()
}

type nodeset []xnode

// dateVal is a date (today(), date()) or a date-time (now()).
type dateVal struct {
	t        time.Time
	withTime bool
}

// env is what an expression is evaluated against.
type env interface {
	// ref resolves ${name} in the current context.
	ref(name string) nodeset
	// indexed resolves ${name} in the instances given by repeats/indices
	// (1-based), for indexed-repeat().
	indexed(name string, repeats []string, idx []int) nodeset
	// self is the current answer (".").
	self() nodeset
	// column is a bare name: a column of the choice being filtered.
	column(name string) nodeset
	// lookup is instance('list')/root/item[pred]/field.
	lookup(n *lookupNode) nodeset
	// position is the 1-based index of the current instance of repeat
	// ("" = innermost), 0 outside it.
	position(repeat string) int
	now() time.Time
	// pulldata is pulldata(file, column, keycolumn, value) on the form's
	// media ('' when the form has no such file).
	pulldata(file, col, keyCol, value string) string
}

type vkind uint8

const (
	vStr vkind = iota
	vNum
	vBool
	vNodes
	vDate
	vAtom // one node of a node set taken as a string (in comparisons)
)

// value is what evalNode returns: one of a string, a number, a boolean, a
// node set or a date, without boxing it in an interface.
type value struct {
	k  vkind
	b  bool
	f  float64
	s  string
	ns nodeset // vNodes; for vAtom the one node
	d  *dateVal
}

func numV(f float64) value    { return value{k: vNum, f: f} }
func strV(s string) value     { return value{k: vStr, s: s} }
func boolV(b bool) value      { return value{k: vBool, b: b} }
func nodesV(ns nodeset) value { return value{k: vNodes, ns: ns} }
func dateV(d dateVal) value   { return value{k: vDate, d: &d} }

// toAny is the value as Expr.eval hands it out.
func (v value) toAny() any {
	switch v.k {
	case vNum:
		return v.f
	case vBool:
		return v.b
	case vNodes:
		if v.ns == nil {
			return nodeset{}
		}
		return v.ns
	case vDate:
		return *v.d
	case vAtom:
		return v.ns[0].str()
	}
	return v.s
}

// anyValue is the inverse of toAny (other types are the empty string).
func anyValue(x any) value {
	switch x := x.(type) {
	case float64:
		return numV(x)
	case bool:
		return boolV(x)
	case string:
		return strV(x)
	case nodeset:
		return nodesV(x)
	case dateVal:
		return dateV(x)
	}
	return value{}
}

// Eval evaluates the expression against e. It never panics: type mismatches
// give NaN, "" or false as XPath does.
func (x *Expr) eval(e env) any { return evalNode(x.root, e).toAny() }

// evalValue is eval without boxing the result.
func (x *Expr) evalValue(e env) value { return evalNode(x.root, e) }

func evalNode(n node, e env) value {
	switch n := n.(type) {
	case *numNode:
		return numV(n.v)
	case *strNode:
		return strV(n.v)
	case *refNode:
		if ee, ok := e.(*evalEnv); ok && n.it != nil && n.c == ee.st.c {
			return nodesV(ee.resolveItem(n.it, ee.frames))
		}
		return nodesV(e.ref(n.name))
	case *selfNode:
		return nodesV(e.self())
	case *parentNode:
		return nodesV(nodeset{{s: ""}})
	case *nameNode:
		return nodesV(e.column(n.name))
	case *lookupNode:
		return nodesV(e.lookup(n))
	case *negNode:
		return numV(-evalNode(n.x, e).number())
	case *binNode:
		return evalBin(n, e)
	case *callNode:
		return n.eval(n, e)
	}
	return strV("")
}

// binOp is a binary operator.
type binOp uint8

const (
	opUnknown binOp = iota
	opAnd
	opOr
	opUnion
	opAdd
	opSub
	opMul
	opDiv
	opMod
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
)

func binOpOf(op string) binOp {
	switch op {
	case "and":
		return opAnd
	case "or":
		return opOr
	case "|":
		return opUnion
	case "+":
		return opAdd
	case "-":
		return opSub
	case "*":
		return opMul
	case "div":
		return opDiv
	case "mod":
		return opMod
	case "=":
		return opEq
	case "!=":
		return opNe
	case "<":
		return opLt
	case "<=":
		return opLe
	case ">":
		return opGt
	case ">=":
		return opGe
	}
	return opUnknown
}

func evalBin(n *binNode, e env) value {
	op := n.code
	if op == opUnknown {
		op = binOpOf(n.op)
	}
	switch op {
	case opAnd:
		return boolV(evalNode(n.l, e).boolean() && evalNode(n.r, e).boolean())
	case opOr:
		return boolV(evalNode(n.l, e).boolean() || evalNode(n.r, e).boolean())
	case opUnion:
		l, r := evalNode(n.l, e), evalNode(n.r, e)
		var ln, rn nodeset
		if l.k == vNodes {
			ln = l.ns
		}
		if r.k == vNodes {
			rn = r.ns
		}
		out := make(nodeset, 0, len(ln)+len(rn))
		return nodesV(append(append(out, ln...), rn...))
	}
	l, r := evalNode(n.l, e), evalNode(n.r, e)
	switch op {
	case opAdd:
		return numV(l.number() + r.number())
	case opSub:
		return numV(l.number() - r.number())
	case opMul:
		return numV(l.number() * r.number())
	case opDiv:
		return numV(l.number() / r.number())
	case opMod:
		return numV(math.Mod(l.number(), r.number()))
	}
	return boolV(compare(op, l, r))
}

// compare implements XPath 1.0 comparison: existential over node sets;
// = and != compare booleans if either side is boolean, numbers if either
// is a number or a date, strings otherwise; < <= > >= compare numbers.
func compare(op binOp, l, r value) bool {
	// the usual shapes, a node set against a number or a string, without
	// going through compareAtoms node by node (same results)
	switch {
	case l.k == vNodes && r.k == vNum:
		for _, x := range l.ns {
			if numCmp(op, x.number(), r.f) {
				return true
			}
		}
		return false
	case l.k == vNum && r.k == vNodes:
		for _, x := range r.ns {
			if numCmp(op, l.f, x.number()) {
				return true
			}
		}
		return false
	case l.k == vNodes && r.k == vStr && (op == opEq || op == opNe):
		for _, x := range l.ns {
			if x.strEq(r.s) == (op == opEq) {
				return true
			}
		}
		return false
	case l.k == vStr && r.k == vNodes && (op == opEq || op == opNe):
		for _, x := range r.ns {
			if x.strEq(l.s) == (op == opEq) {
				return true
			}
		}
		return false
	}
	if l.k == vNodes {
		ln := l.ns
		if r.k == vNodes {
			rn := r.ns
			for i := range ln {
				for j := range rn {
					if compareAtoms(op, atomV(ln, i), atomV(rn, j)) {
						return true
					}
				}
			}
			return false
		}
		if r.k == vBool {
			return compareAtoms(op, boolV(l.boolean()), r)
		}
		for i := range ln {
			if compareAtoms(op, atomV(ln, i), r) {
				return true
			}
		}
		return false
	}
	if r.k == vNodes {
		rn := r.ns
		if l.k == vBool {
			return compareAtoms(op, l, boolV(r.boolean()))
		}
		for j := range rn {
			if compareAtoms(op, l, atomV(rn, j)) {
				return true
			}
		}
		return false
	}
	return compareAtoms(op, l, r)
}

// numCmp compares two numbers as compareAtoms does when either side is a
// number.
func numCmp(op binOp, a, b float64) bool {
	switch op {
	case opEq:
		return a == b
	case opNe:
		return a != b
	case opLt:
		return a < b
	case opLe:
		return a <= b
	case opGt:
		return a > b
	case opGe:
		return a >= b
	}
	return false
}

// atomV is node i of ns as a string atom.
func atomV(ns nodeset, i int) value { return value{k: vAtom, ns: ns[i : i+1 : i+1]} }

func compareAtoms(op binOp, l, r value) bool {
	if op == opEq || op == opNe {
		var eq bool
		switch {
		case l.k == vBool || r.k == vBool:
			eq = l.boolean() == r.boolean()
		case l.k == vNum || r.k == vNum || l.k == vDate || r.k == vDate:
			eq = l.number() == r.number()
		default:
			eq = stringsEqual(l, r)
		}
		if op == opEq {
			return eq
		}
		return !eq
	}
	return numCmp(op, l.number(), r.number())
}

// stringsEqual compares the string values of two atoms (strings or
// nodes).
func stringsEqual(l, r value) bool {
	switch {
	case l.k == vAtom && r.k == vAtom:
		return nodeStrEq(l.ns[0], r.ns[0])
	case l.k == vAtom && r.k == vStr:
		return l.ns[0].strEq(r.s)
	case l.k == vStr && r.k == vAtom:
		return r.ns[0].strEq(l.s)
	}
	return l.str() == r.str()
}

// ---- conversions (XPath 1.0 string(), number(), boolean()) ----

func toString(v any) string { return anyValue(v).str() }

func (v value) str() string {
	switch v.k {
	case vStr:
		return v.s
	case vNum:
		return formatNumber(v.f)
	case vBool:
		if v.b {
			return "true"
		}
		return "false"
	case vNodes, vAtom:
		if len(v.ns) == 0 {
			return ""
		}
		return v.ns[0].str()
	case vDate:
		if v.d.withTime {
			return v.d.t.Format("2006-01-02T15:04:05.000Z07:00")
		}
		return v.d.t.Format("2006-01-02")
	}
	return ""
}

// formatNumber writes a number as XPath's string() does: integers without
// a decimal point, NaN and Infinity spelled out.
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

const dayMillis = 24 * 60 * 60 * 1000

// daysSinceEpoch is ODK's numeric value of a date or date-time: days since
// 1970-01-01 (fractional for date-times; decimal-date-time()).
func daysSinceEpoch(t time.Time, withTime bool) float64 {
	if !withTime {
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return math.Floor(float64(d.Unix()) / 86400)
	}
	return float64(t.UnixMilli()) / dayMillis
}

func (v value) number() float64 {
	switch v.k {
	case vNum:
		return v.f
	case vBool:
		if v.b {
			return 1
		}
		return 0
	case vStr:
		return stringToNumber(v.s)
	case vNodes, vAtom:
		if len(v.ns) == 0 {
			return math.NaN()
		}
		return v.ns[0].number()
	case vDate:
		return daysSinceEpoch(v.d.t, v.d.withTime)
	}
	return math.NaN()
}

func stringToNumber(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return math.NaN()
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXpPnN_") {
		return f
	}
	if d, ok := parseDateValue(s); ok {
		return daysSinceEpoch(d.t, d.withTime)
	}
	return math.NaN()
}

// parseDateValue reads YYYY-MM-DD or an RFC 3339 date-time.
func parseDateValue(s string) (dateVal, bool) {
	if len(s) == 10 {
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return dateVal{t: t}, true
		}
		return dateVal{}, false
	}
	if len(s) > 10 && len(s) < 40 {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05", "2006-01-02T15:04:05.000"} {
			if t, err := time.Parse(layout, s); err == nil {
				return dateVal{t: t, withTime: true}, true
			}
		}
	}
	return dateVal{}, false
}

func toBool(v any) bool { return anyValue(v).boolean() }

func (v value) boolean() bool {
	switch v.k {
	case vBool:
		return v.b
	case vNum:
		return v.f != 0 && !math.IsNaN(v.f)
	case vStr:
		return v.s != ""
	case vAtom:
		return v.ns[0].nk != 0 || v.ns[0].s != ""
	case vNodes:
		if len(v.ns) == 1 { // JavaRosa unpacks a single node to its value
			x := v.ns[0]
			if x.num {
				f := x.number()
				return f != 0 && !math.IsNaN(f)
			}
			return x.nk != 0 || x.s != ""
		}
		return len(v.ns) > 0
	case vDate:
		return true
	}
	return false
}

func (v value) date() (dateVal, bool) {
	switch v.k {
	case vDate:
		return *v.d, true
	case vNum:
		f := v.f
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e7 {
			return dateVal{}, false
		}
		days := math.Floor(f)
		t := time.Unix(0, 0).UTC().AddDate(0, 0, int(days))
		frac := f - days
		if frac != 0 {
			return dateVal{t: t.Add(time.Duration(frac * float64(24*time.Hour))), withTime: true}, true
		}
		return dateVal{t: t}, true
	case vStr:
		return parseDateValue(strings.TrimSpace(v.s))
	case vNodes, vAtom:
		if len(v.ns) == 0 {
			return dateVal{}, false
		}
		return parseDateValue(strings.TrimSpace(v.ns[0].str()))
	}
	return dateVal{}, false
}
