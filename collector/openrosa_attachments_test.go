package collector_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/questionnaire"
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

// photoForm is a form with media questions: a photo of the house (direct:
// it may show the household), a recorded consent, and a file per member.
const photoForm = `
settings: {form_id: photo_hh, version: "1", form_title: Photo household}
survey:
  - {type: text, name: household_id, label: Household}
  - {type: image, name: house_photo, label: Photo of the house, sensitivity: direct}
  - {type: audio, name: consent_audio, label: Consent}
  - {type: begin repeat, name: members, label: Members}
  - {type: text, name: member_name, label: Name, sensitivity: direct}
  - {type: file, name: member_doc, label: Document}
  - {type: end repeat}
`

// orFile is one file part of an OpenRosa POST.
type orFile struct {
	name, contentType string
	data              []byte
}

// openRosaPostFiles sends an instance with files as ODK Collect does: the
// instance, then each file in a part named by its file name with its
// content type, and *isIncomplete* = yes when more files follow in another
// request.
func openRosaPostFiles(a *apiEnv, path string, doc []byte, files []orFile, incomplete bool) (int, []byte) {
	a.t.Helper()
	body, ct := collectBody(a.t, doc, files, incomplete)
	st, b, _ := a.doRaw("", "POST", path, ct, bytes.NewReader(body), http.Header{"X-Openrosa-Version": {"1.0"}})
	return st, b
}

