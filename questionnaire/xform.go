//go:build !js

package questionnaire

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// XForm writes the form as an ODK XForm (ODK XForms 1.0, the XML that ODK
// Collect, KoboCollect, Enketo and ODK Web Forms load), the way pyxform,
// XLSForm's reference converter, writes it:
//
//   - <h:html> declaring the xforms, h, ev, jr, odk, orx and xsd
//     namespaces; <h:title> is form_title (else form_id);
//   - <model odk:xforms-version="1.0.0"> with <itext> when the form has
//     labels in named languages: one <translation> per language, the
//     default language first and marked default="true()", lang as the
//     column header wrote it ("English (en)", "default" for a column
//     without language), text ids "/data/.../name:label", ":hint",
//     ":jr:constraintMsg", ":jr:requiredMsg" and "list-index" for
//     choices, "-" where a translation is missing, media columns (image,
//     big-image, audio, video) as <value form="image">jr://images/...;
//     a text given only in a column without language stays in place;
//   - the primary <instance>: a root element (the setting name, else
//     "data") with id (form_id) and version attributes, a node per
//     question, groups nested, each repeat as a jr:template="" copy
//     followed by one instance, static defaults as node text, and
//     <meta><instanceID/></meta> (and instanceName for the setting
//     instance_name, audit for an audit row);
//   - a secondary <instance id="list"> per choice list a select uses, with
//     <root><item> holding <label> (or <itextId>), <name> and the list's
//     other columns, "other" added for select ... or_other;
//     <instance id="file" src="jr://file-csv/file.csv"/> for pulldata(),
//     select_one_from_file and csv-external / xml-external rows;
//   - a <bind> per node with pyxform's types (string, int, decimal, date,
//     time, dateTime, geopoint, geotrace, geoshape, barcode, binary;
//     selects, notes and calculations are string), required="true()" or
//     the required expression, relevant, constraint with jr:constraintMsg,
//     calculate, readonly, jr:requiredMsg and the preloads of metadata
//     (start, end, today, deviceid, ...); the columns bind::x, body::x
//     and instance::x become attributes x (in lower case, as read);
//   - the <h:body>: input, select1 and select with an itemset, upload,
//     range, trigger, odk:rank, group with ref, label and appearance,
//     repeat inside a group with jr:count (a reference as it is, anything
//     else through a calculated NAME_count node), notes as input bound
//     readonly; pyxform's additions: NAME_other after a select ... or_other
//     and the label row of a table-list group; select_one_external as an
//     input with a query over itemsets.csv; the parameters column's
//     start/end/step (range), randomize and seed (selects), max-pixels
//     (image), capture-accuracy and warning-accuracy (geopoint).
//
// ${name} references become paths in every expression and
// <output value="..."/> in labels and hints: absolute (" /data/g/name "),
// or relative (" ../name ") between items of the same repeat, as pyxform
// writes them. Dynamic defaults (with ${} or a function call) become
// <setvalue event="odk-instance-first-load">. The settings flat,
// clean_text_values, style, public_key and submission_url are applied as
// pyxform applies them.
//
// The form must be compiled. The error names the row and column of a
// reference in a label or hint to a question the form lacks.
func (f *Form) XForm() ([]byte, error) { return f.xform("") }

// XFormEncrypted is XForm with publicKey (base64 of an RSA public key's
// SubjectPublicKeyInfo) as the <submission> element's base64RsaPublicKey,
// so that ODK Collect encrypts each interview of the form with it
// (docs.getodk.org, "Encrypted forms"). A form whose settings carry a
// public_key of its own keeps that one.
func (f *Form) XFormEncrypted(publicKey string) ([]byte, error) { return f.xform(publicKey) }

func (f *Form) xform(publicKey string) ([]byte, error) {
	if f.c == nil {
		return nil, fmt.Errorf("questionnaire: xform: form %q is not compiled", f.ID)
	}
	w := &xformWriter{f: f, c: f.c, publicKey: publicKey, paths: map[*item]string{}, kids: map[*item][]*item{}, listUse: map[string]bool{}, files: map[string]string{}}
	w.root = "data"
	if n := strings.TrimSpace(f.Settings["name"]); n != "" && validName(n) {
		w.root = n
	}
	w.flat, _ = staticBool(f.Settings["flat"])
	w.cleanText = true
	if v, ok := staticBool(f.Settings["clean_text_values"]); ok && f.Settings["clean_text_values"] != "" {
		w.cleanText = v
	}
	w.layout()
	w.itextMode = len(f.Languages) > 1 || (len(f.Languages) == 1 && f.Languages[0] != "") || w.hasMedia()
	w.orderLanguages()
	for _, it := range w.c.fields {
		if it.list != "" && !it.external {
			w.useList(it.list)
		}
	}
	doc := w.document()
	if len(w.errs) > 0 {
		return nil, w.errs
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?>` + "\n")
	doc.write(&b, 0)
	return b.Bytes(), nil
}

// xmlElem is an element of the XForm being written.
type xmlElem struct {
	name  string
	attrs [][2]string
	kids  []*xmlElem
	// inner is the element's content as escaped XML (text, or text mixed
	// with <output/>); an element has inner or kids, not both.
	inner string
}

func xel(name string, attrs ...string) *xmlElem {
	n := &xmlElem{name: name}
	for i := 0; i+1 < len(attrs); i += 2 {
		n.attrs = append(n.attrs, [2]string{attrs[i], attrs[i+1]})
	}
	return n
}

func (n *xmlElem) add(kids ...*xmlElem) *xmlElem {
	n.kids = append(n.kids, kids...)
	return n
}

func (n *xmlElem) attr(name, value string) *xmlElem {
	n.attrs = append(n.attrs, [2]string{name, value})
	return n
}

var attrNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*(:[A-Za-z_][A-Za-z0-9_.-]*)?$`)

// extra adds the attributes of attribute columns, leaving out names that
// are not XML names and names the element already has.
func (n *xmlElem) extra(attrs [][2]string) *xmlElem {
	for _, a := range attrs {
		if !attrNameRE.MatchString(a[0]) || strings.HasPrefix(a[0], "xmlns") {
			continue
		}
		dup := false
		for _, b := range n.attrs {
			dup = dup || b[0] == a[0]
		}
		if !dup {
			n.attrs = append(n.attrs, a)
		}
	}
	return n
}

func (n *xmlElem) write(b *bytes.Buffer, depth int) {
	indent := strings.Repeat("  ", depth)
	b.WriteString(indent + "<" + n.name)
	for _, a := range n.attrs {
		b.WriteString(" " + a[0] + `="` + escapeXML(a[1], true) + `"`)
	}
	switch {
	case n.inner != "":
		b.WriteString(">" + n.inner + "</" + n.name + ">\n")
	case len(n.kids) > 0:
		b.WriteString(">\n")
		for _, k := range n.kids {
			k.write(b, depth+1)
		}
		b.WriteString(indent + "</" + n.name + ">\n")
	default:
		b.WriteString("/>\n")
	}
}

var xmlTextEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
var xmlAttrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#10;", "\r", "&#13;", "\t", "&#9;")

// escapeXML escapes s for XML text or an attribute value. Characters XML
// 1.0 cannot hold at all (C0 controls other than tab, LF and CR, U+FFFE,
// U+FFFF, invalid UTF-8) become U+FFFD, as encoding/xml's EscapeText does.
func escapeXML(s string, attr bool) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			return r
		}
		return '\uFFFD'
	}, s)
	if attr {
		return xmlAttrEscaper.Replace(s)
	}
	return xmlTextEscaper.Replace(s)
}

