package analysis

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Formula is a parsed model formula "y ~ a + b:c + d*e + I(x^2)", read as
// R's terms.formula reads it: a*b is a + b + a:b; terms are ordered by
// degree (main effects, then two-way interactions, …), in order of
// appearance within a degree; the variables of an interaction are ordered
// by their first appearance in the formula. A variable is a column, a
// factor(column), or an expression I(…), log(…), exp(…), sqrt(…) or
// abs(…) of numeric columns with + − * / ^ and comparisons (a comparison
// is a logical, coded as a factor as R codes it). "- 1" or "0 +" drops the
// intercept.
type Formula struct {
	Response string
	// Terms are R's term labels ("a", "I(x^2)", "a:b").
	Terms     []string
	terms     [][]string // variables of each term
	vars      []string   // variables in order of first appearance
	intercept bool
}

// ParseFormula parses "response ~ term + term ...".
func ParseFormula(s string) (Formula, error) {
	lhs, rhs, ok := strings.Cut(s, "~")
	if !ok {
		return Formula{}, fmt.Errorf("formula %q: no ~", s)
	}
	f := Formula{Response: strings.TrimSpace(lhs), intercept: true}
	if !validName(f.Response) {
		return Formula{}, fmt.Errorf("formula %q: response %q is not a column name", s, f.Response)
	}
	pieces, err := splitTop(rhs, '+')
	if err != nil {
		return Formula{}, fmt.Errorf("formula %q: %w", s, err)
	}
	var expanded [][]string
	seenVar := map[string]bool{}
	addVar := func(v string) {
		if !seenVar[v] {
			seenVar[v] = true
			f.vars = append(f.vars, v)
		}
	}
	for _, p := range pieces {
		p = strings.TrimSpace(p)
		// "a - 1" arrives as one piece: strip a trailing "- 1".
		if q, ok := strings.CutSuffix(p, "- 1"); ok && strings.TrimSpace(q) != "" {
			f.intercept = false
			p = strings.TrimSpace(q)
		}
		switch p {
		case "1":
			continue
		case "0", "-1", "- 1":
			f.intercept = false
			continue
		case "":
			return Formula{}, fmt.Errorf("formula %q: an empty term", s)
		}
		factors, err := splitTop(p, '*')
		if err != nil {
			return Formula{}, fmt.Errorf("formula %q: %w", s, err)
		}
		// Each factor of a*b is itself a:b:… ; a*b expands to every
		// non-empty product of the factors, in R's order.
		parts := make([][]string, len(factors))
		for k, fac := range factors {
			vs, err := splitTop(fac, ':')
			if err != nil {
				return Formula{}, fmt.Errorf("formula %q: %w", s, err)
			}
			for j, v := range vs {
				v = normalizeVar(strings.TrimSpace(v))
				if err := checkVar(v); err != nil {
					return Formula{}, fmt.Errorf("formula %q: %w", s, err)
				}
				vs[j] = v
				addVar(v)
			}
			parts[k] = vs
		}
		for mask := 1; mask < 1<<len(parts); mask++ {
			var term []string
			for k := range parts {
				if mask&(1<<k) != 0 {
					term = append(term, parts[k]...)
				}
			}
			expanded = append(expanded, term)
		}
	}
	// Order the variables of each term by first appearance; drop
	// duplicates; sort terms by degree, stably.
	pos := map[string]int{}
	for i, v := range f.vars {
		pos[v] = i
	}
	seen := map[string]bool{}
	for _, term := range expanded {
		term = slices.Compact(slices.SortedFunc(slices.Values(term), func(a, b string) int { return pos[a] - pos[b] }))
		label := strings.Join(term, ":")
		if seen[label] {
			continue
		}
		seen[label] = true
		f.terms = append(f.terms, term)
	}
	slices.SortStableFunc(f.terms, func(a, b []string) int { return len(a) - len(b) })
	for _, term := range f.terms {
		f.Terms = append(f.Terms, strings.Join(term, ":"))
	}
	if len(f.terms) == 0 && !f.intercept {
		return Formula{}, fmt.Errorf("formula %q: no terms", s)
	}
	return f, nil
}

