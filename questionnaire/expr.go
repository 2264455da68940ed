package questionnaire

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Expr is a parsed expression of the ODK XPath subset used in relevant,
// constraint, calculation, choice_filter and repeat_count columns:
//
//   - ${name} (a question), "." (the current answer), ".." (the current
//     repeat instance, for position(..)), a bare name (in a choice_filter:
//     a column of the choices sheet, e.g. name or region), /data/.../name
//     (an absolute path: the question with the last name);
//   - numbers and 'single' or "double" quoted strings;
//   - + - * div mod, unary minus, = != < <= > >=, and, or;
//   - the functions listed in functions (selected, count-selected,
//     selected-at, if, coalesce, concat, string-length, substr, contains,
//     starts-with, ends-with, regex, int, number, string, boolean, round,
//     today, now, date, decimal-date-time, format-date, position, count,
//     sum, min, max, indexed-repeat, not, true, false, once, pow, abs, ...).
//
// Semantics follow XPath 1.0 as ODK's JavaRosa applies them: a reference
// to a question in another repeat instance yields every instance's answer
// (a node set, for count, sum, min, max); empty answers are NaN in
// arithmetic; comparisons with a node set are existential.
type Expr struct {
	src  string
	root node
	refs []string // ${name} references, in order of appearance
}

// String returns the expression's source text.
func (e *Expr) String() string { return e.src }

// Refs returns the question names the expression references with ${name}
// (or an absolute path), in order of first appearance.
func (e *Expr) Refs() []string { return e.refs }

// ParseError is a syntax error in an expression.
type ParseError struct {
	// Pos is the 0-based byte offset in the expression where the error
	// was found.
	Pos int
	Msg string
}

func (e *ParseError) Error() string { return fmt.Sprintf("position %d: %s", e.Pos, e.Msg) }

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 100

// maxExprLen bounds the length of an expression.
const maxExprLen = 10000

// ParseExpr parses an expression. Function names and their numbers of
// arguments are checked; references are not (Form.Compile checks them).
func ParseExpr(src string) (*Expr, error) {
	if len(src) > maxExprLen {
		return nil, &ParseError{Pos: maxExprLen, Msg: fmt.Sprintf("expression longer than %d bytes", maxExprLen)}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, src: src}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, &ParseError{Pos: t.pos, Msg: fmt.Sprintf("unexpected %s", t.describe())}
	}
	e := &Expr{src: src, root: n}
	seen := map[string]bool{}
	walkNodes(n, func(n node) {
		if r, ok := n.(*refNode); ok && !seen[r.name] {
			seen[r.name] = true
			e.refs = append(e.refs, r.name)
		}
	})
	return e, nil
}

// ---- lexer ----

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tStr
	tRef   // ${name} or /abs/path (name = last step)
	tName  // bare name (function name, operator word or choice column)
	tDot   // .
	tDDot  // ..
	tOp    // + - * = != < <= > >= |
	tLPar  // (
	tRPar  // )
	tComma // ,
	tInst  // instance('list')/root/item: text is the list
	tLBr   // [
	tRBr   // ]
	tStep  // /name after instance('list')/root/item or its predicate
)

type token struct {
	kind tokKind
	pos  int
	text string
	num  float64
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tStr:
		return fmt.Sprintf("string %q", t.text)
	case tRef:
		return "${" + t.text + "}"
	}
	return fmt.Sprintf("%q", t.text)
}

func isNameStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isNameChar(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':'
}

// nameStartAt and nameCharAt are isNameStart and isNameChar for the
// (possibly multi-byte) character at s[i]: letters of any script are name
// characters; typographic quotes and other symbols are not. They return the
// character's length, 0 if it is not a name character.
func nameStartAt(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		if isNameStart(s[i]) {
			return 1
		}
		return 0
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if unicode.IsLetter(r) {
		return n
	}
	return 0
}

func nameCharAt(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		if isNameChar(s[i]) {
			return 1
		}
		return 0
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
		return n
	}
	return 0
}

// scanName returns the end of the name starting at s[i] (i itself when
// there is none).
func scanName(s string, i int) int {
	n := nameStartAt(s, i)
	if n == 0 {
		return i
	}
	j := i + n
	for j < len(s) {
		m := nameCharAt(s, j)
		if m == 0 {
			break
		}
		j += m
	}
	return j
}

