package exports

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/dotm-survey/dotm/internal/csvsafe"
)

// A CSV that dotm wrote, with its formula escape, reads back as the values
// that were written.
func TestReadCSVUndoesFormulaEscape(t *testing.T) {
	values := []string{"=HYPERLINK(\"x\")", "+44 20 7946", "-", "@home", "'quoted", "-5", "plain"}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(csvsafe.Row([]string{"note"}))
	for _, v := range values {
		_ = w.Write(csvsafe.Row([]string{v}))
	}
	w.Flush()
	if !bytes.Contains(buf.Bytes(), []byte("'=HYPERLINK")) {
		t.Fatalf("the writer did not escape the formula:\n%s", buf.Bytes())
	}
	tbl, err := ReadCSV(&buf, "escaped.csv")
	if err != nil {
		t.Fatal(err)
	}
	c := tbl.Column("note")
	if c == nil {
		t.Fatal("no column note")
	}
	for i, want := range values {
		if got := c.Format(i); got != want {
			t.Errorf("row %d: read %q, wrote %q", i+1, got, want)
		}
	}
}
