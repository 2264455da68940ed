//go:build !js

package questionnaire

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// xtree is an XML element read generically: names are "prefix:local" with
// the prefix the XForm conventions give each namespace, whatever the
// document's own prefixes.
type xtree struct {
	name  string
	attrs map[string]string
	kids  []*xtree
	// text is the element's character data, with <output value="x"/>
	// written as ${x}.
	text string
}

var xformPrefixes = map[string]string{
	"http://www.w3.org/2002/xforms":     "",
	"http://www.w3.org/1999/xhtml":      "h:",
	"http://openrosa.org/javarosa":      "jr:",
	"http://www.opendatakit.org/xforms": "odk:",
	"http://openrosa.org/xforms":        "orx:",
	"http://www.w3.org/2001/XMLSchema":  "xsd:",
	"http://www.w3.org/2001/xml-events": "ev:",
	"":                                  "",
}

func xname(n xml.Name) string {
	if p, ok := xformPrefixes[n.Space]; ok {
		return p + n.Local
	}
	return n.Space + ":" + n.Local
}

func parseXTree(t *testing.T, data []byte) *xtree {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*xtree
	var root *xtree
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("XML not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &xtree{name: xname(tok.Name), attrs: map[string]string{}}
			for _, a := range tok.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" && a.Name.Space == "" {
					continue
				}
				n.attrs[xname(a.Name)] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				if n.name == "output" {
					p.text += "${" + strings.TrimSpace(n.attrs["value"]) + "}"
				} else {
					p.kids = append(p.kids, n)
				}
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
	if root == nil {
		t.Fatal("no root element")
	}
	return root
}

