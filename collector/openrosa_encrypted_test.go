package collector_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/xml"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/internal/odkcrypt"
	"github.com/dotm-survey/dotm/questionnaire"
)

// withODKKey gives the test survey a new ODK key pair, stored as dotm
// forms keys generate stores it.
func withODKKey(a *apiEnv) *rsa.PrivateKey {
	a.t.Helper()
	priv, err := odkcrypt.GenerateKey()
	if err != nil {
		a.t.Fatal(err)
	}
	k, err := dotm.SealODKKey(a.keys, a.survey, priv, "admin", time.Now())
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.store.PutODKKey(context.Background(), k); err != nil {
		a.t.Fatal(err)
	}
	return priv
}

// submissionKey is the base64RsaPublicKey of an XForm's <submission>.
func submissionKey(t *testing.T, xform []byte) string {
	t.Helper()
	var doc struct {
		Sub []struct {
			Key    string `xml:"base64RsaPublicKey,attr"`
			Method string `xml:"method,attr"`
		} `xml:"head>model>submission"`
	}
	if err := xml.Unmarshal(xform, &doc); err != nil {
		t.Fatalf("XForm: %v", err)
	}
	if len(doc.Sub) != 1 || doc.Sub[0].Method != "post" {
		t.Fatalf("XForm <submission> elements: %+v", doc.Sub)
	}
	return doc.Sub[0].Key
}

// TestOpenRosaEncryptedCollectSequence: a survey with an ODK key serves
// its form with the public key in <submission>; ODK's engine loads and
// fills it; the instance it submits, encrypted as Collect encrypts it
// (a manifest as xml_submission_file, submission.xml.enc beside it), is
// decrypted, received once (a resend is a duplicate) and stored as the
// JSON API stores the same answers.
func TestOpenRosaEncryptedCollectSequence(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey
	plain := collectForm(t, a, base, a.form)
	if strings.Contains(string(plain), "base64RsaPublicKey") {
		t.Fatal("a survey without an ODK key serves an encrypted form")
	}
	priv := withODKKey(a)
	xform := collectForm(t, a, base, a.form) // formList's hash changes with the key: Collect downloads it again
	pub, err := odkcrypt.ParsePublicKey(submissionKey(t, xform))
	if err != nil || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("the XForm's public key is not the survey's: %v", err)
	}
	fill := odkFillForm(t, xform, validAnswers("odk"), "tablet-017", "")
	if fill.Status != "ready" || fill.File != "xml_submission_file" {
		t.Fatalf("ODK's engine with the encrypted form: status %s %+v, file %q", fill.Status, fill.Violations, fill.File)
	}
	id := instanceIDRE.FindStringSubmatch(fill.Instance)[1]
	manifest, files, err := odkcrypt.Encrypt(pub, a.form, a.ver, "uuid:"+id, []byte(fill.Instance), nil)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{files[0].Name: files[0].Data}
	st, b, _ := openRosaPost(a, base+"/submission", manifest, parts)
	if st != 201 || !strings.Contains(orMessage(t, b), id) {
		t.Fatalf("POST encrypted submission: %d\n%s", st, b)
	}
	if st, b, _ := openRosaPost(a, base+"/submission", manifest, parts); st != 202 {
		t.Fatalf("resend: %d, want 202\n%s", st, b)
	}
	// A second encryption of the same instance (a new AES key) is the same interview.
	manifest2, files2, _ := odkcrypt.Encrypt(pub, a.form, a.ver, "uuid:"+id, []byte(fill.Instance), nil)
	if st, b, _ := openRosaPost(a, base+"/submission", manifest2, map[string][]byte{files2[0].Name: files2[0].Data}); st != 202 {
		t.Fatalf("re-encrypted resend: %d, want 202\n%s", st, b)
	}

	same := jsonAnswers(t, validAnswers("odk"))
	env := a.envelope(uuid.NewString(), "", same)
	a.mustDo("ana", "POST", "/api/v1/submissions", env, 201)
	if got, want := storedAnswers(t, a, id), storedAnswers(t, a, env["instance_id"].(string)); !reflect.DeepEqual(got, want) {
		t.Fatalf("the encrypted submission and the JSON API's differ:\nOpenRosa %v\nJSON     %v", got, want)
	}
	// The audit trail has the interview as received like any other.
	found := false
	for _, e := range decode[struct {
		Entries []struct{ Action, Target string } `json:"entries"`
	}](t, a.mustDo("admin", "GET", "/api/v1/audit?survey="+a.survey, nil, 200)).Entries {
		found = found || e.Target == id
	}
	if !found {
		t.Errorf("no audit entry for the encrypted interview %s", id)
	}
}