type xformWriter struct {
	f         *Form
	c         *compiled
	publicKey string // base64RsaPublicKey when the settings have none
	root      string
	paths     map[*item]string  // absolute path of each item
	kids      map[*item][]*item // children in form order; nil key = top level
	itextMode bool
	langs     []string // languages, default first
	listUse   map[string]bool
	listOrder []string
	files     map[string]string // secondary instance id -> src
	fileOrder []string
	itext     []itextEntry
	itextSeen map[string]bool
	errs      FormErrors
	setvalues []*xmlElem
	actions   []*xmlElem
	// flat is the setting flat: groups and repeats add no level to the
	// instance (pyxform's flat forms).
	flat bool
	// items are the form's items in order with the rows pyxform adds
	// (the label row of a table-list group).
	items []*item
	// tableList marks groups with appearance table-list.
	tableList map[*item]bool
	// cleanText is the setting clean_text_values (on unless "no"):
	// typographic quotes in texts become straight quotes, as pyxform
	// writes them.
	cleanText bool
}

type itextEntry struct {
	id       string
	texts    map[string]string   // lang -> escaped inner XML ("" when absent)
	media    map[string][]string // lang -> form=src pairs, flattened
	guidance map[string]string   // lang -> escaped guidance hint
}

// layout computes each item's path and children, and adds the label row
// pyxform puts first in a table-list group: a select1 named
// reserved_name_for_field_list_labels_ROW (ROW the first question's row)
// with appearance label and the choices of the group's first select,
// whose other selects then get appearance list-nolabel.
func (w *xformWriter) layout() {
	w.tableList = map[*item]bool{}
	place := func(it *item) {
		parent := "/" + w.root
		if it.parent != nil && !w.flat {
			parent = w.paths[it.parent]
		}
		w.paths[it] = parent + "/" + it.q.Name
		w.kids[it.parent] = append(w.kids[it.parent], it)
		w.items = append(w.items, it)
	}
	for i, it := range w.c.all {
		place(it)
		if it.kind != kindGroup || !hasAppearance(it.q.Appearance, "table-list") {
			continue
		}
		w.tableList[it] = true
		for _, k := range w.c.all[i+1:] {
			if k.parent != it {
				continue
			}
			if k.list != "" && !k.external && (k.base == "select_one" || k.base == "select_multiple") {
				q := &Question{Type: "select_one " + k.list, Name: fmt.Sprintf("reserved_name_for_field_list_labels_%d", k.q.Row),
					Label: Text{"": " "}, Appearance: "label", Row: k.q.Row}
				place(&item{q: q, kind: kindField, base: "select_one", list: k.list, parent: it,
					repeats: k.repeats, choices: k.choices})
			}
			break
		}
	}
}

func hasAppearance(appearance, word string) bool {
	for _, a := range strings.Fields(strings.ToLower(appearance)) {
		if a == word {
			return true
		}
	}
	return false
}

