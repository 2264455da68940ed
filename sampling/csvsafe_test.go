package sampling

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestTableWriteNeutralisesFormulas: cells a spreadsheet would run as
// formulas are written as text, numbers are left alone, and ReadTable
// gives back what was written.
func TestTableWriteNeutralisesFormulas(t *testing.T) {
	tbl := &Table{Header: []string{"id", "stratum", "weight"}, Rows: [][]string{
		{"=HYPERLINK(\"http://x\",\"y\")", "+north", "-1.5"},
		{"@x", "\tsouth", "2"},
		{"'=already", "-", "+3"},
	}}
	want := [][]string{}
	for _, r := range tbl.Rows {
		want = append(want, slices.Clone(r))
	}
	var buf bytes.Buffer
	if err := tbl.Write(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"\n\"=HYPERLINK", "\n=HYPERLINK", ",+north", "\n@x", ",\"\tsouth"} {
		if strings.Contains(out, bad) {
			t.Errorf("written CSV has a live formula cell %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, ",-1.5\n") || !strings.Contains(out, ",+3\n") {
		t.Errorf("numbers changed:\n%s", out)
	}
	back, err := ReadTable(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !slices.Equal(back.Rows[i], want[i]) {
			t.Errorf("row %d read back as %q, want %q", i, back.Rows[i], want[i])
		}
	}
}