// TestOpenRosaEncryptedRefused: what cannot be decrypted or does not
// verify is refused with a 422 that says why (a file no answer names: 400,
// as unencrypted), and nothing is stored.
func TestOpenRosaEncryptedRefused(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey
	form, err := questionnaire.Decode(mustRead(t, "testdata/mini_household.yaml"), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	instance := func(id string) []byte {
		doc, err := form.EncodeInstance(validAnswers("odk"), id, "")
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	encrypt := func(pub *rsa.PublicKey, id string, doc []byte, media []odkcrypt.File) ([]byte, map[string][]byte) {
		m, files, err := odkcrypt.Encrypt(pub, a.form, a.ver, "uuid:"+id, doc, media)
		if err != nil {
			t.Fatal(err)
		}
		parts := map[string][]byte{}
		for _, f := range files {
			parts[f.Name] = f.Data
		}
		return m, parts
	}
	// Before the survey has a key.
	stranger, _ := odkcrypt.GenerateKey()
	id0 := uuid.NewString()
	m, parts := encrypt(&stranger.PublicKey, id0, instance(id0), nil)
	if st, b, _ := openRosaPost(a, base+"/submission", m, parts); st != 422 || !strings.Contains(orMessage(t, b), "has no ODK key") {
		t.Fatalf("survey without a key: %d\n%s", st, b)
	}
	priv := withODKKey(a)
	pub := &priv.PublicKey
	other, _ := odkcrypt.GenerateKey()

	type tc struct {
		name string
		make func(id string) ([]byte, map[string][]byte)
		want string
	}
	cases := []tc{
		{"encrypted with another public key", func(id string) ([]byte, map[string][]byte) {
			return encrypt(&other.PublicKey, id, instance(id), nil)
		}, "decrypts with none of survey"},
		{"a changed byte in submission.xml.enc", func(id string) ([]byte, map[string][]byte) {
			m, p := encrypt(pub, id, instance(id), nil)
			p["submission.xml.enc"][20] ^= 4
			return m, p
		}, "signature does not match"},
		{"submission.xml.enc missing", func(id string) ([]byte, map[string][]byte) {
			m, _ := encrypt(pub, id, instance(id), nil)
			return m, nil
		}, "no file submission.xml.enc"},
		{"the signature of another interview", func(id string) ([]byte, map[string][]byte) {
			m, p := encrypt(pub, id, instance(id), nil)
			other, _ := encrypt(pub, id, instance(id), nil)
			sig := regexp.MustCompile(`<base64EncryptedElementSignature>[^<]*</base64EncryptedElementSignature>`)
			return sig.ReplaceAll(m, sig.Find(other)), p
		}, "signature does not match"},
		{"a manifest for another instance", func(id string) ([]byte, map[string][]byte) {
			return encrypt(pub, "ffffffff-0000-4000-8000-000000000000", instance(id), nil)
		}, "does not match the instance"},
		{"an encrypted photo no answer names", func(id string) ([]byte, map[string][]byte) {
			return encrypt(pub, id, instance(id), []odkcrypt.File{{Name: "door.jpg", Data: []byte("\xff\xd8\xff\xe0 photo")}})
		}, `file "door.jpg" is not named by any media question`},
		{"a manifest without its key", func(id string) ([]byte, map[string][]byte) {
			m, p := encrypt(pub, id, instance(id), nil)
			return regexp.MustCompile(`<base64EncryptedKey>[^<]*</base64EncryptedKey>`).ReplaceAll(m, nil), p
		}, "no base64EncryptedKey"},
	}
	for _, c := range cases {
		id := uuid.NewString()
		m, parts := c.make(id)
		st, b, _ := openRosaPost(a, base+"/submission", m, parts)
		want := 422
		if strings.Contains(c.name, "no answer names") {
			want = 400
		}
		if st != want || !strings.Contains(orMessage(t, b), c.want) {
			t.Errorf("%s: %d, want %d with %q\n%s", c.name, st, want, c.want, b)
		}
		if st, _, _ := a.doRaw("sup", "GET", "/api/v1/submissions/"+id, "", nil, nil); st != 404 {
			t.Errorf("%s: the interview is stored (GET %d)", c.name, st)
		}
	}
	// The same interview, sent right, is received.
	id := uuid.NewString()
	m, parts = encrypt(pub, id, instance(id), nil)
	if st, b, _ := openRosaPost(a, base+"/submission", m, parts); st != 201 {
		t.Fatalf("after the refusals, a good encrypted interview: %d\n%s", st, b)
	}
}

// TestOpenRosaEncryptedOwnPublicKey: a form whose XLSForm settings carry a
// public_key keeps it in its XForm (not the survey's newest key), and its
// interviews decrypt with the private key imported for it; without that
// key they are refused with a message saying to import it.
func TestOpenRosaEncryptedOwnPublicKey(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey
	own, _ := odkcrypt.GenerateKey()
	ownPub := odkcrypt.PublicKeyBase64(&own.PublicKey)
	yaml := strings.Replace(string(mustRead(t, "testdata/mini_household.yaml")), "version:", "public_key: "+ownPub+"\n  version:", 1)
	yaml = strings.Replace(yaml, "2026-01", "2026-02", 1)
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/"+a.survey+"/forms", "application/yaml", []byte(yaml), 201)
	withODKKey(a) // the survey's own newest key, not the form's
	xform := collectForm(t, a, base, a.form)
	if got := submissionKey(t, xform); got != ownPub {
		t.Fatalf("the form's own public_key was replaced by %.40s…", got)
	}
	form, err := questionnaire.Decode([]byte(yaml), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	doc, err := form.EncodeInstance(validAnswers("odk"), id, "")
	if err != nil {
		t.Fatal(err)
	}
	m, files, err := odkcrypt.Encrypt(&own.PublicKey, a.form, "2026-02", "uuid:"+id, doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{files[0].Name: files[0].Data}
	if st, b, _ := openRosaPost(a, base+"/submission", m, parts); st != 422 || !strings.Contains(orMessage(t, b), "forms keys import") {
		t.Fatalf("without the form's private key: %d\n%s", st, b)
	}
	k, err := dotm.SealODKKey(a.keys, a.survey, own, "admin", time.Now()) // dotm forms keys import
	if err != nil {
		t.Fatal(err)
	}
	if err := a.store.PutODKKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	if st, b, _ := openRosaPost(a, base+"/submission", m, parts); st != 201 {
		t.Fatalf("with the form's private key imported: %d\n%s", st, b)
	}
}

// TestOpenRosaEncryptedAttachments: an encrypted interview with a photo and
// a recording (encrypted as Collect does, each .enc file its own part) is
// decrypted whole; its files are stored as unencrypted ones are, and read
// back byte for byte by a supervisor. A photo changed in transit is
// refused and nothing is stored; one encrypted interview split over two
// requests is refused with a message saying so.
func TestOpenRosaEncryptedAttachments(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/"+a.survey+"/forms", "application/yaml", []byte(photoForm), 201)
	form, err := questionnaire.Decode([]byte(photoForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	priv := withODKKey(a)
	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey
	if got := submissionKey(t, collectForm(t, a, base, "photo_hh")); got != odkcrypt.PublicKeyBase64(&priv.PublicKey) {
		t.Fatalf("photo_hh is not served encrypted")
	}
	photo := odkcrypt.File{Name: "1700000000001.jpg", Data: append([]byte("\xff\xd8\xff\xe0"), randomBytes(11, 300<<10)...)}
	audio := odkcrypt.File{Name: "1700000000002.m4a", Data: randomBytes(12, 20<<10)}
	send := func(id string, change func([]orFile), incomplete bool) (int, []byte) {
		t.Helper()
		doc, err := form.EncodeInstance(map[string]any{"household_id": "H-" + id[:4], "house_photo": photo.Name, "consent_audio": audio.Name}, id, "")
		if err != nil {
			t.Fatal(err)
		}
		m, files, err := odkcrypt.Encrypt(&priv.PublicKey, "photo_hh", "1", "uuid:"+id, doc, []odkcrypt.File{photo, audio})
		if err != nil {
			t.Fatal(err)
		}
		var parts []orFile
		for _, f := range files {
			parts = append(parts, orFile{f.Name, "application/octet-stream", f.Data})
		}
		change(parts)
		return openRosaPostFiles(a, base+"/submission", m, parts, incomplete)
	}

	id := uuid.NewString()
	if st, b := send(id, func([]orFile) {}, false); st != 201 || !strings.Contains(orMessage(t, b), "2 of 2 files received.") {
		t.Fatalf("encrypted interview with files: %d\n%s", st, b)
	}
	for _, f := range []odkcrypt.File{photo, audio} {
		st, got, _ := a.doRaw("sup", "GET", "/api/v1/submissions/"+id+"/attachments/"+f.Name, "", nil, nil)
		if st != 200 || !bytes.Equal(got, f.Data) {
			t.Errorf("%s read back: %d, %d bytes (want %d)", f.Name, st, len(got), len(f.Data))
		}
	}

	changed := uuid.NewString()
	st, b := send(changed, func(p []orFile) { p[0].data[5000] ^= 1 }, false)
	if st != 422 || !strings.Contains(orMessage(t, b), "signature does not match") {
		t.Fatalf("changed photo: %d\n%s", st, b)
	}
	if st, _, _ := a.doRaw("sup", "GET", "/api/v1/submissions/"+changed, "", nil, nil); st != 404 {
		t.Errorf("the interview with a changed photo is stored (GET %d)", st)
	}

	split := uuid.NewString()
	st, b = send(split, func(p []orFile) { p[1].name = "other.bin" }, true)
	if st != 422 || !strings.Contains(orMessage(t, b), "send it in one request") {
		t.Fatalf("split encrypted interview: %d\n%s", st, b)
	}
}