func (n *xtree) child(name string) *xtree {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (n *xtree) all(name string) []*xtree {
	var out []*xtree
	for _, k := range n.kids {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

// xformMeaning is what an XForm says, with pyxform's cosmetic choices
// normalised away: the root element's name is "R", expressions lose their
// white space and relative paths are made absolute, "false()" required is
// no attribute, a missing translation ("-") is no text.
type xformMeaning struct {
	binds    map[string]string // nodeset -> "type|required|relevant|constraint|calculate|readonly"
	instance []string          // sorted node paths of the primary instance
	itext    map[string]string // lang + " " + id (question texts) -> value
	controls []string          // body controls in order: kind ref appearance jr:count itemset
	labels   map[string]string // control ref + " label|hint " + lang -> text
	choices  map[string]string // control ref + " " + choice value + " " + lang -> label
}

var wsRE = regexp.MustCompile(`\s+`)

func meaningOf(t *testing.T, data []byte) xformMeaning {
	t.Helper()
	doc := parseXTree(t, data)
	head, body := doc.child("h:head"), doc.child("h:body")
	if doc.name != "h:html" || head == nil || body == nil || head.child("h:title") == nil {
		t.Fatalf("not an XForm: root %s, head %v, body %v", doc.name, head != nil, body != nil)
	}
	model := head.child("model")
	if model == nil {
		t.Fatal("no model")
	}
	m := xformMeaning{binds: map[string]string{}, itext: map[string]string{}, labels: map[string]string{}, choices: map[string]string{}}
	var primary *xtree
	secondary := map[string]*xtree{}
	for _, in := range model.all("instance") {
		if id := in.attrs["id"]; id != "" {
			secondary[id] = in
		} else if primary == nil {
			primary = in
		}
	}
	if primary == nil || len(primary.kids) != 1 {
		t.Fatal("no primary instance")
	}
	rootName := primary.kids[0].name
	rootRE := regexp.MustCompile(`/` + regexp.QuoteMeta(rootName) + `(/|\b)`)
	norm := func(s string) string { return rootRE.ReplaceAllString(s, "/R$1") }
	relRE := regexp.MustCompile(`(current\(\)/)?((?:\.\./)+)([A-Za-z_][\w.-]*)`)
	expr := func(s, nodeset string) string {
		s = wsRE.ReplaceAllString(norm(s), "")
		return relRE.ReplaceAllStringFunc(s, func(x string) string {
			g := relRE.FindStringSubmatch(x)
			base := nodeset
			for range strings.Count(g[2], "../") {
				base = path.Dir(base)
			}
			return base + "/" + g[3]
		})
	}
	var walk func(n *xtree, p string)
	seen := map[string]bool{}
	walk = func(n *xtree, p string) {
		p += "/" + n.name
		if !seen[p] {
			seen[p] = true
			m.instance = append(m.instance, norm(p))
		}
		for _, k := range n.kids {
			walk(k, p)
		}
	}
	walk(primary.kids[0], "")
	sort.Strings(m.instance)
	for _, b := range model.all("bind") {
		ns := norm(b.attrs["nodeset"])
		req := b.attrs["required"]
		if req == "false()" {
			req = ""
		}
		ro := b.attrs["readonly"]
		if ro == "false()" {
			ro = ""
		}
		m.binds[ns] = strings.Join([]string{b.attrs["type"], expr(req, ns), expr(b.attrs["relevant"], ns),
			expr(b.attrs["constraint"], ns), expr(b.attrs["calculate"], ns), ro}, "|")
	}
	texts := map[string]map[string]string{} // id -> lang -> text
	itextVals := map[string]string{}        // lang + " " + id -> text
	clean := func(s string) string {
		s = strings.TrimSpace(wsRE.ReplaceAllString(norm(s), " "))
		if s == "-" {
			return ""
		}
		return s
	}
	if it := model.child("itext"); it != nil {
		for _, tr := range it.all("translation") {
			lang := tr.attrs["lang"]
			for _, tx := range tr.all("text") {
				id := norm(tx.attrs["id"])
				var parts []string
				for _, v := range tx.all("value") {
					s := clean(v.text)
					if s == "" || strings.HasSuffix(s, "/-") {
						// older pyxform writes a missing media file as
						// jr://images/-
						continue
					}
					if f := v.attrs["form"]; f != "" {
						s = f + "=" + s
					}
					parts = append(parts, s)
				}
				sort.Strings(parts)
				val := strings.Join(parts, "; ")
				if texts[id] == nil {
					texts[id] = map[string]string{}
				}
				texts[id][lang] = val
				if val != "" {
					itextVals[lang+" "+id] = val
				}
			}
		}
	}
	// labelOf resolves a <label> or <hint> to text per language.
	labelOf := func(l *xtree, itextID func(string) string) map[string]string {
		out := map[string]string{}
		if l == nil {
			return out
		}
		if ref := l.attrs["ref"]; ref != "" {
			id := itextID(ref)
			for lang, s := range texts[norm(id)] {
				if s != "" {
					out[lang] = s
				}
			}
			return out
		}
		if s := clean(l.text); s != "" {
			out[""] = s
		}
		return out
	}
	jrItext := regexp.MustCompile(`^jr:itext\('([^']*)'\)$`)
	literalID := func(ref string) string {
		if g := jrItext.FindStringSubmatch(ref); g != nil {
			return g[1]
		}
		return ""
	}
	itemsetRE := regexp.MustCompile(`^instance\('([^']+)'\)/root/item(\[.*\])?$`)
	refs := map[string]bool{}
	var controls func(n *xtree)
	controls = func(n *xtree) {
		for _, k := range n.kids {
			if k.name == "label" || k.name == "hint" || k.name == "item" || k.name == "itemset" {
				continue
			}
			ref := k.attrs["ref"]
			if k.name == "repeat" {
				ref = k.attrs["nodeset"]
			}
			ref = norm(ref)
			refs[ref] = true
			line := []string{k.name, ref, k.attrs["appearance"], expr(k.attrs["jr:count"], ref)}
			for _, tag := range []string{"label", "hint"} {
				for lang, s := range labelOf(k.child(tag), literalID) {
					m.labels[ref+" "+tag+" "+lang] = s
				}
			}
			for _, item := range k.all("item") {
				val := strings.TrimSpace(item.child("value").text)
				for lang, s := range labelOf(item.child("label"), literalID) {
					m.choices[ref+" "+val+" "+lang] = s
				}
			}
			if is := k.child("itemset"); is != nil {
				g := itemsetRE.FindStringSubmatch(is.attrs["nodeset"])
				if g == nil {
					t.Fatalf("%s: itemset nodeset %q", ref, is.attrs["nodeset"])
				}
				if g[2] != "" {
					// which list a select uses shows in its choices; the
					// filter is compared here
					line = append(line, "filter "+g[1]+expr(g[2], ref))
				}
				inst := secondary[g[1]]
				if inst != nil && len(inst.kids) == 1 {
					for _, item := range inst.kids[0].all("item") {
						val := strings.TrimSpace(item.child("name").text)
						var labels map[string]string
						if id := item.child("itextId"); id != nil {
							labels = labelOf(&xtree{attrs: map[string]string{"ref": strings.TrimSpace(id.text)}}, func(s string) string { return s })
						} else {
							labels = labelOf(item.child("label"), literalID)
						}
						for lang, s := range labels {
							m.choices[ref+" "+val+" "+lang] = s
						}
					}
				}
			}
			m.controls = append(m.controls, strings.Join(line, " "))
			controls(k)
		}
	}
	controls(body)
	// the question texts: ids PATH:label, :hint, :jr:constraintMsg and
	// :jr:requiredMsg of a bound node (choice ids differ between pyxform
	// versions; choices are compared through the controls)
	idRE := regexp.MustCompile(`^\S+ (/R[^:]*):(label|hint|jr:constraintMsg|jr:requiredMsg)$`)
	for k, v := range itextVals {
		if g := idRE.FindStringSubmatch(k); g != nil && (m.binds[g[1]] != "" || refs[g[1]]) {
			m.itext[k] = v
		}
	}
	return m
}

// TestXFormMatchesPyxform compares dotm's XForm of each reference XLSForm
// with the XForm pyxform wrote for it (testdata/pyxform/expected-xforms,
// from pyxform's test suite): the binds, the primary instance's nodes,
// the question texts of every translation, the body's controls and the
// labels of every question and choice.
func TestXFormMatchesPyxform(t *testing.T) {
	files, err := filepath.Glob("testdata/pyxform/expected-xforms/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("expected XForms: %d files, %v", len(files), err)
	}
	// Reference forms dotm does not read yet, with the reason it gives: the
	// refusal is checked, and a form that starts to load must leave this
	// list so that its XForm is compared.
	refused := map[string]string{}
	compared := 0
	for _, xf := range files {
		name := strings.TrimSuffix(filepath.Base(xf), ".xml")
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(xf)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Load(filepath.Join("testdata/pyxform", name+".xlsx"))
			reason, isRefused := refused[name]
			switch {
			case err != nil && isRefused && strings.Contains(err.Error(), reason):
				t.Logf("dotm refuses it, as expected (%s): %v", reason, err)
				return
			case err != nil:
				t.Fatalf("dotm refuses the XLSForm: %v", err)
			case isRefused:
				t.Fatalf("dotm now reads %s: remove it from the refused list so that its XForm is compared", name)
			}
			got, err := f.XForm()
			if err != nil {
				t.Fatalf("XForm: %v", err)
			}
			compared++
			wantM := meaningOf(t, want)
			if len(wantM.binds) < 2 || len(wantM.instance) < 3 || len(wantM.controls) == 0 {
				t.Fatalf("expected XForm read as nearly empty: %d binds, %d nodes, %d controls", len(wantM.binds), len(wantM.instance), len(wantM.controls))
			}
			known := pyxformKnownDiffs[name]
			compareMeaning(t, meaningOf(t, got), wantM, known.keys)
			t.Logf("pyxform's XForm: %d binds, %d instance nodes, %d question texts, %d controls, %d labels and hints, %d choice labels",
				len(wantM.binds), len(wantM.instance), len(wantM.itext), len(wantM.controls), len(wantM.labels), len(wantM.choices))
		})
	}
	if compared < 5 {
		t.Errorf("compared %d forms, want at least 5", compared)
	}
}

// pyxformKnownDiffs lists, per reference form, the differences that are
// not dotm's: a pattern over the differing keys ("bind /R/x", "itext
// english /R/x:label", ...) and why they differ.
var pyxformKnownDiffs = map[string]struct {
	keys   *regexp.Regexp
	reason string
}{
	// pyxform's test suite keeps this expected XForm from an older version
	// of the workbook: it has some_text and num_repeat_times, which the
	// workbook no longer has, lacks the questions added since (my_name,
	// address, email_note, invalid_variable, uri_deviceid, launch, the
	// instance_name setting, repeat_count 2) and numbers the table-list
	// label row 23 where the workbook now has it on row 25. Its
	// select_multiple also has the hint "Select all that apply." that old
	// pyxform versions added. attribute_columns_test is the same workbook
	// with a current expected XForm, and matches in full.
	"xlsform_spec_test": {
		keys:   regexp.MustCompile(`/R/(everything/(some_text|num_repeat_times|my_name|address|email_note|invalid_variable|uri_deviceid(_test_output)?|repeat_test_count|repeat_test/name/reserved_name_for_field_list_labels_2[35])|launch|meta/instanceName)\b|^label /R/everything/repeat_test/group_test/select_multiple_test hint $|:jr:constraintMsg$|^control repeat /R/everything/repeat_test `),
		reason: "expected XForm older than the workbook",
	},
	// pyxform's flat setting gives a group's label the id of the form's
	// root ("/flat_xlsform_test:label"); dotm uses the group's own path.
	"flat_xlsform_test": {
		keys:   regexp.MustCompile(`^itext english /R/labeled_select_group:label$`),
		reason: "pyxform names a flat group's label after the root",
	},
}

// compareMeaning reports every difference whose key known (which may be
// nil) does not match.
func compareMeaning(t *testing.T, got, want xformMeaning, known *regexp.Regexp) {
	t.Helper()
	diff := func(what string, g, w map[string]string) {
		keys := map[string]bool{}
		for k := range g {
			keys[k] = true
		}
		for k := range w {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			gv, gok := g[k]
			wv, wok := w[k]
			if gok == wok && gv == wv {
				continue
			}
			if known != nil && known.MatchString(what+" "+k) {
				continue
			}
			switch {
			case !gok:
				t.Errorf("%s %s: missing, pyxform has %q", what, k, wv)
			case !wok:
				t.Errorf("%s %s: %q, pyxform has none", what, k, gv)
			default:
				t.Errorf("%s %s:\n  dotm    %q\n  pyxform %q", what, k, gv, wv)
			}
		}
	}
	set := func(xs []string) map[string]string {
		m := map[string]string{}
		for _, x := range xs {
			m[x] = ""
		}
		return m
	}
	diff("bind", got.binds, want.binds)
	diff("instance", set(got.instance), set(want.instance))
	diff("itext", got.itext, want.itext)
	diff("label", got.labels, want.labels)
	diff("choice", got.choices, want.choices)
	diff("control", set(got.controls), set(want.controls))
	order := func(cs []string) []string {
		var out []string
		for _, c := range cs {
			if known == nil || !known.MatchString("control "+c) {
				out = append(out, c)
			}
		}
		return out
	}
	if g, w := order(got.controls), order(want.controls); !t.Failed() && !reflect.DeepEqual(g, w) {
		t.Errorf("controls in another order:\n  dotm    %q\n  pyxform %q", g, w)
	}
}

// TestXFormHousehold checks the built-in questionnaire's XForm: well
// formed, a bind and an instance node for every question, every ${}
// reference resolved to a node of the instance, both languages.
func TestXFormHousehold(t *testing.T) {
	f := Household()
	data, err := f.XForm()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("${")) {
		i := bytes.Index(data, []byte("${"))
		t.Fatalf("unresolved reference: %q", data[max(0, i-80):min(len(data), i+40)])
	}
	doc := parseXTree(t, data)
	m := meaningOf(t, data)
	nodes := map[string]bool{}
	for _, p := range m.instance {
		nodes[strings.Replace(p, "/R", "/data", 1)] = true
	}
	binds := map[string]*xtree{}
	for _, b := range doc.child("h:head").child("model").all("bind") {
		binds[b.attrs["nodeset"]] = b
	}
	w := &xformWriter{f: f, c: f.c, root: "data", paths: map[*item]string{}, kids: map[*item][]*item{}}
	w.layout()
	types := map[string]bool{"string": true, "int": true, "decimal": true, "date": true, "time": true, "dateTime": true,
		"geopoint": true, "geotrace": true, "geoshape": true, "barcode": true, "binary": true}
	questions := 0
	for _, it := range f.c.all {
		p := w.paths[it]
		if !nodes[p] {
			t.Errorf("%s: no instance node", p)
		}
		if it.kind != kindField && it.kind != kindNote {
			continue
		}
		questions++
		b := binds[p]
		if b == nil {
			t.Errorf("%s: no bind", p)
			continue
		}
		if !types[b.attrs["type"]] {
			t.Errorf("%s: bind type %q", p, b.attrs["type"])
		}
		if it.requiredStatic && b.attrs["required"] != "true()" {
			t.Errorf("%s: required %q, want true()", p, b.attrs["required"])
		}
		if (it.q.Relevant != "") != (b.attrs["relevant"] != "") || (it.q.Constraint != "") != (b.attrs["constraint"] != "") ||
			(it.q.Calculation != "") != (b.attrs["calculate"] != "") {
			t.Errorf("%s: bind %v does not carry the row's relevant/constraint/calculation", p, b.attrs)
		}
	}
	if questions < 50 {
		t.Errorf("%d questions bound, want the whole household form", questions)
	}
	// every absolute path an expression or a label names is a node
	pathRE := regexp.MustCompile(`/data(/[A-Za-z_][\w.-]*)+`)
	for _, p := range pathRE.FindAllString(string(data), -1) {
		if !nodes[p] {
			t.Errorf("reference to %s, which is not an instance node", p)
		}
	}
	for _, r := range f.Repeats() {
		it := f.c.byName[r]
		var count string
		for _, c := range m.controls {
			if strings.HasPrefix(c, "repeat "+strings.Replace(w.paths[it], "/data", "/R", 1)+" ") {
				count = c
			}
		}
		if count == "" || !strings.Contains(count, "/R/") {
			t.Errorf("repeat %s: control %q, want a jr:count", r, count)
		}
		if !bytes.Contains(data, []byte("<"+r+` jr:template="">`)) {
			t.Errorf("repeat %s: no jr:template node", r)
		}
	}
	tr := doc.child("h:head").child("model").child("itext").all("translation")
	if len(tr) != 2 || tr[0].attrs["lang"] != "English (en)" || tr[0].attrs["default"] != "true()" || tr[1].attrs["lang"] != "Español (es)" {
		t.Errorf("translations %v", tr)
	}
	if got := m.labels["/R/cover/household_id label Español (es)"]; got != "Código del hogar (de la asignación)" {
		t.Errorf("Spanish label of household_id: %q", got)
	}
}

