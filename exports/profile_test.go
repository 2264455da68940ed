package exports

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseProfile(t *testing.T) {
	p, err := ParseProfile([]byte(testProfile))
	if err != nil {
		t.Fatal(err)
	}
	if p.K != 3 || len(p.QuasiIdentifiers) != 6 || p.MaxRisk != 0.05 || p.Geo != "drop" {
		t.Errorf("parsed %+v", p)
	}
	if r := p.Recode["head_age"]; len(r.Breaks) != 7 || r.Top != nil {
		t.Errorf("recode head_age %+v", r)
	}
	if r := p.Recode["hh_size"]; r.Top == nil || *r.Top != 10 || r.Breaks != nil {
		t.Errorf("recode hh_size %+v", r)
	}
	if p.TopCode["cons_pc"] != 0.995 || p.GroupRare["dest_country"] != 10 {
		t.Errorf("top_code %v group_rare %v", p.TopCode, p.GroupRare)
	}
	if d := p.design(); d.ID != "household_id" || d.Weight != "weight" {
		t.Errorf("design defaults %+v", d)
	}
}

func TestParseProfileErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"", "empty"},
		{"quasi_identifiers: [a]\n", "k: required"},
		{"k: 0\n", "k: 0"},
		{"k: 3\nkk: 2\n", `profile: line 2: unknown key "kk"; did you mean "k"?`},
		{"k: 3\nquasi_identifers: [a]\n", `profile: line 2: unknown key "quasi_identifers"; did you mean "quasi_identifiers"?`},
		{"k: 3\ndesign:\n  stratun: s\n", `profile: line 3: unknown key "stratun" in design; did you mean "stratum"?`},
		{"k: 3\nperturb: {sdd: 0.1}\n", `profile: perturb: line 2: unknown key "sdd"; did you mean "sd"?`},
		{"k: 3\nmax_risk: 1.5\n", "max_risk"},
		{"k: 3\nquasi_identifiers: [a, a]\n", "a listed twice"},
		{"k: 3\nquasi_identifiers: [weight]\n", "design variable"},
		{"k: 3\nrecode: {age: [10, 5]}\n", "recode.age: breaks must increase"},
		{"k: 3\nrecode: {age: [10]}\n", "at least two breaks"},
		{"k: 3\nrecode: {age: {top: 5, cap: 3}}\n", `profile: recode.age: line 2: unknown key "cap"; the keys here are top, bottom`},
		{"k: 3\nrecode: {age: {}}\n", "recode.age"},
		{"k: 3\nrecode: {age: old}\n", "recode.age"},
		{"k: 3\nrecode: {age: {top: 5, bottom: 9}}\n", "bottom 9 above top 5"},
		{"k: 3\ntop_code: {x: 0}\n", "top_code.x"},
		{"k: 3\ntop_code: {x: 1.2}\n", "top_code.x"},
		{"k: 3\ngroup_rare: {x: 0}\n", "group_rare.x"},
		{"k: 3\ngeo: blur\n", "geo"},
		{"k: 3\ndirect: [household_id]\n", "design variable"},
		{"k: [3]\n", "profile"},
		{"k: 3\nk: 4\n", "already defined"},
	} {
		_, err := ParseProfile([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseProfile(%q) = %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}

func TestProfileAgainstData(t *testing.T) {
	in := householdTable(100, 9)
	for _, tc := range []struct{ yaml, want string }{
		{"k: 3\nquasi_identifiers: [region, nosuch]\n", "quasi_identifiers: column nosuch is in no table"},
		{"k: 3\nrecode: {region: [0, 1]}\n", "recode.region: table households: column is string"},
		{"k: 3\nrecode: {head_age: [30, 40]}\n", "outside the breaks"},
		{"k: 3\nrecode: {hh_size: {top: 2.5}}\n", "not an integer"},
		{"k: 3\ngroup_rare: {hh_size: 3}\n", "group_rare.hh_size"},
		{"k: 3\nquasi_identifiers: [phone]\ndirect: [phone]\n", "direct identifier"},
	} {
		p, err := ParseProfile([]byte(tc.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		_, _, err = Anonymize(&Dataset{Tables: []*Table{in}}, p, seeded(1))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestRecodeBreaks(t *testing.T) {
	c := &Column{Name: "age", Type: Int, Ints: []int64{0, 24, 25, 64, 65, 120, 7}}
	c.SetNull(6)
	tbl := &Table{Name: "t", Columns: []*Column{c}}
	if err := recode(tbl, c, Recode{Breaks: []float64{0, 25, 65, 120}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"[0,25)", "[0,25)", "[25,65)", "[25,65)", "[65,120]", "[65,120]", ""}
	for i, w := range want {
		if c.Format(i) != w {
			t.Errorf("row %d: %q, want %q", i, c.Format(i), w)
		}
	}
	if c.Type != String || len(c.Meta.Choices) != 3 || !c.IsNull(6) {
		t.Errorf("column after recode: %+v", c)
	}
}

func TestTopCodeQuantile(t *testing.T) {
	// Reference values from R 4: sprintf("%.17g", quantile(x, probs)).
	x := []float64{1.1, 2.2, 3.2, 4.4, 8.7, 9.9, 100.5}
	for _, tc := range []struct{ q, want float64 }{
		{0.99, 95.063999999999965}, {0.995, 97.781999999999968}, {0.5, 4.4000000000000004}, {0.123, 1.9118000000000002},
		{0, 1.1}, {1, 100.5},
	} {
		if got := Quantile(x, tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %.17g, want %.17g", tc.q, got, tc.want)
		}
	}
	c := &Column{Name: "x", Type: Float}
	for i := 1; i <= 100; i++ {
		c.Floats = append(c.Floats, float64(i))
	}
	if _, _, err := topCode(&Table{Name: "t", Columns: []*Column{c}}, c, 0.9); err != nil {
		t.Fatal(err)
	}
	const q90 = 90.100000000000009 // quantile(1:100, 0.9)
	if c.Floats[99] != q90 || c.Floats[89] != 90 || c.Floats[90] != q90 {
		t.Errorf("top-coded: %v", c.Floats[88:])
	}
	ci := &Column{Name: "n", Type: Int, Ints: []int64{1, 2, 3, 4, 50}}
	topCode(&Table{Name: "t", Columns: []*Column{ci}}, ci, 0.9) // quantile 31.6 → 31
	if ci.Ints[4] != 31 {
		t.Errorf("integer top code: %v", ci.Ints)
	}
}

func TestGroupRare(t *testing.T) {
	tbl := strTable([]string{"dest"}, []string{"spain"}, []string{"spain"}, []string{"malta"}, []string{""}, []string{"iceland"})
	c := tbl.Columns[0]
	c.Meta.Choices = []Choice{{Name: "spain"}, {Name: "malta"}, {Name: "iceland"}}
	if err := groupRare(tbl, c, 2); err != nil {
		t.Fatal(err)
	}
	got := []string{c.Format(0), c.Format(1), c.Format(2), c.Format(3), c.Format(4)}
	if strings.Join(got, ",") != "spain,spain,other,,other" {
		t.Errorf("grouped: %v", got)
	}
	if len(c.Meta.Choices) != 2 || c.Meta.Choices[1].Name != Other {
		t.Errorf("choices %v", c.Meta.Choices)
	}
}

func TestFirstOfMonth(t *testing.T) {
	for _, s := range []string{"2026-03-17", "1970-01-01", "1969-12-31", "2000-02-29", "1900-03-01", "2400-12-31"} {
		d, _ := time.Parse(time.DateOnly, s)
		days := d.Unix() / 86400
		got := time.Unix(firstOfMonth(days)*86400, 0).UTC().Format(time.DateOnly)
		if want := s[:8] + "01"; got != want {
			t.Errorf("firstOfMonth(%s) = %s, want %s", s, got, want)
		}
	}
}

func TestReadCSVTypes(t *testing.T) {
	in := "\ufeffid,n,x,b,d,s,empty\n1,3,1.5,true,2026-01-02,a,\n2,,2,FALSE,2026-02-03,b,\n"
	tbl, err := ReadCSV(strings.NewReader(in), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []Type{Int, Int, Float, Bool, Date, String, String}
	for j, c := range tbl.Columns {
		if c.Type != want[j] {
			t.Errorf("column %s: %s, want %s", c.Name, c.Type, want[j])
		}
	}
	if tbl.Columns[0].Name != "id" || !tbl.Column("n").IsNull(1) || !tbl.Column("n").Nullable || tbl.Column("x").Nullable {
		t.Errorf("nulls: %+v", tbl.Column("n"))
	}
	for _, bad := range []struct{ csv, want string }{
		{"", "no header"},
		{"a,a\n1,2\n", "column a appears twice"},
		{"a,\n1,2\n", "column 2 has an empty name"},
		{"a,b\n1\n", "wrong number of fields"},
		{"a\n\xff\n", "not valid UTF-8"},
		{"id;n\n1;2,5\n", "bad.csv looks semicolon-separated; dotm reads comma-separated CSV (save it as CSV UTF-8 with commas)"},
		{"id\tn\n1\t2\n", "bad.csv looks tab-separated; dotm reads comma-separated CSV"},
	} {
		if _, err := ReadCSV(strings.NewReader(bad.csv), "bad.csv"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ReadCSV(%q) = %v, want %q", bad.csv, err, bad.want)
		}
	}
}

func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(testProfile))
	f.Add([]byte("k: 2\nrecode: {a: {top: 3, bottom: 1}}\n"))
	f.Add([]byte("k: 1\ngeo: displace\ndesign: {id: hh}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile(data)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed profile fails Validate: %v", err)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add(tableCSV(householdTable(5, 1)))
	f.Add([]byte("a,b\n1,\n,x\n"))
	f.Add([]byte("d\n2026-01-01\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := ReadCSV(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			return
		}
		if err := tbl.Check(); err != nil {
			t.Fatalf("ReadCSV returned an inconsistent table: %v", err)
		}
		// Whatever was read can be written as Parquet.
		var buf bytes.Buffer
		if err := WriteParquet(&buf, tbl, 0, nil); err != nil {
			t.Fatalf("WriteParquet: %v", err)
		}
	})
}

// TestKFloorAndFreeText: k below 3 is refused unless the profile says so,
// and then the manifest records it; free text and paradata are dropped
// unless the profile keeps them.
func TestKFloorAndFreeText(t *testing.T) {
	if _, err := ParseProfile([]byte("k: 1\n")); err == nil || !strings.Contains(err.Error(), "allow_k_below_3") {
		t.Fatalf("k: 1 accepted: %v", err)
	}
	p, err := ParseProfile([]byte("k: 1\nallow_k_below_3: true\nkeep: [notes_kept]\n"))
	if err != nil {
		t.Fatal(err)
	}
	in := householdTable(50, 3)
	for _, name := range []string{"notes_free", "notes_kept"} {
		c := &Column{Name: name, Type: String, Strings: make([]string, 50), Meta: Meta{FreeText: true}}
		for i := range c.Strings {
			c.Strings[i] = "called back on Tuesday"
		}
		in.Columns = append(in.Columns, c)
	}
	out := filepath.Join(t.TempDir(), "release")
	man, rep, err := Create(&Dataset{Tables: []*Table{in}}, p, out, testInfo, seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Overrides) != 1 || len(rep.Overrides) != 1 || !strings.Contains(man.Overrides[0], "k = 1") {
		t.Errorf("overrides: manifest %v, report %v", man.Overrides, rep.Overrides)
	}
	b, _ := os.ReadFile(filepath.Join(out, ManifestJSON))
	if !bytes.Contains(b, []byte("below the floor")) {
		t.Errorf("manifest.json does not record the override:\n%s", b)
	}
	dropped := map[string]string{}
	for _, d := range rep.Tables[0].Dropped {
		dropped[d.Column] = d.Reason
	}
	if !strings.Contains(dropped["notes_free"], "free text") || dropped["notes_kept"] != "" {
		t.Errorf("dropped: %v", dropped)
	}
}

// TestDisclosureReportPage: the release carries a readable disclosure
// report saying what was released as it is, where quasi-identifiers are
// carried, what was dropped and suppressed, and the risk before and after.
func TestDisclosureReportPage(t *testing.T) {
	p, err := ParseProfile([]byte("k: 3\nquasi_identifiers: [region, urban, hh_size, head_sex, head_age]\nresidual_k: 500\n"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "release")
	if _, _, err := Create(&Dataset{Tables: []*Table{householdTable(300, 4)}}, p, out, testInfo, seeded(2)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, ReportMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Disclosure report", "Verdict: **passed**", "## Table households", "| records below k |", "Dropped columns:", "| global risk |"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("disclosure-report.md lacks %q:\n%s", want, b)
		}
	}
}
