package analysis

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// TestWriteCSVNeutralisesFormulas: an id or level that a spreadsheet would
// run as a formula is written as text; numbers keep their sign.
func TestWriteCSVNeutralisesFormulas(t *testing.T) {
	est, se, neg := Num(1.5), Num(0.1), Num(-2.25)
	r := &Results{Results: []Result{
		{ID: "=cmd|' /C calc'!A0", Type: "mean", Variable: "x", Estimate: &est, SE: &se},
		{ID: "m", Type: "mean", Variable: "y", Levels: []Group{{Level: "@SUM(A1)", Estimate: &neg, N: 3}}},
	}}
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[1][0] != "'=cmd|' /C calc'!A0" {
		t.Errorf("id written as %q", recs[1][0])
	}
	if recs[2][1] != "y @SUM(A1)" || recs[2][2] != "-2.25" {
		t.Errorf("row %q", recs[2])
	}
	for _, rec := range recs {
		for _, f := range rec {
			if f != "" && (f[0] == '=' || f[0] == '@' || f[0] == '+') {
				t.Errorf("cell %q would run as a formula", f)
			}
		}
	}
}

// TestParseCSVUnescapesText: text cells escaped by dotm's CSV writers read
// back as they were.
func TestParseCSVUnescapesText(t *testing.T) {
	tbl, err := ParseCSV([]byte("stratum,w\n'=north,1.5\n'-south,-2\nplain,3\n"), []string{"stratum", "w"})
	if err != nil {
		t.Fatal(err)
	}
	col, err := tbl.Column("stratum")
	if err != nil || len(col.Levels) != 3 || col.Levels[0] != "=north" || col.Levels[1] != "-south" || col.Levels[2] != "plain" {
		t.Fatalf("levels %+v", col)
	}
}
