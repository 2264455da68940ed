package exports

import (
	"strings"
	"testing"
)

// TestDesignCodeAsDrawn: a table with the design as drawn (certainty and
// screening_class columns) is declared as drawn: certainty PSUs as strata
// of their households, classes as second-stage strata, no frame fpc; the
// codebook says which specification, and that a Brewer design's
// probabilities are not in the release.
func TestDesignCodeAsDrawn(t *testing.T) {
	hh := householdTable(40, 3)
	n := hh.Rows()
	class := &Column{Name: "screening_class", Type: String, Strings: make([]string, n)}
	cert := &Column{Name: "certainty", Type: Int, Ints: make([]int64, n), Meta: Meta{Source: "sample design: Two-stage design as drawn ... Variance: PPS without replacement by Brewer's approximation"}}
	for i := range n {
		class.Strings[i] = "non_migrant"
		cert.Ints[i] = int64(i % 7 / 6)
	}
	hh.Columns = append(hh.Columns, class, cert)
	d := NewDesignCode(&Dataset{Tables: []*Table{hh}})
	if d == nil || d.FPC != "" || !strings.Contains(d.Specification, "Brewer") || !strings.Contains(d.Specification, "leaves the inclusion probabilities out") {
		t.Fatalf("design code: %+v", d)
	}
	for _, want := range []string{
		`households$stratum_drawn <- ifelse(cert, paste(households$stratum, households$psu, households$screening_class, sep = "/"), households$stratum)`,
		`des <- svydesign(ids = ~psu_drawn + household_id, strata = ~stratum_drawn + screening_class, weights = ~weight, nest = TRUE, data = households)`,
	} {
		if !strings.Contains(d.R, want) {
			t.Errorf("R code lacks %q:\n%s", want, d.R)
		}
	}
	if !strings.Contains(d.Stata, "svyset psu_id [pweight = weight], strata(stratum_id) singleunit(centered)") || !strings.Contains(d.Python, `psu=households["psu_drawn"]`) {
		t.Errorf("Stata:\n%s\nPython:\n%s", d.Stata, d.Python)
	}
	var b strings.Builder
	d.writeMarkdown(&b)
	if !strings.Contains(b.String(), "Two-stage design as drawn") {
		t.Errorf("codebook section does not say which design:\n%s", b.String())
	}
	// Without the columns of the design as drawn: the plain declaration.
	if d := NewDesignCode(&Dataset{Tables: []*Table{householdTable(40, 3)}}); d.Specification != "" || d.FPC != "fpc" {
		t.Errorf("plain table: %+v", d)
	}
}