// extraAttrs returns the attributes of a row's "bind::", "body::" or
// "instance::" columns (kept in lower case by the reader).
func extraAttrs(q *Question, prefix string) [][2]string {
	var out [][2]string
	for k, v := range q.Extra {
		if name, ok := strings.CutPrefix(k, prefix); ok && name != "" && strings.TrimSpace(v) != "" {
			out = append(out, [2]string{name, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// orderLanguages puts the default language first, then the others in the
// form's order.
func (w *xformWriter) orderLanguages() {
	def := w.f.DefaultLanguage
	seen := map[string]bool{}
	for _, l := range w.f.Languages {
		if l == def {
			w.langs = append(w.langs, l)
			seen[l] = true
		}
	}
	for _, l := range w.f.Languages {
		if !seen[l] {
			w.langs = append(w.langs, l)
			seen[l] = true
		}
	}
	if len(w.langs) == 0 {
		w.langs = []string{""}
	}
}

// langAttr is the lang attribute of a translation: the column's language
// as written ("English (en)"), "default" for unlabelled columns.
func (w *xformWriter) langAttr(code string) string {
	if code == "" {
		return "default"
	}
	if name := w.f.LanguageNames[code]; name != "" && name != code {
		return name + " (" + code + ")"
	}
	return code
}

// media returns a row's media columns: language -> form -> file.
func (w *xformWriter) media(extra map[string]string) map[string]map[string]string {
	var out map[string]map[string]string
	for k, v := range extra {
		m := mediaColRE.FindStringSubmatch(k)
		if m == nil || strings.TrimSpace(v) == "" {
			continue
		}
		lang := ""
		if m[2] != "" {
			code, _ := parseLanguage(m[2])
			lang = w.matchLanguage(code)
		}
		if out == nil {
			out = map[string]map[string]string{}
		}
		if out[lang] == nil {
			out[lang] = map[string]string{}
		}
		out[lang][m[1]] = strings.TrimSpace(v)
	}
	return out
}

// matchLanguage maps a language as written in a lower-cased header to one
// of the form's codes.
func (w *xformWriter) matchLanguage(s string) string {
	for _, l := range w.f.Languages {
		if strings.EqualFold(l, s) || strings.EqualFold(w.f.LanguageNames[l], s) {
			return l
		}
	}
	return s
}

// guidance returns a question's guidance_hint columns by language.
func (w *xformWriter) guidance(q *Question) Text {
	var t Text
	for k, v := range q.Extra {
		rest, ok := strings.CutPrefix(k, "guidance_hint")
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		lang := ""
		if l, ok := strings.CutPrefix(rest, "::"); ok {
			code, _ := parseLanguage(l)
			lang = w.matchLanguage(code)
		} else if rest != "" {
			continue
		}
		if t == nil {
			t = Text{}
		}
		t[lang] = v
	}
	return t
}

func (w *xformWriter) hasLang(code string) bool {
	for _, l := range w.langs {
		if l == code {
			return true
		}
	}
	return false
}

func (w *xformWriter) hasMedia() bool {
	for _, it := range w.c.all {
		if len(w.media(it.q.Extra)) > 0 {
			return true
		}
	}
	for _, ch := range w.f.Choices {
		if len(w.media(ch.Extra)) > 0 {
			return true
		}
	}
	return false
}

var refInTextRE = regexp.MustCompile(`\$\{\s*([^}\s]*)\s*\}`)

// path returns the absolute path of the question called name.
func (w *xformWriter) path(name string) (string, bool) {
	it, ok := w.c.byName[name]
	if !ok {
		return "", false
	}
	return w.paths[it], true
}

// expr rewrites the ${name} references of an expression evaluated at
// item it into paths (see ref).
func (w *xformWriter) expr(src string, it *item, col string) string {
	src = smartQuotes.Replace(strings.TrimSpace(src))
	w.noteInstances(src)
	var b strings.Builder
	last := 0
	for _, loc := range refInTextRE.FindAllStringSubmatchIndex(src, -1) {
		b.WriteString(src[last:loc[0]])
		last = loc[1]
		name := src[loc[2]:loc[3]]
		at := it
		if absoluteInIndexedRepeat(src, loc[0]) {
			at = nil
		}
		p, ok := w.ref(name, at, col == "choice_filter")
		if !ok {
			w.fail(it, col, "unknown question ${%s}", name)
			b.WriteString(src[loc[0]:loc[1]])
			continue
		}
		b.WriteString(" " + p + " ")
	}
	b.WriteString(src[last:])
	return b.String()
}

// absoluteInIndexedRepeat reports whether the reference at offset at of
// src is an argument of indexed-repeat() that pyxform keeps absolute even
// inside the repeat: the value and the repeats (arguments 1, 2, 4 and 6),
// not the indexes. A relative repeat argument ("..") would name the
// current entry, not the repeat's entries.
func absoluteInIndexedRepeat(src string, at int) bool {
	for _, m := range indexedRepeatRE.FindAllStringIndex(src, -1) {
		if m[1] > at {
			break
		}
		depth, arg := 0, 0
		for i := m[1]; i < len(src) && depth >= 0; i++ {
			switch src[i] {
			case '(':
				depth++
			case ')':
				depth--
			case ',':
				if depth == 0 {
					arg++
				}
			}
			if i == at && depth == 0 {
				return arg == 0 || arg == 1 || arg == 3 || arg == 5
			}
		}
	}
	return false
}

var indexedRepeatRE = regexp.MustCompile(`indexed-repeat\s*\(`)

// ref returns the path of the question called name as read from item at:
// absolute ("/data/group/name"), or, when both are in the same repeat,
// relative to at ("../name"), as pyxform writes it, so that the reference
// means the answer in the same repeat instance in every ODK client. In a
// choice filter, evaluated with an item of the list as context, the
// relative path starts with current()/.
func (w *xformWriter) ref(name string, at *item, filter bool) (string, bool) {
	tgt, ok := w.c.byName[name]
	if !ok {
		return "", false
	}
	abs := w.paths[tgt]
	if at == nil || w.flat {
		return abs, true
	}
	from := w.paths[at]
	shared := false
	for _, r := range tgt.repeats {
		if r == at || slices.Contains(at.repeats, r) {
			shared = true
		}
	}
	if tgt.kind == kindRepeat && (tgt == at || slices.Contains(at.repeats, tgt)) {
		shared = true
	}
	if !shared {
		return abs, true
	}
	fs, ts := strings.Split(from, "/"), strings.Split(abs, "/")
	common := 0
	for common < len(fs) && common < len(ts) && fs[common] == ts[common] {
		common++
	}
	if common == len(fs) && common == len(ts) {
		if filter {
			return "current()", true
		}
		return ".", true
	}
	parts := make([]string, 0, len(fs)-common+len(ts)-common)
	for range fs[common:] {
		parts = append(parts, "..")
	}
	parts = append(parts, ts[common:]...)
	rel := strings.Join(parts, "/")
	if filter {
		rel = "current()/" + rel
	}
	return rel, true
}

// text escapes a label or hint and turns its ${name} references into
// <output/> elements.
func (w *xformWriter) text(s string, at *item, row int, sheet, col string) string {
	if w.cleanText {
		s = smartQuotes.Replace(s)
	}
	var b strings.Builder
	last := 0
	for _, loc := range refInTextRE.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(escapeXML(s[last:loc[0]], false))
		name := s[loc[2]:loc[3]]
		if p, ok := w.ref(name, at, false); ok {
			b.WriteString(`<output value=" ` + escapeXML(p, true) + ` "/>`)
		} else {
			w.errs = append(w.errs, &FormError{Sheet: sheet, Row: row, Column: col, Err: fmt.Errorf("unknown question ${%s}", name)})
			b.WriteString(escapeXML(s[loc[0]:loc[1]], false))
		}
		last = loc[1]
	}
	b.WriteString(escapeXML(s[last:], false))
	return b.String()
}

func (w *xformWriter) fail(it *item, col, format string, args ...any) {
	w.errs = append(w.errs, &FormError{Sheet: "survey", Row: it.q.Row, Column: col, Err: fmt.Errorf(format, args...)})
}

var (
	instanceFnRE = regexp.MustCompile(`instance\(\s*['"]([^'"]+)['"]\s*\)`)
	pulldataRE   = regexp.MustCompile(`pulldata\(\s*['"]([^'"]+)['"]`)
)

// noteInstances records the secondary instances an expression reads.
func (w *xformWriter) noteInstances(src string) {
	for _, m := range instanceFnRE.FindAllStringSubmatch(src, -1) {
		if _, ok := w.c.lists[m[1]]; ok {
			w.useList(m[1])
		}
	}
	for _, m := range pulldataRE.FindAllStringSubmatch(src, -1) {
		w.useFile(m[1], "jr://file-csv/"+m[1]+".csv")
	}
}

func (w *xformWriter) useList(list string) {
	if !w.listUse[list] {
		w.listUse[list] = true
		w.listOrder = append(w.listOrder, list)
	}
}

func (w *xformWriter) useFile(id, src string) {
	if _, ok := w.files[id]; !ok {
		w.files[id] = src
		w.fileOrder = append(w.fileOrder, id)
	}
}

// addText registers a translated text under id and returns true when the
// form writes it as itext.
func (w *xformWriter) addText(id string, t Text, media map[string]map[string]string, at *item, row int, sheet, col string) {
	if w.itextSeen == nil {
		w.itextSeen = map[string]bool{}
	}
	if w.itextSeen[id] {
		return
	}
	w.itextSeen[id] = true
	e := itextEntry{id: id, texts: map[string]string{}, media: map[string][]string{}}
	for _, l := range w.langs {
		if s, ok := t[l]; ok && s != "" {
			e.texts[l] = w.text(s, at, row, sheet, col)
		} else if len(t) > 0 {
			e.texts[l] = "-"
		}
		m := media[l]
		if m == nil && l == w.langs[0] && !w.hasLang("") {
			m = media[""]
		}
		for _, form := range []string{"image", "big-image", "audio", "video"} {
			if file := m[form]; file != "" {
				dir := map[string]string{"image": "images", "big-image": "images", "audio": "audio", "video": "video"}[form]
				e.media[l] = append(e.media[l], form, "jr://"+dir+"/"+file)
			}
		}
	}
	w.itext = append(w.itext, e)
}

// label returns a <label> (or <hint>) element: a reference into itext in
// itext mode, else the text itself.
func (w *xformWriter) label(tag, id string, t Text, media map[string]map[string]string, at *item, row int, sheet, col string) *xmlElem {
	if len(t) == 0 && len(media) == 0 {
		return nil
	}
	if w.itextMode && (translated(t) || len(media) > 0) {
		w.addText(id, t, media, at, row, sheet, col)
		return xel(tag, "ref", "jr:itext('"+id+"')")
	}
	n := xel(tag)
	n.inner = w.text(t.In("", w.f.DefaultLanguage), at, row, sheet, col)
	return n
}

// translated reports a text written in a named language: pyxform writes
// a text given only in an unlabelled column in place, not as itext.
func translated(t Text) bool {
	for l, s := range t {
		if l != "" && s != "" {
			return true
		}
	}
	return false
}

// message returns the value of a jr:constraintMsg or jr:requiredMsg
// attribute.
func (w *xformWriter) message(id string, t Text, at *item, row int, col string) string {
	if len(t) == 0 {
		return ""
	}
	if w.itextMode && translated(t) {
		w.addText(id, t, nil, at, row, "survey", col)
		return "jr:itext('" + id + "')"
	}
	return t.In("", w.f.DefaultLanguage)
}

func (w *xformWriter) document() *xmlElem {
	f := w.f
	title := f.Title
	if title == "" {
		title = f.ID
	}
	if title == "" {
		title = w.root
	}
	model := xel("model", "odk:xforms-version", "1.0.0")
	primary := w.primaryInstance()
	binds := w.binds()
	body := xel("h:body")
	if style := strings.TrimSpace(f.Settings["style"]); style != "" {
		body.attr("class", style) // e.g. "pages" or "theme-grid"
	}
	body.add(w.controls(w.kids[nil])...)
	var lists []*xmlElem
	for _, list := range w.listOrder {
		lists = append(lists, w.listInstance(list))
	}
	if len(w.itext) > 0 {
		itext := xel("itext")
		for i, l := range w.langs {
			tr := xel("translation")
			if i == 0 {
				tr.attr("default", "true()")
			}
			tr.attr("lang", w.langAttr(l))
			for _, e := range w.itext {
				tx := xel("text", "id", e.id)
				m := e.media[l]
				for j := 0; j+1 < len(m); j += 2 {
					v := xel("value", "form", m[j])
					v.inner = escapeXML(m[j+1], false)
					tx.add(v)
				}
				if s := e.texts[l]; s != "" {
					v := xel("value")
					v.inner = s
					tx.add(v)
				}
				if s := e.guidance[l]; s != "" {
					v := xel("value", "form", "guidance")
					v.inner = s
					tx.add(v)
				}
				tr.add(tx)
			}
			itext.add(tr)
		}
		model.add(itext)
	}
	model.add(primary)
	model.add(lists...)
	for _, id := range w.fileOrder {
		model.add(xel("instance", "id", id, "src", w.files[id]))
	}
	model.add(binds...)
	model.add(w.setvalues...)
	model.add(w.actions...)
	url, key := f.Settings["submission_url"], f.Settings["public_key"]
	if key == "" {
		key = w.publicKey
	}
	if url != "" || key != "" {
		sub := xel("submission")
		if url != "" {
			sub.attr("action", url)
		}
		if key != "" {
			sub.attr("base64RsaPublicKey", key)
		}
		sub.attr("method", "post")
		model.add(sub)
	}
	head := xel("h:head").add(xel("h:title"), model)
	head.kids[0].inner = escapeXML(title, false)
	return xel("h:html",
		"xmlns", "http://www.w3.org/2002/xforms",
		"xmlns:ev", "http://www.w3.org/2001/xml-events",
		"xmlns:h", "http://www.w3.org/1999/xhtml",
		"xmlns:jr", "http://openrosa.org/javarosa",
		"xmlns:odk", "http://www.opendatakit.org/xforms",
		"xmlns:orx", "http://openrosa.org/xforms",
		"xmlns:xsd", "http://www.w3.org/2001/XMLSchema").add(head, body)
}

// isExternalInstance reports csv-external and xml-external rows, which
// declare a secondary instance and have no node.
func isExternalInstance(it *item) bool {
	return it.base == "csv-external" || it.base == "xml-external"
}

// isDynamic reports a default that must be computed on the device.
func isDynamic(def string) bool {
	return strings.Contains(def, "${") || strings.Contains(def, "(")
}

func (w *xformWriter) primaryInstance() *xmlElem {
	id := w.f.ID
	if id == "" {
		id = w.root
	}
	root := xel(w.root, "id", id)
	if w.f.Version != "" {
		root.attr("version", w.f.Version)
	}
	w.instanceNodes(root, w.kids[nil])
	meta := xel("meta")
	if w.hasAudit() {
		meta.add(xel("audit"))
	}
	meta.add(xel("instanceID"))
	if w.f.Settings["instance_name"] != "" {
		meta.add(xel("instanceName"))
	}
	root.add(meta)
	return xel("instance").add(root)
}

func (w *xformWriter) hasAudit() bool {
	for _, it := range w.c.all {
		if it.base == "audit" {
			return true
		}
	}
	return false
}

func (w *xformWriter) instanceNodes(parent *xmlElem, items []*item) {
	for _, it := range items {
		if isExternalInstance(it) {
			continue
		}
		if it.base == "audit" {
			continue // under meta
		}
		if w.flat && (it.kind == kindGroup || it.kind == kindRepeat) {
			w.instanceNodes(parent, w.kids[it])
			continue
		}
		n := xel(it.q.Name)
		n.extra(extraAttrs(it.q, "instance::"))
		switch it.kind {
		case kindGroup:
			w.instanceNodes(n, w.kids[it])
		case kindRepeat:
			if w.countNeedsNode(it) {
				parent.add(xel(it.q.Name + "_count"))
			}
			n.attr("jr:template", "")
			w.instanceNodes(n, w.kids[it])
			first := xel(it.q.Name).extra(extraAttrs(it.q, "instance::"))
			w.instanceNodes(first, w.kids[it])
			parent.add(n)
			n = first
		default:
			if d := strings.TrimSpace(it.q.Default); d != "" && !isDynamic(d) {
				n.inner = escapeXML(d, false)
			}
		}
		parent.add(n)
		if w.needsOther(it) {
			parent.add(xel(it.q.Name + "_other"))
		}
	}
}

// countNeedsNode reports a repeat_count that is not a single reference
// (a number or an expression): pyxform computes it in a generated
// calculate node named after the repeat with "_count".
func (w *xformWriter) countNeedsNode(it *item) bool {
	rc := strings.TrimSpace(it.q.RepeatCount)
	if rc == "" {
		return false
	}
	m := refInTextRE.FindStringSubmatchIndex(rc)
	return m == nil || m[0] != 0 || m[1] != len(rc)
}

// preloads maps metadata types to their jr:preload and jr:preloadParams.
var preloads = map[string][2]string{
	"start": {"timestamp", "start"}, "end": {"timestamp", "end"}, "today": {"date", "today"},
	"deviceid": {"property", "deviceid"}, "subscriberid": {"property", "subscriberid"},
	"simserial": {"property", "simserial"}, "phonenumber": {"property", "phonenumber"},
	"username": {"property", "username"}, "email": {"property", "email"},
}

// bindType maps an item to the bind type pyxform writes.
func bindType(it *item) string {
	switch it.base {
	case "integer":
		return "int"
	case "decimal":
		if strings.EqualFold(strings.TrimSpace(it.q.Type), "range") {
			return rangeType(it)
		}
		return "decimal"
	case "date", "today":
		return "date"
	case "datetime", "start", "end":
		return "dateTime"
	case "time":
		return "time"
	case "geopoint", "geotrace", "geoshape", "barcode":
		return it.base
	case "image", "audio", "video", "file", "audit", "background-audio":
		return "binary"
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(it.q.Type)), "rank") {
		return "odk:rank"
	}
	return "string"
}

// rangeType is int when start, end, step (and tick_interval, placeholder)
// are whole numbers, as pyxform decides.
func rangeType(it *item) string {
	if it.rng != nil && !it.rng.whole {
		return "decimal"
	}
	return "int"
}

func (w *xformWriter) binds() []*xmlElem {
	var out []*xmlElem
	for _, it := range w.items {
		if isExternalInstance(it) {
			w.useFile(it.q.Name, externalSrc(it))
			continue
		}
		if w.flat && (it.kind == kindGroup || it.kind == kindRepeat) {
			continue
		}
		p := w.paths[it]
		if it.base == "audit" {
			p = "/" + w.root + "/meta/audit"
		}
		b := xel("bind", "nodeset", p)
		bindExtra := extraAttrs(it.q, "bind::")
		if it.kind == kindRepeat && w.countNeedsNode(it) {
			cp := path.Dir(p) + "/" + it.q.Name + "_count"
			out = append(out, xel("bind", "nodeset", cp, "type", "string", "readonly", "true()", "calculate", w.expr(it.q.RepeatCount, it, "repeat_count")))
		}
		if it.kind == kindField || it.kind == kindNote {
			b.attr("type", bindType(it))
		}
		if pl, ok := preloads[it.base]; ok {
			b.attr("jr:preload", pl[0]).attr("jr:preloadParams", pl[1])
		}
		if s := w.relevant(it); s != "" {
			b.attr("relevant", s)
		}
		if s := it.q.Constraint; strings.TrimSpace(s) != "" && it.kind == kindField {
			b.attr("constraint", w.expr(s, it, "constraint"))
			if m := w.message(p+":jr:constraintMsg", it.q.ConstraintMessage, it, it.q.Row, "constraint_message"); m != "" {
				b.attr("jr:constraintMsg", m)
			}
		}
		if s := strings.TrimSpace(it.q.Calculation); s != "" {
			b.attr("calculate", w.expr(s, it, "calculation"))
		}
		if it.kind == kindField {
			if v, ok := staticBool(it.q.Required); ok {
				if v {
					b.attr("required", "true()")
				}
			} else {
				b.attr("required", w.expr(it.q.Required, it, "required"))
			}
			if it.requiredStatic || it.required != nil {
				if m := w.message(p+":jr:requiredMsg", it.q.RequiredMessage, it, it.q.Row, "required_message"); m != "" {
					b.attr("jr:requiredMsg", m)
				}
			}
		}
		if v, ok := staticBool(it.q.ReadOnly); ok && v || it.kind == kindNote {
			b.attr("readonly", "true()")
		} else if !ok && strings.TrimSpace(it.q.ReadOnly) != "" {
			b.attr("readonly", w.expr(it.q.ReadOnly, it, "read_only"))
		}
		if d := strings.TrimSpace(it.q.Default); d != "" && isDynamic(d) && it.kind == kindField {
			w.setvalues = append(w.setvalues, xel("setvalue", "event", "odk-instance-first-load", "ref", p, "value", w.expr(d, it, "default")))
		}
		switch it.base {
		case "start-geopoint":
			w.actions = append(w.actions, xel("odk:setgeopoint", "event", "odk-instance-first-load", "ref", p))
		case "background-audio":
			w.actions = append(w.actions, xel("odk:recordaudio", "event", "odk-instance-load", "ref", p))
		}
		b.extra(bindExtra)
		if it.kind == kindGroup || it.kind == kindRepeat {
			if len(b.attrs) == 1 {
				continue // nothing to bind
			}
		}
		out = append(out, b)
		if w.needsOther(it) {
			out = append(out, xel("bind", "nodeset", p+"_other", "type", "string", "relevant", "selected(../"+it.q.Name+", 'other')"))
		}
	}
	if s := w.f.Settings["instance_name"]; s != "" {
		out = append(out, xel("bind", "nodeset", "/"+w.root+"/meta/instanceName", "type", "string", "calculate", w.settingExpr(s)))
	}
	out = append(out, xel("bind", "nodeset", "/"+w.root+"/meta/instanceID", "type", "string", "readonly", "true()", "jr:preload", "uid"))
	return out
}

// relevant returns an item's relevant expression; in a flat form, where
// groups and repeats have no node, the relevant of every enclosing group
// or repeat is joined to it with "and".
func (w *xformWriter) relevant(it *item) string {
	var parts []string
	for x := it; x != nil; x = x.parent {
		if s := strings.TrimSpace(x.q.Relevant); s != "" {
			parts = append([]string{w.expr(s, x, "relevant")}, parts...)
		}
		if !w.flat {
			break
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	for i, p := range parts {
		parts[i] = "(" + p + ")"
	}
	return strings.Join(parts, " and ")
}

// settingExpr rewrites the references of an expression in the settings
// sheet.
func (w *xformWriter) settingExpr(src string) string {
	return refInTextRE.ReplaceAllStringFunc(strings.TrimSpace(src), func(m string) string {
		name := refInTextRE.FindStringSubmatch(m)[1]
		p, ok := w.path(name)
		if !ok {
			w.errs = append(w.errs, &FormError{Sheet: "settings", Row: 2, Column: "instance_name", Err: fmt.Errorf("unknown question ${%s}", name)})
			return m
		}
		return " " + p + " "
	})
}

// externalSrc is the jr:// address of a csv-external or xml-external row.
func externalSrc(it *item) string {
	if it.base == "csv-external" {
		return "jr://file-csv/" + it.q.Name + ".csv"
	}
	return "jr://file/" + it.q.Name + ".xml"
}

// fromFile returns the instance id and src of a select_..._from_file.
func fromFile(it *item) (id, src string) {
	fields := strings.Fields(it.q.Type)
	if len(fields) < 2 {
		return "", ""
	}
	file := fields[1]
	id = strings.TrimSuffix(file, path.Ext(file))
	if strings.EqualFold(path.Ext(file), ".csv") {
		return id, "jr://file-csv/" + file
	}
	return id, "jr://file/" + file
}

// choiceLabelsTranslated reports whether a list's labels go to itext.
func (w *xformWriter) listItext(list string) bool {
	if !w.itextMode {
		return false
	}
	for _, ch := range w.c.lists[list] {
		if translated(ch.Label) {
			return true
		}
		if len(w.media(ch.Extra)) > 0 {
			return true
		}
	}
	return false
}

func (w *xformWriter) listInstance(list string) *xmlElem {
	root := xel("root")
	translated := w.listItext(list)
	for i, ch := range w.c.lists[list] {
		item := xel("item")
		if translated {
			id := fmt.Sprintf("%s-%d", list, i)
			w.addText(id, ch.Label, w.media(ch.Extra), nil, ch.Row, "choices", "label")
			item.add(textEl("itextId", id))
		} else {
			item.add(textEl("label", ch.Label.In("", w.f.DefaultLanguage)))
		}
		item.add(textEl("name", ch.Name))
		keys := make([]string, 0, len(ch.Extra))
		for k := range ch.Extra {
			if validName(k) && !mediaColRE.MatchString(k) && k != "name" && k != "label" && k != "itextid" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			item.add(textEl(k, ch.Extra[k]))
		}
		root.add(item)
	}
	if w.listOther(list) {
		item := xel("item")
		if translated {
			id := list + "-other"
			w.addText(id, Text{w.langs[0]: "Other"}, nil, nil, 0, "choices", "label")
			item.add(textEl("itextId", id))
		} else {
			item.add(textEl("label", "Other"))
		}
		root.add(item.add(textEl("name", "other")))
	}
	return xel("instance", "id", list).add(root)
}

// listOther reports a list that a select ... or_other uses.
func (w *xformWriter) listOther(list string) bool {
	for _, it := range w.c.fields {
		if it.orOther && it.list == list {
			return true
		}
	}
	return false
}

func textEl(name, s string) *xmlElem {
	n := xel(name)
	n.inner = escapeXML(s, false)
	return n
}

// controls returns the body elements of items, with the "specify other"
// input pyxform adds after a select ... or_other.
func (w *xformWriter) controls(items []*item) []*xmlElem {
	var out []*xmlElem
	for _, it := range items {
		if w.flat && it.kind == kindRepeat {
			out = append(out, w.controls(w.kids[it])...)
			continue
		}
		if n := w.control(it); n != nil {
			out = append(out, n)
		}
		if w.needsOther(it) {
			p := w.paths[it] + "_other"
			lbl := xel("label")
			lbl.inner = "Specify other."
			if w.itextMode {
				w.addText(p+":label", Text{w.langs[0]: "Specify other."}, nil, nil, it.q.Row, "survey", "type")
				lbl = xel("label", "ref", "jr:itext('"+p+":label')")
			}
			out = append(out, xel("input", "ref", p).add(lbl))
		}
	}
	return out
}

// needsOther reports a select ... or_other whose "specify other" question
// the form does not have itself: pyxform adds NAME_other, a text question
// relevant when "other" is selected.
func (w *xformWriter) needsOther(it *item) bool {
	if !it.orOther || it.kind != kindField {
		return false
	}
	_, exists := w.c.byName[it.q.Name+"_other"]
	return !exists
}

// control returns the body element of an item, nil for items without one
// (calculations, hidden and metadata).
func (w *xformWriter) control(it *item) *xmlElem {
	q := it.q
	p := w.paths[it]
	media := w.media(q.Extra)
	lbl := w.label("label", p+":label", q.Label, media, it, q.Row, "survey", "label")
	hint := w.label("hint", p+":hint", q.Hint, nil, it, q.Row, "survey", "hint")
	if g := w.guidance(q); len(g) > 0 {
		// pyxform writes a guidance hint as a form="guidance" value of the
		// hint's itext, whatever the form's languages
		w.addText(p+":hint", q.Hint, nil, it, q.Row, "survey", "hint")
		for i := range w.itext {
			if w.itext[i].id == p+":hint" {
				w.itext[i].guidance = map[string]string{}
				for _, l := range w.langs {
					if s := g.In(l, w.f.DefaultLanguage); s != "" {
						w.itext[i].guidance[l] = w.text(s, it, q.Row, "survey", "guidance_hint")
					}
				}
			}
		}
		hint = xel("hint", "ref", "jr:itext('"+p+":hint')")
	}
	withLabels := func(n *xmlElem) *xmlElem {
		appearance := strings.TrimSpace(q.Appearance)
		switch {
		case w.tableList[it]:
			appearance = "field-list"
		case it.parent != nil && w.tableList[it.parent] && it.q.Appearance != "label" && (it.base == "select_one" || it.base == "select_multiple"):
			appearance = "list-nolabel"
		}
		if appearance != "" {
			n.attr("appearance", appearance)
		}
		n.extra(extraAttrs(q, "body::"))
		if lbl != nil {
			n.add(lbl)
		}
		if hint != nil {
			n.add(hint)
		}
		return n
	}
	switch it.kind {
	case kindGroup:
		if w.flat {
			return withLabels(xel("group")).add(w.controls(w.kids[it])...)
		}
		g := withLabels(xel("group", "ref", p))
		return g.add(w.controls(w.kids[it])...)
	case kindRepeat:
		g := xel("group", "ref", p)
		if lbl != nil {
			g.add(lbl)
		}
		r := xel("repeat", "nodeset", p)
		if q.Appearance != "" {
			r.attr("appearance", strings.TrimSpace(q.Appearance))
		}
		r.extra(extraAttrs(q, "body::"))
		if rc := strings.TrimSpace(q.RepeatCount); rc != "" {
			if w.countNeedsNode(it) {
				// inside a repeat, the count node of the same instance
				if len(it.repeats) > 0 {
					r.attr("jr:count", "../"+q.Name+"_count")
				} else {
					r.attr("jr:count", path.Dir(p)+"/"+q.Name+"_count")
				}
			} else {
				r.attr("jr:count", w.expr(rc, it, "repeat_count"))
			}
		}
		// a dynamic default inside the repeat is also set in every
		// instance added later, as pyxform writes it
		for _, k := range w.items {
			if d := strings.TrimSpace(k.q.Default); k.kind == kindField && d != "" && isDynamic(d) && k.level() == it {
				r.add(xel("setvalue", "event", "odk-new-repeat", "ref", w.paths[k], "value", w.expr(d, k, "default")))
			}
		}
		return g.add(r.add(w.controls(w.kids[it])...))
	case kindNote:
		if isExternalInstance(it) {
			return nil
		}
		return withLabels(xel("input", "ref", p))
	}
	switch it.base {
	case "calculate", "hidden", "start", "end", "today", "deviceid", "subscriberid", "simserial",
		"phonenumber", "username", "email", "audit", "start-geopoint", "background-audio", "background-geopoint":
		return nil
	case "select_one", "select_multiple":
		tag := "select1"
		if it.base == "select_multiple" {
			tag = "select"
		}
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(q.Type)), "rank") {
			tag = "odk:rank"
		}
		n := withLabels(xel(tag, "ref", p))
		w.choices(n, it)
		return n
	case "select_one_external", "select_multiple_external":
		// the choices are in the external_choices sheet, which the server
		// sends as itemsets.csv; Collect queries it
		query := "instance('" + it.list + "')/root/item"
		if f := strings.TrimSpace(q.ChoiceFilter); f != "" {
			query += "[" + w.expr(f, it, "choice_filter") + "]"
		}
		return withLabels(xel("input", "query", query, "ref", p))
	case "select_one_from_file", "select_multiple_from_file":
		tag := "select1"
		if it.base == "select_multiple_from_file" {
			tag = "select"
		}
		id, src := fromFile(it)
		w.useFile(id, src)
		nodeset := "instance('" + id + "')/root/item"
		if s := strings.TrimSpace(q.ChoiceFilter); s != "" {
			nodeset += "[" + w.expr(s, it, "choice_filter") + "]"
		}
		n := withLabels(xel(tag, "ref", p))
		return n.add(xel("itemset", "nodeset", nodeset).add(xel("value", "ref", "name"), xel("label", "ref", "label")))
	case "image", "audio", "video", "file":
		mt := map[string]string{"image": "image/*", "audio": "audio/*", "video": "video/*", "file": "application/*"}[it.base]
		n := xel("upload", "mediatype", mt, "ref", p)
		if px := params(it)["max-pixels"]; px != "" && it.base == "image" {
			n.attr("orx:max-pixels", px)
		}
		return withLabels(n)
	case "acknowledge":
		return withLabels(xel("trigger", "ref", p))
	case "geopoint":
		n := xel("input", "ref", p)
		ps := params(it)
		if a := ps["capture-accuracy"]; a != "" {
			n.attr("accuracyThreshold", a)
		}
		if a := ps["warning-accuracy"]; a != "" {
			n.attr("unacceptableAccuracyThreshold", a)
		}
		return withLabels(n)
	case "decimal", "integer":
		if isRange(q.Type) {
			rp := rangeParams(it)
			return withLabels(xel("range", "ref", p, "start", rp["start"], "end", rp["end"], "step", rp["step"]))
		}
	}
	return withLabels(xel("input", "ref", p))
}

// choices adds a select's choices: an itemset over the list's secondary
// instance (filtered by the choice_filter), as pyxform writes every
// select of the choices sheet.
func (w *xformWriter) choices(n *xmlElem, it *item) {
	if it.external {
		return
	}
	nodeset := "instance('" + it.list + "')/root/item"
	if s := strings.TrimSpace(it.q.ChoiceFilter); s != "" {
		nodeset += "[" + w.expr(s, it, "choice_filter") + "]"
	}
	if ps := params(it); strings.EqualFold(ps["randomize"], "true") || strings.EqualFold(ps["randomize"], "yes") {
		if seed := ps["seed"]; seed != "" {
			nodeset = "randomize(" + nodeset + ", " + w.expr(seed, it, "parameters") + ")"
		} else {
			nodeset = "randomize(" + nodeset + ")"
		}
	}
	label := "label"
	if w.listItext(it.list) {
		label = "jr:itext(itextId)"
	}
	n.add(xel("itemset", "nodeset", nodeset).add(xel("value", "ref", "name"), xel("label", "ref", label)))
}
