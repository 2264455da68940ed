package questionnaire

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type itemKind int

const (
	kindField itemKind = iota
	kindNote
	kindGroup
	kindRepeat
)

// item is one compiled survey row (groups and repeats with their
// children).
type item struct {
	q        *Question
	kind     itemKind
	base     string // base type, see Field.Type
	list     string // choice list of a select
	orOther  bool   // select ... or_other: "other" is a valid answer
	external bool   // choices not in the choices sheet (select_one_external, ..._from_file)
	parent   *item  // enclosing group or repeat, nil at top level
	repeats  []*item
	sens     string
	// key is the item's answer key in its repeat level's answers: its
	// name, or, when another item of the level has the same name (in
	// another group), its path of groups from the level, as
	// "head/age".
	key string

	relevant, constraint, calc, filter, count, required *Expr
	requiredStatic                                      bool
	// relChain lists the items whose relevant applies to this item's
	// answer, from the outermost group inside its repeat level down to
	// the item itself.
	relChain []*item
	choices  []*ChoiceRow // the choices of list
	// calcInside marks a repeat with a calculation among its items (at any
	// depth); the calculation pass skips the others.
	calcInside bool
	// calcSlot numbers the top-level calculations (-1 for other items);
	// calcDeps are the items whose answers a top-level calculation
	// reads: the questions it references and their repeats, and itself
	// when it reads its own value.
	calcSlot int
	calcDeps []*item
	rng      *rangeSpec // a range's parameters
	// clientHeld marks a calculation that calls a function whose value
	// only the device knows (random(), uuid(), pulldata(), once()): the
	// answer the client sent is kept, and computed only when it is empty.
	clientHeld bool
}

// level is the repeat an item's answer lives in (nil = top level).
func (it *item) level() *item {
	if len(it.repeats) == 0 {
		return nil
	}
	return it.repeats[len(it.repeats)-1]
}

func (it *item) field(c *compiled) Field {
	fd := Field{Name: it.key, Type: it.base, ListName: it.list, Sensitivity: it.sens, Required: it.requiredStatic}
	if r := it.level(); r != nil {
		fd.Repeat = r.q.Name
		for _, p := range it.repeats {
			fd.Repeats = append(fd.Repeats, p.q.Name)
		}
	}
	if it.list != "" && !it.external {
		for _, ch := range c.lists[it.list] {
			fd.Choices = append(fd.Choices, Choice{Name: ch.Name, Labels: copyStrings(ch.Label)})
		}
	}
	if len(it.q.Label) > 0 {
		fd.Labels = map[string]string{}
		for k, v := range it.q.Label {
			fd.Labels[k] = v
		}
	}
	return fd
}

type compiled struct {
	all      []*item                    // every item in form order
	fields   []*item                    // answerable items
	byName   map[string]*item           // items by name, for the names used once in the form
	dups     map[string][]*item         // the names used more than once (in different groups or repeats)
	keys     map[*item]map[string]*item // repeat level (nil = top) -> answer key -> item
	lists    map[string][]*ChoiceRow
	members  map[*item][]*item // repeat level (nil = top) -> items answered at that level (fields, notes, repeats)
	calcs    map[*item]int     // repeat level (nil = top) -> number of calculations answered at that level
	topCalcs int               // number of top-level calculations (see item.calcSlot)
	// media holds the CSV media files given by Form.AttachMedia, by
	// instance id (file name without extension), for pulldata().
	media map[string][][]string
	// mediaRows are the items of every media file (CSV rows, XML
	// root/item), by instance id, for instance('id')/root/item lookups.
	mediaRows map[string][]*ChoiceRow
}

