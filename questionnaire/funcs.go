package questionnaire

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// function is one function of the expression language: the number of
// arguments it takes (maxArgs -1: any number), what its arguments must be
// beyond their number (check, nil: nothing more), and its evaluation.
type function struct {
	minArgs, maxArgs int
	// check is run by the parser once the number of arguments is right;
	// it returns a problem with the arguments, and may prepare the call
	// (regex compiles a literal pattern once).
	check func(c *callNode) error
	// eval evaluates a call whose arguments passed the parser's checks.
	eval func(c *callNode, e env) value
	// readsSelf: called without arguments, the function reads the context
	// item ("."), so a calculation using it depends on its own answer.
	readsSelf bool
}

// functions lists the supported functions. The parser checks a call
// against its entry and keeps the entry's eval in the call's node, which
// the evaluator runs.
var functions = map[string]function{
	// logic
	"true":     {minArgs: 0, maxArgs: 0, eval: constant(boolV(true))},
	"false":    {minArgs: 0, maxArgs: 0, eval: constant(boolV(false))},
	"not":      {minArgs: 1, maxArgs: 1, eval: fnNot},
	"boolean":  {minArgs: 1, maxArgs: 1, eval: fnBoolean},
	"if":       {minArgs: 3, maxArgs: 3, eval: fnIf},
	"coalesce": {minArgs: 2, maxArgs: -1, eval: fnCoalesce},
	"once":     {minArgs: 1, maxArgs: 1, eval: fnOnce},

	// values the device draws or looks up: a calculation that uses them
	// keeps the value the client sent (see item.clientHeld)
	"random":   {minArgs: 0, maxArgs: 0, eval: fnRandom},
	"uuid":     {minArgs: 0, maxArgs: 1, eval: fnUUID},
	"pulldata": {minArgs: 4, maxArgs: 4, eval: fnPulldata},

	// selects
	"selected":       {minArgs: 2, maxArgs: 2, eval: fnSelected},
	"count-selected": {minArgs: 1, maxArgs: 1, eval: fnCountSelected},
	"selected-at":    {minArgs: 2, maxArgs: 2, eval: fnSelectedAt},
	"choice-name":    {minArgs: 2, maxArgs: 2, eval: fnChoiceName},

	// strings
	"concat":          {minArgs: 0, maxArgs: -1, eval: fnConcat},
	"join":            {minArgs: 2, maxArgs: -1, eval: fnJoin},
	"string-length":   {minArgs: 0, maxArgs: 1, eval: fnStringLength, readsSelf: true},
	"normalize-space": {minArgs: 0, maxArgs: 1, eval: fnNormalizeSpace, readsSelf: true},
	"substr":          {minArgs: 2, maxArgs: 3, eval: fnSubstr},
	"substring":       {minArgs: 2, maxArgs: 3, eval: fnSubstring},
	"contains":        {minArgs: 2, maxArgs: 2, eval: strTest(strings.Contains)},
	"starts-with":     {minArgs: 2, maxArgs: 2, eval: strTest(strings.HasPrefix)},
	"ends-with":       {minArgs: 2, maxArgs: 2, eval: strTest(strings.HasSuffix)},
	"regex":           {minArgs: 2, maxArgs: 2, check: checkRegex, eval: fnRegex},
	"string":          {minArgs: 0, maxArgs: 1, eval: fnString, readsSelf: true},

	// numbers
	"number":  {minArgs: 0, maxArgs: 1, eval: fnNumber, readsSelf: true},
	"int":     {minArgs: 1, maxArgs: 1, eval: math1(math.Trunc)},
	"round":   {minArgs: 1, maxArgs: 2, eval: fnRound},
	"floor":   {minArgs: 1, maxArgs: 1, eval: math1(math.Floor)},
	"ceiling": {minArgs: 1, maxArgs: 1, eval: math1(math.Ceil)},
	"abs":     {minArgs: 1, maxArgs: 1, eval: math1(math.Abs)},
	"pow":     {minArgs: 2, maxArgs: 2, eval: math2(math.Pow)},
	"sqrt":    {minArgs: 1, maxArgs: 1, eval: math1(math.Sqrt)},
	"exp":     {minArgs: 1, maxArgs: 1, eval: math1(math.Exp)},
	"exp10":   {minArgs: 1, maxArgs: 1, eval: math1(func(x float64) float64 { return math.Pow(10, x) })},
	"log":     {minArgs: 1, maxArgs: 1, eval: math1(math.Log)},
	"log10":   {minArgs: 1, maxArgs: 1, eval: math1(math.Log10)},
	"sin":     {minArgs: 1, maxArgs: 1, eval: math1(math.Sin)},
	"cos":     {minArgs: 1, maxArgs: 1, eval: math1(math.Cos)},
	"tan":     {minArgs: 1, maxArgs: 1, eval: math1(math.Tan)},
	"asin":    {minArgs: 1, maxArgs: 1, eval: math1(math.Asin)},
	"acos":    {minArgs: 1, maxArgs: 1, eval: math1(math.Acos)},
	"atan":    {minArgs: 1, maxArgs: 1, eval: math1(math.Atan)},
	"atan2":   {minArgs: 2, maxArgs: 2, eval: math2(math.Atan2)},
	"pi":      {minArgs: 0, maxArgs: 0, eval: constant(numV(math.Pi))},

	// dates
	"today":             {minArgs: 0, maxArgs: 0, eval: fnToday},
	"now":               {minArgs: 0, maxArgs: 0, eval: fnNow},
	"date":              {minArgs: 1, maxArgs: 1, eval: fnDate},
	"date-time":         {minArgs: 1, maxArgs: 1, eval: fnDateTime},
	"decimal-date-time": {minArgs: 1, maxArgs: 1, eval: fnDecimalDateTime},
	"format-date":       {minArgs: 2, maxArgs: 2, eval: fnFormatDate},
	"format-date-time":  {minArgs: 2, maxArgs: 2, eval: fnFormatDate},

	// node sets and repeats
	"position":        {minArgs: 0, maxArgs: 1, check: checkPosition, eval: fnPosition},
	"count":           {minArgs: 1, maxArgs: 1, eval: fnCount},
	"count-non-empty": {minArgs: 1, maxArgs: 1, eval: fnCountNonEmpty},
	"sum":             {minArgs: 1, maxArgs: 1, eval: fnSum},
	"min":             {minArgs: 1, maxArgs: -1, eval: extreme(false)},
	"max":             {minArgs: 1, maxArgs: -1, eval: extreme(true)},
	"indexed-repeat":  {minArgs: 3, maxArgs: -1, check: checkIndexedRepeat, eval: fnIndexedRepeat},
}

