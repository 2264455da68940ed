//go:build !js

package questionnaire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// engineNode is one node of a form instance as ODK's engine computes it
// (see testdata/odkengine/run.mjs).
type engineNode struct {
	Ref      string   `json:"ref"`
	Type     string   `json:"type"`
	Relevant bool     `json:"relevant"`
	Required bool     `json:"required"`
	Value    *string  `json:"value"`
	Options  []string `json:"options"`
	// ConstraintViolated reports a failed constraint.
	ConstraintViolated bool `json:"constraint_violated"`
}

type engineResult struct {
	Name   string       `json:"name"`
	Status string       `json:"status"`
	Error  string       `json:"error"`
	Nodes  []engineNode `json:"nodes"`
}

type engineJob struct {
	Name    string      `json:"name"`
	XForm   string      `json:"xform"`
	Answers [][2]string `json:"answers"`
}

// runODKEngine loads XForms in @getodk/xforms-engine (the engine of ODK
// Web Forms) with Node; CI installs it (`npm ci` in testdata/odkengine,
// see .ci/run).
func runODKEngine(t *testing.T, jobs []engineJob) map[string]engineResult {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("testdata", "odkengine"))
	node, err := exec.LookPath("node")
	if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "@getodk", "xforms-engine")); err != nil || statErr != nil {
		if os.Getenv("CI") != "" || os.Getenv("DOTM_REQUIRE_ODK") != "" {
			t.Fatalf("ODK's form engine is not installed (node: %v; run npm ci in %s)", err, dir)
		}
		t.Skipf("ODK's form engine is not installed: run `npm ci` in %s", dir)
	}
	in, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "run.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node run.mjs: %v\n%s", err, stderr.String())
	}
	var results []engineResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("engine output: %v\n%s", err, out)
	}
	byName := map[string]engineResult{}
	for _, r := range results {
		byName[r.Name] = r
	}
	return byName
}

// engineRefused lists the corpus forms dotm reads but ODK's engine
// refuses, with the reason and a piece of the engine's message. It is
// empty: xl_date_ambiguous, whose choice_filter "label::English != ”"
// the engine cannot parse ("label::" is an XPath axis), is now refused
// by dotm itself (see refusedHere).
var engineRefused = map[string]string{}

