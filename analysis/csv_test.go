package analysis

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/internal/csvsafe"
)

// sameTable reports how a and b differ ("" when they hold the same columns,
// NaN equal to NaN).
func sameTable(a, b *Table) string {
	if a.Len() != b.Len() || !reflect.DeepEqual(a.Names(), b.Names()) {
		return fmt.Sprintf("%d rows %v against %d rows %v", a.Len(), a.Names(), b.Len(), b.Names())
	}
	for _, name := range a.Names() {
		x, _ := a.Column(name)
		y, _ := b.Column(name)
		if x.IsText() != y.IsText() || !reflect.DeepEqual(x.Codes, y.Codes) || !reflect.DeepEqual(x.Levels, y.Levels) || len(x.Num) != len(y.Num) {
			return fmt.Sprintf("column %s: %v %v %v against %v %v %v", name, x.Num, x.Codes, x.Levels, y.Num, y.Codes, y.Levels)
		}
		for i := range x.Num {
			if x.Num[i] != y.Num[i] && !(math.IsNaN(x.Num[i]) && math.IsNaN(y.Num[i])) {
				return fmt.Sprintf("column %s row %d: %v against %v", name, i, x.Num[i], y.Num[i])
			}
		}
	}
	return ""
}

// readAtBlocks is ReadCSVAt over b with blocks of n bytes.
func readAtBlocks(b []byte, n int, want []string) (*Table, error) {
	defer func(old int) { csvBlock = old }(csvBlock)
	csvBlock = n
	return ReadCSVAt(bytes.NewReader(b), int64(len(b)), want)
}

// TestReadCSVAtMatchesParseCSV reads files block by block, with blocks from
// a few bytes (lines longer than a block, quoted newlines across a block's
// end) to the whole file, and wants the table ParseCSV makes of the whole
// buffer: columns that turn to text in a later block, "NA" and "" in text
// and numeric columns, escaped quotes, CRLF, a byte order mark, no final
// newline; and the same errors, naming the same row.
func TestReadCSVAtMatchesParseCSV(t *testing.T) {
	var big strings.Builder
	big.WriteString("\xef\xbb\xbfid,x,late,name,y\r\n")
	for i := range 400 {
		late := fmt.Sprint(i % 7)
		if i == 350 {
			late = "seven" // a text value after many blocks of numbers
		}
		name := []string{"a", "NA", "", `"q""uote"`, "\"multi\nline\"", "b,c"}[i%6]
		y := []string{"1.5", "NA", "", "NaN", "-2e3"}[i%5]
		fmt.Fprintf(&big, "%d,%d.25,%s,%s,%s\r\n", i, i*3, late, name, y)
	}
	// Long lines first, then short ones: the rows outgrow the room
	// estimated from the first block, so the columns parsed in place
	// must move once.
	var grow strings.Builder
	grow.WriteString("x,pad,y\n")
	for i := range 300 {
		pad := "p"
		if i < 10 {
			pad = strings.Repeat("p", 60)
		}
		fmt.Fprintf(&grow, "%d.5,%s,%d\n", i, pad, i%3)
	}
	files := []string{
		big.String(),
		grow.String(),
		strings.TrimSuffix(big.String(), "\r\n"),
		"a,b\n1,x\n2,\"y,z\"\n",
		"a,b\r\n1,NA\r\n,\"q\"\"q\"\r\n",
		"a,b\n",
		"a,b",
		"a\n1\n2\nx\n3\n",
		"a\n1\n\"2\"\"\"\n3\n",
	}
	for fi, f := range files {
		for _, want := range [][]string{nil, {"y", "late"}} {
			whole, werr := ParseCSV([]byte(f), want)
			if werr != nil && want != nil {
				continue // a small file without those columns
			}
			for _, n := range []int{1, 7, 64, 1000, 1 << 20} {
				got, err := readAtBlocks([]byte(f), n, want)
				if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
					t.Fatalf("file %d, want %v, blocks of %d: error %v, ParseCSV %v", fi, want, n, err, werr)
				}
				if err == nil {
					if d := sameTable(got, whole); d != "" {
						t.Fatalf("file %d, want %v, blocks of %d: %s", fi, want, n, d)
					}
				}
			}
		}
	}
	late, _ := mustRead(t, big.String(), 64).Column("late")
	if !late.IsText() || late.Levels[late.Codes[350]] != "seven" || late.Levels[late.Codes[0]] != "0" {
		t.Fatalf("late: %v", late.Levels)
	}
	for _, tt := range []struct{ in, want string }{
		{"a,b\n1,2\n3,4\n5\n", "row 3 has 1 fields"},
		{"a,b\n1,2\n3,4\n5,\"x\n", "row 3, column b: unterminated"},
	} {
		if _, err := readAtBlocks([]byte(tt.in), 4, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.in, err, tt.want)
		}
	}
}

