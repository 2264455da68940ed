package questionnaire

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
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
		if os.Getenv("CI") != "" {
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

// engineRefused lists the corpus forms ODK's engine refuses, with the
// reason and a piece of the engine's message.
var engineRefused = map[string]string{
	// the choice_filter "label::English != ''" names a choices column by
	// its header; in XPath "label::" is an axis, so the XForm (pyxform
	// writes the filter as it is, too) does not parse
	"xl_date_ambiguous": "syntax error",
}

// TestXFormInODKEngine loads the XForm of every XLSForm of the corpus
// dotm reads, of the household form and of the feature form in ODK's own
// form engine: each must load, the engine must build a node for every
// bind, and answers must drive its relevance, choice filters, jr:count
// and calculations as the form says.
func TestXFormInODKEngine(t *testing.T) {
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
	if n := node("feat", "/data/meta/instanceID"); !strings.HasPrefix(value(n), "uuid:") {
		t.Errorf("instanceID %s", value(n))
	}
}