// instanceRE matches the start of a look-up in a secondary instance, as
// pyxform's documentation writes it: instance('list')/root/item.
var instanceRE = regexp.MustCompile(`^instance\(\s*(?:'([^']*)'|"([^"]*)")\s*\)\s*/\s*root\s*/\s*item\b`)

// relPathRE matches a relative path to a question: ./x, ../x, ../../g/x.
var relPathRE = regexp.MustCompile(`^(?:\.\.?/)+[\p{L}_][\p{L}\p{N}\p{Mn}_.:-]*(?:/[\p{L}_][\p{L}\p{N}\p{Mn}_.:-]*)*`)

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	afterLookup := func() bool {
		if len(toks) == 0 {
			return false
		}
		k := toks[len(toks)-1].kind
		return k == tInst || k == tRBr
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == 'i' && strings.HasPrefix(src[i:], "instance") && instanceRE.MatchString(src[i:]):
			m := instanceRE.FindStringSubmatch(src[i:])
			toks = append(toks, token{kind: tInst, pos: i, text: m[1] + m[2]})
			i += len(m[0])
		case c == '[':
			toks = append(toks, token{kind: tLBr, pos: i, text: "["})
			i++
		case c == ']':
			toks = append(toks, token{kind: tRBr, pos: i, text: "]"})
			i++
		case c == '/' && afterLookup() && i+1 < len(src) && nameStartAt(src, i+1) > 0:
			j := scanName(src, i+1)
			toks = append(toks, token{kind: tStep, pos: i, text: src[i+1 : j]})
			i = j
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			v, err := strconv.ParseFloat(src[i:j], 64)
			if err != nil {
				return nil, &ParseError{Pos: i, Msg: fmt.Sprintf("bad number %q", src[i:j])}
			}
			toks = append(toks, token{kind: tNum, pos: i, text: src[i:j], num: v})
			i = j
		case c == '.' && relPathRE.MatchString(src[i:]):
			// a relative path ../age, ./age, ../../group/age: the question
			// is the last step, resolved in the current context as ${age}
			m := relPathRE.FindString(src[i:])
			steps := strings.Split(m, "/")
			toks = append(toks, token{kind: tRef, pos: i, text: steps[len(steps)-1]})
			i += len(m)
		case c == '.':
			if i+1 < len(src) && src[i+1] == '.' {
				toks = append(toks, token{kind: tDDot, pos: i, text: ".."})
				i += 2
			} else {
				toks = append(toks, token{kind: tDot, pos: i, text: "."})
				i++
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				return nil, &ParseError{Pos: i, Msg: "unterminated string"}
			}
			toks = append(toks, token{kind: tStr, pos: i, text: src[i+1 : i+1+j]})
			i += j + 2
		case c == '$':
			if i+1 >= len(src) || src[i+1] != '{' {
				return nil, &ParseError{Pos: i, Msg: "'$' must start a ${name} reference"}
			}
			j := strings.IndexByte(src[i+2:], '}')
			if j < 0 {
				return nil, &ParseError{Pos: i, Msg: "unterminated ${ reference"}
			}
			name := strings.TrimSpace(src[i+2 : i+2+j])
			if !validName(name) {
				return nil, &ParseError{Pos: i, Msg: fmt.Sprintf("bad question name %q in reference", name)}
			}
			toks = append(toks, token{kind: tRef, pos: i, text: name})
			i += j + 3
		case c == '/' && i+1 < len(src) && nameStartAt(src, i+1) > 0:
			// absolute path /data/group/name: the question is the last step
			j := i
			for j < len(src) {
				if src[j] == '/' {
					j++
				} else if n := nameCharAt(src, j); n > 0 {
					j += n
				} else {
					break
				}
			}
			steps := strings.Split(src[i+1:j], "/")
			name := steps[len(steps)-1]
			if !validName(name) {
				return nil, &ParseError{Pos: i, Msg: fmt.Sprintf("bad path %q", src[i:j])}
			}
			toks = append(toks, token{kind: tRef, pos: i, text: name})
			i = j
		case nameStartAt(src, i) > 0:
			j := scanName(src, i)
			toks = append(toks, token{kind: tName, pos: i, text: src[i:j]})
			i = j
		case c == '(':
			toks = append(toks, token{kind: tLPar, pos: i, text: "("})
			i++
		case c == ')':
			toks = append(toks, token{kind: tRPar, pos: i, text: ")"})
			i++
		case c == ',':
			toks = append(toks, token{kind: tComma, pos: i, text: ","})
			i++
		case c == '!' || c == '<' || c == '>':
			if i+1 < len(src) && src[i+1] == '=' {
				toks = append(toks, token{kind: tOp, pos: i, text: src[i : i+2]})
				i += 2
			} else if c == '!' {
				return nil, &ParseError{Pos: i, Msg: "'!' must be followed by '=' (use not() for negation)"}
			} else {
				toks = append(toks, token{kind: tOp, pos: i, text: src[i : i+1]})
				i++
			}
		case c == '+' || c == '-' || c == '*' || c == '=' || c == '|':
			toks = append(toks, token{kind: tOp, pos: i, text: src[i : i+1]})
			i++
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			return nil, &ParseError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", r)}
		}
	}
	toks = append(toks, token{kind: tEOF, pos: len(src)})
	return toks, nil
}

