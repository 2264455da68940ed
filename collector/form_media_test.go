package collector_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm/client"
)

const mediaFormYAML = `
settings: {form_id: towns, version: "1", form_title: Towns}
survey:
  - {type: select_one_from_file towns.csv, name: town, label: Town}
  - {type: calculate, name: pop, calculation: "pulldata('towns', 'population', 'name', ${town})"}
  - {type: integer, name: households, label: Households, constraint: ". <= pulldata('towns', 'population', 'name', ${town})"}
  - {type: csv-external, name: prices}
`

// uploadWithMedia posts a form with media files as multipart/form-data.
func uploadWithMedia(a *apiEnv, form string, media map[string]string, want int) []byte {
	a.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	p, _ := w.CreateFormFile("form", "towns.yaml")
	p.Write([]byte(form))
	for name, data := range media {
		p, _ := w.CreateFormFile("media", name)
		p.Write([]byte(data))
	}
	w.Close()
	return a.mustDoRaw("admin", "POST", "/api/v1/surveys/"+a.survey+"/forms", w.FormDataContentType(), body.Bytes(), want)
}

// TestFormMedia: a form's media files are uploaded with it (multipart),
// checked against what the form reads, stored with the version, listed
// in its OpenRosa manifest with their md5 and served; a needed file not
// uploaded is reported, not refused; submissions are validated against
// the file's items and pulldata() reads it.
func TestFormMedia(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	towns := "name,label,population\nkal,Kalamu,120\nbuk,Bukavu,900\n"

	// A CSV without the column pulldata() reads is refused, naming file and column.
	b := uploadWithMedia(a, mediaFormYAML, map[string]string{"towns.csv": "name,label\nkal,Kalamu\n"}, 422)
	if !strings.Contains(string(b), `"path":"media/towns.csv"`) || !strings.Contains(string(b), `column \"population\"`) {
		t.Fatalf("missing column: %s", b)
	}
	// A file the form does not read is refused.
	b = uploadWithMedia(a, mediaFormYAML, map[string]string{"towns.csv": towns, "stray.csv": "a\n1\n"}, 422)
	if !strings.Contains(string(b), "media/stray.csv") {
		t.Fatalf("stray file: %s", b)
	}
	b = uploadWithMedia(a, mediaFormYAML, map[string]string{"towns.csv": towns}, 201)
	var v struct {
		Media []struct {
			Name, MD5 string
			Size      int
		} `json:"media"`
		Missing []string `json:"missing_media"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(towns))
	if len(v.Media) != 1 || v.Media[0].Name != "towns.csv" || v.Media[0].MD5 != hex.EncodeToString(sum[:]) || v.Media[0].Size != len(towns) ||
		len(v.Missing) != 1 || v.Missing[0] != "prices.csv" {
		t.Fatalf("stored version: %s", b)
	}
	// The same upload again (here through the Go client) is the same
	// version; other media is a conflict.
	admin := client.New(a.srv.URL, a.tokens["admin"], nil)
	if fv, err := admin.UploadFormWithMedia(context.Background(), a.survey, "towns.yaml", []byte(mediaFormYAML), map[string][]byte{"towns.csv": []byte(towns)}); err != nil || len(fv.Media) != 1 {
		t.Fatalf("client upload: %+v %v", fv, err)
	}
	uploadWithMedia(a, mediaFormYAML, map[string]string{"towns.csv": towns + "goma,Goma,50\n"}, 409)

	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey + "/forms/towns/versions/1"
	st, man, _ := a.doRaw("", "GET", base+"/manifest", "", nil, nil)
	var m struct {
		Files []struct {
			Filename    string `xml:"filename"`
			Hash        string `xml:"hash"`
			DownloadURL string `xml:"downloadUrl"`
		} `xml:"mediaFile"`
	}
	if err := xml.Unmarshal(man, &m); st != 200 || err != nil || len(m.Files) != 1 || m.Files[0].Filename != "towns.csv" || m.Files[0].Hash != "md5:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("manifest %d %v\n%s", st, err, man)
	}
	st, got, h := a.doRaw("", "GET", strings.TrimPrefix(m.Files[0].DownloadURL, a.srv.URL), "", nil, nil)
	if st != 200 || string(got) != towns || h.Get("Content-Type") != "text/csv" {
		t.Fatalf("media file: %d %q %v", st, got, h)
	}
	if st, _, _ := a.doRaw("", "GET", base+"/attachments/prices.csv", "", nil, nil); st != 404 {
		t.Fatalf("a missing file: %d, want 404", st)
	}
	// The XForm reads the file as ODK does.
	_, x, _ := a.doRaw("", "GET", base+"/form.xml", "", nil, nil)
	if !bytes.Contains(x, []byte(`src="jr://file-csv/towns.csv"`)) {
		t.Fatalf("xform:\n%s", x)
	}

	env := func(answers map[string]any) map[string]any {
		return map[string]any{"instance_id": uuid.NewString(), "form_id": "towns", "form_version": "1",
			"started_at": "2026-03-01T09:00:00Z", "ended_at": "2026-03-01T10:00:00Z", "answers": answers}
	}
	b = a.mustDo("ana", "POST", "/api/v1/submissions", env(map[string]any{"town": "goma", "households": 1}), 422)
	if !strings.Contains(string(b), `"path":"town"`) {
		t.Fatalf("town not in the file: %s", b)
	}
	b = a.mustDo("ana", "POST", "/api/v1/submissions", env(map[string]any{"town": "kal", "households": 121}), 422)
	if !strings.Contains(string(b), `"path":"households"`) {
		t.Fatalf("constraint with pulldata: %s", b)
	}
	e := env(map[string]any{"town": "buk", "households": 121})
	a.mustDo("ana", "POST", "/api/v1/submissions", e, 201)
	s := decode[submissionJSON](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+e["instance_id"].(string), nil, 200))
	if s.Answers["pop"] != "900" {
		t.Fatalf("pop computed from the file: %#v", s.Answers)
	}
}
