package csvsafe

import (
	"fmt"
	"strings"
)

// SeparatorError is a CSV file whose header, read as comma-separated, is
// one field that semicolons or tabs split into several: a file saved with
// another separator (a spreadsheet's "CSV" in many locales uses ';').
// Without this check such a file reads as one column and every column the
// reader wants is "missing".
type SeparatorError struct {
	File string // the file's name; "" is "the file"
	Sep  rune   // ';' or '\t'
}

func (e *SeparatorError) Error() string {
	file := e.File
	if file == "" {
		file = "the file"
	}
	kind := "semicolon"
	if e.Sep == '\t' {
		kind = "tab"
	}
	return fmt.Sprintf("%s looks %s-separated; dotm reads comma-separated CSV (save it as CSV UTF-8 with commas)", file, kind)
}

// CheckSeparator returns a *SeparatorError when header, a header row as a
// comma-separated reader split it, is a single field that ';' or a tab
// splits into two or more names. Every CSV reader of dotm calls it on the
// header before looking for its columns.
func CheckSeparator(file string, header []string) error {
	if len(header) != 1 {
		return nil
	}
	for _, sep := range []rune{';', '\t'} {
		if len(strings.Split(strings.TrimSpace(header[0]), string(sep))) >= 2 {
			return &SeparatorError{File: file, Sep: sep}
		}
	}
	return nil
}
