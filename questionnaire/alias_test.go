//go:build !js

package questionnaire

import (
	"fmt"
	"strings"
	"testing"
)

// TestPyxformTypeAliases: the older type spellings of pyxform's question
// type dictionary, which real forms still carry, read as the types they
// name, and the form still writes as an XForm.
func TestPyxformTypeAliases(t *testing.T) {
	cases := map[string]string{
		"q int": "integer", "add integer prompt": "integer", "percentage": "integer", "number of days in last year": "integer",
		"q decimal": "decimal", "add text prompt": "text", "q string": "text", "q date": "date", "add dateTime prompt": "datetime",
		"q date time": "datetime", "location": "geopoint", "q location": "geopoint", "q geotrace": "geotrace",
		"q calculate": "calculate", "q acknowledge": "acknowledge", "start time": "start", "get end time": "end", "get today": "today",
		"imei": "deviceid", "device id": "deviceid", "sim id": "simserial", "get phone number": "phonenumber",
		"q picture": "image", "add audio prompt": "audio", "q video": "video", "add file prompt": "file", "q barcode": "barcode",
		"add select one prompt using yn": "select_one", "select one using yn": "select_one", "q select1 yn": "select_one",
		"add select multiple prompt using yn": "select_multiple", "select multiple using yn": "select_multiple", "q select yn": "select_multiple",
		"select all that apply from yn": "select_multiple",
	}
	var b strings.Builder
	b.WriteString("settings: {form_id: aliases, version: '1'}\nsurvey:\n")
	names := map[string]string{}
	i := 0
	for typ, want := range cases {
		i++
		name := fmt.Sprintf("q%02d", i)
		names[name] = want
		label := ""
		if want != "calculate" && !strings.HasPrefix(want, "start") && want != "end" && want != "today" && want != "deviceid" && want != "simserial" && want != "phonenumber" {
			label = ", label: " + name
		}
		calc := ""
		if want == "calculate" {
			calc = ", calculation: '1'"
		}
		fmt.Fprintf(&b, "  - {type: %s, name: %s%s%s}\n", typ, name, label, calc)
	}
	b.WriteString("choices:\n  - {list_name: yn, name: y, label: Yes}\n  - {list_name: yn, name: n, label: No}\n")
	f, err := Decode([]byte(b.String()), "yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	for _, fd := range f.Fields() {
		if want := names[fd.Name]; fd.Type != want {
			t.Errorf("%s: type %s, want %s", fd.Name, fd.Type, want)
		}
	}
	if len(f.Fields()) != len(cases) {
		t.Errorf("%d fields, want %d", len(f.Fields()), len(cases))
	}
	if _, err := f.XForm(); err != nil {
		t.Errorf("XForm: %v", err)
	}
}
