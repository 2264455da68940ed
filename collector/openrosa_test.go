package collector_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"mime/multipart"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/questionnaire"
)

// openRosaPost sends an instance as ODK Collect does: multipart/form-data
// with the document in xml_submission_file, and the OpenRosa header.
func openRosaPost(a *apiEnv, path string, doc []byte, extra map[string][]byte) (int, []byte, http.Header) {
	a.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("xml_submission_file", "submission.xml")
	if err != nil {
		a.t.Fatal(err)
	}
	part.Write(doc)
	for name, b := range extra {
		p, _ := w.CreateFormFile(name, name)
		p.Write(b)
	}
	w.Close()
	return a.doRaw("", "POST", path, w.FormDataContentType(), &body, http.Header{"X-Openrosa-Version": {"1.0"}})
}

// orMessage is the message of an OpenRosa response document.
func orMessage(t *testing.T, b []byte) string {
	t.Helper()
	var doc struct {
		XMLName xml.Name `xml:"http://openrosa.org/http/response OpenRosaResponse"`
		Message string   `xml:"message"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not an OpenRosa response: %v\n%s", err, b)
	}
	return doc.Message
}

// TestOpenRosaCollectSequence walks what ODK Collect does with a project
// URL: formList, the form, its manifest, HEAD then POST submission, a
// resend, a changed resend, an invalid interview; and checks that the
// interview is stored as the JSON API stores the same answers.
func TestOpenRosaCollectSequence(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey

	st, b, h := a.doRaw("", "GET", base+"/formList", "", nil, nil)
	if st != 200 || h.Get("X-OpenRosa-Version") != "1.0" || h.Get("Date") == "" {
		t.Fatalf("formList: %d %v\n%s", st, h, b)
	}
	var list struct {
		XMLName xml.Name `xml:"http://openrosa.org/xforms/xformsList xforms"`
		Forms   []struct {
			FormID, Name, Version, Hash, DownloadURL, ManifestURL string
		} `xml:"xform"`
	}
	if err := xml.Unmarshal(b, &list); err != nil {
		t.Fatalf("formList: %v\n%s", err, b)
	}
	// The XML's element names are formID, name, version, hash, downloadUrl, manifestUrl.
	var raw struct {
		Forms []struct {
			FormID      string `xml:"formID"`
			Name        string `xml:"name"`
			Version     string `xml:"version"`
			Hash        string `xml:"hash"`
			DownloadURL string `xml:"downloadUrl"`
			ManifestURL string `xml:"manifestUrl"`
		} `xml:"xform"`
	}
	xml.Unmarshal(b, &raw)
	if len(raw.Forms) != 1 || raw.Forms[0].FormID != a.form || raw.Forms[0].Version != a.ver || raw.Forms[0].Name != "Mini household" {
		t.Fatalf("formList forms: %+v\n%s", raw.Forms, b)
	}
	f := raw.Forms[0]
	if !strings.HasPrefix(f.DownloadURL, a.srv.URL+base+"/forms/") {
		t.Fatalf("downloadUrl %s is not under %s", f.DownloadURL, a.srv.URL+base)
	}
	st, xform, _ := a.doRaw("", "GET", strings.TrimPrefix(f.DownloadURL, a.srv.URL), "", nil, nil)
	sum := md5.Sum(xform)
	if st != 200 || f.Hash != "md5:"+hex.EncodeToString(sum[:]) || !bytes.Contains(xform, []byte("<h:html")) {
		t.Fatalf("form.xml: %d, hash %s vs md5:%x\n%.300s", st, f.Hash, sum, xform)
	}
	if st, b, _ := a.doRaw("", "GET", strings.TrimPrefix(f.ManifestURL, a.srv.URL), "", nil, nil); st != 200 || !bytes.Contains(b, []byte("xformsManifest")) {
		t.Fatalf("manifest: %d\n%s", st, b)
	}
	st, _, h = a.doRaw("", "HEAD", base+"/submission", "", nil, nil)
	if st != 204 || h.Get("X-OpenRosa-Accept-Content-Length") == "" {
		t.Fatalf("HEAD submission: %d %v", st, h)
	}

	// The interview, as Collect serializes it.
	form, err := questionnaire.Decode(mustRead(t, "testdata/mini_household.yaml"), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	answers := validAnswers("odk")
	id := uuid.NewString()
	doc, err := form.EncodeInstance(answers, id, "")
	if err != nil {
		t.Fatal(err)
	}
	st, b, _ = openRosaPost(a, base+"/submission", doc, nil)
	if st != 201 || !strings.Contains(orMessage(t, b), id) {
		t.Fatalf("POST submission: %d\n%s", st, b)
	}
	st, b, _ = openRosaPost(a, base+"/submission", doc, nil) // the answer was lost: Collect sends again
	if st != 202 {
		t.Fatalf("resend: %d, want 202\n%s", st, b)
	}
	changed := validAnswers("odk")
	changed["hh_size"] = 4
	doc2, _ := form.EncodeInstance(changed, id, "")
	if st, b, _ = openRosaPost(a, base+"/submission", doc2, nil); st != 409 {
		t.Fatalf("same instance, other content: %d, want 409\n%s", st, b)
	}
	bad := validAnswers("odk")
	bad["hh_size"] = 99
	doc3, _ := form.EncodeInstance(bad, uuid.NewString(), "")
	st, b, _ = openRosaPost(a, base+"/submission", doc3, nil)
	if st != 422 || !strings.Contains(orMessage(t, b), "hh_size") {
		t.Fatalf("invalid interview: %d, want 422 naming hh_size\n%s", st, b)
	}
	// The form has no media question: a file is named by no answer.
	if st, b, _ = openRosaPost(a, base+"/submission", doc, map[string][]byte{"photo.jpg": []byte("\xff\xd8")}); st != 400 || !strings.Contains(orMessage(t, b), `"photo.jpg"`) {
		t.Fatalf("attachment: %d\n%s", st, b)
	}

	// The same answers through the JSON API: the stored submissions agree.
	jsonID := uuid.NewString()
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(jsonID, "", validAnswers("odk")), 201)
	get := func(id string) map[string]any {
		var s struct {
			Answers map[string]any `json:"answers"`
			Status  string         `json:"status"`
		}
		if err := json.Unmarshal(a.mustDo("sup", "GET", "/api/v1/submissions/"+id+"?include=identifiers", nil, 200), &s); err != nil {
			t.Fatal(err)
		}
		if s.Status != "received" {
			t.Fatalf("submission %s is %s", id, s.Status)
		}
		return s.Answers
	}
	if got, want := get(id), get(jsonID); !reflect.DeepEqual(got, want) {
		t.Fatalf("OpenRosa and JSON submissions differ:\n%v\n%v", got, want)
	}
}

// TestOpenRosaAuth: Basic credentials (the token as password) or a bearer
// token on /openrosa; without them a 401 that asks for Basic, in OpenRosa
// XML; a role that may not submit gets 403 in OpenRosa XML.
func TestOpenRosaAuth(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	path := "/openrosa/projects/" + a.survey + "/formList"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("ana:"+a.tokens["ana"]))
	if st, b, _ := a.doRaw("", "GET", path, "", nil, http.Header{"Authorization": {basic}}); st != 200 || !bytes.Contains(b, []byte(a.form)) {
		t.Fatalf("Basic: %d\n%s", st, b)
	}
	if st, b, _ := a.doRaw("ana", "GET", path, "", nil, nil); st != 200 {
		t.Fatalf("bearer: %d\n%s", st, b)
	}
	st, b, h := a.doRaw("", "GET", path, "", nil, nil)
	if st != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") || orMessage(t, b) == "" {
		t.Fatalf("no credentials: %d %v\n%s", st, h, b)
	}
	wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte("ana:dotm_wrong"))
	if st, b, _ := a.doRaw("", "GET", path, "", nil, http.Header{"Authorization": {wrong}}); st != 401 {
		t.Fatalf("wrong password: %d\n%s", st, b)
	}
	if st, b, _ := a.doRaw("", "GET", "/v1/key/dotm_wrong/projects/"+a.survey+"/formList", "", nil, nil); st != 401 {
		t.Fatalf("wrong key: %d\n%s", st, b)
	}
	// A survey outside the user's scope, and a role that does not submit.
	if st, b, _ := a.doRaw("ana", "GET", "/openrosa/projects/fj-2026/formList", "", nil, nil); st != 403 || orMessage(t, b) == "" {
		t.Fatalf("other survey: %d\n%s", st, b)
	}
	st, b, _ = a.doRaw("sup", "HEAD", "/openrosa/projects/"+a.survey+"/submission", "", nil, nil)
	if st != 403 {
		t.Fatalf("supervisor HEAD submission: %d\n%s", st, b)
	}
}

// TestOpenRosaAssignment: an interview from Collect carries no assignment
// id; its household_id answer links it to the enumerator's assignment of
// that household, which then waits for review like the JSON API's.
func TestOpenRosaAssignment(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	form, env := withHouseholdForm(a)
	hh := env.Answers["household_id"].(string)
	a.mustDo("admin", "POST", "/api/v1/surveys/"+a.survey+"/assignments", map[string]any{"assignments": []map[string]any{
		{"id": "a-odk-1", "enumerator": "ana", "household_id": hh}}}, 201)
	doc, err := form.EncodeInstance(env.Answers, env.InstanceID, "")
	if err != nil {
		t.Fatal(err)
	}
	st, b, _ := openRosaPost(a, "/v1/key/"+a.tokens["ana"]+"/projects/"+a.survey+"/submission", doc, nil)
	if st != 201 {
		t.Fatalf("POST: %d\n%s", st, b)
	}
	var as struct {
		Assignments []struct {
			ID           string `json:"id"`
			SubmissionID string `json:"submission_id"`
		} `json:"assignments"`
	}
	json.Unmarshal(a.mustDo("ana", "GET", "/api/v1/assignments?status=submitted", nil, 200), &as)
	if len(as.Assignments) != 1 || as.Assignments[0].ID != "a-odk-1" || as.Assignments[0].SubmissionID != env.InstanceID {
		t.Fatalf("assignments after the OpenRosa submission: %+v", as.Assignments)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenRosaURLsBehindProxy: formList's absolute URLs follow what a
// trusted TLS-terminating proxy says the client used, and ignore the same
// headers from anyone else.
func TestOpenRosaURLsBehindProxy(t *testing.T) {
	t.Parallel()
	forwarded := http.Header{"X-Forwarded-For": {"203.0.113.5"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"odk.example.org"}}
	for _, c := range []struct {
		trusted bool
		want    string
	}{{true, "https://odk.example.org/v1/key/"}, {false, "http://127.0.0.1:"}} {
		a := newAPIEnvWith(t, func(d *collector.Deps) {
			if c.trusted {
				d.TrustedProxies = []string{"127.0.0.1/32"}
			}
		})
		st, b, _ := a.doRaw("", "GET", "/v1/key/"+a.tokens["ana"]+"/projects/"+a.survey+"/formList", "", nil, forwarded)
		var list struct {
			Forms []struct {
				DownloadURL string `xml:"downloadUrl"`
			} `xml:"xform"`
		}
		if err := xml.Unmarshal(b, &list); st != 200 || err != nil || len(list.Forms) != 1 || !strings.HasPrefix(list.Forms[0].DownloadURL, c.want) {
			t.Errorf("trusted proxy %v: %d %v, downloadUrl %+v, want prefix %s", c.trusted, st, err, list.Forms, c.want)
		}
	}
}

// householdExample is questionnaire/testdata/household_valid.json, the
// household form's complete example interview.
type householdExample struct {
	InstanceID string         `json:"instance_id"`
	Answers    map[string]any `json:"answers"`
}

// withHouseholdForm uploads dotm's household form to the test survey and
// returns it with its example interview.
func withHouseholdForm(a *apiEnv) (*questionnaire.Form, householdExample) {
	a.t.Helper()
	form := questionnaire.Household()
	yaml, err := form.Encode("yaml")
	if err != nil {
		a.t.Fatal(err)
	}
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/"+a.survey+"/forms", "application/yaml", yaml, 201)
	var env householdExample
	if err := json.Unmarshal(mustRead(a.t, "../questionnaire/testdata/household_valid.json"), &env); err != nil {
		a.t.Fatal(err)
	}
	return form, env
}
