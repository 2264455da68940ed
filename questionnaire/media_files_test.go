package questionnaire

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const mediaFilesForm = `
settings: {form_id: media, version: "1"}
survey:
  - {type: select_one_from_file towns.csv, name: town, label: Town, choice_filter: "region=${region}"}
  - {type: text, name: region, label: Region}
  - {type: calculate, name: pop, calculation: "pulldata('towns', 'population', 'name', ${town})"}
  - {type: integer, name: households, label: Households, constraint: ". <= pulldata('towns', 'population', 'name', ${town})"}
  - {type: select_multiple_from_file markets.xml, name: markets, label: Markets}
  - {type: csv-external, name: prices}
`

func decodeMediaForm(t *testing.T) *Form {
	t.Helper()
	f, err := Decode([]byte(mediaFilesForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var (
	townsCSV   = Attachment{Name: "towns.csv", ContentType: "text/csv", Data: []byte("\xef\xbb\xbfname,label,region,population\nkal,Kalamu,north,120\nbuk,Bukavu,south,900\nkal,Kalamu again,north,5\n")}
	marketsXML = Attachment{Name: "markets.xml", ContentType: "text/xml", Data: []byte(`<root><item><name>m1</name><label>Central</label></item><item><name>m2</name><label>Port</label></item></root>`)}
	pricesCSV  = Attachment{Name: "prices.csv", ContentType: "text/csv", Data: []byte("item,price\nrice,3\n")}
)

// TestMediaNeeds: the files a form reads, with the columns it reads.
func TestMediaNeeds(t *testing.T) {
	got := decodeMediaForm(t).MediaNeeds()
	want := []MediaNeed{
		{Name: "markets.xml", Rows: []int{5}},
		{Name: "prices.csv", Rows: []int{6}},
		{Name: "towns.csv", Columns: []string{"name", "label", "population"}, Rows: []int{1, 3, 4}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("needs\n%+v\nwant\n%+v", got, want)
	}
}

// TestCheckMedia: a file without a column the form reads, a file the form
// does not read, a malformed XML and a CSV that does not parse are refused
// with the file (and column) named; a needed file not uploaded is reported
// as missing, not refused.
func TestCheckMedia(t *testing.T) {
	f := decodeMediaForm(t)
	missing, err := f.CheckMedia([]Attachment{townsCSV, marketsXML})
	if err != nil || !reflect.DeepEqual(missing, []string{"prices.csv"}) {
		t.Fatalf("missing %v, err %v", missing, err)
	}
	for _, tc := range []struct {
		file Attachment
		want string
	}{
		{Attachment{Name: "towns.csv", Data: []byte("name,label,region\nkal,Kalamu,north\n")}, `media file towns.csv: column "population": missing from the header`},
		{Attachment{Name: "towns.csv", Data: []byte("name,label,population\n\"kal,Kalamu,1\n")}, "media file towns.csv: "},
		{Attachment{Name: "towns.csv", Data: nil}, "media file towns.csv: empty: want a header row"},
		{Attachment{Name: "markets.xml", Data: []byte("<root><item><name>m1</name></root>")}, "media file markets.xml: not well-formed XML"},
		{Attachment{Name: "markets.xml", Data: []byte("<root><row/></root>")}, "media file markets.xml: no item elements"},
		{Attachment{Name: "other.csv", Data: []byte("a\n1\n")}, "media file other.csv: the form does not read this file"},
	} {
		_, err := f.CheckMedia([]Attachment{tc.file})
		var me *MediaError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &me) || me.File != tc.file.Name {
			t.Errorf("%s %q: err %v, want %q", tc.file.Name, tc.file.Data, err, tc.want)
		}
	}
	if _, err := f.CheckMedia([]Attachment{pricesCSV, pricesCSV}); err == nil || !strings.Contains(err.Error(), "uploaded twice") {
		t.Errorf("a file uploaded twice: %v", err)
	}
}

// TestAttachMediaValidates: with the media attached, answers of a
// select_..._from_file must be items of the file and pass its
// choice_filter, and pulldata() reads the first matching row (” when
// none), in calculations and constraints (a calculate has no type: its
// value is the string ODK holds). A constraint reading a wrong town fails
// as a consequence of it.
func TestAttachMediaValidates(t *testing.T) {
	f := decodeMediaForm(t)
	// Before the files are attached, any answer passes, as before.
	if _, probs := f.Validate(map[string]any{"region": "north", "town": "zzz"}, ValidateOptions{}); len(probs) != 0 {
		t.Fatalf("without media: %+v", probs)
	}
	f.AttachMedia([]Attachment{townsCSV, marketsXML, pricesCSV})
	cases := []struct {
		answers map[string]any
		pop     any
		codes   []string
	}{
		{map[string]any{"region": "north", "town": "kal", "households": int64(100), "markets": "m1 m2"}, "120", nil},
		{map[string]any{"region": "south", "town": "buk", "households": int64(901)}, "900", []string{"households:constraint"}},
		{map[string]any{"region": "north", "town": "zzz", "households": int64(1)}, nil, []string{"town:choice", "households:constraint"}},
		{map[string]any{"region": "south", "town": "kal", "households": int64(1)}, "120", []string{"town:choice"}},
		{map[string]any{"region": "north", "town": "kal", "households": int64(1), "markets": "m1 m9"}, "120", []string{"markets:choice"}},
	}
	for i, tc := range cases {
		out, probs := f.Validate(tc.answers, ValidateOptions{})
		var codes []string
		for _, p := range probs {
			codes = append(codes, p.Path+":"+p.Code)
		}
		if !reflect.DeepEqual(codes, tc.codes) {
			t.Errorf("case %d: problems %+v, want %v", i, probs, tc.codes)
		}
		if tc.pop != nil && out["pop"] != tc.pop {
			t.Errorf("case %d: pop %#v, want %#v", i, out["pop"], tc.pop)
		}
	}
}

// TestExternalChoicesChecked: answers of select_one_external questions are
// checked against the external_choices sheet, with their choice_filter.
func TestExternalChoicesChecked(t *testing.T) {
	f, err := Decode([]byte(`
survey:
  - {type: select_one_external states, name: state, label: State}
  - {type: select_one_external counties, name: county, label: County, choice_filter: "state=${state}"}
sheets:
  - name: external_choices
    rows:
      - [list_name, name, label, state]
      - [states, texas, Texas]
      - [states, washington, Washington]
      - [counties, king, King, washington]
      - [counties, harris, Harris, texas]
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		state, county string
		want          []string
	}{
		{"texas", "harris", nil},
		{"ohio", "", []string{"state:choice"}},
		{"texas", "king", []string{"county:choice"}},
	} {
		a := map[string]any{"state": tc.state}
		if tc.county != "" {
			a["county"] = tc.county
		}
		_, probs := f.Validate(a, ValidateOptions{})
		var codes []string
		for _, p := range probs {
			codes = append(codes, p.Path+":"+p.Code)
		}
		if !reflect.DeepEqual(codes, tc.want) {
			t.Errorf("%s/%s: %+v, want %v", tc.state, tc.county, probs, tc.want)
		}
	}
}