// arg evaluates the call's argument i.
func (c *callNode) arg(e env, i int) value { return evalNode(c.args[i], e) }

// ---- logic ----

// constant is a function without arguments that always gives v.
func constant(v value) func(*callNode, env) value {
	return func(*callNode, env) value { return v }
}

func fnNot(c *callNode, e env) value     { return boolV(!c.arg(e, 0).boolean()) }
func fnBoolean(c *callNode, e env) value { return boolV(c.arg(e, 0).boolean()) }
func fnOnce(c *callNode, e env) value    { return c.arg(e, 0) }

// clientFunctions are the functions whose value only the device knows: a
// random draw, a new identifier, a look-up in a CSV attachment the device
// holds, or a value the device keeps once it is set.
var clientFunctions = map[string]bool{"random": true, "uuid": true, "pulldata": true, "once": true}

// fnRandom is a uniform draw in [0, 1), as ODK's random().
func fnRandom(c *callNode, e env) value { return numV(rand.Float64()) }

// fnUUID is a random (version 4) UUID, as ODK's uuid(); uuid(n) is n
// random hexadecimal digits.
func fnUUID(c *callNode, e env) value {
	if len(c.args) == 1 {
		n := c.arg(e, 0).number()
		if !(n >= 0 && n <= 1024) {
			return strV("")
		}
		const hexdigits = "0123456789abcdef"
		b := make([]byte, int(n))
		for i := range b {
			b[i] = hexdigits[rand.IntN(16)]
		}
		return strV(string(b))
	}
	var u [16]byte
	for i := range u {
		u[i] = byte(rand.IntN(256))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return strV(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:]))
}

