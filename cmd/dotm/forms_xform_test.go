package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFormsConvertXForm: convert --to xform writes the ODK XForm, to
// standard output or to --out, the same both ways.
func TestFormsConvertXForm(t *testing.T) {
	form := filepath.Join("..", "..", "questionnaire", "forms", "dotm_household.yaml")
	out, code := runForTest(t, "convert", form, "--to", "xform")
	if code != 0 {
		t.Fatalf("convert --to xform: exit %d\n%s", code, out)
	}
	var doc struct {
		XMLName xml.Name
		Head    struct {
			Title string `xml:"title"`
			Model struct {
				Binds []struct {
					Nodeset string `xml:"nodeset,attr"`
				} `xml:"bind"`
			} `xml:"model"`
		} `xml:"head"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	if doc.XMLName.Local != "html" || doc.Head.Title != "Development on the Move: household questionnaire" || len(doc.Head.Model.Binds) < 50 {
		t.Errorf("XForm: root %v, title %q, %d binds", doc.XMLName, doc.Head.Title, len(doc.Head.Model.Binds))
	}
	path := filepath.Join(t.TempDir(), "h.xml")
	if _, code := runForTest(t, "convert", form, "--to", "xform", "--out", path); code != 0 {
		t.Fatalf("convert --to xform --out: exit %d", code)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != out {
		t.Errorf("--out file differs from standard output (%v)", err)
	}
	if _, code := runForTest(t, "convert", form, "--to", "xforms"); code != 2 {
		t.Errorf("convert --to xforms: exit %d, want 2", code)
	}
	if !strings.Contains(out, `jr:preload="uid"`) {
		t.Error("no instanceID preload")
	}
}
