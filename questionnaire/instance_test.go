package questionnaire

import (
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestInstanceRoundTrip: the valid household interview, written as the
// XForm instance ODK Collect sends (groups nested, repeats repeated, every
// value as text), reads back to answers that validate to exactly what the
// JSON answers validate to.
func TestInstanceRoundTrip(t *testing.T) {
	f := Household()
	var env struct {
		InstanceID string         `json:"instance_id"`
		Answers    map[string]any `json:"answers"`
	}
	b, err := os.ReadFile("testdata/household_valid.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	doc, err := f.EncodeInstance(env.Answers, env.InstanceID, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "<members>") || !strings.Contains(string(doc), "<instanceID>uuid:"+env.InstanceID) {
		t.Fatalf("instance lacks a repeat or meta:\n%s", doc)
	}
	in, err := f.ReadInstance(doc)
	if err != nil {
		t.Fatalf("ReadInstance: %v\n%s", err, doc)
	}
	if in.FormID != f.ID || in.FormVersion != f.Version || in.InstanceID != env.InstanceID || in.DeprecatedID != "" {
		t.Fatalf("header: %+v", in)
	}
	now := time.Date(2025, 3, 14, 11, 0, 0, 0, time.UTC)
	want, ps := f.Validate(env.Answers, ValidateOptions{Now: now})
	if len(ps) > 0 {
		t.Fatalf("the JSON answers do not validate: %v", ps)
	}
	got, ps := f.Validate(in.Answers, ValidateOptions{Now: now})
	if len(ps) > 0 {
		t.Fatalf("the instance's answers do not validate: %v", ps)
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Fatalf("instance answers differ from the JSON answers:\n got %s\nwant %s", gj, wj)
	}
	// An edit of a sent instance names the one it replaces.
	doc, _ = f.EncodeInstance(env.Answers, "11111111-2222-4333-8444-555555555555", env.InstanceID)
	if in, err = f.ReadInstance(doc); err != nil || in.DeprecatedID != env.InstanceID {
		t.Fatalf("deprecatedID: %+v %v", in, err)
	}
}

// TestInstanceErrors: what is not an instance of the form is refused with
// the element's path.
func TestInstanceErrors(t *testing.T) {
	f := Household()
	for _, c := range []struct{ doc, want string }{
		{``, "no root element"},
		{`<data id="x"><bogus>1</bogus></data>`, `the form has no question, group or repeat "bogus"`},
		{`<data id="x">loose text</data>`, `text "loose text" where elements were expected`},
		{`<data id="x"><hh_size><b>1</b></hh_size></data>`, "an answer holds element"},
		{`<data id="x"><hh_size>1</hh_size><hh_size>2</hh_size></data>`, "appears twice"},
		{`<data id="x"><hh_size>1</hh_size>`, "in data"},
		{`<data id="x"></data><data/>`, "second root element"},
		{strings.Repeat("<members>", 70) + strings.Repeat("</members>", 70), "nested deeper than"},
	} {
		_, err := f.ReadInstance([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadInstance(%.40q): %v, want an error with %q", c.doc, err, c.want)
		}
	}
}

// TestNoteWithoutName: a note row without a name is accepted and named as
// pyxform names it in the XForm and the instance ODK sends; the form as
// read and written back keeps the row without a name.
func TestNoteWithoutName(t *testing.T) {
	f, err := Decode([]byte("settings: {form_id: nn, version: '1'}\nsurvey:\n  - {type: note, label: Welcome}\n  - {type: integer, name: a, label: A}\n"), "yaml")
	if err != nil {
		t.Fatalf("a note without a name: %v", err)
	}
	gen := "generated_note_name_" + strconv.Itoa(f.Survey[0].Row)
	if f.Survey[0].Name != "" {
		t.Fatalf("the form as read was changed: %+v", f.Survey[0])
	}
	in, err := f.ReadInstance([]byte(`<data id="nn" version="1"><` + gen + `/><a>3</a><meta><instanceID>uuid:x</instanceID></meta></data>`))
	if err != nil || in.Answers["a"] != "3" {
		t.Fatalf("instance with the generated note: %+v %v", in, err)
	}
	y, err := f.Encode("yaml")
	if err != nil || strings.Contains(string(y), "generated_note_name") {
		t.Fatalf("encoded form: %v\n%s", err, y)
	}
}
