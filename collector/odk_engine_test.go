package collector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm/questionnaire"
)

// The tests in this file fill dotm's XForms with ODK's own form engine,
// @getodk/xforms-engine (the engine of ODK Web Forms and ODK Central), run
// on Node by questionnaire/testdata/odkengine/fill.mjs. They need node and
// npm; without them they skip, unless DOTM_REQUIRE_ODK is set (CI sets
// it), when they fail.

const odkDir = "../questionnaire/testdata/odkengine"

var (
	odkOnce sync.Once
	odkErr  error
)

// requireODKEngine installs the harness's pinned packages (npm ci, once,
// when node_modules lacks the engine) and returns the harness's path.
func requireODKEngine(t *testing.T) string {
	t.Helper()
	_, nodeErr := exec.LookPath("node")
	_, npmErr := exec.LookPath("npm")
	if nodeErr != nil || npmErr != nil {
		if os.Getenv("DOTM_REQUIRE_ODK") == "" {
			t.Skip("node and npm are needed to run ODK's form engine (install nodejs and npm; DOTM_REQUIRE_ODK=1 makes this a failure)")
		}
		t.Fatalf("DOTM_REQUIRE_ODK is set but node or npm is missing: %v %v", nodeErr, npmErr)
	}
	odkOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(odkDir, "node_modules", "@getodk", "xforms-engine", "package.json")); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = odkDir
		if out, err := cmd.CombinedOutput(); err != nil {
			odkErr = fmt.Errorf("npm ci in %s: %v\n%s", odkDir, err, out)
		}
	})
	if odkErr != nil {
		t.Fatal(odkErr)
	}
	return filepath.Join(odkDir, "fill.mjs")
}

// odkNode is what the engine computed for one node (see fill.mjs).
type odkNode struct {
	Reference       string   `json:"reference"`
	Type            string   `json:"type"`
	Relevant        bool     `json:"relevant"`
	Required        bool     `json:"required"`
	Value           *string  `json:"value"`
	Valid           *bool    `json:"valid"`
	ConstraintValid *bool    `json:"constraintValid"`
	Calculated      bool     `json:"calculated"`
	Options         []string `json:"options"`
}

type odkFill struct {
	Status     string `json:"status"`
	Violations []struct {
		Reference, Condition string
	} `json:"violations"`
	File     string             `json:"file"`
	Instance string             `json:"instance"`
	Requests [][]odkPart        `json:"requests"`
	Nodes    map[string]odkNode `json:"nodes"`
	Unused   []string           `json:"unused"`
}

// odkPart is one part of a request the engine's payload makes.
type odkPart struct {
	Name, Filename, Type string
	Base64               []byte `json:"base64"` // encoding/json decodes base64 into []byte
}

// odkFillForm fills xform with answers in ODK's engine; with edit (an
// instance document) it edits that instance as Collect edits a sent form.
func odkFillForm(t *testing.T, xform []byte, answers map[string]any, deviceID, edit string) odkFill {
	t.Helper()
	return odkFillSplit(t, xform, answers, deviceID, edit, 0)
}