// Columns lists the columns the formula reads.
func (f Formula) Columns() []string {
	out := []string{f.Response}
	for _, v := range f.vars {
		if validName(v) {
			out = append(out, v)
			continue
		}
		if strings.HasPrefix(v, "factor(") {
			out = append(out, factorArg(v))
			continue
		}
		if e, err := parseExpr(v); err == nil {
			out = append(out, e.columns()...)
		}
	}
	return out
}

// splitTop splits s at sep outside parentheses.
func splitTop(s string, sep byte) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced parentheses in %q", s)
			}
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced parentheses in %q", s)
	}
	return append(out, s[start:]), nil
}

// normalizeVar writes an expression variable as R's deparse does, so
// that coefficient names are R's: "I(x ^ 2)" → "I(x^2)".
func normalizeVar(v string) string {
	if validName(v) {
		return v
	}
	if strings.HasPrefix(v, "factor(") {
		return "factor(" + factorArg(v) + ")"
	}
	e, err := parseExpr(v)
	if err != nil {
		return v
	}
	return e.String()
}

func checkVar(v string) error {
	if validName(v) || validName(factorArg(v)) && strings.HasPrefix(v, "factor(") {
		return nil
	}
	_, err := parseExpr(v)
	return err
}

func validName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// expr is a parsed variable expression.
type expr struct {
	op   string // "num", "col", "neg", "paren", "call", or a binary operator
	text string // number text, column or function name
	args []*expr
}

// String deparses e as R does: spaces around + − * and comparisons, none
// around / and ^.
func (e *expr) String() string {
	switch e.op {
	case "num", "col":
		return e.text
	case "neg":
		return "-" + e.args[0].String()
	case "paren":
		return "(" + e.args[0].String() + ")"
	case "call":
		return e.text + "(" + e.args[0].String() + ")"
	case "/", "^":
		return e.args[0].String() + e.op + e.args[1].String()
	}
	return e.args[0].String() + " " + e.op + " " + e.args[1].String()
}

func (e *expr) columns() []string {
	if e.op == "col" {
		return []string{e.text}
	}
	var out []string
	for _, a := range e.args {
		out = append(out, a.columns()...)
	}
	return out
}

// logical reports whether e's value is a comparison (R: a logical).
func (e *expr) logical() bool {
	switch e.op {
	case "==", "!=", "<", "<=", ">", ">=":
		return true
	case "paren":
		return e.args[0].logical()
	case "call":
		return e.text == "I" && e.args[0].logical()
	}
	return false
}

// eval computes e for row i; cols holds the numeric columns.
func (e *expr) eval(cols map[string][]float64, i int) float64 {
	a := func(k int) float64 { return e.args[k].eval(cols, i) }
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	switch e.op {
	case "num":
		v, _ := strconv.ParseFloat(e.text, 64)
		return v
	case "col":
		return cols[e.text][i]
	case "neg":
		return -a(0)
	case "paren":
		return a(0)
	case "call":
		x := a(0)
		switch e.text {
		case "log":
			return math.Log(x)
		case "exp":
			return math.Exp(x)
		case "sqrt":
			return math.Sqrt(x)
		case "abs":
			return math.Abs(x)
		}
		return x // I
	case "+":
		return a(0) + a(1)
	case "-":
		return a(0) - a(1)
	case "*":
		return a(0) * a(1)
	case "/":
		return a(0) / a(1)
	case "^":
		return math.Pow(a(0), a(1))
	}
	x, y := a(0), a(1)
	if math.IsNaN(x) || math.IsNaN(y) {
		return math.NaN()
	}
	switch e.op {
	case "==":
		return b2f(x == y)
	case "!=":
		return b2f(x != y)
	case "<":
		return b2f(x < y)
	case "<=":
		return b2f(x <= y)
	case ">":
		return b2f(x > y)
	}
	return b2f(x >= y)
}