const xformFeatureForm = `
settings: {form_id: feat, version: "3", form_title: "Features & <more>", instance_name: "concat('hh-', ${hhid})", style: pages}
survey:
  - {type: text, name: hhid, label: "Household <ID> & code", required: "yes", required_message: "Give the ID"}
  - {type: select_one regions, name: region, label: Region}
  - {type: select_one cities, name: city, label: "City in ${region}", choice_filter: "region = ${region}"}
  - {type: integer, name: n, label: People, default: "2", constraint: ". > 0 and . < 50", constraint_message: "1 to 49"}
  - {type: date, name: visit, label: Visit, default: "today()"}
  - {type: begin repeat, name: person, label: Person, repeat_count: "${n} + 1"}
  - {type: text, name: pname, label: Name, required: "${n} > 1"}
  - {type: calculate, name: twice, calculation: "${n} * 2"}
  - {type: integer, name: page, label: "Age of ${pname}", relevant: "${pname} != ''"}
  - {type: end repeat}
  - {type: begin repeat, name: visits, label: Visits, repeat_count: "${n}"}
  - {type: note, name: vnote, label: "Visit of ${hhid}"}
  - {type: end repeat}
  - {type: select_multiple_from_file villages.csv, name: villages, label: Villages}
  - {type: image, name: photo, label: Photo, guidance_hint: "Photograph the ${hhid} door", parameters: "max-pixels=1024"}
  - {type: geopoint, name: where, label: Where, parameters: "capture-accuracy=5 warning-accuracy=20"}
  - {type: select_one_external hamlets, name: hamlet, label: Hamlet, choice_filter: "region = ${region}"}
  - {type: select_one regions, name: region2, label: Again, parameters: "randomize=true seed=${n}"}
  - {type: range, name: score, label: Score, parameters: "start=0 end=5 step=0.5"}
  - {type: acknowledge, name: ok, label: OK, read_only: "${n} > 3"}
choices:
  - {list_name: regions, name: north, label: North}
  - {list_name: regions, name: south, label: South}
  - {list_name: cities, name: a, label: A, region: north}
  - {list_name: cities, name: b, label: B, region: south}
`