// fnPulldata looks a value up in a CSV media file of the form (see
// Form.AttachMedia): pulldata('file', 'column', 'keycolumn', value) is the
// column of the first row whose keycolumn equals value, ” when none (as
// ODK's engine). A calculation keeps the value the device sent (see
// item.clientHeld) and computes it when the device sent none.
func fnPulldata(c *callNode, e env) value {
	return strV(e.pulldata(c.arg(e, 0).str(), c.arg(e, 1).str(), c.arg(e, 2).str(), c.arg(e, 3).str()))
}

func fnIf(c *callNode, e env) value {
	if c.arg(e, 0).boolean() {
		return c.arg(e, 1)
	}
	return c.arg(e, 2)
}

func fnCoalesce(c *callNode, e env) value {
	for i := range c.args {
		if v := c.arg(e, i); v.str() != "" {
			return v
		}
	}
	return strV("")
}

// ---- selects ----

func fnSelected(c *callNode, e env) value {
	want := strings.TrimSpace(c.arg(e, 1).str())
	for s := range strings.FieldsSeq(c.arg(e, 0).str()) {
		if s == want {
			return boolV(true)
		}
	}
	return boolV(false)
}

func fnCountSelected(c *callNode, e env) value {
	n := 0
	for range strings.FieldsSeq(c.arg(e, 0).str()) {
		n++
	}
	return numV(float64(n))
}

func fnSelectedAt(c *callNode, e env) value {
	items := strings.Fields(c.arg(e, 0).str())
	i := c.arg(e, 1).number()
	if math.IsNaN(i) || i < 0 || i >= float64(len(items)) {
		return strV("")
	}
	return strV(items[int(i)])
}

func fnChoiceName(c *callNode, e env) value { return strV(c.arg(e, 0).str()) }

// ---- strings ----

func fnConcat(c *callNode, e env) value {
	var b strings.Builder
	for i := range c.args {
		v := c.arg(e, i)
		if v.k == vNodes {
			for _, n := range v.ns {
				b.WriteString(n.str())
			}
			continue
		}
		b.WriteString(v.str())
	}
	return strV(b.String())
}

func fnJoin(c *callNode, e env) value {
	sep := c.arg(e, 0).str()
	var parts []string
	for i := 1; i < len(c.args); i++ {
		v := c.arg(e, i)
		if v.k == vNodes {
			for _, n := range v.ns {
				parts = append(parts, n.str())
			}
			continue
		}
		parts = append(parts, v.str())
	}
	return strV(strings.Join(parts, sep))
}

func fnStringLength(c *callNode, e env) value {
	if len(c.args) == 0 {
		return numV(float64(utf8.RuneCountInString(nodesV(e.self()).str())))
	}
	return numV(float64(utf8.RuneCountInString(c.arg(e, 0).str())))
}

func fnNormalizeSpace(c *callNode, e env) value {
	s := nodesV(e.self()).str()
	if len(c.args) == 1 {
		s = c.arg(e, 0).str()
	}
	return strV(strings.Join(strings.Fields(s), " "))
}

// fnSubstr is ODK's substr(s, start, end): 0-based, end excluded.
func fnSubstr(c *callNode, e env) value {
	r := []rune(c.arg(e, 0).str())
	start := c.arg(e, 1).number()
	end := float64(len(r))
	if len(c.args) == 3 {
		end = c.arg(e, 2).number()
	}
	return runeRange(r, start, end)
}