func mustRead(t *testing.T, f string, n int) *Table {
	t.Helper()
	tb, err := readAtBlocks([]byte(f), n, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func FuzzReadCSVAt(f *testing.F) {
	f.Add([]byte("a,b\n1,x\n2,\"y,z\"\n"), uint8(3))
	f.Add([]byte("a,b\r\n1,NA\r\n,\"q\"\"q\"\r\n3,\"x\ny\"\n"), uint8(5))
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		whole, werr := ParseCSV(b, nil)
		got, err := readAtBlocks(b, int(n)+1, nil)
		if (err == nil) != (werr == nil) {
			t.Fatalf("error %v, ParseCSV %v", err, werr)
		}
		if err == nil {
			if d := sameTable(got, whole); d != "" {
				t.Fatal(d)
			}
		}
		general, gerr := parseGeneral(b)
		if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
			t.Fatalf("general path: error %v, fast path %v", gerr, werr)
		}
		if gerr == nil {
			if d := sameTable(general, whole); d != "" {
				t.Fatalf("general path against fast path: %s", d)
			}
		}
	})
}

// parseGeneral is ParseCSV without the fast path for plain lines.
func parseGeneral(b []byte) (*Table, error) { return parseGeneralWant(b, nil) }

func parseGeneralWant(b []byte, want []string) (*Table, error) {
	csvPlain = false
	defer func() { csvPlain = true }()
	return ParseCSV(b, want)
}