func TestXFormFeatures(t *testing.T) {
	f, err := Decode([]byte(xformFeatureForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := f.XForm()
	if err != nil {
		t.Fatal(err)
	}
	doc := parseXTree(t, data)
	model := doc.child("h:head").child("model")
	if got := doc.child("h:head").child("h:title").text; got != "Features & <more>" {
		t.Errorf("title %q", got)
	}
	root := model.child("instance").kids[0]
	if root.name != "data" || root.attrs["id"] != "feat" || root.attrs["version"] != "3" {
		t.Errorf("instance root %s %v", root.name, root.attrs)
	}
	bind := map[string]map[string]string{}
	for _, b := range model.all("bind") {
		bind[b.attrs["nodeset"]] = b.attrs
	}
	want := []struct{ node, attr, value string }{
		{"/data/hhid", "required", "true()"},
		{"/data/hhid", "jr:requiredMsg", "Give the ID"},
		{"/data/n", "type", "int"},
		{"/data/n", "constraint", ". > 0 and . < 50"},
		{"/data/n", "jr:constraintMsg", "1 to 49"},
		{"/data/person/pname", "required", " /data/n  > 1"},
		{"/data/person/twice", "calculate", " /data/n  * 2"},
		{"/data/person/twice", "type", "string"},
		{"/data/person_count", "calculate", " /data/n  + 1"},
		{"/data/person/page", "relevant", " ../pname  != ''"}, // same repeat: relative
		{"/data/visits/vnote", "readonly", "true()"},
		{"/data/villages", "type", "string"},
		{"/data/photo", "type", "binary"},
		{"/data/score", "type", "decimal"},
		{"/data/ok", "readonly", " /data/n  > 3"},
		{"/data/visit", "type", "date"},
		{"/data/meta/instanceName", "calculate", "concat('hh-',  /data/hhid )"},
		{"/data/meta/instanceID", "jr:preload", "uid"},
	}
	for _, w := range want {
		if got := bind[w.node][w.attr]; got != w.value {
			t.Errorf("bind %s %s = %q, want %q", w.node, w.attr, got, w.value)
		}
	}
	s := string(data)
	for _, frag := range []string{
		`<n>2</n>`, // static default
		`<setvalue event="odk-instance-first-load" ref="/data/visit" value="today()"/>`,
		`<person jr:template="">`,
		`<repeat nodeset="/data/person" jr:count="/data/person_count">`,
		`<repeat nodeset="/data/visits" jr:count=" /data/n ">`,
		`<itemset nodeset="instance('cities')/root/item[region =  /data/region ]">`,
		`<label>City in <output value=" /data/region "/></label>`,
		`<label>Visit of <output value=" /data/hhid "/></label>`,
		`<label>Age of <output value=" ../pname "/></label>`,
		`<label>Household &lt;ID&gt; &amp; code</label>`,
		`<bind nodeset="/data/n" type="int" constraint=". &gt; 0 and . &lt; 50"`,
		`<instance id="villages" src="jr://file-csv/villages.csv"/>`,
		`<range ref="/data/score" start="0" end="5" step="0.5">`,
		`<trigger ref="/data/ok">`,
		`<region>north</region>`,
		`<h:body class="pages">`,
		`<upload mediatype="image/*" ref="/data/photo" orx:max-pixels="1024">`,
		`<input ref="/data/where" accuracyThreshold="5" unacceptableAccuracyThreshold="20">`,
		`<input query="instance('hamlets')/root/item[region =  /data/region ]" ref="/data/hamlet">`,
		`<itemset nodeset="randomize(instance('regions')/root/item,  /data/n )">`,
		`<hint ref="jr:itext('/data/photo:hint')"/>`,
		`<value form="guidance">Photograph the <output value=" /data/hhid "/> door</value>`,
	} {
		if !strings.Contains(s, frag) {
			t.Errorf("XForm lacks %s", frag)
		}
	}
	if n := strings.Count(s, "<text id="); n != 1 {
		t.Errorf("%d itext texts in a form without languages, want the guidance hint's only", n)
	}
}

func TestXFormErrors(t *testing.T) {
	if _, err := (&Form{ID: "x"}).XForm(); err == nil || !strings.Contains(err.Error(), "not compiled") {
		t.Errorf("uncompiled form: %v", err)
	}
	_, err := Decode([]byte(`
survey:
  - {type: text, name: a, label: A}
  - {type: note, name: b, label: "Value ${nowhere}"}
`), "yaml")
	if err == nil || !strings.Contains(err.Error(), "row 2, column label: unknown question ${nowhere}") {
		t.Errorf("unknown reference in a label: %v", err)
	}
}

// TestXFormRelativeRefs: a reference between questions of one repeat is
// relative (" ../age "), as pyxform writes it, so that ODK's engines read
// the answer of the same entry; a choice filter's starts with current()/;
// indexed-repeat's value and repeat arguments and references from outside
// the repeat stay absolute.
func TestXFormRelativeRefs(t *testing.T) {
	f, err := Decode([]byte(`
settings: {form_id: rel, version: "1"}
survey:
  - {type: integer, name: n, label: N}
  - {type: begin repeat, name: person, label: Person}
  - {type: integer, name: age, label: "Age of ${pname}"}
  - {type: begin group, name: g, label: G}
  - {type: text, name: pname, label: Name, relevant: "${age} > ${n}"}
  - {type: select_one cities, name: city, label: City, choice_filter: "min_age <= ${age}"}
  - {type: end group}
  - {type: calculate, name: first_age, calculation: "indexed-repeat(${age}, ${person}, ${age})"}
  - {type: end repeat}
  - {type: calculate, name: total, calculation: "sum(${age})"}
choices:
  - {list_name: cities, name: a, label: A, min_age: 0}
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := f.XForm()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`nodeset="/data/person/g/pname" type="string" relevant=" ../../age  &gt;  /data/n "`,
		`instance('cities')/root/item[min_age &lt;=  current()/../../age ]`,
		`calculate="indexed-repeat( /data/person/age ,  /data/person ,  ../age )"`,
		`calculate="sum( /data/person/age )"`,
		`<output value=" ../g/pname "/>`,
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("no %s in\n%s", want, data)
		}
	}
}

// FuzzXForm checks that every form the YAML reader accepts gives a
// well-formed XForm, or a FormErrors naming rows (a label that names an
// unknown question).
func FuzzXForm(f *testing.F) {
	f.Add([]byte(xformFeatureForm))
	f.Add(HouseholdYAML())
	f.Add([]byte(`survey: [{type: note, name: a, label: "x ${a} <&>", "bind::type": int, "body::a b": x, "instance::x:y": "\""}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		form, err := Decode(data, "yaml")
		if err != nil {
			return
		}
		x, err := form.XForm()
		if err != nil {
			var fe FormErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		d := xml.NewDecoder(bytes.NewReader(x))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("XForm not well-formed: %v\n%s", err, x)
			}
		}
	})
}

// TestXFormNoteWithoutName: the XForm names an unnamed note as pyxform
// does.
func TestXFormNoteWithoutName(t *testing.T) {
	f, err := Decode([]byte("settings: {form_id: nn, version: '1'}\nsurvey:\n  - {type: note, label: Welcome}\n  - {type: integer, name: a, label: A}\n"), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	x, err := f.XForm()
	if err != nil || !strings.Contains(string(x), "/data/generated_note_name_") {
		t.Fatalf("XForm: %v\n%s", err, x)
	}
}

// TestXFormEncrypted: the survey's public key goes into <submission> as
// base64RsaPublicKey (method post, as pyxform writes it); a form whose
// settings carry a public_key keeps its own, with its submission_url.
func TestXFormEncrypted(t *testing.T) {
	plain, err := Decode([]byte("settings: {form_id: e1, version: '1'}\nsurvey:\n  - {type: integer, name: a, label: A}\n"), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	x, err := plain.XFormEncrypted("MIIBsurvey+/=")
	if err != nil || !strings.Contains(string(x), `<submission base64RsaPublicKey="MIIBsurvey+/=" method="post"/>`) {
		t.Fatalf("XFormEncrypted: %v\n%s", err, x)
	}
	if x, _ := plain.XForm(); strings.Contains(string(x), "<submission") {
		t.Errorf("XForm of a form without public_key has a <submission> element:\n%s", x)
	}
	own, err := Decode([]byte("settings: {form_id: e2, version: '1', public_key: MIIBown, submission_url: 'https://example.org/submission'}\nsurvey:\n  - {type: integer, name: a, label: A}\n"), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	x, err = own.XFormEncrypted("MIIBsurvey")
	if err != nil || !strings.Contains(string(x), `<submission action="https://example.org/submission" base64RsaPublicKey="MIIBown" method="post"/>`) {
		t.Fatalf("XFormEncrypted of a form with its own key: %v\n%s", err, x)
	}
}