// Field types a form may use, with the kind of answer Validate expects.
var baseTypes = map[string]string{
	"integer": "integer", "int": "integer", "decimal": "decimal", "range": "decimal",
	"text": "text", "string": "text", "date": "date", "datetime": "datetime", "datetime-local": "datetime", "time": "time",
	"geopoint": "geopoint", "gps": "geopoint", "start-geopoint": "geopoint", "background-geopoint": "geopoint",
	"geotrace": "geotrace", "geoshape": "geoshape",
	"note": "note", "calculate": "calculate", "acknowledge": "acknowledge", "trigger": "acknowledge",
	"start": "start", "end": "end", "today": "today", "deviceid": "deviceid", "audit": "audit",
	"simserial": "simserial", "subscriberid": "subscriberid", "phonenumber": "phonenumber",
	"username": "username", "email": "email", "uri:deviceid": "deviceid", "uri:username": "username",
	"uri:email": "email", "uri:phonenumber": "phonenumber", "uri:subscriberid": "subscriberid", "uri:simserial": "simserial",
	"phone number": "text", "phone_number": "text",
	"image": "image", "photo": "image", "audio": "audio", "video": "video", "file": "file", "barcode": "barcode",
	"background-audio": "background-audio", "hidden": "hidden", "xml-external": "xml-external", "csv-external": "csv-external",
	// pyxform's older spellings (question_type_dictionary.py), which real
	// forms still use.
	"q int": "integer", "add integer prompt": "integer", "percentage": "integer",
	"number of days in last month": "integer", "number of days in last six months": "integer", "number of days in last year": "integer",
	"q decimal": "decimal", "add decimal prompt": "decimal",
	"q string": "text", "add text prompt": "text",
	"q date": "date", "add date prompt": "date",
	"q datetime": "datetime", "q date time": "datetime", "date time": "datetime", "add datetime prompt": "datetime", "add date time prompt": "datetime",
	"location": "geopoint", "q location": "geopoint", "add location prompt": "geopoint", "q geopoint": "geopoint",
	"q geotrace": "geotrace", "q geoshape": "geoshape",
	"q note": "note", "add note prompt": "note", "q calculate": "calculate", "add calculate prompt": "calculate",
	"q acknowledge": "acknowledge", "add acknowledge prompt": "acknowledge",
	"start time": "start", "get start time": "start", "end time": "end", "get end time": "end", "get today": "today",
	"imei": "deviceid", "device id": "deviceid", "get device id": "deviceid", "subscriber id": "subscriberid", "get subscriber id": "subscriberid",
	"sim id": "simserial", "get sim id": "simserial", "get phone number": "phonenumber",
	"q picture": "image", "q image": "image", "add image prompt": "image", "q audio": "audio", "add audio prompt": "audio",
	"q video": "video", "add video prompt": "video", "add file prompt": "file", "q barcode": "barcode", "add barcode prompt": "barcode",
}

var selectRE = regexp.MustCompile(`^(select_one|select one|select1|select_multiple|select multiple|select all that apply|select_one_external|select_multiple_external|rank|osm|add select one prompt using|select one using|q select1|add select multiple prompt using|select multiple using|q select)\s+(?:from\s+)?(\S+)(\s+or_other|\s+or other|\s+or specify other)?$`)

var fromFileRE = regexp.MustCompile(`^(select_one_from_file|select_multiple_from_file)\s+\S+(\s+or_other)?$`)