// TestPlainLinesMatchGeneralPath: the fast path for lines without quotes
// or carriage returns (which splits a line once and parses plain decimals
// as it goes) gives the general path's table and errors on every kind of
// number and non-number, short and long lines, empty lines, and a last
// line without its newline; and its numbers are strconv's.
func TestPlainLinesMatchGeneralPath(t *testing.T) {
	// Fields longer than the 8 bytes the skipping reads at a time, and commas
	// and newlines at every offset within them.
	pad := []string{"abcdefghijklmnopq", "x", "", "1234567.8901"}
	tokens := []string{"", "NA", "NaN", "0", "-0", "+5", "-", ".", ".5", "5.", "007.50", "1e5", "-2.5E-3",
		"123456789012345", "1234567890123456", "0.000000000000001234", "12345678901234567890", "inf", "0x1p-2",
		"abc", "3.14159", "-17", "18.0753643761302", "1.2.3", "--1", "42",
		"1.2345678901234567", "9007199254740993", "2.2250738585072011", "0.30000000000000004", "7.1234567890123456"}
	// A short line followed by one that starts with an empty field: the
	// skipping must stop at the newline, not count the next line's comma.
	for _, in := range []string{"a,b\nx\n,5\n", "a,b,c\n1,2,3\nx\n,,5\n", "a,b,c\nabcdefgh\n,,5\n", "a,b\nabcdefghijk,1\n"} {
		in += "1,2,3\n4,5,6\n7,8,9\n" // room for the 8-byte reads

		for _, want := range [][]string{{"b"}, {"c"}} {
			fast, ferr := ParseCSV([]byte(in), want)
			general, gerr := parseGeneralWant([]byte(in), want)
			if (ferr == nil) != (gerr == nil) || ferr != nil && ferr.Error() != gerr.Error() {
				t.Fatalf("%q, columns %v: fast path error %v, general %v", in, want, ferr, gerr)
			}
			if ferr == nil {
				if d := sameTable(fast, general); d != "" {
					t.Fatalf("%q, columns %v: %s", in, want, d)
				}
			}
		}
	}
	var sb strings.Builder
	for seed := range 40 {
		sb.Reset()
		sb.WriteString("a,b,c,d\n")
		for i := range 200 {
			k := (i*7 + seed*13) % len(tokens)
			line := []string{tokens[k], tokens[(k+seed)%len(tokens)], fmt.Sprint(i) + pad[(i+seed)%len(pad)], tokens[(k*3+1)%len(tokens)]}
			switch {
			case seed%5 == 1 && i%9 == 0:
				line = append(line, "extra", "fields")
			case seed%5 == 2 && i == 150:
				line = line[:2] // too few fields
			case seed%5 == 3 && i == 100:
				line = nil // an empty line
			}
			if seed%2 == 0 { // numeric columns stay numeric: only numbers and missing values
				for j, v := range line {
					if _, err := strconv.ParseFloat(v, 64); err != nil && v != "" && v != "NA" {
						line[j] = "1.25"
					}
				}
			}
			sb.WriteString(strings.Join(line, ","))
			if !(seed%5 == 4 && i == 199) {
				sb.WriteByte('\n')
			}
		}
		in := []byte(sb.String())
		for _, want := range [][]string{{"d"}, {"b", "d"}, {"c"}, {"a", "c"}} { // fields skipped between and before
			fast, ferr := ParseCSV(in, want)
			general, gerr := parseGeneralWant(in, want)
			if (ferr == nil) != (gerr == nil) || ferr != nil && ferr.Error() != gerr.Error() {
				t.Fatalf("seed %d, columns %v: fast path error %v, general %v", seed, want, ferr, gerr)
			}
			if ferr == nil {
				if d := sameTable(fast, general); d != "" {
					t.Fatalf("seed %d, columns %v: %s", seed, want, d)
				}
			}
		}
		fast, ferr := ParseCSV(in, nil)
		general, gerr := parseGeneral(in)
		if (ferr == nil) != (gerr == nil) || ferr != nil && ferr.Error() != gerr.Error() {
			t.Fatalf("seed %d: fast path error %v, general %v", seed, ferr, gerr)
		}
		if ferr != nil {
			continue
		}
		if d := sameTable(fast, general); d != "" {
			t.Fatalf("seed %d: %s", seed, d)
		}
		if seed%2 == 0 {
			a, _ := fast.Column("a")
			if a.IsText() {
				t.Fatalf("seed %d: column a is text: %v", seed, a.Levels)
			}
			rows := strings.Split(strings.TrimSuffix(sb.String(), "\n"), "\n")[1:]
			for i, r := range rows {
				v := strings.Split(r, ",")[0]
				want, err := strconv.ParseFloat(v, 64)
				if err != nil {
					want = math.NaN()
				}
				if got := a.Num[i]; got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("seed %d row %d: %q read as %v, strconv %v", seed, i+1, v, got, want)
				}
			}
		}
	}
}

// TestParseCSVQuotedNewlines: a newline inside a quoted field neither makes
// a row of its own nor, in a column the caller does not want, ends the line.
func TestParseCSVQuotedNewlines(t *testing.T) {
	in := []byte("a,b,c\n1,x,\"two\nlines\"\n2,\"y\nz\",w\n3,v,u\n")
	for _, want := range [][]string{nil, {"a"}, {"a", "b"}} {
		tb, err := ParseCSV(in, want)
		if err != nil {
			t.Fatalf("want %v: %v", want, err)
		}
		a, _ := tb.Column("a")
		if tb.Len() != 3 || !reflect.DeepEqual(a.Num, []float64{1, 2, 3}) {
			t.Fatalf("want %v: %d rows, a = %v", want, tb.Len(), a.Num)
		}
	}
}