func collectBody(t testing.TB, doc []byte, files []orFile, incomplete bool) ([]byte, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="xml_submission_file"; filename="submission.xml"`)
	h.Set("Content-Type", "text/xml")
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(doc)
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.name, f.name))
		h.Set("Content-Type", f.contentType)
		p, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		p.Write(f.data)
	}
	if incomplete {
		w.WriteField("*isIncomplete*", "yes")
	}
	w.Close()
	return body.Bytes(), w.FormDataContentType()
}

// randomBytes are n bytes no stored document could hold by chance.
func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

type attachmentList struct {
	Attachments []struct {
		Name, Question, Type string
		ContentType          string `json:"content_type"`
		Exists               bool
		Bytes                int64
		SHA256, MD5          string
	} `json:"attachments"`
}

// TestOpenRosaAttachments: a submission with a photo sent whole; one whose
// files Collect splits over two requests (*isIncomplete*); the files read
// back byte for byte by supervisors and admins, each download audited,
// never by enumerators or statisticians; no stored document holds a file's
// bytes or its direct answers; bad files are refused naming the file; a
// request cut midway leaves nothing visible.
func TestOpenRosaAttachments(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/"+a.survey+"/forms", "application/yaml", []byte(photoForm), 201)
	form, err := questionnaire.Decode([]byte(photoForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey
	photo := orFile{"1700000000001.jpg", "image/jpeg", append([]byte("\xff\xd8\xff\xe0"), randomBytes(1, 600<<10)...)} // 3 chunks
	audio := orFile{"1700000000002.m4a", "audio/mp4", randomBytes(2, 40<<10)}
	doc1 := orFile{"id-card.pdf", "application/pdf", randomBytes(3, 1000)}

	// Sent whole, then resent (Collect did not get the answer).
	id1 := uuid.NewString()
	inst1, err := form.EncodeInstance(map[string]any{"household_id": "H-1", "house_photo": photo.name}, id1, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, b := openRosaPostFiles(a, base+"/submission", inst1, []orFile{photo}, false); st != 201 || !strings.Contains(orMessage(t, b), "1 of 1 file received.") {
		t.Fatalf("whole: %d\n%s", st, b)
	}
	if st, b := openRosaPostFiles(a, base+"/submission", inst1, []orFile{photo}, false); st != 202 {
		t.Fatalf("resend: %d, want 202\n%s", st, b)
	}

	// Split over two requests, as Collect does beyond
	// X-OpenRosa-Accept-Content-Length.
	id2 := uuid.NewString()
	inst2, err := form.EncodeInstance(map[string]any{"household_id": "H-2", "house_photo": photo.name, "consent_audio": audio.name,
		"members": []any{map[string]any{"member_name": "Ama Serwaa Owusu", "member_doc": doc1.name}}}, id2, "")
	if err != nil {
		t.Fatal(err)
	}
	st, b := openRosaPostFiles(a, base+"/submission", inst2, []orFile{photo, doc1}, true)
	if st != 201 || !strings.Contains(orMessage(t, b), "2 of 3 files received; send the others.") {
		t.Fatalf("first part: %d\n%s", st, b)
	}
	list := decode[attachmentList](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+id2+"/attachments", nil, 200))
	if len(list.Attachments) != 3 || !list.Attachments[0].Exists || list.Attachments[1].Exists || list.Attachments[1].Name != audio.name ||
		list.Attachments[2].Question != "members[0].member_doc" || list.Attachments[2].Type != "file" {
		t.Fatalf("after the first part: %+v", list.Attachments)
	}
	if st, b, _ := a.doRaw("sup", "GET", "/api/v1/submissions/"+id2+"/attachments/"+audio.name, "", nil, nil); st != 404 || !strings.Contains(string(b), "not been received") {
		t.Fatalf("a file not yet received: %d\n%s", st, b)
	}
	st, b = openRosaPostFiles(a, base+"/submission", inst2, []orFile{audio}, false)
	if st != 201 || !strings.Contains(orMessage(t, b), "1 file added. 3 of 3 files received.") {
		t.Fatalf("second part: %d\n%s", st, b)
	}
	list = decode[attachmentList](t, a.mustDo("admin", "GET", "/api/v1/submissions/"+id2+"/attachments", nil, 200))
	for i, f := range []orFile{photo, audio, doc1} {
		sum, m := sha256.Sum256(f.data), md5.Sum(f.data)
		got := list.Attachments[i]
		if !got.Exists || got.Name != f.name || got.Bytes != int64(len(f.data)) || got.ContentType != f.contentType ||
			got.SHA256 != hex.EncodeToString(sum[:]) || got.MD5 != hex.EncodeToString(m[:]) {
			t.Errorf("listed %+v, want %s", got, f.name)
		}
	}

	// Downloads: the bytes sent, for supervisors and admins, each audited.
	for _, user := range []string{"sup", "admin"} {
		for _, f := range []orFile{photo, audio, doc1} {
			st, got, h := a.doRaw(user, "GET", "/api/v1/submissions/"+id2+"/attachments/"+f.name, "", nil, nil)
			if st != 200 || !bytes.Equal(got, f.data) || h.Get("Content-Type") != f.contentType || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
				t.Fatalf("%s downloads %s: %d, %d bytes, %v", user, f.name, st, len(got), h)
			}
		}
	}
	for _, user := range []string{"ana", "stat"} {
		for _, path := range []string{"/attachments", "/attachments/" + photo.name} {
			if st, _, _ := a.doRaw(user, "GET", "/api/v1/submissions/"+id2+path, "", nil, nil); st != 403 {
				t.Errorf("%s GET %s: %d, want 403", user, path, st)
			}
		}
	}
	au := decode[struct {
		Entries []dotm.AuditEntry `json:"entries"`
	}](t, a.mustDo("admin", "GET", "/api/v1/audit?action=read_attachment", nil, 200))
	if len(au.Entries) != 6 {
		t.Fatalf("%d audit entries of 6 downloads: %+v", len(au.Entries), au.Entries)
	}
	if last := au.Entries[5]; last.Target != id2 || last.Actor != "sup" || last.Detail != photo.name+" (614404 bytes)" {
		t.Fatalf("audit of 6 downloads: %+v", au.Entries)
	}

	// Bad files, each refused naming the file; nothing of them is stored.
	id3 := uuid.NewString()
	inst3, _ := form.EncodeInstance(map[string]any{"household_id": "H-3", "house_photo": "p3.jpg"}, id3, "")
	for _, c := range []struct {
		name  string
		files []orFile
		doc   []byte
		want  int
		file  string
	}{
		{"unknown file", []orFile{{"p3.jpg", "image/jpeg", []byte("x")}, {"other.jpg", "image/jpeg", []byte("y")}}, inst3, 400, "other.jpg"},
		{"wrong content type", []orFile{{"p3.jpg", "text/plain", []byte("not a photo")}}, inst3, 422, "p3.jpg"},
		{"oversize", []orFile{{"p3.jpg", "image/jpeg", make([]byte, collector.MaxAttachmentBytes+1)}}, inst3, 413, "p3.jpg"},
		{"other bytes than received", []orFile{{photo.name, "image/jpeg", []byte("another photo")}}, inst1, 409, photo.name},
	} {
		st, b := openRosaPostFiles(a, base+"/submission", c.doc, c.files, false)
		if msg := orMessage(t, b); st != c.want || !strings.Contains(msg, `"`+c.file+`"`) {
			t.Errorf("%s: %d %s, want %d naming %s", c.name, st, msg, c.want, c.file)
		}
	}
	if st, _, _ := a.doRaw("sup", "GET", "/api/v1/submissions/"+id3, "", nil, nil); st != 404 {
		t.Errorf("a refused submission is stored: %d", st)
	}
	// The same instance id with other answers: 409, and its file is not
	// added to the interview received before.
	changed, _ := form.EncodeInstance(map[string]any{"household_id": "H-1-other", "house_photo": photo.name, "consent_audio": "late.m4a"}, id1, "")
	if st, b := openRosaPostFiles(a, base+"/submission", changed, []orFile{{"late.m4a", "audio/mp4", []byte("late")}}, false); st != 409 {
		t.Errorf("other content: %d, want 409\n%s", st, b)
	}
	if l := decode[attachmentList](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+id1+"/attachments", nil, 200)); len(l.Attachments) != 1 {
		t.Errorf("after a conflicting resend: %+v", l.Attachments)
	}

	// A request cut midway (the connection drops inside the photo): no
	// submission, no file.
	id4 := uuid.NewString()
	inst4, _ := form.EncodeInstance(map[string]any{"household_id": "H-4", "house_photo": "p4.jpg"}, id4, "")
	body, ct := collectBody(t, inst4, []orFile{{"p4.jpg", "image/jpeg", randomBytes(4, 300<<10)}}, false)
	cutPost(t, a.srv.URL+base+"/submission", ct, body, len(body)/2)
	if st, _, _ := a.doRaw("sup", "GET", "/api/v1/submissions/"+id4, "", nil, nil); st != 404 {
		t.Errorf("a cut request stored its submission: %d", st)
	}

	// No stored document holds a file's bytes or a direct answer's value.
	for _, col := range []string{"submissions", "attachments", "attachment_chunks", "audit"} {
		cur, err := a.rawDB().Collection(col).Find(context.Background(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.Raw
		if err := cur.All(context.Background(), &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			for _, f := range []orFile{photo, audio, doc1} {
				if bytes.Contains(d, f.data[100:164]) {
					t.Errorf("%s holds bytes of %s", col, f.name)
				}
			}
			if bytes.Contains(d, []byte("Ama Serwaa Owusu")) {
				t.Errorf("%s holds a direct answer", col)
			}
		}
		if col == "attachment_chunks" && len(docs) != 3+3+1+1 {
			t.Errorf("%d chunks stored, want 8 (the photo twice, the audio and the document once each)", len(docs))
		}
	}
}

// cutPost sends the first n bytes of a request body that declares len(body)
// bytes, then closes the connection, as a tablet losing its network does.
func cutPost(t *testing.T, url, contentType string, body []byte, n int) {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nX-OpenRosa-Version: 1.0\r\n\r\n", u.RequestURI(), u.Host, contentType, len(body))
	conn.Write(body[:n])
	conn.Close()
	time.Sleep(200 * time.Millisecond) // the server reads to the cut and gives up
}

// TestAttachmentKeyRotation: a file stored under key A is read after
// `keys rotate` (Reencrypt) by a server that has key B alone; only the
// file's own key is sealed anew, and KeyUse no longer counts A.
func TestAttachmentKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAPIEnv(t)
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/"+a.survey+"/forms", "application/yaml", []byte(photoForm), 201)
	form, err := questionnaire.Decode([]byte(photoForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	photo := orFile{"r.jpg", "image/jpeg", randomBytes(21, 300<<10)}
	id := uuid.NewString()
	inst, _ := form.EncodeInstance(map[string]any{"household_id": "H-R", "house_photo": photo.name}, id, "")
	if st, b := openRosaPostFiles(a, "/v1/key/"+a.tokens["ana"]+"/projects/"+a.survey+"/submission", inst, []orFile{photo}, false); st != 201 {
		t.Fatalf("POST: %d\n%s", st, b)
	}
	keyA := a.keys.Current()
	kB, err := dotm.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	both, err := a.keys.WithKey(kB)
	if err != nil {
		t.Fatal(err)
	}
	if use, err := a.store.KeyUse(ctx); err != nil || use[keyA] != 2 { // the photo's name (direct) and the photo
		t.Fatalf("key use before: %v %v", use, err)
	}
	if n, err := dotm.Reencrypt(ctx, a.store, both); err != nil || n != 2 {
		t.Fatalf("re-encrypted %d, %v; want the submission and the file", n, err)
	}
	if use, _ := a.store.KeyUse(ctx); use[keyA] != 0 || use[kB.ID] != 2 {
		t.Fatalf("key use after: %v", use)
	}
	onlyB, err := both.Without(keyA)
	if err != nil {
		t.Fatal(err)
	}
	b := newAPIEnvOn(t, a.store, onlyB, false)
	b.tokens = a.tokens
	if st, got, _ := b.doRaw("sup", "GET", "/api/v1/submissions/"+id+"/attachments/"+photo.name, "", nil, nil); st != 200 || !bytes.Equal(got, photo.data) {
		t.Fatalf("after rotation: %d, %d bytes", st, len(got))
	}
}