// odkFillSplit is odkFillForm whose payload, with maxSize > 0, is the
// engine's chunked one: the files split over requests of at most maxSize
// bytes of files and instance.
func odkFillSplit(t *testing.T, xform []byte, answers map[string]any, deviceID, edit string, maxSize int) odkFill {
	t.Helper()
	script := requireODKEngine(t)
	dir := t.TempDir()
	formPath, answersPath := filepath.Join(dir, "form.xml"), filepath.Join(dir, "answers.json")
	js, err := json.Marshal(answers)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(formPath, xform, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(answersPath, js, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{filepath.Base(script), formPath, answersPath, "--deviceid", deviceID}
	if edit != "" {
		editPath := filepath.Join(dir, "edit.xml")
		if err := os.WriteFile(editPath, []byte(edit), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--edit", editPath)
	}
	if maxSize > 0 {
		args = append(args, "--maxsize", strconv.Itoa(maxSize))
	}
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = filepath.Dir(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ODK's engine: %v\n%s", err, stderr.Bytes())
	}
	var res odkFill
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("harness output: %v\n%.500s", err, out)
	}
	return res
}

// collectForm does what ODK Collect does with a project URL to get a form:
// formList, then the form's downloadUrl and manifestUrl. It returns the
// XForm as served.
func collectForm(t *testing.T, a *apiEnv, base, formID string) []byte {
	t.Helper()
	st, b, h := a.doRaw("", "GET", base+"/formList", "", nil, http.Header{"X-Openrosa-Version": {"1.0"}})
	if st != 200 || h.Get("X-OpenRosa-Version") != "1.0" {
		t.Fatalf("formList: %d\n%s", st, b)
	}
	var list struct {
		Forms []struct {
			FormID      string `xml:"formID"`
			DownloadURL string `xml:"downloadUrl"`
			ManifestURL string `xml:"manifestUrl"`
		} `xml:"xform"`
	}
	if err := xml.Unmarshal(b, &list); err != nil {
		t.Fatalf("formList: %v\n%s", err, b)
	}
	for _, f := range list.Forms {
		if f.FormID != formID {
			continue
		}
		st, xform, _ := a.doRaw("", "GET", strings.TrimPrefix(f.DownloadURL, a.srv.URL), "", nil, nil)
		if st != 200 {
			t.Fatalf("form %s: %d\n%s", formID, st, xform)
		}
		if f.ManifestURL != "" {
			st, m, _ := a.doRaw("", "GET", strings.TrimPrefix(f.ManifestURL, a.srv.URL), "", nil, nil)
			if st != 200 || !bytes.Contains(m, []byte("xformsManifest")) {
				t.Fatalf("manifest of %s: %d\n%s", formID, st, m)
			}
		}
		return xform
	}
	t.Fatalf("formList has no %s:\n%s", formID, b)
	return nil
}

// collectSubmit sends an instance as ODK does: HEAD /submission, then a
// multipart POST with the instance in the field the engine names.
func collectSubmit(t *testing.T, a *apiEnv, base string, fill odkFill) (int, []byte) {
	t.Helper()
	st, b, h := a.doRaw("", "HEAD", base+"/submission", "", nil, http.Header{"X-Openrosa-Version": {"1.0"}})
	if st != 204 || h.Get("X-OpenRosa-Accept-Content-Length") == "" {
		t.Fatalf("HEAD submission: %d %v\n%s", st, h, b)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile(fill.File, fill.File+".xml")
	if err != nil {
		t.Fatal(err)
	}
	part.Write([]byte(fill.Instance))
	w.Close()
	st, b, _ = a.doRaw("", "POST", base+"/submission", w.FormDataContentType(), &body, http.Header{"X-Openrosa-Version": {"1.0"}})
	return st, b
}

var instanceIDRE = regexp.MustCompile(`<instanceID>uuid:([^<]+)</instanceID>`)

// storedAnswers is a stored submission's answers, identifiers decrypted.
func storedAnswers(t *testing.T, a *apiEnv, id string) map[string]any {
	t.Helper()
	var s struct {
		Answers map[string]any `json:"answers"`
	}
	if err := json.Unmarshal(a.mustDo("sup", "GET", "/api/v1/submissions/"+id+"?include=identifiers", nil, 200), &s); err != nil {
		t.Fatal(err)
	}
	return s.Answers
}

// jsonAnswers returns answers as JSON decodes them (numbers as float64),
// as a client's would be.
func jsonAnswers(t *testing.T, answers map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(answers)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// odkRoundTrip fills form (as served to Collect) with answers in ODK's
// engine, submits the engine's instance through the OpenRosa API, resends
// it, submits the same answers through the JSON API and checks that both
// are stored alike. preloads names the metadata the tablet fills (start,
// end, deviceid): the JSON submission takes the engine's values for them.
// Before submitting, it compares what the engine computed with dotm's
// validator (see parity). It returns the engine's fill.
func odkRoundTrip(t *testing.T, a *apiEnv, form *questionnaire.Form, answers map[string]any, preloads ...string) odkFill {
	t.Helper()
	formID, version := form.ID, form.Version
	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey
	xform := collectForm(t, a, base, formID)
	fill := odkFillForm(t, xform, answers, "tablet-017", "")
	if d := parity(form, jsonAnswers(t, answers), fill); len(d) > 0 {
		t.Errorf("ODK's engine and dotm disagree on %d nodes:\n%s", len(d), strings.Join(d, "\n"))
	}
	if fill.Status != "ready" || len(fill.Unused) > 0 || fill.File != "xml_submission_file" {
		t.Fatalf("ODK's engine: status %s, violations %+v, answers not entered %v, file %q", fill.Status, fill.Violations, fill.Unused, fill.File)
	}
	m := instanceIDRE.FindStringSubmatch(fill.Instance)
	if m == nil {
		t.Fatalf("the engine's instance has no meta/instanceID:\n%s", fill.Instance)
	}
	id := m[1]
	if st, b := collectSubmit(t, a, base, fill); st != 201 || !strings.Contains(orMessage(t, b), id) {
		t.Fatalf("POST submission of the engine's instance: %d\n%s\n%s", st, b, fill.Instance)
	}
	if st, b := collectSubmit(t, a, base, fill); st != 202 {
		t.Fatalf("resend: %d, want 202\n%s", st, b)
	}

	same := jsonAnswers(t, answers)
	for _, name := range preloads {
		re := regexp.MustCompile(`<` + name + `>([^<]*)</` + name + `>`)
		v := re.FindStringSubmatch(fill.Instance)
		if v == nil || v[1] == "" {
			t.Fatalf("the engine did not fill %s:\n%s", name, fill.Instance)
		}
		same[name] = v[1]
	}
	env := a.envelope(uuid.NewString(), "", same)
	env["form_id"], env["form_version"] = formID, version
	if s, ok := same["start"].(string); ok {
		env["started_at"], env["ended_at"] = s, same["end"]
	}
	a.mustDo("ana", "POST", "/api/v1/submissions", env, 201)
	got, want := storedAnswers(t, a, id), storedAnswers(t, a, env["instance_id"].(string))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the engine's submission and the JSON API's differ:\nOpenRosa %v\nJSON     %v", got, want)
	}
	return fill
}

// parity compares what ODK's engine computed with dotm's validator for the
// same answers: relevance of every group, repeat and question, required,
// the calculated values and the choices a filtered select offers. It
// returns the disagreements.
func parity(form *questionnaire.Form, answers map[string]any, fill odkFill) []string {
	st := form.State(answers, questionnaire.ValidateOptions{Now: time.Now()})
	kinds := map[string]string{} // the form's items by name: group, repeat, note or field
	var outline func([]questionnaire.OutlineItem)
	outline = func(items []questionnaire.OutlineItem) {
		for _, it := range items {
			kinds[it.Name] = it.Kind
			outline(it.Children)
		}
	}
	outline(form.Outline())
	lastName := func(path string) string {
		name := path[strings.LastIndexByte(path, '.')+1:]
		if i := strings.IndexByte(name, '['); i >= 0 {
			name = name[:i]
		}
		return name
	}
	var out []string
	for path, n := range fill.Nodes {
		if strings.HasSuffix(n.Reference, "/meta") || strings.Contains(n.Reference, "/meta/") || n.Type == "repeat-instance" {
			continue
		}
		if kinds[lastName(path)] == "" {
			continue // a node only the XForm has: a repeat's _count, a table-list's label row
		}
		if i := strings.LastIndexByte(path, ']'); i > 0 {
			if _, ok := lookupPath(st.Answers, path[:i+1]); !ok {
				continue // an entry the answers do not have (a new form's first, empty entry)
			}
		}
		rel, listed := st.Relevant[path]
		switch {
		case !listed && n.Relevant:
			out = append(out, fmt.Sprintf("%s: relevant in ODK, not reached in dotm", path))
		case listed && rel != n.Relevant:
			out = append(out, fmt.Sprintf("%s: relevant %v in ODK, %v in dotm", path, n.Relevant, rel))
		}
		if !listed || !rel || !n.Relevant {
			continue
		}
		if n.Valid != nil && !n.Calculated && st.Required[path] != n.Required {
			out = append(out, fmt.Sprintf("%s: required %v in ODK, %v in dotm", path, n.Required, st.Required[path]))
		}
		if n.Calculated && n.Value != nil {
			// dotm keeps no empty answer: an empty calculation is absent
			v, ok := lookupPath(st.Answers, path)
			if ok && !sameCalc(*n.Value, v) || !ok && *n.Value != "" {
				out = append(out, fmt.Sprintf("%s: calculated %q in ODK, %v in dotm", path, *n.Value, v))
			}
		}
		if choices, ok := st.Choices[path]; ok && (len(choices) > 0 || len(n.Options) > 0) && !reflect.DeepEqual(choices, n.Options) {
			out = append(out, fmt.Sprintf("%s: choices %v in ODK, %v in dotm", path, n.Options, choices))
		}
	}
	for path, rel := range st.Relevant {
		// a flat form's groups and repeats have no node
		if _, ok := fill.Nodes[path]; !ok && rel && (kinds[lastName(path)] == "field" || kinds[lastName(path)] == "note") {
			out = append(out, fmt.Sprintf("%s: relevant in dotm, no such node in ODK", path))
		}
	}
	sort.Strings(out)
	return out
}

// lookupPath finds "members[2].age" in answers.
func lookupPath(answers map[string]any, path string) (any, bool) {
	var cur any = answers
	for _, step := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		name, idx := step, -1
		if i := strings.IndexByte(step, '['); i > 0 {
			name = step[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(step[i+1:], "]"))
		}
		cur, ok = m[name]
		if !ok {
			return nil, false
		}
		if idx >= 0 {
			list, ok := cur.([]any)
			if !ok || idx >= len(list) {
				return nil, false
			}
			cur = list[idx]
		}
	}
	return cur, true
}

// sameCalc compares a calculated value as ODK's engine writes it (a
// string) with dotm's (int64, float64 or string): numbers to 1e-9.
func sameCalc(odk string, dotm any) bool {
	s := fmt.Sprint(dotm)
	if odk == s {
		return true
	}
	a, errA := strconv.ParseFloat(odk, 64)
	b, errB := strconv.ParseFloat(s, 64)
	return errA == nil && errB == nil && math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// TestODKEngineMiniForm: the mini household form, downloaded as Collect
// does, filled by ODK's engine, submitted through OpenRosa and resent, is
// stored as the JSON API stores the same answers; once rejected, the
// engine's edit of the sent form (deprecatedID) corrects it; the engine and
// dotm's validator agree on relevance, required and constraints, for valid
// and for invalid answers.
func TestODKEngineMiniForm(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	form, err := questionnaire.Decode(mustRead(t, "testdata/mini_household.yaml"), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	fill := odkRoundTrip(t, a, form, validAnswers("odk"))
	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey
	xform := collectForm(t, a, base, a.form)

	// The supervisor rejects the interview; the enumerator edits the sent
	// form in the engine (a new instanceID, the old one as deprecatedID),
	// and the edit corrects the original.
	orig := instanceIDRE.FindStringSubmatch(fill.Instance)[1]
	a.mustDo("sup", "POST", "/api/v1/submissions/"+orig+"/review", map[string]any{"decision": "reject", "comment": "a member is missing"}, 200)
	edited := validAnswers("odk")
	edited["phone"] = "odk phone 2"
	edited["members"] = append(edited["members"].([]any), map[string]any{"member_name": "odk member2", "age": 3, "abroad": "no"})
	editFill := odkFillForm(t, xform, edited, "tablet-017", fill.Instance)
	if editFill.Status != "ready" || !strings.Contains(editFill.Instance, "<deprecatedID>uuid:"+orig+"</deprecatedID>") {
		t.Fatalf("the engine's edit: status %s %+v\n%s", editFill.Status, editFill.Violations, editFill.Instance)
	}
	fix := instanceIDRE.FindStringSubmatch(editFill.Instance)[1]
	if st, b := collectSubmit(t, a, base, editFill); st != 201 || fix == orig {
		t.Fatalf("edited resubmission: %d\n%s", st, b)
	}
	old := decode[submissionJSON](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+orig, nil, 200))
	nw := decode[submissionJSON](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+fix+"?include=identifiers", nil, 200))
	if old.SupersededBy != fix || nw.Supersedes != orig || nw.Answers["phone"] != "odk phone 2" || len(nw.Answers["members"].([]any)) != 3 {
		t.Fatalf("after the edit: original %+v\ncorrection %+v", old, nw)
	}
	if d := parity(form, jsonAnswers(t, edited), editFill); len(d) > 0 {
		t.Errorf("edited: ODK's engine and dotm disagree on %d nodes:\n%s", len(d), strings.Join(d, "\n"))
	}

	// Invalid answers: the same questions break their constraints in both.
	bad := validAnswers("odk")
	bad["hh_size"] = 99
	bad["members"].([]any)[1].(map[string]any)["age"] = 130
	bad["remit_received"] = "no"
	badFill := odkFillForm(t, xform, bad, "tablet-017", "")
	var odkBad []string
	for path, n := range badFill.Nodes {
		if n.ConstraintValid != nil && !*n.ConstraintValid {
			odkBad = append(odkBad, path)
		}
	}
	_, problems := form.Validate(jsonAnswers(t, bad), questionnaire.ValidateOptions{Now: time.Now()})
	var dotmBad []string
	for _, p := range problems {
		if p.Code == questionnaire.CodeConstraint {
			dotmBad = append(dotmBad, p.Path)
		}
	}
	sort.Strings(odkBad)
	sort.Strings(dotmBad)
	if badFill.Status != "pending" || !reflect.DeepEqual(odkBad, dotmBad) || len(dotmBad) != 2 {
		t.Errorf("constraint violations: ODK %v (status %s), dotm %v", odkBad, badFill.Status, dotmBad)
	}
	if d := parity(form, jsonAnswers(t, bad), badFill); len(d) > 0 {
		t.Errorf("invalid answers: ODK's engine and dotm disagree on %d nodes:\n%s", len(d), strings.Join(d, "\n"))
	}
}

// TestODKEngineHouseholdForm: dotm's household form (groups, counted
// repeats, calculations over repeats, indexed-repeat, selects with
// relevance inside repeats, preloaded metadata) uploaded to a survey,
// downloaded as Collect does and filled by ODK's engine with the answers
// of questionnaire/testdata/household_valid.json, is stored as the JSON
// API stores the same answers, and the engine and dotm's validator agree
// on every relevance, required flag and calculated value.
func TestODKEngineHouseholdForm(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	form, env := withHouseholdForm(a)
	answers := env.Answers
	// The tablet fills the metadata itself.
	delete(answers, "start")
	delete(answers, "end")
	delete(answers, "deviceid")
	a.mustDo("admin", "POST", "/api/v1/surveys/"+a.survey+"/assignments", map[string]any{"assignments": []map[string]any{
		{"id": "a-odk-hh", "enumerator": "ana", "household_id": answers["household_id"]}}}, 201)
	fill := odkRoundTrip(t, a, form, answers, "start", "end", "deviceid")
	// The interview from ODK is linked to the enumerator's assignment of
	// its household, as Collect knows no assignment ids.
	var as struct {
		Assignments []struct {
			ID, Status   string
			SubmissionID string `json:"submission_id"`
		} `json:"assignments"`
	}
	if err := json.Unmarshal(a.mustDo("ana", "GET", "/api/v1/assignments?status=submitted", nil, 200), &as); err != nil {
		t.Fatal(err)
	}
	if id := instanceIDRE.FindStringSubmatch(fill.Instance)[1]; len(as.Assignments) != 1 || as.Assignments[0].ID != "a-odk-hh" || as.Assignments[0].SubmissionID != id {
		t.Errorf("assignments after the engine's interview %s: %+v", id, as.Assignments)
	}

	// Other paths through the form: no migrants, returnees or remittances,
	// a household without children; and a refused consent, which hides the
	// whole interview.
	xform := collectForm(t, a, "/v1/key/"+a.tokens["ana"]+"/projects/"+a.survey, form.ID)
	other := jsonAnswers(t, answers)
	other["has_migrants"], other["has_returnees"], other["remit_received"] = "no", "no", "no"
	other["n_members"] = 2
	other["members"] = other["members"].([]any)[:2]
	refused := map[string]any{"household_id": "N-014-008", "interview_date": "2025-03-14", "region": "south",
		"urban": "yes", "respondent_name": "Eva", "consent": "no"}
	for name, variant := range map[string]map[string]any{"no migrants": other, "no consent": refused} {
		vf := odkFillForm(t, xform, variant, "tablet-017", "")
		if d := parity(form, variant, vf); len(d) > 0 {
			t.Errorf("%s: ODK's engine and dotm disagree on %d nodes:\n%s", name, len(d), strings.Join(d, "\n"))
		}
	}
	calcs := 0
	for _, n := range fill.Nodes {
		if n.Calculated {
			calcs++
		}
	}
	if calcs < 15 {
		t.Errorf("%d calculated nodes compared, want the household form's", calcs)
	}
}

// odkCorpus are the XLSForms whose XForms must load in ODK's engine:
// every one dotm accepts.
var odkCorpus = []string{"../questionnaire/testdata/pyxform/*.xlsx", "../questionnaire/forms/*.yaml", "testdata/*.yaml"}

// odkRefused are the forms dotm accepts that ODK's engine refuses, with
// what the engine says. xl_date_ambiguous (pyxform's own test form) has the
// choice_filter label::English, which is not XPath (label is no axis).
var odkRefused = map[string]string{
	"xl_date_ambiguous.xlsx": "Expression has syntax error: instance('names_list')/root/item[label::English != '']",
}

// TestODKEngineLoadsForms: the XForm dotm writes for every form of the
// corpus that dotm accepts loads in ODK's engine, which starts an instance
// of it (attachments left blank); on that unanswered instance the engine
// and dotm's validator agree on relevance, required flags, calculations
// and filtered choices.
func TestODKEngineLoadsForms(t *testing.T) {
	t.Parallel()
	script := requireODKEngine(t)
	dir := t.TempDir()
	var files []string
	names := map[string]string{}
	forms := map[string]*questionnaire.Form{}
	for _, pattern := range odkCorpus {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			form, err := questionnaire.Load(p)
			if err != nil {
				continue // refused by dotm: the corpus tests check those
			}
			data, err := form.XForm()
			if err != nil {
				t.Errorf("%s: XForm: %v", p, err)
				continue
			}
			out := filepath.Join(dir, fmt.Sprintf("%03d.xml", len(files)))
			if err := os.WriteFile(out, data, 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, out)
			names[out] = filepath.Base(p)
			forms[out] = form
		}
	}
	if len(files) < 18 {
		t.Fatalf("only %d forms accepted by dotm to load", len(files))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Base(script), "--load"}, files...)...)
	cmd.Dir = filepath.Dir(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ODK's engine: %v\n%s", err, stderr.Bytes())
	}
	var result map[string]struct {
		Error *string            `json:"error"`
		Nodes map[string]odkNode `json:"nodes"`
	}
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("harness output: %v\n%s", err, out)
	}
	loaded := 0
	for _, f := range files {
		r, ok := result[f]
		name := names[f]
		switch {
		case !ok:
			t.Errorf("%s: no result from the engine", name)
		case r.Error == nil && odkRefused[name] != "":
			t.Errorf("%s: loads in ODK's engine now; drop it from odkRefused", name)
		case r.Error == nil:
			loaded++
			if d := parity(forms[f], map[string]any{}, odkFill{Nodes: r.Nodes}); len(d) > 0 {
				t.Errorf("%s, unanswered: ODK's engine and dotm disagree on %d nodes:\n%s", name, len(d), strings.Join(d, "\n"))
			}
		case *r.Error != odkRefused[name]:
			t.Errorf("%s: ODK's engine refuses dotm's XForm: %s", name, *r.Error)
		}
	}
	t.Logf("%d of %d XForms loaded in ODK's engine", loaded, len(files))
}

