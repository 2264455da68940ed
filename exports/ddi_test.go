package exports_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/exports"
)

// TestDDIValidatesAgainstSchema checks the release's DDI-Codebook 2.5
// description against the DDI Alliance's XML schema (testdata/ddi/2.5,
// with the schemas it imports) with xmllint, and reads it back: one
// fileDscr per table, one var per column with its label, location and
// statistics, categories with labels for every coded variable. xmllint
// (Debian's libxml2-utils) is required where CI or DOTM_REQUIRE_ODK is set.
func TestDDIValidatesAgainstSchema(t *testing.T) {
	dir := researchReleaseDir(t)
	path := filepath.Join(dir, exports.DDIXML)
	lint, err := exec.LookPath("xmllint")
	switch {
	case err == nil:
		schema := filepath.Join("testdata", "ddi", "2.5", "codebook.xsd")
		out, err := exec.Command(lint, "--noout", "--nonet", "--schema", schema, path).CombinedOutput()
		if err != nil {
			t.Fatalf("xmllint: %s does not validate against DDI-Codebook 2.5: %v\n%s", exports.DDIXML, err, firstLines(string(out), 20))
		}
	case os.Getenv("CI") != "" || os.Getenv("DOTM_REQUIRE_ODK") != "":
		t.Fatal("xmllint not found (apt-get install libxml2-utils): the DDI schema check cannot run")
	default:
		t.Log("xmllint not found: the DDI file is read back but not checked against the schema")
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName xml.Name `xml:"ddi:codebook:2_5 codeBook"`
		Title   string   `xml:"stdyDscr>citation>titlStmt>titl"`
		Samp    string   `xml:"stdyDscr>method>dataColl>sampProc"`
		Weight  string   `xml:"stdyDscr>method>dataColl>weight"`
		Geog    string   `xml:"stdyDscr>stdyInfo>sumDscr>geogCover"`
		Files   []struct {
			ID    string `xml:"ID,attr"`
			Name  string `xml:"fileTxt>fileName"`
			Cases int    `xml:"fileTxt>dimensns>caseQnty"`
			Vars  int    `xml:"fileTxt>dimensns>varQnty"`
		} `xml:"fileDscr"`
		Vars []struct {
			Name     string `xml:"name,attr"`
			Files    string `xml:"files,attr"`
			Location struct {
				File string `xml:"fileid,attr"`
			} `xml:"location"`
			Label string `xml:"labl"`
			Stats []struct {
				Type  string `xml:"type,attr"`
				Value string `xml:",chardata"`
			} `xml:"sumStat"`
			Categories []struct {
				Value string `xml:"catValu"`
				Label string `xml:"labl"`
				Freq  int    `xml:"catStat"`
			} `xml:"catgry"`
		} `xml:"dataDscr>var"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var cb exports.Codebook
	b, err := os.ReadFile(filepath.Join(dir, exports.CodebookJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cb); err != nil {
		t.Fatal(err)
	}
	if len(doc.Files) != len(cb.Tables) {
		t.Fatalf("%d fileDscr, %d tables", len(doc.Files), len(cb.Tables))
	}
	k := 0
	for i, ct := range cb.Tables {
		f := doc.Files[i]
		if f.Name != ct.File || f.Cases != ct.Rows || f.Vars != len(ct.Variables) {
			t.Errorf("fileDscr %d: %+v, table %s has %d rows, %d variables", i, f, ct.Name, ct.Rows, len(ct.Variables))
		}
		for _, v := range ct.Variables {
			if k >= len(doc.Vars) {
				t.Fatalf("dataDscr has %d vars, fewer than the codebook's variables", len(doc.Vars))
			}
			dv := doc.Vars[k]
			k++
			if dv.Name != v.Name || dv.Files != f.ID || dv.Location.File != f.ID || dv.Label != v.Label {
				t.Errorf("%s: var %+v", ct.Name, dv)
			}
			valid := ""
			for _, s := range dv.Stats {
				if s.Type == "vald" {
					valid = s.Value
				}
			}
			if want := ct.Rows - v.Nulls; valid != strconv.Itoa(want) {
				t.Errorf("%s.%s: %s valid values, want %d", ct.Name, v.Name, valid, want)
			}
			if len(dv.Categories) != len(v.ValueLabels) {
				t.Errorf("%s.%s: %d categories, %d value labels", ct.Name, v.Name, len(dv.Categories), len(v.ValueLabels))
			}
			total := 0
			for _, c := range dv.Categories {
				total += c.Freq
				if c.Label == "" {
					t.Errorf("%s.%s: category %q without a label", ct.Name, v.Name, c.Value)
				}
			}
			if len(dv.Categories) > 0 && !v.Multiple && total != ct.Rows-v.Nulls {
				t.Errorf("%s.%s: category frequencies add up to %d, want %d valid values", ct.Name, v.Name, total, ct.Rows-v.Nulls)
			}
		}
	}
	if k != len(doc.Vars) {
		t.Errorf("dataDscr has %d vars, the codebook %d", len(doc.Vars), k)
	}
	for name, s := range map[string]string{"title": doc.Title, "sampProc": doc.Samp, "weight": doc.Weight, "geogCover": doc.Geog} {
		if strings.TrimSpace(s) == "" {
			t.Errorf("stdyDscr: no %s", name)
		}
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
