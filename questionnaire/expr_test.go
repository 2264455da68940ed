package questionnaire

import (
	"math"
	"strings"
	"testing"
	"time"
)

// mapEnv is a test env: references come from a map of node sets.
type mapEnv struct {
	refs map[string]nodeset
	cur  nodeset
	pos  int
	t    time.Time
}

func (m *mapEnv) ref(name string) nodeset { return m.refs[name] }
func (m *mapEnv) indexed(name string, repeats []string, idx []int) nodeset {
	ns := m.refs[name]
	if len(idx) == 1 && idx[0] >= 1 && idx[0] <= len(ns) {
		return nodeset{ns[idx[0]-1]}
	}
	return nodeset{}
}
func (m *mapEnv) self() nodeset              { return m.cur }
func (m *mapEnv) column(name string) nodeset { return nodeset{} }

func (m *mapEnv) lookup(n *lookupNode) nodeset      { return nodeset{} }
func (m *mapEnv) position(string) int               { return m.pos }
func (m *mapEnv) now() time.Time                    { return m.t }
func (m *mapEnv) pulldata(_, _, _, _ string) string { return "" }

func nodes(num bool, vals ...string) nodeset {
	out := nodeset{}
	for _, v := range vals {
		out = append(out, xnode{s: v, num: num})
	}
	return out
}

