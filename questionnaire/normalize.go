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

func (st *vstate) normalizeLevel(level *item, in map[string]any, inst instPath) map[string]any {
	// room for the answers and the calculations the passes add
	out := make(map[string]any, len(in)+st.c.calcs[level])
	// known keys in form order (the level's members), then unknown keys
	// sorted
	known := 0
	for _, it := range st.c.members[level] {
		v, ok := in[it.key]
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
		if _, ok := st.c.keys[level][k]; !ok {
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
	k := it.key
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
	out, code, msg := normalizeBase(it, v, c)
	if code == "" && out != nil && it.rng != nil {
		code, msg = it.rng.check(out)
		if code != "" {
			return nil, code, msg
		}
	}
	return out, code, msg
}

// normalizeBase is normalizeValue for the item's base type.
func normalizeBase(it *item, v any, c *compiled) (any, string, string) {
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
			return nil, CodeChoice, it.notAChoice([]string{s})
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
				if it.sens == "direct" {
					return nil, CodeType, "a choice is selected twice"
				}
				return nil, CodeType, fmt.Sprintf("choice %q is selected twice", s)
			}
			if !it.hasChoice(s, c) {
				badOnes = append(badOnes, s)
			}
		}
		if len(badOnes) > 0 {
			return nil, CodeChoice, it.notAChoice(badOnes)
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
	if it.external && it.choices != nil {
		// an external select whose choices are known (external_choices
		// sheet, media file): checked like a select, kept as the string
		// the XForm holds (space-separated names for select_multiple)
		names := []string{s}
		if strings.HasPrefix(it.base, "select_multiple") {
			names = strings.Fields(s)
		}
		var badOnes []string
		for _, n := range names {
			if !it.hasChoice(n, c) {
				badOnes = append(badOnes, n)
			}
		}
		if len(badOnes) > 0 {
			return nil, CodeChoice, it.notAChoice(badOnes)
		}
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

// maxListedChoices is the most allowed values a choice problem lists.
const maxListedChoices = 20

// notAChoice says that the values bad are not choices of the item's list
// and which are (`"maybe" is not one of: yes, no`). The values are not
// repeated for a direct identifier. Values longer than 40 bytes are cut.
func (it *item) notAChoice(bad []string) string {
	if it.sens == "direct" {
		if it.base == "select_one" {
			return "the answer is not one of the allowed values"
		}
		if len(bad) == 1 {
			return "1 choice is not one of the allowed values"
		}
		return strconv.Itoa(len(bad)) + " choices are not among the allowed values"
	}
	var b strings.Builder
	for i, s := range bad {
		if i > 0 {
			b.WriteString(", ")
		}
		if len(s) > 40 {
			s = strings.ToValidUTF8(s[:40], "") + "…"
		}
		b.WriteString(strconv.Quote(s))
	}
	if len(bad) == 1 {
		b.WriteString(" is not one of: ")
	} else {
		b.WriteString(" are not among: ")
	}
	b.WriteString(it.allowedChoices())
	return b.String()
}

// allowedChoices lists the names of the item's choices in list order,
// and "other" for or_other, cut after maxListedChoices with "…".
func (it *item) allowedChoices() string {
	names := make([]string, 0, min(len(it.choices)+1, maxListedChoices+1))
	more := false
	add := func(name string) {
		if slices.Contains(names, name) {
			return
		}
		if len(names) == maxListedChoices {
			more = true
			return
		}
		names = append(names, name)
	}
	for _, ch := range it.choices {
		add(ch.Name)
	}
	if it.orOther {
		add("other")
	}
	s := strings.Join(names, ", ")
	if more {
		s += ", …"
	}
	if s == "" {
		s = "(the list " + it.list + " is empty)"
	}
	return s
}

// hasChoice reports whether name is a choice of the item's list (or
// "other" for or_other selects; anything for external lists).
func (it *item) hasChoice(name string, c *compiled) bool {
	if it.external && it.choices == nil || it.orOther && name == "other" {
		return true
	}
	for _, ch := range it.choices {
		if ch.Name == name {
			return true
		}
	}
	return false
}
