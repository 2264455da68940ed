package questionnaire

import (
	"fmt"
	"maps"
	"math/big"
	"strconv"
	"strings"
)

// rangeSpec is a range question's start, end and step (the parameters
// column, pyxform's defaults 1, 10 and 1). The answer is a whole number
// when all three are whole, else a decimal, as pyxform types the bind; it
// lies between start and end and is start plus a whole number of steps.
type rangeSpec struct {
	start, end, step *big.Rat
	whole            bool
	text             string // "start=1 end=10 step=1" for messages
}

// compileRange reads and checks a range's parameters as pyxform does
// (validators/pyxform/question_types/range.py): each a number, step not
// zero nor wider than the range, tick_interval a multiple of step, the
// placeholder a step of the range.
func compileRange(it *item, fail func(sheet string, row int, col, format string, args ...any)) *rangeSpec {
	p := rangeParams(it)
	num := func(name string) (*big.Rat, bool) {
		s, ok := p[name]
		if !ok {
			return nil, true
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			fail("survey", it.q.Row, "parameters", "range %q%s: the parameter %s=%s must be a number", it.q.Name, labelOf(it.q), name, s)
			return nil, false
		}
		return r, true
	}
	start, ok1 := num("start")
	end, ok2 := num("end")
	step, ok3 := num("step")
	tick, ok4 := num("tick_interval")
	placeholder, ok5 := num("placeholder")
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return nil
	}
	width := new(big.Rat).Sub(end, start)
	width.Abs(width)
	bad := func(format string, args ...any) *rangeSpec {
		fail("survey", it.q.Row, "parameters", "range %q%s: "+format, append([]any{it.q.Name, labelOf(it.q)}, args...)...)
		return nil
	}
	if step.Sign() == 0 {
		return bad("step must not be 0")
	}
	if new(big.Rat).Abs(step).Cmp(width) > 0 {
		return bad("step %s is wider than the range from %s to %s", p["step"], p["start"], p["end"])
	}
	if tick != nil {
		switch {
		case tick.Sign() == 0:
			return bad("tick_interval must not be 0")
		case tick.Cmp(width) > 0:
			return bad("tick_interval %s is wider than the range from %s to %s", p["tick_interval"], p["start"], p["end"])
		case !isWhole(new(big.Rat).Quo(tick, step)):
			return bad("tick_interval %s is not a multiple of step %s", p["tick_interval"], p["step"])
		}
	}
	if placeholder != nil {
		if !isWhole(new(big.Rat).Quo(new(big.Rat).Sub(placeholder, start), step)) {
			return bad("placeholder %s is not start plus a multiple of step %s", p["placeholder"], p["step"])
		}
		if placeholder.Cmp(minRat(start, end)) < 0 || placeholder.Cmp(maxRat(start, end)) > 0 {
			return bad("placeholder %s is not between start %s and end %s", p["placeholder"], p["start"], p["end"])
		}
	}
	rs := &rangeSpec{start: start, end: end, step: step, whole: true,
		text: fmt.Sprintf("start=%s end=%s step=%s", p["start"], p["end"], p["step"])}
	for _, r := range []*big.Rat{start, end, step, tick, placeholder} {
		if r != nil && !r.IsInt() {
			rs.whole = false
		}
	}
	return rs
}

func isWhole(r *big.Rat) bool { return r.IsInt() }

func minRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

func maxRat(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// check tells whether the normalized answer v (int64 or float64) is a
// value of the range.
func (rs *rangeSpec) check(v any) (code, msg string) {
	var s string
	switch x := v.(type) {
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return "", ""
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return CodeType, fmt.Sprintf("expected a number, got %s", s)
	}
	lo, hi := minRat(rs.start, rs.end), maxRat(rs.start, rs.end)
	if r.Cmp(lo) < 0 || r.Cmp(hi) > 0 {
		return CodeConstraint, fmt.Sprintf("%s is outside the range (%s)", s, rs.text)
	}
	if !isWhole(new(big.Rat).Quo(new(big.Rat).Sub(r, rs.start), rs.step)) {
		return CodeConstraint, fmt.Sprintf("%s is not a step of the range (%s)", s, rs.text)
	}
	return "", ""
}

// isRange reports whether a survey type is range.
func isRange(typ string) bool { return strings.EqualFold(strings.TrimSpace(typ), "range") }

// rangeParams reads a range's parameters column ("start=1 end=10 step=1").
func rangeParams(it *item) map[string]string {
	p := map[string]string{"start": "1", "end": "10", "step": "1"}
	maps.Copy(p, params(it))
	return p
}

// params reads a row's parameters column: "start=0 end=5", "randomize=true
// seed=${s}", "max-pixels=1024" (spaces, commas or ; between).
func params(it *item) map[string]string {
	return parseParams(it.q.Extra["parameters"])
}
