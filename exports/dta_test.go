package exports

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateDTA = flag.Bool("update-dta", false, "rewrite testdata/dta/fixture.haven.txt by reading the fixture with R's haven")

// dtaFixture is a table with every kind of column a release has: text
// coded by choices (with a value outside them and a null), numeric choice
// names, 0/1 codes, small, medium and huge integers, amounts, dates before
// and after Stata's 1960 epoch, booleans, long text (strL), UTF-8, a
// select_multiple, names Stata does not accept, and a label longer than
// Stata's 80 characters.
func dtaFixture() *Table {
	const n = 40
	t := &Table{Name: "fixture"}
	add := func(c *Column) { t.Columns = append(t.Columns, c) }
	id := &Column{Name: "household_id", Type: String, Strings: make([]string, n), Meta: Meta{Source: "sample"}}
	region := &Column{Name: "region", Type: String, Strings: make([]string, n), Meta: Meta{Question: map[string]string{"en": "Region", "es": "Región"},
		Choices: []Choice{{Name: "north", Labels: map[string]string{"en": "North", "es": "Norte"}}, {Name: "south", Labels: map[string]string{"en": "South", "es": "Sur"}},
			{Name: "capital", Labels: map[string]string{"en": "Capital district", "es": "Distrito capital"}}}}}
	urban := &Column{Name: "urban", Type: Int, Ints: make([]int64, n), Meta: Meta{Source: "derived: urban",
		Choices: []Choice{{Name: "0", Labels: map[string]string{"en": "Rural"}}, {Name: "1", Labels: map[string]string{"en": "Urban"}}}}}
	answer := &Column{Name: "answer_code", Type: String, Strings: make([]string, n), Meta: Meta{Question: map[string]string{"en": "Coded answer"},
		Choices: []Choice{{Name: "1", Labels: map[string]string{"en": "One"}}, {Name: "2", Labels: map[string]string{"en": "Two"}}, {Name: "98", Labels: map[string]string{"en": "Don't know"}}}}}
	age := &Column{Name: "age", Type: Int, Ints: make([]int64, n), Meta: Meta{Question: map[string]string{"en": "How old is the head of the household, in completed years? Ask to see a document if there is one."}}}
	big := &Column{Name: "n_listed", Type: Int, Ints: make([]int64, n)}
	huge := &Column{Name: "bytes_sent", Type: Int, Ints: make([]int64, n)}
	neg := &Column{Name: "balance", Type: Int, Ints: make([]int64, n)}
	amount := &Column{Name: "remit_amount", Type: Float, Floats: make([]float64, n), Meta: Meta{Question: map[string]string{"en": "Amount received"}}}
	day := &Column{Name: "interview_date", Type: Date, Ints: make([]int64, n)}
	flagCol := &Column{Name: "has_phone", Type: Bool, Bools: make([]bool, n)}
	note := &Column{Name: "note", Type: String, Strings: make([]string, n)}
	multi := &Column{Name: "assets", Type: String, Strings: make([]string, n), Meta: Meta{Multiple: true,
		Choices: []Choice{{Name: "radio", Labels: map[string]string{"en": "Radio"}}, {Name: "tv", Labels: map[string]string{"en": "Television"}}}}}
	bad := &Column{Name: "q-3.b", Type: Int, Ints: make([]int64, n)}
	reserved := &Column{Name: "in", Type: Int, Ints: make([]int64, n)}
	long := &Column{Name: "a_very_long_column_name_beyond_stata_limit", Type: Float, Floats: make([]float64, n)}
	regions := []string{"north", "south", "capital"}
	for i := 0; i < n; i++ {
		id.Strings[i] = "h" + string(rune('a'+i%26)) + string(rune('0'+i/26))
		region.Strings[i] = regions[i%3]
		urban.Ints[i] = int64(i % 2)
		answer.Strings[i] = []string{"1", "2", "98"}[i%3]
		age.Ints[i] = int64(18 + i*2)
		big.Ints[i] = int64(i * 1000)
		huge.Ints[i] = int64(i) << 40
		neg.Ints[i] = int64(-i * 100000)
		amount.Floats[i] = float64(i)*12.25 + 0.1
		day.Ints[i] = 20526 + int64(i) // 2026-03-14 on
		flagCol.Bools[i] = i%3 == 0
		note.Strings[i] = "ok"
		multi.Strings[i] = []string{"radio", "radio tv", "tv", ""}[i%4]
		bad.Ints[i] = int64(i)
		reserved.Ints[i] = int64(i % 7)
		long.Floats[i] = float64(i) / 3
	}
	region.Strings[5] = "island" // a value without a label
	region.SetNull(7)
	urban.SetNull(8)
	answer.SetNull(9)
	age.SetNull(10)
	amount.SetNull(11)
	day.Ints[12] = -3654 // 1959-12-31
	day.SetNull(13)
	note.Strings[14] = "José Ñúñez – « ünïcödé »"
	note.Strings[15] = strings.Repeat("long text ", 250) // 2500 bytes: strL
	note.SetNull(16)
	huge.SetNull(17)
	amount.Floats[18] = -0.5
	for _, c := range []*Column{id, region, urban, answer, age, big, huge, neg, amount, day, flagCol, note, multi, bad, reserved, long} {
		add(c)
	}
	return t
}