// parseExpr parses a variable expression: I(…), log(…), exp(…), sqrt(…),
// abs(…) at the top; inside, numbers, columns, + − * / ^, comparisons,
// parentheses and those functions.
func parseExpr(s string) (*expr, error) {
	p := &exprParser{s: s}
	e, err := p.compare()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("term %q: unexpected %q", s, p.s[p.i:])
	}
	if e.op != "call" {
		return nil, fmt.Errorf("term %q is not a column name, factor(column), or I(…), log(…), exp(…), sqrt(…), abs(…) of columns", s)
	}
	return e, nil
}

type exprParser struct {
	s string
	i int
}

func (p *exprParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *exprParser) peek(ops ...string) string {
	p.space()
	for _, op := range ops {
		if strings.HasPrefix(p.s[p.i:], op) {
			return op
		}
	}
	return ""
}

func (p *exprParser) compare() (*expr, error) {
	l, err := p.sum()
	if err != nil {
		return nil, err
	}
	if op := p.peek("==", "!=", "<=", ">=", "<", ">"); op != "" {
		p.i += len(op)
		r, err := p.sum()
		if err != nil {
			return nil, err
		}
		return &expr{op: op, args: []*expr{l, r}}, nil
	}
	return l, nil
}

func (p *exprParser) sum() (*expr, error) {
	l, err := p.product()
	if err != nil {
		return nil, err
	}
	for {
		op := p.peek("+", "-")
		if op == "" {
			return l, nil
		}
		p.i++
		r, err := p.product()
		if err != nil {
			return nil, err
		}
		l = &expr{op: op, args: []*expr{l, r}}
	}
}

func (p *exprParser) product() (*expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		op := p.peek("*", "/")
		if op == "" {
			return l, nil
		}
		p.i++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &expr{op: op, args: []*expr{l, r}}
	}
}

func (p *exprParser) unary() (*expr, error) {
	if p.peek("-") != "" {
		p.i++
		a, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &expr{op: "neg", args: []*expr{a}}, nil
	}
	return p.power()
}

func (p *exprParser) power() (*expr, error) {
	base, err := p.atom()
	if err != nil {
		return nil, err
	}
	if p.peek("^") != "" {
		p.i++
		exp, err := p.unary() // right associative, binds tighter than unary minus on its left
		if err != nil {
			return nil, err
		}
		return &expr{op: "^", args: []*expr{base, exp}}, nil
	}
	return base, nil
}

func (p *exprParser) atom() (*expr, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("term %q ends too soon", p.s)
	}
	c := p.s[p.i]
	if c == '(' {
		p.i++
		e, err := p.compare()
		if err != nil {
			return nil, err
		}
		if p.peek(")") == "" {
			return nil, fmt.Errorf("term %q: missing )", p.s)
		}
		p.i++
		return &expr{op: "paren", args: []*expr{e}}, nil
	}
	j := p.i
	if c >= '0' && c <= '9' || c == '.' && j+1 < len(p.s) && p.s[j+1] >= '0' && p.s[j+1] <= '9' {
		for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] == '.' || p.s[j] == 'e' || (p.s[j] == '-' || p.s[j] == '+') && j > 0 && p.s[j-1] == 'e') {
			j++
		}
		text := p.s[p.i:j]
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return nil, fmt.Errorf("term %q: %q is not a number", p.s, text)
		}
		p.i = j
		return &expr{op: "num", text: text}, nil
	}
	for j < len(p.s) && (p.s[j] == '_' || p.s[j] == '.' || p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] >= 'a' && p.s[j] <= 'z' || p.s[j] >= 'A' && p.s[j] <= 'Z') {
		j++
	}
	if j == p.i {
		return nil, fmt.Errorf("term %q: unexpected %q", p.s, p.s[p.i:])
	}
	name := p.s[p.i:j]
	p.i = j
	if p.peek("(") != "" {
		switch name {
		case "I", "log", "exp", "sqrt", "abs":
		default:
			return nil, fmt.Errorf("term %q: function %s is not one of I, log, exp, sqrt, abs", p.s, name)
		}
		p.i++
		arg, err := p.compare()
		if err != nil {
			return nil, err
		}
		if p.peek(")") == "" {
			return nil, fmt.Errorf("term %q: missing )", p.s)
		}
		p.i++
		return &expr{op: "call", text: name, args: []*expr{arg}}, nil
	}
	return &expr{op: "col", text: name}, nil
}
