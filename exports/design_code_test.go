package exports

import (
	"strings"
	"testing"
	"time"
)

func dropColumns(t *Table, names ...string) *Table {
	out := &Table{Name: t.Name}
	for _, c := range t.Columns {
		keep := true
		for _, n := range names {
			if c.Name == n {
				keep = false
			}
		}
		if keep {
			out.Columns = append(out.Columns, c)
		}
	}
	return out
}

func TestDesignCode(t *testing.T) {
	hh := householdTable(50, 1)
	noWeight := &Table{Name: "notes", Columns: hh.Columns[:1]}
	for _, tc := range []struct {
		name             string
		tables           []*Table
		want             *DesignCode // only Table, Strata, PSU, FPC compared
		r, stata, python string
	}{
		{
			name:   "full design",
			tables: []*Table{noWeight, hh},
			want:   &DesignCode{Table: "households", Strata: "stratum", PSU: "psu", FPC: "fpc"},
			r:      `des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, fpc = ~fpc, nest = TRUE, data = households)`,
			stata:  "svyset psu_id [pweight = weight], strata(stratum_id) fpc(fpc)",
			python: `est.estimate(y=households["<variable>"], samp_weight=households["weight"], stratum=households["stratum"], psu=households["psu"], remove_nan=True)`,
		},
		{
			name:   "no PSU: no fpc either, and a caveat",
			tables: []*Table{dropColumns(hh, "psu")},
			want:   &DesignCode{Table: "households", Strata: "stratum"},
			r:      `des <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, data = households)`,
			stata:  "svyset _n [pweight = weight], strata(stratum_id)",
			python: `samp_weight=households["weight"], stratum=households["stratum"], remove_nan=True)`,
		},
		{
			name:   "weights only",
			tables: []*Table{dropColumns(hh, "psu", "stratum", "fpc")},
			want:   &DesignCode{Table: "households"},
			r:      `des <- svydesign(ids = ~1, weights = ~weight, data = households)`,
			stata:  "svyset _n [pweight = weight]\n",
			python: `samp_weight=households["weight"], remove_nan=True)`,
		},
		{name: "no weights", tables: []*Table{noWeight}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDesignCode(&Dataset{Tables: tc.tables})
			if tc.want == nil {
				if d != nil {
					t.Fatalf("got %+v, want none", d)
				}
				return
			}
			if d == nil {
				t.Fatal("no design code")
			}
			if d.Table != tc.want.Table || d.File != tc.want.Table+".parquet" || d.Strata != tc.want.Strata || d.PSU != tc.want.PSU || d.FPC != tc.want.FPC {
				t.Errorf("design %+v, want %+v", d, tc.want)
			}
			if (d.PSU == "") != (d.Caveats != "") {
				t.Errorf("caveat %q for PSU %q", d.Caveats, d.PSU)
			}
			for _, c := range []struct{ lang, got, want string }{{"R", d.R, tc.r}, {"Stata", d.Stata, tc.stata}, {"Python", d.Python, tc.python}} {
				if !strings.Contains(c.got, c.want) {
					t.Errorf("%s code lacks %q:\n%s", c.lang, c.want, c.got)
				}
			}
		})
	}
}

// TestCodebookDesignSection: codebook.md carries the design section with
// the code of codebook.json.
func TestCodebookDesignSection(t *testing.T) {
	ds := &Dataset{Survey: "s", Tables: []*Table{householdTable(30, 2)}}
	cb := NewCodebook(ds, nil, Info{ID: "r1", Survey: "s", Created: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	if cb.Design == nil {
		t.Fatal("codebook without design")
	}
	var b strings.Builder
	if err := cb.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"## Declaring the sampling design", "```r\n" + cb.Design.R + "```", "```stata\n" + cb.Design.Stata + "```", "```python\n" + cb.Design.Python + "```"} {
		if !strings.Contains(md, want) {
			t.Errorf("codebook.md lacks %q", want)
		}
	}
}