// TestODKEngineIndexedRepeat: indexed-repeat() read inside its own repeat
// (another entry's answer, chosen by this entry's) gives the same values
// in ODK's engine as in dotm's validator.
func TestODKEngineIndexedRepeat(t *testing.T) {
	t.Parallel()
	form, err := questionnaire.Decode([]byte(`
settings: {form_id: rel, version: "1"}
survey:
  - {type: begin repeat, name: person, label: Person}
  - {type: integer, name: age, label: Age}
  - {type: calculate, name: other_age, calculation: "indexed-repeat(${age}, ${person}, ${age})"}
  - {type: calculate, name: older, calculation: "if(${age} > indexed-repeat(${age}, ${person}, 1), 1, 0)"}
  - {type: end repeat}
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	xform, err := form.XForm()
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]any{"person": []any{map[string]any{"age": 2}, map[string]any{"age": 1}, map[string]any{"age": 3}}}
	fill := odkFillForm(t, xform, answers, "tablet-017", "")
	if d := parity(form, answers, fill); len(d) > 0 {
		t.Errorf("ODK's engine and dotm disagree on %d nodes:\n%s", len(d), strings.Join(d, "\n"))
	}
	if v := fill.Nodes["person[0].other_age"].Value; v == nil || *v != "1" {
		t.Errorf("person[0].other_age in ODK's engine: %q, want 1 (the age of entry 2)", deref(v))
	}
}

func deref(p *string) string {
	if p == nil {
		return "<no value>"
	}
	return *p
}