// TestXFormInODKEngine loads the XForm of every XLSForm of the corpus
// dotm reads, of the household form and of the feature form in ODK's own
// form engine: each must load, the engine must build a node for every
// bind, and answers must drive its relevance, choice filters, jr:count
// and calculations as the form says.
func TestXFormInODKEngine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var jobs []engineJob
	forms := map[string]*Form{}
	write := func(name string, f *Form, answers ...[2]string) {
		t.Helper()
		data, err := f.XForm()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		forms[name] = f
		jobs = append(jobs, engineJob{Name: name, XForm: p, Answers: answers})
	}
	files, _ := filepath.Glob("testdata/pyxform/*.xlsx")
	for _, p := range files {
		if f, err := Load(p); err == nil {
			write(strings.TrimSuffix(filepath.Base(p), ".xlsx"), f)
		}
	}
	if len(jobs) < 10 {
		t.Fatalf("%d corpus forms load, want at least 10", len(jobs))
	}
	write("household_no", Household(), [2]string{"/data/cover/consent", "no"})
	write("household_yes", Household(), [2]string{"/data/cover/consent", "yes"})
	feat, err := Decode([]byte(xformFeatureForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	write("feat", feat, [2]string{"/data/region", "north"}, [2]string{"/data/n", "4"})
	nested, err := Decode([]byte(`
survey:
  - {type: begin repeat, name: hh, label: Household, repeat_count: "2"}
  - {type: integer, name: nkids, label: Children}
  - {type: begin repeat, name: kids, label: Child, repeat_count: "${nkids}"}
  - {type: text, name: kname, label: "Child of a household with ${nkids}"}
  - {type: text, name: kdef, label: Default, default: "concat('k', ${nkids})"}
  - {type: end repeat}
  - {type: begin repeat, name: kids2, label: Child and one, repeat_count: "${nkids} + 1"}
  - {type: integer, name: kage, label: Age, constraint: ". < ${nkids} * 10"}
  - {type: end repeat}
  - {type: end repeat}
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	write("nested", nested, [2]string{"/data/hh[1]/nkids", "3"}, [2]string{"/data/hh[2]/nkids", "1"},
		[2]string{"/data/hh[2]/kids2[1]/kage", "15"}, [2]string{"/data/hh[1]/kids2[1]/kage", "15"})
	results := runODKEngine(t, jobs)

	indexRE := regexp.MustCompile(`\[\d+\]`)
	for _, job := range jobs {
		r, ok := results[job.Name]
		if !ok {
			t.Errorf("%s: no result", job.Name)
			continue
		}
		if want, refused := engineRefused[job.Name]; refused {
			if r.Status != "failure" || !strings.Contains(r.Error, want) {
				t.Errorf("%s: engine %s %q, want it refused with %q", job.Name, r.Status, r.Error, want)
			}
			continue
		}
		if r.Status != "success" && r.Status != "warning" {
			t.Errorf("%s: ODK's engine: %s: %s", job.Name, r.Status, r.Error)
			continue
		}
		types := map[string]string{} // path without indexes -> engine node type
		for _, n := range r.Nodes {
			types[indexRE.ReplaceAllString(n.Ref, "")] = n.Type
		}
		data, _ := os.ReadFile(job.XForm)
		for _, b := range parseXTree(t, data).child("h:head").child("model").all("bind") {
			ns := b.attrs["nodeset"]
			// a node inside a repeat with no instance yet (jr:count 0)
			// has its repeat's node only
			p := ns
			for p != "/" && types[p] == "" {
				p = path.Dir(p)
			}
			if p != ns && !strings.HasPrefix(types[p], "repeat-range") {
				t.Errorf("%s: the engine has no node for bind %s", job.Name, ns)
			}
		}
	}

	node := func(name, ref string) engineNode {
		t.Helper()
		for _, n := range results[name].Nodes {
			if n.Ref == ref {
				return n
			}
		}
		t.Fatalf("%s: no node %s", name, ref)
		return engineNode{}
	}
	value := func(n engineNode) string {
		if n.Value == nil {
			return "<nil>"
		}
		return *n.Value
	}
	if n := node("household_no", "/data/interview"); n.Relevant {
		t.Error("consent no: interview relevant in ODK's engine")
	}
	if n := node("household_no", "/data/cover/no_consent_note"); !n.Relevant {
		t.Error("consent no: no_consent_note not relevant in ODK's engine")
	}
	if n := node("household_yes", "/data/interview"); !n.Relevant {
		t.Error("consent yes: interview not relevant in ODK's engine")
	}
	if n := node("feat", "/data/city"); strings.Join(n.Options, ",") != "a" {
		t.Errorf("city options after region north: %v, want [a]", n.Options)
	}
	if n := node("feat", "/data/person_count"); value(n) != "5" {
		t.Errorf("person_count %s, want 5 (n + 1)", value(n))
	}
	persons := 0
	for _, n := range results["feat"].Nodes {
		if regexp.MustCompile(`^/data/person\[\d+\]$`).MatchString(n.Ref) {
			persons++
		}
	}
	if persons != 5 {
		t.Errorf("%d person repeats, want jr:count 5", persons)
	}
	if n := node("feat", "/data/person[5]/twice"); value(n) != "8" {
		t.Errorf("twice %s, want 8", value(n))
	}
	if n := node("feat", "/data/person[1]/pname"); !n.Required {
		t.Error("pname not required with n > 1")
	}
	if n := node("feat", "/data/hhid"); !n.Required {
		t.Error("hhid not required")
	}
	// nested repeats: each household's counts and constraints read its
	// own answers
	for _, c := range []struct {
		repeat string
		want   int
	}{{"/data/hh", 2}, {"/data/hh[1]/kids", 3}, {"/data/hh[2]/kids", 1}, {"/data/hh[1]/kids2", 4}, {"/data/hh[2]/kids2", 2}} {
		got := 0
		for _, n := range results["nested"].Nodes {
			if strings.HasPrefix(n.Ref, c.repeat+"[") && !strings.Contains(n.Ref[len(c.repeat):], "/") {
				got++
			}
		}
		if got != c.want {
			t.Errorf("nested: %s has %d instances, want %d", c.repeat, got, c.want)
		}
	}
	for ref, want := range map[string]string{"/data/hh[1]/kids[3]/kdef": "k3", "/data/hh[2]/kids[1]/kdef": "k1"} {
		if got := value(node("nested", ref)); got != want {
			t.Errorf("nested: dynamic default %s = %q, want %q", ref, got, want)
		}
	}
	if !node("nested", "/data/hh[2]/kids2[1]/kage").ConstraintViolated || node("nested", "/data/hh[1]/kids2[1]/kage").ConstraintViolated {
		t.Error("nested: kage < nkids * 10 not evaluated in its own household")
	}
	if n := node("feat", "/data/meta/instanceID"); !strings.HasPrefix(value(n), "uuid:") {
		t.Errorf("instanceID %s", value(n))
	}
}

// engineRef turns a Problem/State path ("members[2].age") into the
// reference ODK's engine gives the node ("/data/interview/roster/members[3]/age").
func engineRef(t *testing.T, w *xformWriter, p string) (string, *item) {
	t.Helper()
	segs := strings.Split(p, ".")
	var idx []int
	for _, s := range segs[:len(segs)-1] {
		var name string
		var k int
		if _, err := fmt.Sscanf(strings.ReplaceAll(strings.ReplaceAll(s, "[", " "), "]", ""), "%s %d", &name, &k); err != nil {
			t.Fatalf("path %q: %v", p, err)
		}
		idx = append(idx, k)
	}
	last := segs[len(segs)-1]
	if i := strings.Index(last, "["); i >= 0 {
		var k int
		fmt.Sscanf(last[i+1:], "%d]", &k)
		idx = append(idx, k)
		last = last[:i]
	}
	it := w.c.byName[last]
	if it == nil {
		t.Fatalf("path %q: no item %s", p, last)
	}
	chain := append([]*item(nil), it.repeats...)
	if it.kind == kindRepeat && len(idx) > len(chain) {
		chain = append(chain, it)
	}
	if len(chain) != len(idx) {
		t.Fatalf("path %q: %d indexes for %d repeats", p, len(idx), len(chain))
	}
	ref, done := "", ""
	for i, r := range chain {
		ref += strings.TrimPrefix(w.paths[r], done) + fmt.Sprintf("[%d]", idx[i]+1)
		done = w.paths[r]
	}
	return ref + strings.TrimPrefix(w.paths[it], done), it
}

// engineAnswers lists answers as (reference, value) in form order, the
// order an enumerator enters them, for the question types a person
// answers (not calculations, metadata or media).
func engineAnswers(w *xformWriter, level *item, answers map[string]any, prefix string) [][2]string {
	var out [][2]string
	for _, it := range w.c.members[level] {
		v, ok := answers[it.q.Name]
		if !ok || v == nil {
			continue
		}
		rel := w.paths[it]
		if level != nil {
			rel = strings.TrimPrefix(rel, w.paths[level])
		}
		ref := prefix + rel
		if it.kind == kindRepeat {
			list, _ := v.([]any)
			for i, x := range list {
				m, _ := x.(map[string]any)
				out = append(out, engineAnswers(w, it, m, fmt.Sprintf("%s[%d]", ref, i+1))...)
			}
			continue
		}
		if it.kind != kindField {
			continue
		}
		switch it.base {
		case "calculate", "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
			"username", "email", "audit", "hidden", "image", "audio", "video", "file", "background-audio":
			continue
		}
		var s string
		switch v := v.(type) {
		case []any:
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = fmt.Sprint(x)
			}
			s = strings.Join(parts, " ")
		case map[string]any:
			s = fmt.Sprintf("%v %v %v %v", v["lat"], v["lon"], v["alt"], v["accuracy"])
		default:
			s = fmt.Sprint(v)
		}
		out = append(out, [2]string{ref, s})
	}
	return out
}

// calcValues maps the engine reference of every calculation in answers
// (Form.State's, with repeats) to its value ("" when it has none).
func calcValues(w *xformWriter, level *item, answers map[string]any, prefix string) map[string]string {
	out := map[string]string{}
	for _, it := range w.c.members[level] {
		rel := w.paths[it]
		if level != nil {
			rel = strings.TrimPrefix(rel, w.paths[level])
		}
		switch {
		case it.kind == kindRepeat:
			list, _ := answers[it.q.Name].([]any)
			for i, x := range list {
				m, _ := x.(map[string]any)
				maps.Copy(out, calcValues(w, it, m, fmt.Sprintf("%s%s[%d]", prefix, rel, i+1)))
			}
		case it.base == "calculate":
			out[prefix+rel] = ""
			if v, ok := answers[it.q.Name]; ok && v != nil {
				out[prefix+rel] = fmt.Sprint(v)
			}
		}
	}
	return out
}

// TestXFormParityWithODKEngine gives the same answers to dotm's validator
// (Form.State) and to ODK's engine loading dotm's XForm, and compares
// what both compute: the relevance of every item, which fields are
// required, which constraints fail, the repeat counts and the
// calculations.
func TestXFormParityWithODKEngine(t *testing.T) {
	t.Parallel()
	f := Household()
	w := &xformWriter{f: f, c: f.c, root: "data", paths: map[*item]string{}, kids: map[*item][]*item{}}
	w.layout()
	data, err := f.XForm()
	if err != nil {
		t.Fatal(err)
	}
	xf := filepath.Join(t.TempDir(), "household.xml")
	if err := os.WriteFile(xf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	vectors := map[string]func(a map[string]any){
		"valid": func(a map[string]any) {},
		"no_consent": func(a map[string]any) {
			for k := range a {
				if k != "household_id" && k != "interview_date" && k != "region" && k != "urban" && k != "respondent_name" && k != "phone" {
					delete(a, k)
				}
			}
			a["consent"] = "no"
		},
		"constraints": func(a map[string]any) {
			a["members"].([]any)[1].(map[string]any)["age"] = 130
			a["remit_amount"] = -5
			a["dwelling_rooms"] = 0
		},
		"relevance": func(a map[string]any) {
			a["members"].([]any)[3].(map[string]any)["age"] = 4
			a["has_migrants"] = "no"
			delete(a, "n_migrants_reported")
			delete(a, "migrants")
			a["remit_received"] = "no"
		},
	}
	var jobs []engineJob
	states := map[string]State{}
	for name, change := range vectors {
		ex := HouseholdExample()
		change(ex.Answers)
		states[name] = f.State(ex.Answers, ValidateOptions{Now: ex.EndedAt})
		jobs = append(jobs, engineJob{Name: name, XForm: xf, Answers: engineAnswers(w, nil, ex.Answers, "")})
	}
	results := runODKEngine(t, jobs)
	num := func(s string) string {
		if x, err := strconv.ParseFloat(s, 64); err == nil {
			return strconv.FormatFloat(x, 'g', 12, 64)
		}
		if s == "NaN" {
			return ""
		}
		return s
	}
	for name, st := range states {
		r := results[name]
		if r.Status != "success" && r.Status != "warning" {
			t.Fatalf("%s: engine %s %s", name, r.Status, r.Error)
		}
		nodes := map[string]engineNode{}
		for _, n := range r.Nodes {
			nodes[n.Ref] = n
		}
		compared := 0
		for p, rel := range st.Relevant {
			ref, it := engineRef(t, w, p)
			n, ok := nodes[ref]
			if !ok {
				if rel && it.kind == kindField {
					t.Errorf("%s: %s (%s) relevant in dotm, no node in ODK's engine", name, p, ref)
				}
				continue
			}
			compared++
			if n.Relevant != rel {
				t.Errorf("%s: %s relevant: dotm %v, ODK %v", name, p, rel, n.Relevant)
			}
			if rel && it.kind == kindField && n.Required != st.Required[p] {
				t.Errorf("%s: %s required: dotm %v, ODK %v", name, p, st.Required[p], n.Required)
			}
		}
		if compared < 40 && name != "no_consent" {
			t.Errorf("%s: compared %d items", name, compared)
		}
		dotmBad := map[string]bool{}
		for _, pr := range st.Problems {
			if pr.Code == CodeConstraint {
				ref, _ := engineRef(t, w, pr.Path)
				dotmBad[ref] = true
			}
		}
		odkBad := map[string]bool{}
		for _, n := range r.Nodes {
			if n.ConstraintViolated && n.Relevant {
				odkBad[n.Ref] = true
			}
		}
		if !reflect.DeepEqual(dotmBad, odkBad) {
			t.Errorf("%s: failed constraints: dotm %v, ODK %v", name, dotmBad, odkBad)
		}
		if name == "constraints" && len(dotmBad) < 3 {
			t.Errorf("constraints: dotm finds %v, want 3 failures", dotmBad)
		}
		for p, want := range st.RepeatCounts {
			ref, _ := engineRef(t, w, p)
			got := 0
			for _, n := range r.Nodes {
				if strings.HasPrefix(n.Ref, ref+"[") && !strings.Contains(n.Ref[len(ref):], "/") {
					got++
				}
			}
			if got != want {
				t.Errorf("%s: %s: dotm counts %d entries, ODK %d", name, p, want, got)
			}
		}
		calcs := 0
		for ref, dv := range calcValues(w, nil, st.Answers, "") {
			n, ok := nodes[ref]
			if !ok || !n.Relevant {
				continue
			}
			calcs++
			var ov string
			if n.Value != nil {
				ov = *n.Value
			}
			if num(dv) != num(ov) {
				t.Errorf("%s: calculation %s: dotm %q, ODK %q", name, ref, dv, ov)
			}
		}
		if calcs < 5 && name != "no_consent" {
			t.Errorf("%s: compared %d calculations", name, calcs)
		}
	}
}
