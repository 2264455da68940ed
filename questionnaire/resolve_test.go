package questionnaire

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"
)

// resolveGeneral is resolve without its fast path: the walk over every
// repeat level.
func (e *evalEnv) resolveGeneral(name string, frames []frame) nodeset {
	it, ok := e.st.c.byName[name]
	if !ok {
		return nodeset{}
	}
	start := len(e.buf)
	e.walk(it, frames, e.st.root, 0)
	return e.buf[start:len(e.buf):len(e.buf)]
}

// contexts lists the frames of every repeat instance reachable in m (and
// the top level, no frames).
func contexts(c *compiled, level *item, frames []frame, m map[string]any) [][]frame {
	out := [][]frame{append([]frame(nil), frames...)}
	for _, it := range c.members[level] {
		if it.kind != kindRepeat {
			continue
		}
		list, _ := m[it.q.Name].([]any)
		for i, x := range list {
			inst, _ := x.(map[string]any)
			if inst == nil {
				continue
			}
			sub := append(append([]frame(nil), frames...), frame{rep: it, idx: i, m: inst})
			out = append(out, contexts(c, it, sub, inst)...)
		}
	}
	return out
}

// TestResolveFastPath checks that resolve's one-instance fast path finds
// what the walk over all repeat levels finds, for every question in every
// repeat instance of the example submissions.
func TestResolveFastPath(t *testing.T) {
	form := Household()
	subs := [][]byte{HouseholdExampleJSON(),
		[]byte(`{"answers": {"members": [{"age": "x"}, {"age": 7, "sex": "female"}], "migrants": 3, "gps": "1 2 3 4 5", "n_members": 2}}`)}
	for _, data := range subs {
		var s struct {
			Answers map[string]any `json:"answers"`
		}
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		out, _ := form.Validate(s.Answers, ValidateOptions{Now: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)})
		st := &vstate{f: form, c: form.c, root: out, bad: map[string]bool{}}
		for _, frames := range contexts(form.c, nil, nil, out) {
			for name := range form.c.byName {
				e := &evalEnv{st: st, frames: frames}
				fast := e.resolve(name, frames)
				general := e.resolveGeneral(name, frames)
				if len(fast) != len(general) {
					t.Fatalf("%s in %v: %d nodes, want %d", name, frames, len(fast), len(general))
				}
				for i := range fast {
					if fast[i].str() != general[i].str() || fast[i].num != general[i].num {
						t.Errorf("%s in %v: node %d is %q, want %q", name, frames, i, fast[i].str(), general[i].str())
					}
				}
			}
		}
	}
}

// TestValueNodeNumbers checks that a node made from a number keeps the
// string value and the number of the string that it stands for.
func TestValueNodeNumbers(t *testing.T) {
	vals := []any{int64(0), int64(-1), int64(47), int64(1<<53 + 1), int64(math.MaxInt64), int64(math.MinInt64), 3, -250,
		0.0, math.Copysign(0, -1), 0.1, 2.5, -1e-7, 1e21, 123456789.125, 1 << 53, 1e300, math.SmallestNonzeroFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1), json.Number("12"), json.Number("1e3")}
	for _, v := range vals {
		var want string
		switch x := v.(type) {
		case int64:
			want = strconv.FormatInt(x, 10)
		case int:
			want = strconv.Itoa(x)
		case float64:
			want = formatNumber(x)
		case json.Number:
			want = x.String()
		}
		n := valueNode(v)
		if n.str() != want || !n.num {
			t.Errorf("%v: string %q, want %q", v, n.str(), want)
		}
		got, wantNum := n.number(), stringToNumber(want)
		if math.Float64bits(got) != math.Float64bits(wantNum) && !(math.IsNaN(got) && math.IsNaN(wantNum)) {
			t.Errorf("%v: number %v, want %v", v, got, wantNum)
		}
		for _, s := range []string{want, "", "0", "47", "-0", want + "0"} {
			if n.strEq(s) != (want == s) {
				t.Errorf("%v: strEq(%q) = %v", v, s, n.strEq(s))
			}
		}
		for _, w := range vals {
			m := valueNode(w)
			if nodeStrEq(n, m) != (n.str() == m.str()) {
				t.Errorf("nodeStrEq(%v, %v) = %v", v, w, nodeStrEq(n, m))
			}
		}
	}
}
