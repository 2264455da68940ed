package questionnaire

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

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
	if e.st.tracing {
		e.traceWalk(it, frames, e.st.root, 0, nil)
		return e.buf[start:len(e.buf):len(e.buf)]
	}
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
	list, _ := m[rep.key].([]any)
	for _, x := range list {
		if inst, ok := x.(map[string]any); ok {
			e.walk(it, frames, inst, level+1)
		}
	}
}

// traceWalk is walk for an evaluation that records what it reads (see
// vstate.trace): fs are the frames of the instance m, and every answer
// read, and every repeat found empty on the way, is noted with its
// instance.
func (e *evalEnv) traceWalk(it *item, frames []frame, m map[string]any, level int, fs []frame) {
	chain := it.repeats
	if level == len(chain) {
		e.leaf(it, m)
		e.st.noteRead(it, fs)
		return
	}
	rep := chain[level]
	if level < len(frames) && frames[level].rep == rep {
		e.traceWalk(it, frames, frames[level].m, level+1, append(fs[:level:level], frames[level]))
		return
	}
	list, _ := m[rep.key].([]any)
	if len(list) == 0 {
		e.st.noteRead(rep, fs) // the answers are missing with their repeat
		return
	}
	for i, x := range list {
		if inst, ok := x.(map[string]any); ok {
			e.traceWalk(it, frames, inst, level+1, append(fs[:level:level], frame{rep: rep, idx: i, m: inst}))
		}
	}
}

// leaf appends the nodes of it in the instance m it is answered in: one
// empty node per entry of a repeat, one empty node for a group, the
// answer for a field.
func (e *evalEnv) leaf(it *item, m map[string]any) {
	switch it.kind {
	case kindRepeat:
		list, _ := m[it.key].([]any)
		for range list {
			e.buf = append(e.buf, xnode{})
		}
	case kindGroup:
		e.buf = append(e.buf, xnode{})
	default:
		e.buf = append(e.buf, valueNode(m[it.key]))
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
	return e.one(valueNode(e.m[e.cur.key]))
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

// lookup reads a list of the choices sheet as ODK reads the secondary
// instance pyxform makes of it: the field (a column; the name when none is
// given) of each item for which the predicate holds, the item's columns
// being its bare names. A list that is not in the choices sheet is a media
// file given by Form.AttachMedia (CSV rows or XML root/item), else empty;
// calculations reading one keep the device's value (see item.clientHeld).
func (e *evalEnv) lookup(n *lookupNode) nodeset {
	rows := e.st.c.lists[n.list]
	if rows == nil {
		rows = e.st.c.mediaRows[n.list]
	}
	field := n.field
	if field == "" {
		field = "name"
	}
	var vals []string
	saved := e.choice
	for _, ch := range rows {
		e.choice = ch
		if n.pred == nil || evalNode(n.pred, e).boolean() {
			if col := e.column(field); len(col) > 0 {
				vals = append(vals, col[0].str())
			}
		}
	}
	e.choice = saved
	start := len(e.buf)
	for _, v := range vals {
		e.buf = append(e.buf, xnode{s: v})
	}
	return e.buf[start:len(e.buf):len(e.buf)]
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

func (e *evalEnv) pulldata(file, col, keyCol, value string) string {
	return e.st.c.pulldata(file, col, keyCol, value)
}
