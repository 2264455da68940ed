package questionnaire

import (
	"testing"
)

// TestAttachmentsItemsets: a form with select_one_external questions
// carries its external_choices sheet as itemsets.csv, every value quoted,
// each row's cells under their header (a row without a state keeps the
// column empty, where pyxform 4.5 shifts the cells left); a form without
// such a question carries nothing.
func TestAttachmentsItemsets(t *testing.T) {
	f, err := Decode([]byte(`
survey:
  - {type: select_one_external states, name: state, label: State}
  - {type: select_one_external counties, name: county, label: County, choice_filter: "state=${state}"}
sheets:
  - name: external_choices
    rows:
      - [list_name, name, label, state, "label::French"]
      - [states, texas, Texas, "", Le Texas]
      - []
      - [counties, king, "King \"WA\"", washington, Le King]
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	atts := f.Attachments()
	if len(atts) != 1 || atts[0].Name != "itemsets.csv" || atts[0].ContentType != "text/csv" {
		t.Fatalf("attachments %+v", atts)
	}
	want := "\"list_name\",\"name\",\"label\",\"state\",\"label::French\"\r\n" +
		"\"states\",\"texas\",\"Texas\",\"\",\"Le Texas\"\r\n" +
		"\"counties\",\"king\",\"King \"\"WA\"\"\",\"washington\",\"Le King\"\r\n"
	if got := string(atts[0].Data); got != want {
		t.Errorf("itemsets.csv:\n%s\nwant\n%s", got, want)
	}
	if atts := Household().Attachments(); len(atts) != 0 {
		t.Errorf("the household form carries %+v", atts)
	}
}