func TestEval(t *testing.T) {
	env := &mapEnv{
		refs: map[string]nodeset{
			"a":     nodes(true, "4"),
			"empty": nodes(false, ""),
			"zero":  nodes(true, "0"),
			"fr":    nodes(false, "a b"),
			"ages":  nodes(true, "10", "20", "30"),
			"d":     nodes(false, "2025-03-01"),
		},
		cur: nodes(true, "5"),
		pos: 2,
		t:   time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC),
	}
	cases := []struct{ expr, want string }{
		{"1 + 2 * 3", "7"},
		{"(1 + 2) * 3", "9"},
		{"10 div 4", "2.5"},
		{"7 mod 3", "1"},
		{"-2 + 5", "3"},
		{"--2", "2"},
		{"1 div 0", "Infinity"},
		{"1 = 1", "true"},
		{"'a' != 'b'", "true"},
		{"'2' < '10'", "true"},
		{"2 <= 2 and 3 >= 4", "false"},
		{"1 or 0", "true"},
		{"${a} + 1", "5"},
		{"${empty} + 1", "NaN"},
		{"${empty} = ''", "true"},
		{"${empty} > 3", "false"},
		{"if(${zero}, 'y', 'n')", "n"},
		{"if(${a}, 'y', 'n')", "y"},
		{"if(${empty}, 'y', 'n')", "n"},
		{"${ages} = 20", "true"},
		{"${ages} = 25", "false"},
		{"selected(${fr}, 'b')", "true"},
		{"selected(${fr}, 'c')", "false"},
		{"count-selected(${fr})", "2"},
		{"selected-at(${fr}, 1)", "b"},
		{"selected-at(${fr}, 5)", ""},
		{"if(1 > 2, 'x', 'y')", "y"},
		{"coalesce(${empty}, 'z')", "z"},
		{"coalesce(${a}, 'z')", "4"},
		{"concat('a', 1, 'b', ${ages})", "a1b102030"},
		{"string-length('héllo')", "5"},
		{"substr('abcdef', 1, 3)", "bc"},
		{"substr('abcdef', 4)", "ef"},
		{"substr('abc', 10, 20)", ""},
		{"contains('migration', 'gra')", "true"},
		{"starts-with('migration', 'mig')", "true"},
		{"ends-with('migration', 'ion')", "true"},
		{"regex('abc123', '^[a-z]+[0-9]+$')", "true"},
		{"regex('abc', '^[0-9]+$')", "false"},
		{"int(3.7)", "3"},
		{"int(-3.7)", "-3"},
		{"number('4.5')", "4.5"},
		{"number('x')", "NaN"},
		{"string(5)", "5"},
		{"string(0.5)", "0.5"},
		{"round(2.456, 2)", "2.46"},
		{"round(2.5)", "3"},
		{"round(-2.5)", "-2"},
		{"today()", "2025-03-14"},
		{"now()", "2025-03-14T10:00:00.000Z"},
		{"date('2025-01-02')", "2025-01-02"},
		{"date(0)", "1970-01-01"},
		{"date(20000)", "2024-10-04"},
		{"decimal-date-time('1970-01-02T12:00:00Z')", "1.5"},
		{"decimal-date-time(date('1970-01-11'))", "10"},
		{"format-date(date('2025-03-04'), '%Y/%m/%d %e %n %b')", "2025/03/04 4 3 Mar"},
		{"today() - date('2025-03-01')", "13"},
		{"${d} < today()", "true"},
		{"${d} > today()", "false"},
		{"position(..)", "2"},
		{"count(${ages})", "3"},
		{"sum(${ages})", "60"},
		{"min(${ages})", "10"},
		{"max(${ages})", "30"},
		{"max(1, 7, 3)", "7"},
		{"min(${ages}, 5)", "5"},
		{"sum(${empty})", "NaN"},
		{"indexed-repeat(${ages}, ${ages}, 2)", "20"},
		{"indexed-repeat(${ages}, ${ages}, 9)", ""},
		{"not(true())", "false"},
		{"true() and false()", "false"},
		{"boolean('')", "false"},
		{". > 3", "true"},
		{"string-length()", "1"},
		{"pow(2, 10)", "1024"},
		{"abs(-3)", "3"},
		{"floor(2.7) + ceiling(2.1)", "5"},
		{"round(sqrt(16), 0)", "4"},
		{"join('-', ${ages})", "10-20-30"},
		{"normalize-space('  a   b ')", "a b"},
		{"/data/grp/a * 2", "8"},
		{"once(3)", "3"},
	}
	for _, c := range cases {
		e, err := ParseExpr(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := toString(e.eval(env)); got != c.want {
			t.Errorf("%s = %q, want %q", c.expr, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		expr string
		pos  int
		msg  string
	}{
		{"1 +", 3, "unexpected end of expression"},
		{"foo(1)", 0, "unknown function foo()"},
		{"if(1, 2)", 0, "if() takes 3 arguments, got 2"},
		{"'abc", 0, "unterminated string"},
		{"${a", 0, "unterminated ${ reference"},
		{"${1a}", 0, "bad question name"},
		{"1 ! 2", 2, "'!' must be followed by '='"},
		{"1 2", 2, "unexpected \"2\""},
		{"(1", 2, "expected ')'"},
		{"concat(1 2)", 9, "expected ',' or ')'"},
		{"regex(., '[')", 0, "bad regular expression"},
		{"indexed-repeat(${a}, 1, 2)", 0, "must be a ${repeat} reference"},
		{"position(1)", 0, "position() takes .. or a ${repeat} reference"},
		{"1 # 2", 2, "unexpected character '#'"},
		{"${a} = ‘x’", 7, "unexpected character '‘'"},
		{"1.2.3", 0, "bad number"},
		{strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200), 100, "nested deeper than"},
		{strings.Repeat("-", 300) + "1", 99, "nested deeper than"},
		{strings.Repeat("x", maxExprLen+1), maxExprLen, "longer than"},
	}
	for _, c := range cases {
		_, err := ParseExpr(c.expr)
		pe, ok := err.(*ParseError)
		if !ok {
			t.Errorf("%.30s: err %v, want a ParseError", c.expr, err)
			continue
		}
		if pe.Pos != c.pos || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("%.30s: got position %d %q, want %d %q", c.expr, pe.Pos, pe.Msg, c.pos, c.msg)
		}
	}
}

func TestExprRefs(t *testing.T) {
	e, err := ParseExpr("${a} + ${b} * ${a} + /data/g/c")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.Refs(), ","); got != "a,b,c" {
		t.Errorf("refs %s", got)
	}
	if e.String() != "${a} + ${b} * ${a} + /data/g/c" {
		t.Errorf("String %q", e.String())
	}
}

func TestNumberConversions(t *testing.T) {
	if !math.IsNaN(stringToNumber("")) || !math.IsNaN(stringToNumber("0x10")) || stringToNumber(" 12 ") != 12 {
		t.Errorf("stringToNumber")
	}
	if stringToNumber("1970-01-03") != 2 {
		t.Errorf("date as number: %v", stringToNumber("1970-01-03"))
	}
}
