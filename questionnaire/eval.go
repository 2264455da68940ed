package questionnaire

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Values an expression evaluates to: float64, string, bool, nodeset or
// dateVal.

// xnode is one node of a node set: an answer's string value, and whether
// the answer is numeric (a numeric answer is a number in a boolean
// context, as JavaRosa unpacks it).
type xnode struct {
	s   string
	num bool
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
	// position is the 1-based index of the current instance of repeat
	// ("" = innermost), 0 outside it.
	position(repeat string) int
	now() time.Time
}

// Eval evaluates the expression against e. It never panics: type mismatches
// give NaN, "" or false as XPath does.
func (x *Expr) eval(e env) any { return evalNode(x.root, e) }

func evalNode(n node, e env) any {
	switch n := n.(type) {
	case *numNode:
		return n.v
	case *strNode:
		return n.v
	case *refNode:
		return e.ref(n.name)
	case *selfNode:
		return e.self()
	case *parentNode:
		return nodeset{{s: ""}}
	case *nameNode:
		return e.column(n.name)
	case *negNode:
		return -toNumber(evalNode(n.x, e))
	case *binNode:
		return evalBin(n, e)
	case *callNode:
		return evalCall(n, e)
	}
	return ""
}

func evalBin(n *binNode, e env) any {
	switch n.op {
	case "and":
		return toBool(evalNode(n.l, e)) && toBool(evalNode(n.r, e))
	case "or":
		return toBool(evalNode(n.l, e)) || toBool(evalNode(n.r, e))
	case "|":
		l, r := evalNode(n.l, e), evalNode(n.r, e)
		ln, _ := l.(nodeset)
		rn, _ := r.(nodeset)
		out := make(nodeset, 0, len(ln)+len(rn))
		return append(append(out, ln...), rn...)
	}
	l, r := evalNode(n.l, e), evalNode(n.r, e)
	switch n.op {
	case "+":
		return toNumber(l) + toNumber(r)
	case "-":
		return toNumber(l) - toNumber(r)
	case "*":
		return toNumber(l) * toNumber(r)
	case "div":
		return toNumber(l) / toNumber(r)
	case "mod":
		return math.Mod(toNumber(l), toNumber(r))
	}
	return compare(n.op, l, r)
}

// compare implements XPath 1.0 comparison: existential over node sets;
// = and != compare booleans if either side is boolean, numbers if either
// is a number or a date, strings otherwise; < <= > >= compare numbers.
func compare(op string, l, r any) bool {
	if ln, ok := l.(nodeset); ok {
		if rn, ok := r.(nodeset); ok {
			for _, a := range ln {
				for _, b := range rn {
					if compareAtoms(op, a.atom(), b.atom()) {
						return true
					}
				}
			}
			return false
		}
		if _, ok := r.(bool); ok {
			return compareAtoms(op, toBool(l), r)
		}
		for _, a := range ln {
			if compareAtoms(op, a.atom(), r) {
				return true
			}
		}
		return false
	}
	if rn, ok := r.(nodeset); ok {
		if _, ok := l.(bool); ok {
			return compareAtoms(op, l, toBool(r))
		}
		for _, b := range rn {
			if compareAtoms(op, l, b.atom()) {
				return true
			}
		}
		return false
	}
	return compareAtoms(op, l, r)
}

func (x xnode) atom() any { return x.s }