// validName reports whether s is a valid question (XML element) name.
func validName(s string) bool {
	return s != "" && scanName(s, 0) == len(s)
}

// ---- AST ----

type node interface{}

type numNode struct{ v float64 }
type strNode struct{ v string }
type refNode struct {
	name string
	pos  int
	// it is the question name refers to in the compiled form c (set by
	// Form.Compile; evaluation then skips looking the name up).
	it *item
	c  *compiled
}
type selfNode struct{}
type parentNode struct{}
type nameNode struct{ name string }

// lookupNode is instance('list')/root/item[pred]/field: the field of the
// items of list for which pred (bare names are the item's columns) holds.
type lookupNode struct {
	list  string
	pred  node // nil: every item
	field string
	pos   int
}
type negNode struct{ x node }
type binNode struct {
	op   string
	code binOp // op, read once (see newBin)
	l, r node
}

func newBin(op string, l, r node) *binNode { return &binNode{op: op, code: binOpOf(op), l: l, r: r} }

type callNode struct {
	fn   string
	args []node
	pos  int
	re   *regexp.Regexp                 // regex with a literal pattern, compiled once
	eval func(c *callNode, e env) value // fn's evaluation, set by the parser from functions
}

func walkNodes(n node, f func(node)) {
	f(n)
	switch n := n.(type) {
	case *negNode:
		walkNodes(n.x, f)
	case *binNode:
		walkNodes(n.l, f)
		walkNodes(n.r, f)
	case *callNode:
		for _, a := range n.args {
			walkNodes(a, f)
		}
	case *lookupNode:
		if n.pred != nil {
			walkNodes(n.pred, f)
		}
	}
}

// ---- parser (recursive descent, XPath 1.0 precedence) ----

type parser struct {
	toks  []token
	i     int
	depth int
	src   string
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isOpWord reports whether the next token is the operator word w (and, or,
// div, mod), which XPath recognizes only in operator position.
func (p *parser) isOp(w string) bool {
	t := p.peek()
	return (t.kind == tOp || t.kind == tName) && t.text == w
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return &ParseError{Pos: p.peek().pos, Msg: fmt.Sprintf("expression nested deeper than %d levels", maxDepth)}
	}
	return nil
}

func (p *parser) parseOr() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isOp("or") {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = newBin("or", l, r)
	}
	return l, nil
}

func (p *parser) parseAnd() (node, error) {
	l, err := p.parseEq()
	if err != nil {
		return nil, err
	}
	for p.isOp("and") {
		p.next()
		r, err := p.parseEq()
		if err != nil {
			return nil, err
		}
		l = newBin("and", l, r)
	}
	return l, nil
}

func (p *parser) parseEq() (node, error) {
	l, err := p.parseRel()
	if err != nil {
		return nil, err
	}
	for p.isOp("=") || p.isOp("!=") {
		op := p.next().text
		r, err := p.parseRel()
		if err != nil {
			return nil, err
		}
		l = newBin(op, l, r)
	}
	return l, nil
}

