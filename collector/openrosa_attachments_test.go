package collector_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"strings"
	"testing"
)

// TestOpenRosaManifestItemsets: a form with select_one_external questions
// lists itemsets.csv, made from its external_choices sheet, in its
// manifest with the file's md5, and the download URL gives that file; a
// form without attachments has an empty manifest, and an unknown file is
// 404.
func TestOpenRosaManifestItemsets(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	form := `
settings: {form_id: places, version: "1", form_title: Places}
survey:
  - {type: select_one_external states, name: state, label: State}
  - {type: select_one_external counties, name: county, label: County, choice_filter: "state=${state}"}
sheets:
  - name: external_choices
    rows:
      - [list_name, name, label, state]
      - [states, texas, Texas]
      - [counties, king, King, washington]
`
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/"+a.survey+"/forms", "application/yaml", []byte(form), 201)
	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey
	manifest := func(form, version string) (int, []byte) {
		st, b, _ := a.doRaw("", "GET", base+"/forms/"+form+"/versions/"+version+"/manifest", "", nil, nil)
		return st, b
	}
	st, b := manifest("places", "1")
	var m struct {
		XMLName xml.Name `xml:"http://openrosa.org/xforms/xformsManifest manifest"`
		Files   []struct {
			Filename    string `xml:"filename"`
			Hash        string `xml:"hash"`
			DownloadURL string `xml:"downloadUrl"`
		} `xml:"mediaFile"`
	}
	if err := xml.Unmarshal(b, &m); st != 200 || err != nil || len(m.Files) != 1 || m.Files[0].Filename != "itemsets.csv" {
		t.Fatalf("manifest: %d %v\n%s", st, err, b)
	}
	st, csv, h := a.doRaw("", "GET", strings.TrimPrefix(m.Files[0].DownloadURL, a.srv.URL), "", nil, nil)
	sum := md5.Sum(csv)
	want := "\"list_name\",\"name\",\"label\",\"state\"\r\n\"states\",\"texas\",\"Texas\",\"\"\r\n\"counties\",\"king\",\"King\",\"washington\"\r\n"
	if st != 200 || string(csv) != want || m.Files[0].Hash != "md5:"+hex.EncodeToString(sum[:]) || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || h.Get("X-OpenRosa-Version") != "1.0" {
		t.Fatalf("itemsets.csv: %d %v hash %s\n%q", st, h, m.Files[0].Hash, csv)
	}
	if st, _, _ := a.doRaw("", "GET", base+"/forms/places/versions/1/attachments/other.csv", "", nil, nil); st != 404 {
		t.Errorf("unknown attachment: %d, want 404", st)
	}
	st, b = manifest(a.form, a.ver)
	if st != 200 || strings.Contains(string(b), "mediaFile") {
		t.Errorf("manifest of a form without attachments: %d\n%s", st, b)
	}
}
