//go:build !js

package questionnaire

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the dotm column of testdata/corpus/corpus.tsv")

// corpusDirEnv names a directory holding the corpus's real forms (the files
// named in the table's form column); see testdata/corpus/README.md.
const corpusDirEnv = "DOTM_XLSFORM_CORPUS"

const corpusTable = "testdata/corpus/corpus.tsv"

const odkRefuses = "accepted; ODK's engine refuses its XForm: "

type corpusRow struct {
	form, source, sha, licence, features, pyxform, dotm string
}

func readCorpus(t *testing.T) (header string, rows []corpusRow) {
	t.Helper()
	data, err := os.ReadFile(corpusTable)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for i, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			t.Fatalf("%s line %d: %d columns, want 7", corpusTable, i+2, len(f))
		}
		rows = append(rows, corpusRow{f[0], f[1], f[2], f[3], f[4], f[5], f[6]})
	}
	return lines[0], rows
}

// dotmVerdict is the table's dotm column for a form: "accepted", or
// "refused: " and the first problem with its sheet, row and column.
func dotmVerdict(err error) string {
	more := func(n int) string {
		if n <= 0 {
			return ""
		}
		return fmt.Sprintf(" (and %d more)", n)
	}
	if err == nil {
		return "accepted"
	}
	var fe *FormError
	if errors.As(err, &fe) {
		n := 1
		var fes FormErrors
		if errors.As(err, &fes) {
			n = len(fes)
		}
		return "refused: " + strings.Join(strings.Fields(fe.Error()), " ") + more(n-1)
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg[strings.Index(msg, ": ")+2:], "questionnaire: ")
	return "refused: " + strings.Join(strings.Fields(msg), " ")
}

// TestCorpus checks dotm against pyxform on the corpus of
// testdata/corpus/corpus.tsv: every form pyxform accepts, dotm accepts
// (and, where pyxform's XForm is kept, writes an XForm of the same
// meaning); every form pyxform refuses, or whose XForm from pyxform ODK's
// form engine cannot load, dotm refuses with a sheet, row, column and
// reason; and the table's dotm column is what dotm says now
// (go test -run TestCorpus -update-corpus rewrites it). The forms written
// for dotm are in testdata/corpus/own; the real forms are checked when
// DOTM_XLSFORM_CORPUS names a directory that holds them.
func TestCorpus(t *testing.T) {
	header, rows := readCorpus(t)
	dir := os.Getenv(corpusDirEnv)
	var checked, agree, legacy, ownForms int
	changed := false
	for i := range rows {
		r := &rows[i]
		path := filepath.Join("testdata/corpus", r.form)
		own := strings.HasPrefix(r.form, "own/")
		if own {
			ownForms++
		} else {
			if dir == "" {
				continue
			}
			path = filepath.Join(dir, r.form)
		}
		t.Run(r.form, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (the table lists it)", err)
			}
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:])[:16]; got != r.sha {
				t.Fatalf("sha256 %s…, the table has %s…: not the form whose pyxform verdict is recorded", got, r.sha)
			}
			f, err := Decode(data, filepath.Ext(r.form))
			checked++
			verdict := dotmVerdict(err)
			if verdict != r.dotm {
				if *updateCorpus {
					r.dotm, changed = verdict, true
				} else {
					t.Errorf("dotm column:\n  table %q\n  now   %q\n(run go test -run TestCorpus -update-corpus)", r.dotm, verdict)
				}
			}
			// A form pyxform converts but whose XForm ODK's engine cannot
			// load ("accepted; ODK's engine refuses its XForm: …") counts
			// as refused: ODK Collect could not use it.
			pyxformAccepts := r.pyxform == "accepted"
			if !pyxformAccepts && !strings.HasPrefix(r.pyxform, "refused: ") && !strings.HasPrefix(r.pyxform, odkRefuses) {
				t.Fatalf("pyxform column %q is neither accepted, refused: … nor %s…", r.pyxform, odkRefuses)
			}
			switch {
			case pyxformAccepts && errors.Is(err, ErrLegacyXLS):
				// .xls is refused with the way to convert it.
				legacy++
			case pyxformAccepts && err != nil:
				t.Errorf("pyxform accepts the form, dotm refuses it: %v", err)
			case !pyxformAccepts && err == nil:
				t.Errorf("pyxform refuses the form (%s), dotm accepts it", r.pyxform)
			case !pyxformAccepts && errors.Is(err, ErrLegacyXLS):
				legacy++
			case !pyxformAccepts:
				var fe *FormError
				if !errors.As(err, &fe) || fe.Sheet == "" || fe.Row == 0 || fe.Column == "" || fe.Err == nil || fe.Err.Error() == "" {
					t.Errorf("dotm's refusal lacks a sheet, row, column or reason: %v", err)
				}
				agree++
			default:
				agree++
				xf := strings.TrimSuffix(path, filepath.Ext(path)) + ".pyxform.xml"
				want, err := os.ReadFile(xf)
				if err != nil {
					if own {
						t.Fatalf("pyxform's XForm: %v", err)
					}
					return
				}
				got, err := f.XForm()
				if err != nil {
					t.Fatalf("XForm: %v", err)
				}
				compareMeaning(t, meaningOf(t, got), meaningOf(t, want), nil)
			}
		})
	}
	if ownForms < 8 {
		t.Errorf("%d forms of our own in the table, want at least 8", ownForms)
	}
	t.Logf("%d forms in the table, %d read here: %d with pyxform's verdict, %d .xls refused with the way to convert", len(rows), checked, agree, legacy)
	if changed {
		var b strings.Builder
		b.WriteString(header + "\n")
		for _, r := range rows {
			b.WriteString(strings.Join([]string{r.form, r.source, r.sha, r.licence, r.features, r.pyxform, r.dotm}, "\t") + "\n")
		}
		if err := os.WriteFile(corpusTable, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCorpusTable checks the table itself: a source and licence for every
// form, a recorded verdict for both tools, and every own form listed.
func TestCorpusTable(t *testing.T) {
	_, rows := readCorpus(t)
	listed := map[string]bool{}
	sourceRE := regexp.MustCompile(`^[\w.-]+/[\w.-]+ .+@[0-9a-f]{12}$`)
	for _, r := range rows {
		listed[r.form] = true
		if !strings.HasPrefix(r.form, "own/") && !sourceRE.MatchString(r.source) {
			t.Errorf("%s: source %q is not owner/repo path@commit", r.form, r.source)
		}
		if r.licence == "" || r.features == "" || r.pyxform == "" || r.dotm == "" {
			t.Errorf("%s: a column is empty: %+v", r.form, r)
		}
	}
	own, err := filepath.Glob("testdata/corpus/own/*.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range own {
		if name := "own/" + filepath.Base(f); !listed[name] {
			t.Errorf("%s is not in the table", name)
		}
	}
}