// parseType reads a survey type: "select_one yes_no" -> ("select_one",
// "yes_no"); "begin repeat" -> kindRepeat with begin = true.
func parseType(raw string) (kind itemKind, base, list string, begin, end, orOther, external bool, err error) {
	t := strings.Join(strings.Fields(strings.ToLower(raw)), " ")
	switch t {
	case "begin group", "begin_group", "begin field-list", "begin_field-list":
		return kindGroup, "group", "", true, false, false, false, nil
	case "end group", "end_group", "end field-list", "end_field-list":
		return kindGroup, "group", "", false, true, false, false, nil
	case "begin repeat", "begin_repeat":
		return kindRepeat, "repeat", "", true, false, false, false, nil
	case "end repeat", "end_repeat":
		return kindRepeat, "repeat", "", false, true, false, false, nil
	}
	if m := selectRE.FindStringSubmatch(t); m != nil {
		base := map[string]string{"select_one": "select_one", "select one": "select_one", "select1": "select_one",
			"select_multiple": "select_multiple", "select multiple": "select_multiple", "select all that apply": "select_multiple",
			"select_one_external": "select_one_external", "select_multiple_external": "select_multiple_external",
			"rank": "select_multiple", "osm": "osm",
			"add select one prompt using": "select_one", "select one using": "select_one", "q select1": "select_one",
			"add select multiple prompt using": "select_multiple", "select multiple using": "select_multiple", "q select": "select_multiple"}[m[1]]
		ext := base == "select_one_external" || base == "select_multiple_external" || base == "osm"
		// list names keep their case
		fields := strings.Fields(raw)
		list := m[2]
		for _, w := range fields {
			if strings.EqualFold(w, m[2]) {
				list = w
			}
		}
		return kindField, base, list, false, false, m[3] != "", ext, nil
	}
	if m := fromFileRE.FindStringSubmatch(t); m != nil {
		return kindField, m[1], "", false, false, m[2] != "", true, nil
	}
	if b, ok := baseTypes[t]; ok {
		if b == "note" {
			return kindNote, b, "", false, false, false, false, nil
		}
		if b == "xml-external" || b == "csv-external" {
			return kindNote, b, "", false, false, false, false, nil
		}
		return kindField, b, "", false, false, false, false, nil
	}
	if strings.HasPrefix(t, "begin loop") || strings.HasPrefix(t, "begin_loop") {
		return 0, "", "", false, false, false, false, errors.New("loops (begin loop) are not supported; use a repeat")
	}
	return 0, "", "", false, false, false, false, fmt.Errorf("unknown question type %q", raw)
}

// staticBool reads yes/no style cells: yes, true, true(), 1 / no, false,
// false(), 0, "".
func staticBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true", "true()", "1", "y":
		return true, true
	case "", "no", "false", "false()", "0", "n":
		return false, true
	}
	return false, false
}