// fnSubstring is XPath's substring(s, start, length): 1-based, start and
// end rounded.
func fnSubstring(c *callNode, e env) value {
	r := []rune(c.arg(e, 0).str())
	start := c.arg(e, 1).number() - 1
	end := float64(len(r))
	if len(c.args) == 3 {
		end = start + c.arg(e, 2).number()
	}
	return runeRange(r, math.Round(start), math.Round(end))
}

// runeRange is r[start:end] with start and end clamped to r ("" when
// either is NaN or end <= start).
func runeRange(r []rune, start, end float64) value {
	if math.IsNaN(start) || math.IsNaN(end) {
		return strV("")
	}
	s := int(math.Max(0, math.Min(start, float64(len(r)))))
	en := int(math.Max(0, math.Min(end, float64(len(r)))))
	if en <= s {
		return strV("")
	}
	return strV(string(r[s:en]))
}

// strTest is a function of two strings giving a boolean.
func strTest(f func(s, t string) bool) func(*callNode, env) value {
	return func(c *callNode, e env) value { return boolV(f(c.arg(e, 0).str(), c.arg(e, 1).str())) }
}

// checkRegex compiles a literal pattern once.
func checkRegex(c *callNode) error {
	if s, ok := c.args[1].(*strNode); ok {
		re, err := regexp.Compile(s.v)
		if err != nil {
			return fmt.Errorf("bad regular expression %q: %v", s.v, err)
		}
		c.re = re
	}
	return nil
}

// fnRegex matches a pattern computed at run time too; a bad one matches
// nothing.
func fnRegex(c *callNode, e env) value {
	re := c.re
	if re == nil {
		var err error
		if re, err = regexp.Compile(c.arg(e, 1).str()); err != nil {
			return boolV(false)
		}
	}
	return boolV(re.MatchString(c.arg(e, 0).str()))
}

func fnString(c *callNode, e env) value {
	if len(c.args) == 0 {
		return strV(nodesV(e.self()).str())
	}
	return strV(c.arg(e, 0).str())
}

// ---- numbers ----

func fnNumber(c *callNode, e env) value {
	if len(c.args) == 0 {
		return numV(nodesV(e.self()).number())
	}
	return numV(c.arg(e, 0).number())
}

// fnRound rounds half up, to a number of digits (0 when not given).
func fnRound(c *callNode, e env) value {
	x := c.arg(e, 0).number()
	digits := 0.0
	if len(c.args) == 2 {
		digits = math.Trunc(c.arg(e, 1).number())
	}
	if math.IsNaN(digits) || math.Abs(digits) > 300 {
		return numV(math.NaN())
	}
	p := math.Pow(10, digits)
	return numV(math.Floor(x*p+0.5) / p)
}

// math1 is a function of one number.
func math1(f func(float64) float64) func(*callNode, env) value {
	return func(c *callNode, e env) value { return numV(f(c.arg(e, 0).number())) }
}

// math2 is a function of two numbers.
func math2(f func(x, y float64) float64) func(*callNode, env) value {
	return func(c *callNode, e env) value { return numV(f(c.arg(e, 0).number(), c.arg(e, 1).number())) }
}

// ---- dates ----

func fnToday(c *callNode, e env) value {
	n := e.now()
	return dateV(dateVal{t: time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)})
}

func fnNow(c *callNode, e env) value { return dateV(dateVal{t: e.now(), withTime: true}) }

// fnDate is the date of its argument, without the time of day.
func fnDate(c *callNode, e env) value {
	if d, ok := c.arg(e, 0).date(); ok {
		if d.withTime {
			d = dateVal{t: time.Date(d.t.Year(), d.t.Month(), d.t.Day(), 0, 0, 0, 0, time.UTC)}
		}
		return dateV(d)
	}
	return strV("")
}