func (p *parser) parseRel() (node, error) {
	l, err := p.parseAdd()
	if err != nil {
		return nil, err
	}
	for p.isOp("<") || p.isOp("<=") || p.isOp(">") || p.isOp(">=") {
		op := p.next().text
		r, err := p.parseAdd()
		if err != nil {
			return nil, err
		}
		l = newBin(op, l, r)
	}
	return l, nil
}

func (p *parser) parseAdd() (node, error) {
	l, err := p.parseMul()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		op := p.next().text
		r, err := p.parseMul()
		if err != nil {
			return nil, err
		}
		l = newBin(op, l, r)
	}
	return l, nil
}

func (p *parser) parseMul() (node, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("div") || p.isOp("mod") {
		op := p.next().text
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = newBin(op, l, r)
	}
	return l, nil
}

func (p *parser) parseUnary() (node, error) {
	if p.isOp("-") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		p.next()
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &negNode{x: x}, nil
	}
	return p.parseUnion()
}

func (p *parser) parseUnion() (node, error) {
	l, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for p.isOp("|") {
		p.next()
		r, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		l = newBin("|", l, r)
	}
	return l, nil
}

func (p *parser) parsePrimary() (node, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return &numNode{v: t.num}, nil
	case tStr:
		return &strNode{v: t.text}, nil
	case tRef:
		return &refNode{name: t.text, pos: t.pos}, nil
	case tDot:
		return &selfNode{}, nil
	case tDDot:
		return &parentNode{}, nil
	case tInst:
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		n := &lookupNode{list: t.text, pos: t.pos}
		if p.peek().kind == tLBr {
			p.next()
			pred, err := p.parseOr()
			if err != nil {
				return nil, err
			}
			if c := p.next(); c.kind != tRBr {
				return nil, &ParseError{Pos: c.pos, Msg: fmt.Sprintf("expected ']' but found %s", c.describe())}
			}
			n.pred = pred
		}
		if p.peek().kind == tStep {
			n.field = p.next().text
		}
		return n, nil
	case tLPar:
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRPar {
			return nil, &ParseError{Pos: c.pos, Msg: fmt.Sprintf("expected ')' but found %s", c.describe())}
		}
		return n, nil
	case tName:
		if p.peek().kind == tLPar {
			return p.parseCall(t)
		}
		if strings.Contains(t.text, "::") {
			// label::English is a column header, not a name: in XPath
			// "label::" is an axis, and ODK's engines cannot load the form
			return nil, &ParseError{Pos: t.pos, Msg: fmt.Sprintf("%q is a column header, not a name: in an XForm \"::\" starts an XPath axis and ODK Collect cannot load the form; filter on a choices column whose header has no \"::\"", t.text)}
		}
		return &nameNode{name: t.text}, nil
	}
	return nil, &ParseError{Pos: t.pos, Msg: fmt.Sprintf("unexpected %s", t.describe())}
}

func (p *parser) parseCall(name token) (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.next() // (
	fn := name.text
	if strings.HasPrefix(fn, "jr:") {
		fn = fn[3:]
	}
	spec, ok := functions[fn]
	if !ok {
		return nil, &ParseError{Pos: name.pos, Msg: fmt.Sprintf("unknown function %s()", name.text)}
	}
	c := &callNode{fn: fn, pos: name.pos}
	if p.peek().kind != tRPar {
		for {
			a, err := p.parseOr()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if t := p.next(); t.kind != tRPar {
		return nil, &ParseError{Pos: t.pos, Msg: fmt.Sprintf("expected ',' or ')' in %s() but found %s", fn, t.describe())}
	}
	n := len(c.args)
	if n < spec.minArgs || spec.maxArgs >= 0 && n > spec.maxArgs {
		want := fmt.Sprintf("%d", spec.minArgs)
		switch {
		case spec.maxArgs < 0:
			want = fmt.Sprintf("at least %d", spec.minArgs)
		case spec.maxArgs != spec.minArgs:
			want = fmt.Sprintf("%d to %d", spec.minArgs, spec.maxArgs)
		}
		return nil, &ParseError{Pos: name.pos, Msg: fmt.Sprintf("%s() takes %s arguments, got %d", fn, want, n)}
	}
	if spec.check != nil {
		if err := spec.check(c); err != nil {
			return nil, &ParseError{Pos: name.pos, Msg: err.Error()}
		}
	}
	c.eval = spec.eval
	return c, nil
}