// TestCSVHeaderErrors: a column missing from the header is named once with
// the nearest names, and a semicolon- or tab-separated file says so rather
// than missing every column; ParseCSV and ReadCSVAt say the same.
func TestCSVHeaderErrors(t *testing.T) {
	for _, tt := range []struct {
		name, csv string
		want      []string
		msg       string
	}{
		{"typo", "household_id,bank_account,bank_accounts,savings\n1,1,0,1\n", []string{"bank_acount"},
			`csv: no column "bank_acount" in the header; did you mean "bank_account" or "bank_accounts"?`},
		{"nothing near", "a,b\n1,2\n", []string{"weight"},
			`csv: no column "weight" in the header (its 2 columns: a, b)`},
		{"semicolons", "household_id;stratum;weight\n1;a;2,5\n", []string{"stratum"},
			`the file looks semicolon-separated; dotm reads comma-separated CSV (save it as CSV UTF-8 with commas)`},
		{"tabs", "household_id\tstratum\tweight\n1\ta\t2.5\n", nil,
			`the file looks tab-separated; dotm reads comma-separated CSV (save it as CSV UTF-8 with commas)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCSV([]byte(tt.csv), tt.want)
			if err == nil || err.Error() != tt.msg {
				t.Errorf("ParseCSV: err = %v\nwant             %s", err, tt.msg)
			}
			_, err = ReadCSVAt(strings.NewReader(tt.csv), int64(len(tt.csv)), tt.want)
			if err == nil || err.Error() != tt.msg {
				t.Errorf("ReadCSVAt: err = %v\nwant              %s", err, tt.msg)
			}
		})
	}
}

// TestRunsOfRepeatedFields: rows that repeat the previous row's field (a
// PSU's weight, stratum and PSU name) take its value or code, also when the
// row before held something else in between; text columns are coded as they
// are scanned, in two chunks, and their levels keep the order of first use.
// The reference is encoding/csv with strconv.
func TestRunsOfRepeatedFields(t *testing.T) {
	long := []string{"18.0753643761302", "18.07536437613021", "1234567890123456", "0.30000000000000004"}
	short := []string{"5", "NA", "", "2.5"}
	texts := []string{"capital_rural", "P000001", "NA", "'=SUM(A1)", "=SUM(A1)", "", "north"}
	var sb strings.Builder
	header := []string{"w", "s", "id"}
	for r := range 20 {
		header = append(header, fmt.Sprintf("rw%d", r))
	}
	sb.WriteString(strings.Join(header, ",") + "\n")
	rng := rand.New(rand.NewPCG(7, 9))
	w, s := long[0], texts[0]
	for i := 0; sb.Len() < 1<<20+50000; i++ { // past 1 MiB: two chunks
		switch rng.IntN(6) {
		case 0:
			w = long[rng.IntN(len(long))]
		case 1:
			w = short[rng.IntN(len(short))] // then, often, the long value again
		case 2:
			s = texts[rng.IntN(len(texts))]
		}
		line := []string{w, s, fmt.Sprint(i)}
		for r := range 20 {
			if (i+r)%3 == 0 {
				line = append(line, w)
			} else {
				line = append(line, short[(i*r)%len(short)])
			}
		}
		sb.WriteString(strings.Join(line, ",") + "\n")
	}
	in := []byte(sb.String())
	recs, err := csv.NewReader(bytes.NewReader(in)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	recs = recs[1:]
	for _, path := range []string{"fast", "general", "blocks"} {
		var got *Table
		var err error
		switch path {
		case "fast":
			got, err = ParseCSV(in, nil)
		case "general":
			got, err = parseGeneralWant(in, nil)
		case "blocks":
			got, err = ReadCSVAt(bytes.NewReader(in), int64(len(in)), nil)
		}
		if err != nil {
			t.Fatal(path, err)
		}
		if got.Len() != len(recs) {
			t.Fatalf("%s: %d rows, want %d", path, got.Len(), len(recs))
		}
		for j, name := range header {
			c, _ := got.Column(name)
			if name == "s" {
				if !c.IsText() {
					t.Fatalf("%s: column s is not text", path)
				}
				var levels []string
				seen := map[string]int32{}
				for i, rec := range recs {
					want := int32(-1)
					if v := rec[j]; v != "NA" {
						u := csvsafe.Unescape(v)
						code, ok := seen[u]
						if !ok {
							code = int32(len(levels))
							seen[u] = code
							levels = append(levels, u)
						}
						want = code
					}
					if c.Codes[i] != want {
						t.Fatalf("%s: row %d of s: code %d, want %d (%q)", path, i+1, c.Codes[i], want, rec[j])
					}
				}
				if !reflect.DeepEqual(c.Levels, levels) {
					t.Fatalf("%s: levels %q, want %q", path, c.Levels, levels)
				}
				continue
			}
			for i, rec := range recs {
				want := math.NaN()
				if v := rec[j]; v != "" && v != "NA" {
					if want, err = strconv.ParseFloat(v, 64); err != nil {
						t.Fatal(err)
					}
				}
				if g := c.Num[i]; g != want && !(math.IsNaN(g) && math.IsNaN(want)) {
					t.Fatalf("%s: row %d of %s: %v, want %v (%q)", path, i+1, name, g, want, rec[j])
				}
			}
		}
	}
}