func fnDateTime(c *callNode, e env) value {
	if d, ok := c.arg(e, 0).date(); ok {
		return dateV(d)
	}
	return strV("")
}

func fnDecimalDateTime(c *callNode, e env) value {
	if d, ok := c.arg(e, 0).date(); ok {
		return numV(daysSinceEpoch(d.t, true))
	}
	return numV(math.NaN())
}

func fnFormatDate(c *callNode, e env) value {
	d, ok := c.arg(e, 0).date()
	if !ok {
		return strV("")
	}
	return strV(formatDate(d.t, c.arg(e, 1).str()))
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

// ---- node sets and repeats ----

func checkPosition(c *callNode) error {
	if len(c.args) == 1 {
		switch c.args[0].(type) {
		case *parentNode, *refNode:
		default:
			return errors.New("position() takes .. or a ${repeat} reference")
		}
	}
	return nil
}

func fnPosition(c *callNode, e env) value {
	if len(c.args) == 1 {
		if r, ok := c.args[0].(*refNode); ok {
			return numV(float64(e.position(r.name)))
		}
	}
	return numV(float64(e.position("")))
}

func fnCount(c *callNode, e env) value {
	if v := c.arg(e, 0); v.k == vNodes {
		return numV(float64(len(v.ns)))
	}
	return numV(math.NaN())
}

func fnCountNonEmpty(c *callNode, e env) value {
	n := 0
	if v := c.arg(e, 0); v.k == vNodes {
		for _, x := range v.ns {
			if x.nk != 0 || x.s != "" {
				n++
			}
		}
	}
	return numV(float64(n))
}

func fnSum(c *callNode, e env) value {
	v := c.arg(e, 0)
	if v.k != vNodes {
		return numV(math.NaN())
	}
	s := 0.0
	for _, x := range v.ns {
		s += x.number()
	}
	return numV(s)
}

// extreme is min (isMax false) or max over numbers and node sets' numbers:
// NaN when any is NaN or there is none.
func extreme(isMax bool) func(*callNode, env) value {
	return func(c *callNode, e env) value {
		best, have := 0.0, false
		for i := range c.args {
			v := c.arg(e, i)
			if v.k == vNodes {
				for _, x := range v.ns {
					f := x.number()
					if math.IsNaN(f) {
						return numV(math.NaN())
					}
					if !have || !isMax && f < best || isMax && f > best {
						best, have = f, true
					}
				}
				continue
			}
			f := v.number()
			if math.IsNaN(f) {
				return numV(math.NaN())
			}
			if !have || !isMax && f < best || isMax && f > best {
				best, have = f, true
			}
		}
		if !have {
			return numV(math.NaN())
		}
		return numV(best)
	}
}

func checkIndexedRepeat(c *callNode) error {
	n := len(c.args)
	if n%2 == 0 {
		return errors.New("indexed-repeat() takes a question and then pairs of repeat and index")
	}
	for i := 1; i < n; i += 2 {
		if _, ok := c.args[i].(*refNode); !ok {
			return fmt.Errorf("indexed-repeat() argument %d must be a ${repeat} reference", i+1)
		}
	}
	if _, ok := c.args[0].(*refNode); !ok {
		return errors.New("indexed-repeat() argument 1 must be a ${question} reference")
	}
	return nil
}

func fnIndexedRepeat(c *callNode, e env) value {
	field := c.args[0].(*refNode).name
	var repeats []string
	var idx []int
	for i := 1; i+1 < len(c.args); i += 2 {
		repeats = append(repeats, c.args[i].(*refNode).name)
		k := c.arg(e, i+1).number()
		if math.IsNaN(k) || k < 1 || k > 1e9 {
			return nodesV(nodeset{})
		}
		idx = append(idx, int(k))
	}
	return nodesV(e.indexed(field, repeats, idx))
}
