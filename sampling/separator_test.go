package sampling

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/internal/csvsafe"
)

// TestReadersRefuseOtherSeparators: every CSV reader of the package says a
// semicolon- or tab-separated file is one, instead of "missing column".
func TestReadersRefuseOtherSeparators(t *testing.T) {
	readers := map[string]func(io.Reader) error{
		"ReadTable": func(r io.Reader) error { _, err := ReadTable(r); return err },
		"ReadFrame": func(r io.Reader) error {
			_, err := ReadFrame(r, FrameColumns{ID: "ea", Stratum: "stratum", Size: "households"})
			return err
		},
		"ReadListing": func(r io.Reader) error {
			_, err := ReadListing(r, ListingColumns{PSU: "ea", ID: "hh", Class: "status"})
			return err
		},
		"ReadMargins":         func(r io.Reader) error { _, err := ReadMargins(r); return err },
		"ReadPSUSample":       func(r io.Reader) error { _, err := ReadPSUSample(r); return err },
		"ReadHouseholdSample": func(r io.Reader) error { _, err := ReadHouseholdSample(r); return err },
		"ReadAllocationTable": func(r io.Reader) error { _, err := ReadAllocationTable(r); return err },
	}
	for name, read := range readers {
		for sep, kind := range map[string]string{";": "semicolon", "\t": "tab"} {
			in := strings.Join([]string{"ea", "stratum", "households", "hh", "status"}, sep) + "\n" +
				strings.Join([]string{"E1", "north", "120", "H1", "non_migrant"}, sep) + "\n"
			err := read(strings.NewReader(in))
			var se *csvsafe.SeparatorError
			if !errors.As(err, &se) {
				t.Errorf("%s, %s-separated: err = %v, want a *csvsafe.SeparatorError", name, kind, err)
				continue
			}
			if want := "the file looks " + kind + "-separated; dotm reads comma-separated CSV (save it as CSV UTF-8 with commas)"; err.Error() != want {
				t.Errorf("%s: err = %q, want %q", name, err, want)
			}
		}
	}
}

// TestMissingColumnSuggests: a misspelt column name gets the nearest names.
func TestMissingColumnSuggests(t *testing.T) {
	_, err := ReadFrame(strings.NewReader("ea,stratum,households\nE1,north,120\n"), FrameColumns{ID: "ea", Stratum: "stratm", Size: "households"})
	if want := `line 1, column "stratm": missing column; did you mean "stratum"?`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	_, err = ReadFrame(strings.NewReader("ea,stratum,households\nE1,north,120\n"), FrameColumns{ID: "ea", Stratum: "region", Size: "households"})
	if want := `line 1, column "region": missing column (the header has ea, stratum, households)`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}
