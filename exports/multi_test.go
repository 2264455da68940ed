package exports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// personsTable makes a roster for the households of hh: 1–4 members each,
// with a direct member_name and quasi sex and age, question texts in two
// languages as the dataset step gives them.
func personsTable(hh *Table) *Table {
	ids := hh.Column("household_id")
	t := &Table{Name: "persons"}
	id := &Column{Name: "household_id", Type: String}
	line := &Column{Name: "line", Type: Int}
	name := &Column{Name: "member_name", Type: String, Meta: Meta{Sensitivity: Direct}}
	sex := &Column{Name: "sex", Type: String, Meta: Meta{Sensitivity: Quasi,
		Question: map[string]string{"en": "Sex of the member", "es": "Sexo del miembro"},
		Choices: []Choice{{Name: "male", Labels: map[string]string{"en": "Male", "es": "Hombre"}},
			{Name: "female", Labels: map[string]string{"en": "Female", "es": "Mujer"}}}}}
	age := &Column{Name: "age", Type: Int, Meta: Meta{Sensitivity: Quasi, Question: map[string]string{"en": "Age", "es": "Edad"}}}
	for i, hid := range ids.Strings {
		for m := 0; m < 1+i%4; m++ {
			id.Strings = append(id.Strings, hid)
			line.Ints = append(line.Ints, int64(m+1))
			name.Strings = append(name.Strings, markerName+" member")
			sex.Strings = append(sex.Strings, []string{"male", "female"}[(i+m)%2])
			age.Ints = append(age.Ints, int64((i*7+m*23)%90))
		}
	}
	t.Columns = []*Column{id, line, name, sex, age}
	return t
}

func TestReleaseTwoTables(t *testing.T) {
	hh := householdTable(800, 21)
	persons := personsTable(hh)
	prof := strings.Replace(testProfile, "quasi_identifiers: [region,", "quasi_identifiers: [sex, age, region,", 1)
	prof = strings.Replace(prof, "hh_size: {top: 10}}", "hh_size: {top: 10}, age: [0, 15, 30, 45, 60, 90]}", 1)
	p, err := ParseProfile([]byte(prof))
	if err != nil {
		t.Fatal(err)
	}
	ds := &Dataset{Survey: "gh-2026", Languages: []string{"en", "es"}, Tables: []*Table{hh, persons}}
	out := filepath.Join(t.TempDir(), "rel")
	man, rep, err := Create(ds, p, out, testInfo, seeded(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Files) != 10 || len(rep.Tables) != 2 { // 2 × (.parquet, .dta), codebook, DDI and report (.json, .md, .html)
		t.Fatalf("manifest %d files, report %d tables", len(man.Files), len(rep.Tables))
	}
	if got := rep.Tables[1].QuasiIdentifiers; strings.Join(got, ",") != "sex,age" {
		t.Errorf("persons quasi-identifiers %v", got)
	}
	// The pseudonymous household id joins the two tables within a release.
	htbl, _, _ := arrowTable(t, filepath.Join(out, "households.parquet"))
	defer htbl.Release()
	ptbl, _, _ := arrowTable(t, filepath.Join(out, "persons.parquet"))
	defer ptbl.Release()
	hids := map[string]bool{}
	for _, id := range arrowStrings(t, htbl, "household_id") {
		hids[id] = true
	}
	pids := arrowStrings(t, ptbl, "household_id")
	if int64(len(pids)) != int64(persons.Rows()) {
		t.Fatalf("persons rows %d, want %d", len(pids), persons.Rows())
	}
	for _, id := range pids {
		if !hids[id] {
			t.Fatalf("person's household %s not in households", id)
		}
	}
	if k := kAnonymity([][]string{arrowStrings(t, ptbl, "sex"), arrowStrings(t, ptbl, "age")}); k < 3 {
		t.Errorf("persons are %d-anonymous", k)
	}
	for _, f := range []string{"persons.parquet", CodebookJSON, CodebookMarkdown} {
		b, _ := os.ReadFile(filepath.Join(out, f))
		if bytes.Contains(b, []byte(markerName)) {
			t.Errorf("%s contains a member name", f)
		}
	}
	var cb Codebook
	b, _ := os.ReadFile(filepath.Join(out, CodebookJSON))
	if err := json.Unmarshal(b, &cb); err != nil {
		t.Fatal(err)
	}
	if len(cb.Tables) != 2 || strings.Join(cb.Languages, ",") != "en,es" {
		t.Fatalf("codebook tables %d languages %v", len(cb.Tables), cb.Languages)
	}
	var sexVar *Variable
	for i, v := range cb.Tables[1].Variables {
		if v.Name == "sex" {
			sexVar = &cb.Tables[1].Variables[i]
		}
	}
	if sexVar == nil || sexVar.Question["es"] != "Sexo del miembro" || len(sexVar.ValueLabels) != 2 || sexVar.ValueLabels[1].Labels["es"] != "Mujer" {
		t.Errorf("codebook sex: %+v", sexVar)
	}
	md, _ := os.ReadFile(filepath.Join(out, CodebookMarkdown))
	if !bytes.Contains(md, []byte("question (es): Sexo del miembro")) || !bytes.Contains(md, []byte("es: Mujer")) {
		t.Errorf("codebook.md lacks the Spanish texts")
	}
}