// TestDTAReadByHaven checks the .dta writer against R's haven, the
// independent reader: testdata/dta/fixture.haven.txt is what haven printed
// for the fixture's .dta file (with `go test -run TestDTAReadByHaven
// -update-dta ./exports/`), headed by the SHA-256 of the bytes it read. The
// test writes the file again and requires the same bytes, so the golden
// stays a reading of what dotm writes; where Rscript and haven are
// installed it also reads the new file with haven and compares.
func TestDTAReadByHaven(t *testing.T) {
	var buf bytes.Buffer
	created := time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)
	if err := WriteDTA(&buf, dtaFixture(), []string{"en", "es"}, "dotm test fixture: every kind of column", created); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	hash := "sha256 " + hex.EncodeToString(sum[:]) + "\n"
	golden := filepath.Join("testdata", "dta", "fixture.haven.txt")
	want, err := os.ReadFile(golden)
	if err != nil && !*updateDTA {
		t.Fatal(err)
	}
	if r, ok := havenAvailable(); ok {
		got := readWithHaven(t, r, buf.Bytes())
		if *updateDTA {
			if err := os.WriteFile(golden, []byte(hash+got), 0o644); err != nil {
				t.Fatal(err)
			}
			want = []byte(hash + got)
		}
		if withoutVersion(string(want)) != withoutVersion(hash+got) {
			t.Errorf("haven reads the fixture differently from %s:\n%s", golden, diffLines(string(want), hash+got))
		}
	} else {
		t.Log("Rscript with haven not found: checking the bytes against the golden reading only")
	}
	if first, _, _ := strings.Cut(string(want), "\n"); first+"\n" != hash {
		t.Fatalf("the fixture's .dta is not the file haven read for %s (%s, now %s): the writer changed; rerun with -update-dta where R's haven is installed and review the diff", golden, first, strings.TrimSpace(hash))
	}
}

// havenAvailable reports whether Rscript can load haven.
func havenAvailable() (string, bool) {
	r, err := exec.LookPath("Rscript")
	if err != nil {
		return "", false
	}
	if exec.Command(r, "-e", "library(haven)").Run() != nil {
		return "", false
	}
	return r, true
}

func readWithHaven(t *testing.T, rscript string, dta []byte, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file.dta")
	if err := os.WriteFile(path, dta, 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "dta", "haven.R"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(rscript, append([]string{script, path}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("haven: %v\n%s", err, out)
	}
	return string(out)
}

// withoutVersion drops haven.R's "haven X.Y.Z" line: another version of
// haven reading the same values is no difference.
func withoutVersion(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "haven ") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)) && len(out) < 20; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "- "+x, "+ "+y)
		}
	}
	return strings.Join(out, "\n")
}