func compareAtoms(op string, l, r any) bool {
	if op == "=" || op == "!=" {
		var eq bool
		_, lb := l.(bool)
		_, rb := r.(bool)
		_, lf := l.(float64)
		_, rf := r.(float64)
		_, ld := l.(dateVal)
		_, rd := r.(dateVal)
		switch {
		case lb || rb:
			eq = toBool(l) == toBool(r)
		case lf || rf || ld || rd:
			eq = toNumber(l) == toNumber(r)
		default:
			eq = toString(l) == toString(r)
		}
		if op == "=" {
			return eq
		}
		return !eq
	}
	a, b := toNumber(l), toNumber(r)
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

// ---- conversions (XPath 1.0 string(), number(), boolean()) ----

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return formatNumber(v)
	case bool:
		if v {
			return "true"
		}
		return "false"
	case nodeset:
		if len(v) == 0 {
			return ""
		}
		return v[0].s
	case dateVal:
		if v.withTime {
			return v.t.Format("2006-01-02T15:04:05.000Z07:00")
		}
		return v.t.Format("2006-01-02")
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

func toNumber(v any) float64 {
	switch v := v.(type) {
	case float64:
		return v
	case bool:
		if v {
			return 1
		}
		return 0
	case string:
		return stringToNumber(v)
	case nodeset:
		if len(v) == 0 {
			return math.NaN()
		}
		return stringToNumber(v[0].s)
	case dateVal:
		return daysSinceEpoch(v.t, v.withTime)
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

func toBool(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case float64:
		return v != 0 && !math.IsNaN(v)
	case string:
		return v != ""
	case nodeset:
		if len(v) == 1 { // JavaRosa unpacks a single node to its value
			if v[0].num {
				f := stringToNumber(v[0].s)
				return f != 0 && !math.IsNaN(f)
			}
			return v[0].s != ""
		}
		return len(v) > 0
	case dateVal:
		return true
	}
	return false
}

func toDate(v any) (dateVal, bool) {
	switch v := v.(type) {
	case dateVal:
		return v, true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e7 {
			return dateVal{}, false
		}
		days := math.Floor(v)
		t := time.Unix(0, 0).UTC().AddDate(0, 0, int(days))
		frac := v - days
		if frac != 0 {
			return dateVal{t: t.Add(time.Duration(frac * float64(24*time.Hour))), withTime: true}, true
		}
		return dateVal{t: t}, true
	case string:
		return parseDateValue(strings.TrimSpace(v))
	case nodeset:
		if len(v) == 0 {
			return dateVal{}, false
		}
		return parseDateValue(strings.TrimSpace(v[0].s))
	}
	return dateVal{}, false
}

// ---- functions ----

func evalCall(c *callNode, e env) any {
	arg := func(i int) any { return evalNode(c.args[i], e) }
	switch c.fn {
	case "true":
		return true
	case "false":
		return false
	case "not":
		return !toBool(arg(0))
	case "boolean":
		return toBool(arg(0))
	case "if":
		if toBool(arg(0)) {
			return arg(1)
		}
		return arg(2)
	case "coalesce":
		for i := range c.args {
			if v := arg(i); toString(v) != "" {
				return v
			}
		}
		return ""
	case "once":
		return arg(0)
	case "selected":
		want := strings.TrimSpace(toString(arg(1)))
		for _, s := range strings.Fields(toString(arg(0))) {
			if s == want {
				return true
			}
		}
		return false
	case "count-selected":
		return float64(len(strings.Fields(toString(arg(0)))))
	case "selected-at":
		items := strings.Fields(toString(arg(0)))
		i := toNumber(arg(1))
		if math.IsNaN(i) || i < 0 || i >= float64(len(items)) {
			return ""
		}
		return items[int(i)]
	case "choice-name":
		return toString(arg(0))
	case "concat":
		var b strings.Builder
		for i := range c.args {
			if ns, ok := arg(i).(nodeset); ok {
				for _, n := range ns {
					b.WriteString(n.s)
				}
				continue
			}
			b.WriteString(toString(arg(i)))
		}
		return b.String()
	case "join":
		sep := toString(arg(0))
		var parts []string
		for i := 1; i < len(c.args); i++ {
			if ns, ok := arg(i).(nodeset); ok {
				for _, n := range ns {
					parts = append(parts, n.s)
				}
				continue
			}
			parts = append(parts, toString(arg(i)))
		}
		return strings.Join(parts, sep)
	case "string-length":
		if len(c.args) == 0 {
			return float64(len([]rune(toString(e.self()))))
		}
		return float64(len([]rune(toString(arg(0)))))
	case "normalize-space":
		s := toString(e.self())
		if len(c.args) == 1 {
			s = toString(arg(0))
		}
		return strings.Join(strings.Fields(s), " ")
	case "substr", "substring":
		r := []rune(toString(arg(0)))
		start := toNumber(arg(1))
		end := float64(len(r))
		if len(c.args) == 3 {
			end = toNumber(arg(2))
		}
		if c.fn == "substring" { // XPath substring(s, start1, length)
			start--
			if len(c.args) == 3 {
				end = start + toNumber(arg(2))
			}
			start, end = math.Round(start), math.Round(end)
		}
		if math.IsNaN(start) || math.IsNaN(end) {
			return ""
		}
		s := int(math.Max(0, math.Min(start, float64(len(r)))))
		en := int(math.Max(0, math.Min(end, float64(len(r)))))
		if en <= s {
			return ""
		}
		return string(r[s:en])
	case "contains":
		return strings.Contains(toString(arg(0)), toString(arg(1)))
	case "starts-with":
		return strings.HasPrefix(toString(arg(0)), toString(arg(1)))
	case "ends-with":
		return strings.HasSuffix(toString(arg(0)), toString(arg(1)))
	case "regex":
		re := c.re
		if re == nil {
			var err error
			if re, err = regexp.Compile(toString(arg(1))); err != nil {
				return false
			}
		}
		return re.MatchString(toString(arg(0)))
	case "int":
		return math.Trunc(toNumber(arg(0)))
	case "number":
		if len(c.args) == 0 {
			return toNumber(e.self())
		}
		return toNumber(arg(0))
	case "string":
		if len(c.args) == 0 {
			return toString(e.self())
		}
		return toString(arg(0))
	case "round":
		x := toNumber(arg(0))
		digits := 0.0
		if len(c.args) == 2 {
			digits = math.Trunc(toNumber(arg(1)))
		}
		if math.IsNaN(digits) || math.Abs(digits) > 300 {
			return math.NaN()
		}
		p := math.Pow(10, digits)
		return math.Floor(x*p+0.5) / p
	case "sqrt", "exp", "exp10", "log", "log10", "sin", "cos", "tan", "asin", "acos", "atan":
		x := toNumber(arg(0))
		return map[string]func(float64) float64{"sqrt": math.Sqrt, "exp": math.Exp, "exp10": func(x float64) float64 { return math.Pow(10, x) },
			"log": math.Log, "log10": math.Log10, "sin": math.Sin, "cos": math.Cos, "tan": math.Tan,
			"asin": math.Asin, "acos": math.Acos, "atan": math.Atan}[c.fn](x)
	case "atan2":
		return math.Atan2(toNumber(arg(0)), toNumber(arg(1)))
	case "pi":
		return math.Pi
	case "floor":
		return math.Floor(toNumber(arg(0)))
	case "ceiling":
		return math.Ceil(toNumber(arg(0)))
	case "abs":
		return math.Abs(toNumber(arg(0)))
	case "pow":
		return math.Pow(toNumber(arg(0)), toNumber(arg(1)))
	case "today":
		n := e.now()
		return dateVal{t: time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)}
	case "now":
		return dateVal{t: e.now(), withTime: true}
	case "date", "date-time":
		if d, ok := toDate(arg(0)); ok {
			if c.fn == "date" && d.withTime {
				d = dateVal{t: time.Date(d.t.Year(), d.t.Month(), d.t.Day(), 0, 0, 0, 0, time.UTC)}
			}
			return d
		}
		return ""
	case "decimal-date-time":
		v := arg(0)
		if d, ok := toDate(v); ok {
			return daysSinceEpoch(d.t, true)
		}
		return math.NaN()
	case "format-date", "format-date-time":
		d, ok := toDate(arg(0))
		if !ok {
			return ""
		}
		return formatDate(d.t, toString(arg(1)))
	case "position":
		if len(c.args) == 1 {
			if r, ok := c.args[0].(*refNode); ok {
				return float64(e.position(r.name))
			}
		}
		return float64(e.position(""))
	case "count":
		if ns, ok := arg(0).(nodeset); ok {
			return float64(len(ns))
		}
		return math.NaN()
	case "count-non-empty":
		n := 0
		if ns, ok := arg(0).(nodeset); ok {
			for _, x := range ns {
				if x.s != "" {
					n++
				}
			}
		}
		return float64(n)
	case "sum":
		ns, ok := arg(0).(nodeset)
		if !ok {
			return math.NaN()
		}
		s := 0.0
		for _, x := range ns {
			s += stringToNumber(x.s)
		}
		return s
	case "min", "max":
		var xs []float64
		for i := range c.args {
			if ns, ok := arg(i).(nodeset); ok {
				for _, x := range ns {
					xs = append(xs, stringToNumber(x.s))
				}
				continue
			}
			xs = append(xs, toNumber(arg(i)))
		}
		if len(xs) == 0 {
			return math.NaN()
		}
		best := xs[0]
		for _, x := range xs {
			if math.IsNaN(x) {
				return math.NaN()
			}
			if c.fn == "min" && x < best || c.fn == "max" && x > best {
				best = x
			}
		}
		return best
	case "indexed-repeat":
		field := c.args[0].(*refNode).name
		var repeats []string
		var idx []int
		for i := 1; i+1 < len(c.args); i += 2 {
			repeats = append(repeats, c.args[i].(*refNode).name)
			k := toNumber(arg(i + 1))
			if math.IsNaN(k) || k < 1 || k > 1e9 {
				return nodeset{}
			}
			idx = append(idx, int(k))
		}
		return e.indexed(field, repeats, idx)
	}
	return ""
}

// formatDate implements ODK's format-date patterns: %Y %y %m %n %b %d %e
// %H %h %M %S %3 %a; other characters are copied.
func formatDate(t time.Time, pattern string) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != '%' || i+1 == len(pattern) {
			b.WriteByte(pattern[i])
			continue
		}
		i++
		switch pattern[i] {
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'y':
			b.WriteString(t.Format("06"))
		case 'm':
			b.WriteString(t.Format("01"))
		case 'n':
			b.WriteString(strconv.Itoa(int(t.Month())))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'd':
			b.WriteString(t.Format("02"))
		case 'e':
			b.WriteString(strconv.Itoa(t.Day()))
		case 'H':
			b.WriteString(t.Format("15"))
		case 'h':
			b.WriteString(strconv.Itoa(t.Hour()))
		case 'M':
			b.WriteString(t.Format("04"))
		case 'S':
			b.WriteString(t.Format("05"))
		case '3':
			b.WriteString(t.Format(".000")[1:])
		case 'a':
			b.WriteString(t.Format("Mon"))
		default:
			b.WriteByte('%')
			b.WriteByte(pattern[i])
		}
	}
	return b.String()
}
