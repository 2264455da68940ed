package questionnaire

import (
	"reflect"
	"strings"
	"testing"
)

const mediaForm = `
settings: {form_id: media, version: "1"}
survey:
  - {type: image, name: house_photo, label: Photo of the house, parameters: max-pixels=1024}
  - {type: begin group, name: g, label: Group}
  - {type: audio, name: consent_audio, label: Consent}
  - {type: end group}
  - {type: begin repeat, name: members, label: Members}
  - {type: text, name: member_name, label: Name}
  - {type: video, name: member_video, label: Video}
  - {type: file, name: member_doc, label: Document}
  - {type: end repeat}
  - {type: background-audio, name: ambient}
`

// TestMediaFiles: image, audio, video, file and background-audio questions
// are read, written to the XForm as pyxform writes them (upload with a
// mediatype; odk:recordaudio), take a file name as answer, and MediaFiles
// lists those names with their paths in form order.
func TestMediaFiles(t *testing.T) {
	f, err := Decode([]byte(mediaForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]any{
		"house_photo":   "1700000000001.jpg",
		"consent_audio": "1700000000002.m4a",
		"members": []any{
			map[string]any{"member_name": "A", "member_video": "v1.mp4"},
			map[string]any{"member_name": "B", "member_doc": "id.pdf"},
		},
		"ambient": "ambient.amr",
	}
	if _, problems := f.Validate(answers, ValidateOptions{}); len(problems) > 0 {
		t.Fatalf("valid answers refused: %+v", problems)
	}
	want := []MediaFile{
		{"house_photo", "image", "1700000000001.jpg"},
		{"consent_audio", "audio", "1700000000002.m4a"},
		{"members[0].member_video", "video", "v1.mp4"},
		{"members[1].member_doc", "file", "id.pdf"},
		{"ambient", "background-audio", "ambient.amr"},
	}
	if got := f.MediaFiles(answers); !reflect.DeepEqual(got, want) {
		t.Fatalf("MediaFiles:\n%+v\nwant\n%+v", got, want)
	}
	if got := f.MediaFiles(map[string]any{"house_photo": ""}); len(got) != 0 {
		t.Errorf("empty answer listed: %+v", got)
	}
	x, err := f.XForm()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`<upload mediatype="image/*" ref="/data/house_photo" orx:max-pixels="1024">`,
		`<upload mediatype="audio/*" ref="/data/g/consent_audio">`,
		`<upload mediatype="video/*" ref="/data/members/member_video">`,
		`<upload mediatype="application/*" ref="/data/members/member_doc">`,
		`<bind nodeset="/data/house_photo" type="binary"/>`,
		`<odk:recordaudio event="odk-instance-load" ref="/data/ambient"`,
	} {
		if !strings.Contains(string(x), s) {
			t.Errorf("XForm lacks %s", s)
		}
	}
	if t.Failed() {
		t.Logf("%s", x)
	}
}
