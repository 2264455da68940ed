package sampling

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestReadFrame(t *testing.T) {
	cols := FrameColumns{ID: "ea", Stratum: "stratum", Size: "households"}
	good := "ea,stratum,households,region,urban\nE1,north,120,r1,1\nE2,north,80.5,r1,0\nE3,south,300,r2,1\n"
	f, err := ReadFrame(strings.NewReader(good), cols)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Units) != 3 || f.Units[1].Size != 80.5 || strings.Join(f.ExtraColumns, ",") != "region,urban" || f.Units[2].Extra[0] != "r2" {
		t.Errorf("frame: %+v", f)
	}
	if s := f.Strata(); len(s) != 2 || s[0].Name != "north" || s[0].Units != 2 || s[0].Size != 200.5 {
		t.Errorf("strata: %+v", s)
	}
	tests := []struct {
		name, csv string
		want      []string
	}{
		{"missing columns", "ea,region\nE1,r1\n", []string{`line 1, column "stratum": missing column`, `line 1, column "households": missing column`}},
		{"duplicate id", "ea,stratum,households\nE1,a,1\nE2,a,2\nE1,b,3\n", []string{`line 4, column "ea": duplicate id "E1" (first on line 2)`}},
		{"non-positive sizes", "ea,stratum,households\nE1,a,0\nE2,a,-4\nE3,a,x\nE4,a,\nE5,a,NaN\n", []string{
			`line 2, column "households": size must be positive, got 0`,
			`line 3, column "households": size must be positive, got -4`,
			`line 4, column "households": want a finite number, got "x"`,
			`line 5, column "households": empty value`,
			`line 6, column "households": want a finite number, got "NaN"`}},
		{"empty stratum", "ea,stratum,households\nE1,a,1\nE2, ,2\n", []string{`line 3, column "stratum": empty stratum`}},
		{"empty id", "ea,stratum,households\n,a,1\n", []string{`line 2, column "ea": empty id`}},
		{"ragged row", "ea,stratum,households\nE1,a,1,extra\n", []string{`line 2: 4 fields, the header has 3`}},
		{"empty file", "", []string{"empty file"}},
		{"no units", "ea,stratum,households\n", []string{"no units"}},
		{"duplicate header", "ea,stratum,households,ea\n", []string{`line 1, column "ea": column appears twice`}},
		{"bad quote", "ea,stratum,households\nE1,\"a,1\n", []string{`line 2`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFrame(strings.NewReader(tc.csv), cols)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	// Errors are typed and carry the line and column.
	_, err = ReadFrame(strings.NewReader("ea,stratum,households\nE1,a,-1\n"), cols)
	var list InputErrors
	if !errors.As(err, &list) || list[0].Line != 2 || list[0].Column != "households" {
		t.Errorf("want InputErrors at line 2, got %#v", err)
	}
}

func TestReadListing(t *testing.T) {
	cols := ListingColumns{PSU: "ea", ID: "hh", Class: "status"}
	l, err := ReadListing(strings.NewReader("ea,hh,status,head\nE1,1,non_migrant,Ana\nE1,2,current_migrant,Bo\nE2,1,return_migrant,Cy\n"), cols)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Households) != 3 || l.Households[2].Order != 4 || l.ExtraColumns[0] != "head" || l.Households[1].Extra[0] != "Bo" {
		t.Errorf("listing: %+v", l)
	}
	tests := []struct{ name, csv, want string }{
		{"missing", "ea,hh\nE1,1\n", `line 1, column "status": missing column`},
		{"duplicate", "ea,hh,status\nE1,1,a\nE1,1,b\n", `line 3, column "hh": household "1" listed twice in PSU "E1" (first on line 2)`},
		{"empty psu", "ea,hh,status\n,1,a\n", `line 2, column "ea": empty PSU id`},
		{"empty class", "ea,hh,status\nE1,1,\n", `line 2, column "status": empty class`},
		{"empty", "ea,hh,status\n", `no households`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadListing(strings.NewReader(tc.csv), cols)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add("id,stratum,size,region\nE1,a,10,r1\nE2,a,3.5,r2\nE3,b,7,r1\n")
	f.Add("id,stratum,size\nE1,a,-1\nE1,,x\n")
	f.Add("\ufeffid,stratum,size\n\"E,1\",a,1e3\n")
	f.Fuzz(func(t *testing.T, data string) {
		fr, err := ReadFrame(strings.NewReader(data), FrameColumns{ID: "id", Stratum: "stratum", Size: "size"})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		seen := map[string]bool{}
		for _, u := range fr.Units {
			if u.ID == "" || u.Stratum == "" || !(u.Size > 0) || seen[u.ID] || len(u.Extra) != len(fr.ExtraColumns) {
				t.Fatalf("invalid unit accepted: %+v", u)
			}
			seen[u.ID] = true
		}
		// Whatever was accepted can be allocated and drawn from.
		alloc := map[string]int{}
		for _, s := range fr.Strata() {
			alloc[s.Name] = min(2, s.Units)
		}
		draws, err := SelectPSUs(fr, alloc, 1, SelectOptions{RandomSort: true})
		if err != nil {
			t.Fatal(err)
		}
		per := map[string]int{}
		for _, d := range draws {
			if d.Selected {
				per[d.Stratum]++
			}
		}
		for s, n := range alloc {
			if per[s] != n {
				t.Fatalf("stratum %q: %d selected, want %d", s, per[s], n)
			}
		}
	})
}

func FuzzReadListing(f *testing.F) {
	f.Add("psu,id,class\nE1,1,current_migrant\nE1,2,non_migrant\nE2,1,return_migrant\n")
	f.Add("psu,id,class,x\nE1,1,a,\nE1,1,b,\n")
	f.Add("psu,id\n")
	f.Fuzz(func(t *testing.T, data string) {
		l, err := ReadListing(strings.NewReader(data), ListingColumns{PSU: "psu", ID: "id", Class: "class"})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		q := Quota{}
		for _, h := range l.Households {
			if h.PSU == "" || h.ID == "" || h.Class == "" {
				t.Fatalf("invalid household accepted: %+v", h)
			}
			q[h.Class] = 2
		}
		draws, err := SelectHouseholds(l.Households, q, Systematic, 3)
		if err != nil {
			t.Fatal(err)
		}
		taken := map[[2]string]int{}
		for _, d := range draws {
			if d.Selected {
				taken[[2]string{d.PSU, d.Class}]++
			}
			if d.Pi2 <= 0 || d.Pi2 > 1 {
				t.Fatalf("pi2 = %v", d.Pi2)
			}
		}
		for _, d := range draws {
			if taken[[2]string{d.PSU, d.Class}] != d.Taken {
				t.Fatalf("PSU %q class %q: %d selected, want %d", d.PSU, d.Class, taken[[2]string{d.PSU, d.Class}], d.Taken)
			}
		}
	})
}

// FuzzReadMargins feeds the margins reader (and, with the same bytes, the
// allocation-table reader) arbitrary CSV: never a panic, errors with a
// message, and what is accepted is usable: finite, non-negative totals.
func FuzzReadMargins(f *testing.F) {
	f.Add("variable,category,total\nregion,north,100\nregion,south,50\nurban,1,90\nurban,0,60\n")
	f.Add("variable,category,total\nincome,,1e6\n")
	f.Add("stratum,n\nA,3\nB,2\n")
	f.Add("variable,category\nregion,north\n")
	f.Fuzz(func(t *testing.T, data string) {
		ms, err := ReadMargins(strings.NewReader(data))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
		} else {
			for _, m := range ms {
				if m.Variable == "" || !(m.Total >= 0) || math.IsInf(m.Total, 0) {
					t.Fatalf("invalid margin accepted: %+v", m)
				}
			}
		}
		if _, err := ReadAllocationTable(strings.NewReader(data)); err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
