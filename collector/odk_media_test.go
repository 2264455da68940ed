package collector_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/questionnaire"
)

// collectSend sends the requests of an engine's payload as ODK Collect
// does: HEAD /submission, then each request's parts as multipart/form-data
// (the instance, then files named by their file names with their content
// types), all but the last with *isIncomplete* = yes. It returns each
// answer's status and message.
func collectSend(t *testing.T, a *apiEnv, base string, requests [][]odkPart) ([]int, []string) {
	t.Helper()
	st, b, h := a.doRaw("", "HEAD", base+"/submission", "", nil, http.Header{"X-Openrosa-Version": {"1.0"}})
	if st != 204 || h.Get("X-OpenRosa-Accept-Content-Length") == "" {
		t.Fatalf("HEAD submission: %d %v\n%s", st, h, b)
	}
	var codes []int
	var msgs []string
	for i, parts := range requests {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		for _, p := range parts {
			mh := textproto.MIMEHeader{}
			mh.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.Name, p.Filename))
			mh.Set("Content-Type", p.Type)
			pw, err := w.CreatePart(mh)
			if err != nil {
				t.Fatal(err)
			}
			pw.Write(p.Base64)
		}
		if i < len(requests)-1 {
			w.WriteField("*isIncomplete*", "yes")
		}
		w.Close()
		st, b, _ := a.doRaw("", "POST", base+"/submission", w.FormDataContentType(), &body, http.Header{"X-Openrosa-Version": {"1.0"}})
		codes = append(codes, st)
		msgs = append(msgs, orMessage(t, b))
	}
	return codes, msgs
}

// TestODKEngineMediaForm: a form with photo and audio questions, downloaded
// as Collect does and filled by ODK's engine with a photo and a recording,
// is sent whole (then resent) and, as a new interview, split by the
// engine's chunked payload over two requests with *isIncomplete*; each
// time the files a supervisor downloads are the bytes the engine sent,
// under the names the instance gives.
func TestODKEngineMediaForm(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	const media = `
settings: {form_id: media_hh, version: "1", form_title: Media household}
survey:
  - {type: text, name: household_id, label: Household, required: "yes"}
  - {type: image, name: house_photo, label: Photo of the house}
  - {type: audio, name: consent_audio, label: Consent, relevant: "${household_id} != ''"}
`
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/"+a.survey+"/forms", "application/yaml", []byte(media), 201)
	form, err := questionnaire.Decode([]byte(media), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := "/v1/key/" + a.tokens["ana"] + "/projects/" + a.survey
	xform := collectForm(t, a, base, form.ID)
	dir := t.TempDir()
	photo := append([]byte("\xff\xd8\xff\xe0"), randomBytes(11, 300<<10)...)
	audio := randomBytes(12, 200<<10)
	for name, b := range map[string][]byte{"photo.jpg": photo, "consent.m4a": audio} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	answers := map[string]any{
		"household_id":  "H-ODK-1",
		"house_photo":   map[string]any{"name": "photo.jpg", "type": "image/jpeg", "path": filepath.Join(dir, "photo.jpg")},
		"consent_audio": map[string]any{"name": "consent.m4a", "type": "audio/mp4", "path": filepath.Join(dir, "consent.m4a")},
	}
	sent := func(fill odkFill) (string, map[string][]byte) {
		t.Helper()
		m := instanceIDRE.FindStringSubmatch(fill.Instance)
		if fill.Status != "ready" || m == nil {
			t.Fatalf("ODK's engine: %s %+v\n%s", fill.Status, fill.Violations, fill.Instance)
		}
		files := map[string][]byte{}
		for _, req := range fill.Requests {
			for _, p := range req {
				if p.Name != "xml_submission_file" {
					files[p.Filename] = p.Base64
				}
			}
		}
		return m[1], files
	}
	check := func(id string, files map[string][]byte) {
		t.Helper()
		if len(files) != 2 {
			t.Fatalf("the engine sent %d files, want 2", len(files))
		}
		list := decode[attachmentList](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+id+"/attachments", nil, 200))
		if len(list.Attachments) != 2 {
			t.Fatalf("listed %+v", list.Attachments)
		}
		for _, at := range list.Attachments {
			st, got, _ := a.doRaw("sup", "GET", "/api/v1/submissions/"+id+"/attachments/"+at.Name, "", nil, nil)
			if want, ok := files[at.Name]; st != 200 || !ok || !bytes.Equal(got, want) || !at.Exists {
				t.Errorf("%s: %d, %d bytes downloaded, sent %v (%d bytes)", at.Name, st, len(got), ok, len(want))
			}
		}
		if !bytes.Equal(files[list.Attachments[0].Name], photo) || !bytes.Equal(files[list.Attachments[1].Name], audio) {
			t.Errorf("the engine's files are not the photo and the recording given to it")
		}
	}

	// Whole: one request, then the resend of a lost answer.
	whole := odkFillForm(t, xform, answers, "tablet-017", "")
	if len(whole.Requests) != 1 || len(whole.Requests[0]) != 3 {
		t.Fatalf("monolithic payload: %d requests", len(whole.Requests))
	}
	id, files := sent(whole)
	if codes, msgs := collectSend(t, a, base, whole.Requests); codes[0] != 201 || !strings.Contains(msgs[0], "2 of 2 files received.") {
		t.Fatalf("whole: %v %v", codes, msgs)
	}
	if codes, msgs := collectSend(t, a, base, whole.Requests); codes[0] != 202 {
		t.Fatalf("resend: %v %v", codes, msgs)
	}
	check(id, files)

	// Split: the engine's chunked payload, files of at most 350 KiB with
	// the instance per request, cannot put both in one.
	split := odkFillSplit(t, xform, answers, "tablet-017", "", 350<<10)
	if len(split.Requests) != 2 {
		t.Fatalf("chunked payload: %d requests, want 2", len(split.Requests))
	}
	id2, files2 := sent(split)
	codes, msgs := collectSend(t, a, base, split.Requests)
	if codes[0] != 201 || codes[1] != 201 || !strings.Contains(msgs[0], "1 of 2 files received; send the others.") || !strings.Contains(msgs[1], "1 file added. 2 of 2 files received.") {
		t.Fatalf("split: %v %v", codes, msgs)
	}
	check(id2, files2)
}
