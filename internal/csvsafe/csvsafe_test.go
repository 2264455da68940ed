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