// Compile checks the form (types, names, nesting, choice lists,
// expressions and the questions they reference, sensitivity classes) and
// prepares it for Fields and Validate. Decode, Load and Household return
// compiled forms; call Compile after building or changing a Form in code.
// The error is a FormErrors listing every problem.
func (f *Form) Compile() error {
	c := &compiled{byName: map[string]*item{}, lists: map[string][]*ChoiceRow{}, members: map[*item][]*item{}, calcs: map[*item]int{}}
	var errs FormErrors
	fail := func(sheet string, row int, col, format string, args ...any) {
		errs = append(errs, &FormError{Sheet: sheet, Row: row, Column: col, Err: fmt.Errorf(format, args...)})
	}
	allowDup, _ := staticBool(f.Settings["allow_choice_duplicates"])
	choiceSeen := map[string]int{}
	for i := range f.Choices {
		ch := &f.Choices[i]
		key := ch.ListName + "\x00" + ch.Name
		if prev, dup := choiceSeen[key]; dup && !allowDup {
			fail("choices", ch.Row, "name", "choice %q appears twice in list %q (also row %d); set allow_choice_duplicates to yes to allow it", ch.Name, ch.ListName, prev)
		}
		choiceSeen[key] = ch.Row
		c.lists[ch.ListName] = append(c.lists[ch.ListName], ch)
	}
	var stack []*item
	refused := map[string]int{}              // name -> row of a question refused for its type
	siblings := map[*item]map[string]*item{} // parent (nil: top) -> name -> item
	named := map[string][]*item{}            // name -> items, in form order
	for i := range f.Survey {
		q := &f.Survey[i]
		kind, base, list, begin, end, orOther, external, err := parseType(q.Type)
		if err != nil {
			fail("survey", q.Row, "type", "%v%s", err, questionOf(q))
			if q.Name != "" {
				refused[q.Name] = q.Row
			}
			continue
		}
		if end {
			if len(stack) == 0 || stack[len(stack)-1].kind != kind {
				what := "group"
				if kind == kindRepeat {
					what = "repeat"
				}
				if len(stack) == 0 {
					fail("survey", q.Row, "type", "end %s without a matching begin %s", what, what)
				} else {
					top := stack[len(stack)-1]
					fail("survey", q.Row, "type", "end %s does not match begin %s %q (row %d)", what, top.base, top.q.Name, top.q.Row)
				}
				continue
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if q.Name == "" && base == "note" && kind == kindNote {
			// A note without a name is named as pyxform names it
			// (generated_note_name_ROW), in the compiled form only: the form
			// as read, and written back, keeps the row as it was.
			named := *q
			named.Name = "generated_note_name_" + strconv.Itoa(q.Row)
			q = &named
		}
		it := &item{q: q, kind: kind, base: base, list: list, orOther: orOther, external: external, choices: c.lists[list]}
		if len(stack) > 0 {
			it.parent = stack[len(stack)-1]
			it.repeats = append([]*item(nil), it.parent.repeats...)
			if it.parent.kind == kindRepeat {
				it.repeats = append(it.repeats, it.parent)
			}
		}
		switch {
		case q.Name == "":
			fail("survey", q.Row, "name", "a %s needs a name", q.Type)
		case !validName(q.Name):
			fail("survey", q.Row, "name", "%q is not a valid name (letters, digits, _ - . ; starting with a letter or _)", q.Name)
		default:
			// XLSForm wants a name unique among its siblings only (the
			// questions, groups and repeats of one group or repeat, or of
			// the survey); a repeat's name is unique in the whole form.
			sib := siblings[it.parent]
			if sib == nil {
				sib = map[string]*item{}
				siblings[it.parent] = sib
			}
			if prev, dup := sib[q.Name]; dup {
				where := "at the top of the survey"
				if it.parent != nil {
					where = fmt.Sprintf("in %s %q (row %d)", it.parent.base, it.parent.q.Name, it.parent.q.Row)
				}
				fail("survey", q.Row, "name", "name %q%s is used twice %s, also on row %d: names must be unique among the questions, groups and repeats of one group or repeat", q.Name, labelOf(q), where, prev.q.Row)
				break
			}
			sib[q.Name] = it
			if prev, dup := named[q.Name]; dup && (kind == kindRepeat || prev[0].kind == kindRepeat) {
				fail("survey", q.Row, "name", "name %q%s is also the name of row %d: a repeat's name must be unique in the whole form", q.Name, labelOf(q), prev[0].q.Row)
				break
			}
			named[q.Name] = append(named[q.Name], it)
		}
		switch s := strings.ToLower(strings.TrimSpace(q.Sensitivity)); s {
		case "", "none":
			if it.parent != nil {
				it.sens = it.parent.sens
			}
		case "direct", "quasi", "sensitive":
			it.sens = s
		default:
			fail("survey", q.Row, "sensitivity", "sensitivity %q is not one of direct, quasi, sensitive or empty", q.Sensitivity)
		}
		if base == "decimal" && isRange(q.Type) {
			if it.rng = compileRange(it, fail); it.rng != nil && it.rng.whole {
				it.base = "integer"
			}
		}
		if (base == "select_one" || base == "select_multiple") && !external {
			if _, ok := c.lists[list]; !ok {
				fail("survey", q.Row, "type", "choice list %q is not in the choices sheet%s", list, questionOf(q))
			}
		}
		c.all = append(c.all, it)
		if kind == kindField {
			c.fields = append(c.fields, it)
		}
		if kind != kindGroup {
			c.members[it.level()] = append(c.members[it.level()], it)
		}
		if begin {
			stack = append(stack, it)
		}
	}
	for _, it := range stack {
		fail("survey", it.q.Row, "type", "begin %s %q has no matching end %s", it.base, it.q.Name, it.base)
	}
	c.dups = map[string][]*item{}
	for name, its := range named {
		if len(its) == 1 {
			c.byName[name] = its[0]
		} else {
			c.dups[name] = its
		}
	}
	assignKeys(c)
	// expressions
	parse := func(it *item, col, src string) *Expr {
		if strings.TrimSpace(src) == "" {
			return nil
		}
		e, err := ParseExpr(smartQuotes.Replace(src))
		if err != nil {
			fail("survey", it.q.Row, col, "%v%s", err, questionOf(it.q))
			return nil
		}
		var bad bool
		walkNodes(e.root, func(n node) {
			if r, ok := n.(*refNode); ok {
				if target, ok := c.byName[r.name]; ok {
					r.it, r.c = target, c
				} else if its, dup := c.dups[r.name]; dup && !bad {
					fail("survey", it.q.Row, col, "position %d: ${%s} is ambiguous: %s; a reference must name a question whose name is unique in the form", r.pos, r.name, describeDups(its))
					bad = true
				} else if row, ok := refused[r.name]; ok && !bad {
					fail("survey", it.q.Row, col, "position %d: ${%s} is the question of row %d, refused above for its type: this follows from that problem", r.pos, r.name, row)
					bad = true
				} else if !bad {
					fail("survey", it.q.Row, col, "position %d: unknown question ${%s}", r.pos, r.name)
					bad = true
				}
			}
			if call, ok := n.(*callNode); ok && call.fn == "indexed-repeat" {
				for i := 1; i < len(call.args); i += 2 {
					name := call.args[i].(*refNode).name
					if r, ok := c.byName[name]; ok && r.kind != kindRepeat {
						fail("survey", it.q.Row, col, "position %d: indexed-repeat(): ${%s} is not a repeat", call.pos, name)
						bad = true
					}
				}
			}
		})
		if bad {
			return nil
		}
		return e
	}
	for _, it := range c.all {
		q := it.q
		it.relevant = parse(it, "relevant", q.Relevant)
		if it.kind == kindField {
			it.constraint = parse(it, "constraint", q.Constraint)
		}
		if it.base == "calculate" {
			it.calc = parse(it, "calculation", q.Calculation)
			if it.calc != nil {
				walkNodes(it.calc.root, func(n node) {
					if call, ok := n.(*callNode); ok && clientFunctions[call.fn] {
						it.clientHeld = true
					}
					if l, ok := n.(*lookupNode); ok && c.lists[l.list] == nil {
						it.clientHeld = true // an attachment the device holds
					}
				})
			}
			if it.calc == nil && strings.TrimSpace(q.Calculation) == "" {
				fail("survey", q.Row, "calculation", "calculate %q has no calculation", q.Name)
			}
		} else if q.Calculation != "" {
			parse(it, "calculation", q.Calculation) // checked, computed by the client
		}
		if q.ChoiceFilter != "" {
			it.filter = parse(it, "choice_filter", q.ChoiceFilter)
		}
		if it.kind == kindRepeat {
			it.count = parse(it, "repeat_count", q.RepeatCount)
		}
		if v, ok := staticBool(q.Required); ok {
			it.requiredStatic = v
		} else {
			it.required = parse(it, "required", q.Required)
		}
		// relevance chain: enclosing groups inside the item's repeat level
		for p := it.parent; p != nil && p.kind == kindGroup; p = p.parent {
			if p.relevant != nil || p.q.Relevant != "" {
				it.relChain = append([]*item{p}, it.relChain...)
			}
		}
		it.relChain = append(it.relChain, it)
		it.calcSlot = -1
		if it.calc != nil && len(it.repeats) == 0 {
			it.calcSlot = c.topCalcs
			c.topCalcs++
			it.calcDeps = calcDeps(it, c)
		}
		if it.calc != nil {
			c.calcs[it.level()]++
			for _, r := range it.repeats {
				r.calcInside = true
			}
		}
	}
	checkTextRefs(f, c, fail)
	if len(errs) == 0 {
		propagateSensitivity(c, fail)
	}
	if len(errs) > 0 {
		return errs
	}
	externalChoices(f, c)
	f.c = c
	return nil
}

// propagateSensitivity keeps a calculation or a dynamic default from
// copying an identifier into a field stored in plain text: a field whose
// calculation or default reads a direct identifier must itself be marked
// direct (then it is encrypted like any direct answer), else the form is
// refused at that cell; once(), pulldata() and every other function count,
// since they are part of the expression. A field that is a copy of a
// quasi-identifier (the expression is the reference, or once(), string()
// or number() of it) and has no class of its own becomes quasi, so that
// releases treat the copy as they treat the original; values computed from
// one (a per-capita amount) are not copies.
func propagateSensitivity(c *compiled, fail func(sheet string, row int, col, format string, args ...any)) {
	copyOf := func(it *item) *item {
		if it.calc == nil {
			return nil
		}
		n := it.calc.root
		if call, ok := n.(*callNode); ok && len(call.args) == 1 && (call.fn == "once" || call.fn == "string" || call.fn == "number") {
			n = call.args[0]
		}
		if r, ok := n.(*refNode); ok {
			return r.it
		}
		return nil
	}
	reads := func(it *item) (col string, refs []*item) {
		var e *Expr
		switch {
		case it.calc != nil:
			e, col = it.calc, "calculation"
		case strings.Contains(it.q.Default, "${"):
			if pe, err := ParseExpr(it.q.Default); err == nil {
				e, col = pe, "default"
				walkNodes(e.root, func(n node) {
					if r, ok := n.(*refNode); ok {
						r.it = c.byName[r.name]
					}
				})
			}
		}
		if e == nil {
			return "", nil
		}
		walkNodes(e.root, func(n node) {
			if r, ok := n.(*refNode); ok && r.it != nil {
				refs = append(refs, r.it)
			}
		})
		return col, refs
	}
	for changed, rounds := true, 0; changed && rounds <= len(c.all); rounds++ {
		changed = false
		for _, it := range c.all {
			col, refs := reads(it)
			for _, r := range refs {
				if r == it {
					continue
				}
				switch {
				case r.sens == "direct" && it.sens != "direct":
					if it.sens != "direct-refused" {
						fail("survey", it.q.Row, col, "%s copies the direct identifier ${%s} into %q, which would be stored and released in plain text: mark %s sensitivity direct (it is then encrypted like %s) or do not read ${%s}", col, r.q.Name, it.q.Name, it.q.Name, r.q.Name, r.q.Name)
						it.sens = "direct-refused"
					}
				case r.sens == "quasi" && it.sens == "" && copyOf(it) == r:
					it.sens = "quasi"
					changed = true
				}
			}
		}
	}
}

// calcDeps lists the items whose answers the calculation of it reads: the
// questions it references with the repeats they are in, and it itself
// when the expression reads the current answer (".", or string(),
// number(), string-length() or normalize-space() without an argument).
func calcDeps(it *item, c *compiled) []*item {
	var deps []*item
	add := func(d *item) {
		for _, x := range deps {
			if x == d {
				return
			}
		}
		deps = append(deps, d)
	}
	walkNodes(it.calc.root, func(n node) {
		switch n := n.(type) {
		case *refNode:
			if d, ok := c.byName[n.name]; ok {
				add(d)
				for _, r := range d.repeats {
					add(r)
				}
			}
		case *selfNode:
			add(it)
		case *callNode:
			if functions[n.fn].readsSelf && len(n.args) == 0 {
				add(it)
			}
		}
	})
	return deps
}

// smartQuotes are the typographic quotes that spreadsheet programs put in
// place of the ones typed; pyxform reads them as plain quotes (its
// clean_text_values), so ${consent} = ‘yes’ is an expression.
var smartQuotes = strings.NewReplacer("\u201c", `"`, "\u201d", `"`, "\u2018", "'", "\u2019", "'")

// textRefRE finds the ${name} references in a text.
var textRefRE = regexp.MustCompile(`\$\{\s*([^}\s]*)\s*\}`)

// checkTextRefs checks the ${name} references of every column that is not
// an expression (labels, hints, messages, default, trigger and any other),
// as pyxform does: each must name a question of the form.
func checkTextRefs(f *Form, c *compiled, fail func(sheet string, row int, col, format string, args ...any)) {
	check := func(q *Question, col, s string) {
		if !strings.Contains(s, "${") {
			return
		}
		for _, m := range textRefRE.FindAllStringSubmatch(s, -1) {
			if its, dup := c.dups[m[1]]; dup {
				fail("survey", q.Row, col, "${%s} is ambiguous: %s; a reference must name a question whose name is unique in the form", m[1], describeDups(its))
				return
			}
			if _, ok := c.byName[m[1]]; !ok {
				fail("survey", q.Row, col, "unknown question ${%s}: no question of the form has that name", m[1])
				return
			}
		}
	}
	texts := func(q *Question, base string, t Text) {
		langs := make([]string, 0, len(t))
		for lang := range t {
			langs = append(langs, lang)
		}
		sort.Strings(langs)
		for _, lang := range langs {
			col := base
			if lang != "" {
				col = base + "::" + lang
			}
			check(q, col, t[lang])
		}
	}
	for i := range f.Survey {
		q := &f.Survey[i]
		texts(q, "label", q.Label)
		texts(q, "hint", q.Hint)
		texts(q, "constraint_message", q.ConstraintMessage)
		texts(q, "required_message", q.RequiredMessage)
		check(q, "default", q.Default)
		keys := make([]string, 0, len(q.Extra))
		for k := range q.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			check(q, f.header("survey", k), q.Extra[k])
		}
	}
}

// assignKeys gives every item its answer key (see item.key) and fills
// c.keys. A form whose names are all unique keys its answers by name.
func assignKeys(c *compiled) {
	c.keys = map[*item]map[string]*item{}
	count := map[*item]map[string]int{}
	for _, it := range c.all {
		if count[it.level()] == nil {
			count[it.level()] = map[string]int{}
		}
		count[it.level()][it.q.Name]++
	}
	for _, it := range c.all {
		it.key = it.q.Name
		level := it.level()
		if count[level][it.q.Name] > 1 && it.kind != kindGroup {
			var steps []string
			for p := it.parent; p != nil && p != level; p = p.parent {
				steps = append([]string{p.q.Name}, steps...)
			}
			it.key = strings.Join(append(steps, it.q.Name), "/")
		}
		if it.kind == kindGroup {
			continue
		}
		if c.keys[level] == nil {
			c.keys[level] = map[string]*item{}
		}
		c.keys[level][it.key] = it
	}
}

// describeDups names the rows that share a name: "2 questions have that
// name (row 58 in group b, row 70 in group c)".
func describeDups(its []*item) string {
	parts := make([]string, len(its))
	for i, it := range its {
		parts[i] = fmt.Sprintf("row %d", it.q.Row)
		if it.parent != nil {
			parts[i] += fmt.Sprintf(" in %s %s", it.parent.base, it.parent.q.Name)
		}
	}
	return fmt.Sprintf("%d questions have that name (%s)", len(its), strings.Join(parts, ", "))
}

// questionOf names a question and its label for the end of a message:
// ` + "`" + ` (question age, "How old are you?")` + "`" + `; empty for a row without a name.
func questionOf(q *Question) string {
	if q.Name == "" {
		return ""
	}
	if l := labelText(q); l != "" {
		return fmt.Sprintf(" (question %s, %q)", q.Name, l)
	}
	return fmt.Sprintf(" (question %s)", q.Name)
}

// labelOf is a question's label for a message, ` ("How old are you?")`, in
// the first language that has one; empty without a label.
func labelOf(q *Question) string {
	if l := labelText(q); l != "" {
		return fmt.Sprintf(" (%q)", l)
	}
	return ""
}

// labelText is a question's label in the first language that has one,
// shortened to 60 characters; "" without a label.
func labelText(q *Question) string {
	langs := make([]string, 0, len(q.Label))
	for l := range q.Label {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		if t := strings.Join(strings.Fields(q.Label[l]), " "); t != "" {
			if r := []rune(t); len(r) > 60 {
				t = string(r[:57]) + "..."
			}
			return t
		}
	}
	return ""
}
