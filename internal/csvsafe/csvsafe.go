// Package csvsafe keeps the CSV files dotm writes from running as formulas
// when a user opens them in a spreadsheet (CSV injection): a text cell that
// begins with '=', '+', '-', '@', a tab or a carriage return is written with
// a leading apostrophe, which spreadsheets show as text. Numbers, which may
// begin with '-' or '+', are left alone. dotm's own readers undo the escape
// (Unescape), so a file round-trips.
//
// It also recognises a file saved with another separator than a comma
// (CheckSeparator), so that every reader says so instead of finding no
// columns.
package csvsafe

import (
	"strconv"
	"strings"
)

func trigger(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// needs reports whether s begins, after any apostrophes, with a trigger.
func needs(s string) bool {
	rest := strings.TrimLeft(s, "'")
	return rest != "" && trigger(rest[0])
}

// Cell returns s as it may be written to a CSV cell.
func Cell(s string) string {
	if !needs(s) {
		return s
	}
	if s[0] != '\'' {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return s
		}
	}
	return "'" + s
}

// Row applies Cell to every field of rec, in place, and returns it.
func Row(rec []string) []string {
	for i, s := range rec {
		rec[i] = Cell(s)
	}
	return rec
}

// Unescape undoes Cell.
func Unescape(s string) string {
	if len(s) > 1 && s[0] == '\'' && needs(s[1:]) {
		return s[1:]
	}
	return s
}
