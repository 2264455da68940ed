package csvsafe

import "testing"

func TestCellAndUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+cmd":                     "'+cmd",
		"-cmd|' /C calc'!A0":       "'-cmd|' /C calc'!A0",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tx":                      "'\tx",
		"\rx":                      "'\rx",
		"'=x":                      "''=x", // already looks escaped: escaped again, so Unescape gives it back
		"''-x":                     "'''-x",
		"-1.5":                     "-1.5", // numbers stay numbers
		"+3":                       "+3",
		"-2e-9":                    "-2e-9",
		"north":                    "north",
		"":                         "",
		"'quoted":                  "'quoted",
		"a=b":                      "a=b",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
		if back := Unescape(Cell(in)); back != in {
			t.Errorf("Unescape(Cell(%q)) = %q", in, back)
		}
	}
	if got := Unescape("'quoted"); got != "'quoted" {
		t.Errorf("Unescape of a value Cell never makes: %q", got)
	}
}

func TestCheckSeparator(t *testing.T) {
	for _, c := range []struct {
		file   string
		header []string
		want   string // "" = no error
	}{
		{"frame.csv", []string{"ea;stratum;households"}, "frame.csv looks semicolon-separated; dotm reads comma-separated CSV (save it as CSV UTF-8 with commas)"},
		{"", []string{"ea\tstratum"}, "the file looks tab-separated; dotm reads comma-separated CSV (save it as CSV UTF-8 with commas)"},
		{"a.csv", []string{"ea", "stratum"}, ""},
		{"a.csv", []string{"ea;x", "stratum"}, ""}, // has commas: a comma-separated file
		{"a.csv", []string{"households"}, ""},      // one column
		{"b.csv", []string{"households;"}, "b.csv looks semicolon-separated; dotm reads comma-separated CSV (save it as CSV UTF-8 with commas)"},
	} {
		err := CheckSeparator(c.file, c.header)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("CheckSeparator(%q, %q) = %q, want %q", c.file, c.header, got, c.want)
		}
	}
}
