package analysis

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

var updateRep = flag.Bool("update", false, "rewrite testdata/r-repmake/boot_weights.csv from this package's bootstrap (then rerun repmake.R)")

// subsetCSV parses the CSV at path keeping the rows whose column col is not
// one of drop.
func subsetCSV(t *testing.T, path, col string, drop ...string) *Table {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	k := -1
	for j, h := range strings.Split(string(lines[0]), ",") {
		if h == col {
			k = j
		}
	}
	if k < 0 {
		t.Fatalf("%s: no column %s", path, col)
	}
	var buf bytes.Buffer
	buf.Write(lines[0])
	buf.WriteByte('\n')
rows:
	for _, l := range lines[1:] {
		v := strings.Split(string(l), ",")[k]
		for _, d := range drop {
			if v == d {
				continue rows
			}
		}
		buf.Write(l)
		buf.WriteByte('\n')
	}
	tb, err := ParseCSV(buf.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// repmakeDesigns are the designs of testdata/r-repmake/repmake.R.
func repmakeDesigns(t *testing.T) map[string]struct {
	tb   *Table
	spec DesignSpec
	make MakeReplicates
} {
	t.Helper()
	const path = "testdata/r-calibrated/sample.csv"
	full := loadCSV(t, path)
	pop := make([]float64, full.Len())
	for i := range pop {
		pop[i] = 200
	}
	full.AddNumeric("N", pop)
	strat := DesignSpec{Strata: "stratum", PSU: []string{"psu"}, Weight: "w0"}
	with := func(s DesignSpec, f func(*DesignSpec)) DesignSpec { f(&s); return s }
	type dz = struct {
		tb   *Table
		spec DesignSpec
		make MakeReplicates
	}
	return map[string]dz{
		"jk1":      {full, DesignSpec{PSU: []string{"psu"}, Weight: "w0"}, MakeReplicates{Type: "JK1"}},
		"jk1fpc":   {full, DesignSpec{PSU: []string{"psu"}, Weight: "w0", FPC: []string{"N"}}, MakeReplicates{Type: "JK1"}},
		"jkn":      {subsetCSV(t, path, "stratum", "s7"), strat, MakeReplicates{Type: "JKn"}},
		"jknadj":   {full, with(strat, func(s *DesignSpec) { s.FPC, s.LonelyPSU = []string{"fpc1"}, LonelyAdjust }), MakeReplicates{Type: "JKn"}},
		"jknavg":   {full, with(strat, func(s *DesignSpec) { s.LonelyPSU = LonelyAverage }), MakeReplicates{Type: "JKn"}},
		"brr":      {full, strat, MakeReplicates{Type: "BRR", Small: "split", Large: "merge"}},
		"fay":      {subsetCSV(t, path, "stratum", "s2", "s3", "s5", "s7"), strat, MakeReplicates{Type: "Fay", Rho: 0.3}},
		"brrmerge": {subsetCSV(t, path, "psu", "s3-2", "s3-3", "s5-2", "s5-3"), strat, MakeReplicates{Type: "BRR", Small: "merge", Large: "merge"}},
	}
}

const repmakeEstimates = `
estimates:
  - {id: mean.cons, mean: cons, na_rm: true}
  - {id: total.remit, total: remit}
  - {id: ratio, ratio: {numerator: remit, denominator: hh_size}}
  - {id: prop, proportion: migrant}
  - {id: domain.bank.current, mean: bank, subset: "migrant = 'current'"}
  - {id: by, mean: bank, by: migrant}
`

// repEstimates runs repmakeEstimates on d and names the results as
// repmake.R does.
func repEstimates(t *testing.T, d *Design, tb *Table) map[string][]float64 {
	t.Helper()
	plan, err := ParsePlan([]byte("data: x" + repmakeEstimates))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]float64{"degf": {float64(d.DF(nil))}}
	for i := range plan.Estimates {
		r, err := runOne(d, tb, &plan.Estimates[i])
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case r.Type == "proportion":
			for _, l := range r.Levels {
				got["prop.migrant"+l.Level] = []float64{val(l.Estimate), val(l.SE)}
			}
		case r.By != "":
			for _, g := range r.Domains {
				got["by.bank."+g.Level] = []float64{val(g.Estimate), val(g.SE)}
			}
		default:
			got[r.ID] = []float64{val(r.Estimate), val(r.SE)}
		}
	}
	return got
}

// compareGolden checks every golden row name.* against got[*]; it returns
// the number of rows checked.
func compareGolden(t *testing.T, want, got map[string][]float64, name string) int {
	t.Helper()
	checked := 0
	for key, w := range want {
		short, ok := strings.CutPrefix(key, name+".")
		if !ok || short == "spec" || strings.HasPrefix(short, "f.") {
			continue
		}
		g := got[short]
		if len(g) != len(w) {
			t.Errorf("%s: got %v, R %v", key, g, w)
			continue
		}
		for i := range w {
			if !closeRel(g[i], w[i], 1e-9, 1e-12) {
				t.Errorf("%s[%d] = %.15g, R %.15g", key, i, g[i], w[i])
			}
		}
		checked++
	}
	return checked
}

// TestMakeReplicatesMatchR: JK1, JKn (lonely-PSU rules adjust and average,
// fpc), BRR (small split and merge, large merge) and Fay replicate weights
// made from a design equal R's as.svrepdesign: the same factor of every
// PSU in every replicate, the same scale, rscales and degrees of freedom,
// and the same estimates and standard errors (1e-9 relative).
func TestMakeReplicatesMatchR(t *testing.T) {
	want := readGolden(t, "testdata/r-repmake/expected.tsv")
	checked := 0
	for name, c := range repmakeDesigns(t) {
		t.Run(name, func(t *testing.T) {
			spec := c.spec
			mk := c.make
			spec.Replicates = &ReplicateSpec{Make: &mk}
			d, err := NewDesign(c.tb, spec)
			if err != nil {
				t.Fatal(err)
			}
			rw := d.rep.made
			ws := want[name+".spec"]
			if rw.Count() != int(ws[0]) {
				t.Fatalf("%d replicates, R %g", rw.Count(), ws[0])
			}
			if !closeRel(rw.Scale, ws[1], 1e-15, 0) {
				t.Errorf("scale %.17g, R %.17g", rw.Scale, ws[1])
			}
			for r, s := range rw.RScales {
				if !closeRel(s, ws[2+r], 1e-15, 0) {
					t.Errorf("rscales[%d] %.17g, R %.17g", r, s, ws[2+r])
				}
			}
			// Factors by PSU, PSUs named as in the data.
			psu, _ := c.tb.Column("psu")
			seen := map[int32]bool{}
			npsu := 0
			for i, cl := range rw.cluster {
				if seen[cl] {
					continue
				}
				seen[cl] = true
				npsu++
				key := name + ".f." + psu.Levels[psu.Codes[i]]
				wf, ok := want[key]
				if !ok {
					t.Fatalf("no golden row %s", key)
				}
				for r := range rw.Count() {
					if got := rw.Factor(r, i); got != wf[r] {
						t.Errorf("%s replicate %d: factor %g, R %g", key, r+1, got, wf[r])
					}
				}
			}
			n := compareGolden(t, want, repEstimates(t, d, c.tb), name)
			if n < 10 {
				t.Errorf("checked %d estimates", n)
			}
			checked += n + npsu
		})
	}
	t.Logf("checked %d golden rows", checked)
}

// TestHadamardMatchesR: hadamard(n) for n = 1..300 has R's size and the
// same entries (two weighted sums of them), so BRR for any number of
// strata uses R's matrix.
func TestHadamardMatchesR(t *testing.T) {
	want := readGolden(t, "testdata/r-repmake/expected.tsv")
	for n := 1; n <= 300; n++ {
		w := want["hadamard."+strconv.Itoa(n)]
		h := hadamard(n)
		var s1, s2 float64
		for i, row := range h {
			for j, v := range row {
				if v == 1 {
					s1 += float64(((i+1)*31 + (j+1)*17) % 1009)
					s2 += float64(((i+1)*7 + (j+1)*(j+1)) % 997)
				}
			}
		}
		got := []float64{float64(len(h)), float64(len(h[0])), s1, s2}
		for k := range w {
			if got[k] != w[k] {
				t.Errorf("hadamard(%d): got %v, R %v", n, got, w)
				break
			}
		}
		// Hadamard: distinct rows agree in exactly half the columns.
		if n <= 60 {
			for a := 1; a < len(h); a++ {
				agree := 0
				for j := range h[0] {
					if h[a][j] == h[0][j] {
						agree++
					}
				}
				if 2*agree != len(h[0]) {
					t.Errorf("hadamard(%d): rows 1 and %d agree in %d of %d columns", n, a+1, agree, len(h[0]))
				}
			}
		}
	}
}

// TestMakeReplicatesBootstrap: the bootstrap (R's bootweights) draws n_h
// PSUs per stratum in each replicate and the subbootstrap (Rao–Wu, R's
// subbootweights) n_h − 1 rescaled by n_h/(n_h − 1); the same seed gives
// the same replicates; and estimates on them equal R's svrepdesign on the
// very same weights (testdata/r-repmake/boot_weights.csv).
func TestMakeReplicatesBootstrap(t *testing.T) {
	tb := loadCSV(t, "testdata/r-calibrated/sample.csv")
	spec := DesignSpec{Strata: "stratum", PSU: []string{"psu"}, Weight: "w0"}
	designs := map[string]*Design{}
	for _, typ := range []string{"bootstrap", "subbootstrap"} {
		s := spec
		s.Replicates = &ReplicateSpec{Make: &MakeReplicates{Type: typ, Replicates: 40, Seed: 11}}
		d, err := NewDesign(tb, s)
		if err != nil {
			if typ == "subbootstrap" && strings.Contains(err.Error(), "one PSU") {
				// s7 has one PSU: the subbootstrap cannot draw n − 1 = 0.
				s.Strata = ""
				if d, err = NewDesign(tb, s); err != nil {
					t.Fatal(err)
				}
			} else {
				t.Fatal(err)
			}
		}
		designs[typ] = d
		rw := d.rep.made
		st := &d.stages[0]
		for r := range rw.Count() {
			draws := make([]float64, len(st.stratumName))
			for c, f := range rw.factors[r] {
				h := st.clusterStratum[c]
				n := float64(st.stratumNPSU[h])
				k := f
				if typ == "subbootstrap" {
					k = f * (n - 1) / n
				}
				if math.Abs(k-math.Round(k)) > 1e-12 || k < 0 {
					t.Fatalf("%s replicate %d: PSU %d factor %g is not a count (rescaled)", typ, r, c, f)
				}
				draws[h] += math.Round(k)
			}
			for h, k := range draws {
				want := float64(st.stratumNPSU[h])
				if typ == "subbootstrap" {
					want--
				}
				if k != want {
					t.Errorf("%s replicate %d: stratum %s drew %g PSUs, want %g", typ, r, st.stratumName[h], k, want)
				}
			}
		}
		again, err := d.MakeReplicates(*s.Replicates.Make)
		if err != nil {
			t.Fatal(err)
		}
		for r := range rw.factors {
			for c := range rw.factors[r] {
				if again.factors[r][c] != rw.factors[r][c] {
					t.Fatalf("%s: the same seed gave another replicate %d", typ, r)
				}
			}
		}
	}
	if b := designs["bootstrap"].rep.made; b.Scale <= 0 || b.RScales[0] != 1 {
		t.Errorf("bootstrap scale %g", b.Scale)
	}
	if s := designs["subbootstrap"].rep.made; s.Scale != 1.0/39 {
		t.Errorf("subbootstrap scale %g, want 1/39", s.Scale)
	}
	// The weights R analysed are these.
	const path = "testdata/r-repmake/boot_weights.csv"
	short := map[string]string{"bootstrap": "boot", "subbootstrap": "subboot"}
	if *updateRep {
		var buf bytes.Buffer
		var hdr []string
		for _, typ := range []string{"bootstrap", "subbootstrap"} {
			for r := range 40 {
				hdr = append(hdr, fmt.Sprintf("%s_%d", short[typ], r+1))
			}
			hdr = append(hdr, short[typ]+"_scale")
		}
		buf.WriteString(strings.Join(hdr, ",") + "\n")
		for i := range tb.Len() {
			var row []string
			for _, typ := range []string{"bootstrap", "subbootstrap"} {
				d := designs[typ]
				for r := range 40 {
					row = append(row, strconv.FormatFloat(drawCount(d, r, i), 'g', -1, 64))
				}
				row = append(row, strconv.FormatFloat(d.rep.scale, 'g', -1, 64))
			}
			buf.WriteString(strings.Join(row, ",") + "\n")
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s; now run Rscript repmake.R > expected.tsv in testdata/r-repmake", path)
	}
	bw := loadCSV(t, path)
	want := readGolden(t, "testdata/r-repmake/expected.tsv")
	checked := 0
	for typ, d := range designs {
		for r := range 40 {
			col := num(t, bw, fmt.Sprintf("%s_%d", short[typ], r+1))
			for i := range col {
				if got := drawCount(d, r, i); got != col[i] {
					t.Fatalf("%s replicate %d row %d: PSU drawn %g times, %s has %g (rerun with -update and repmake.R)", typ, r+1, i+1, got, path, col[i])
				}
			}
		}
		checked += compareGolden(t, want, repEstimates(t, d, tb), short[typ])
	}
	if checked < 20 {
		t.Errorf("checked %d golden rows", checked)
	}
}

// drawCount is the number of times row i's PSU was drawn in replicate r
// (the subbootstrap's factor without its n/(n − 1)).
func drawCount(d *Design, r, i int) float64 {
	f := d.rep.made.Factor(r, i)
	if d.rep.made.Type == RepSubbootstrap {
		n := float64(d.stages[0].stratumNPSU[d.stages[0].stratum[i]])
		f = math.Round(f * (n - 1) / n)
	}
	return f
}

// TestMakeReplicatesPlan: a plan asks for replicates made from its design
// and says so in the results; make with columns, or a type that does not
// fit the design, is refused with the reason.
func TestMakeReplicatesPlan(t *testing.T) {
	tb := loadCSV(t, "testdata/r-calibrated/sample.csv")
	want := readGolden(t, "testdata/r-repmake/expected.tsv")
	plan, err := ParsePlan([]byte(`data: sample.csv
design: {strata: stratum, psu: psu, weight: w0, replicates: {make: {type: BRR, small: split, large: merge}}}
estimates:
  - {id: total.remit, total: remit}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunTable(plan, tb)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Results[0]
	if w := want["brr.total.remit"]; !closeRel(val(r.Estimate), w[0], 1e-9, 0) || !closeRel(val(r.SE), w[1], 1e-9, 0) {
		t.Errorf("total %v (SE %v), R %v", val(r.Estimate), val(r.SE), w)
	}
	if !strings.Contains(res.Design.Variance, "made from the design") || !strings.Contains(res.Design.Variance, "BRR") || res.Design.DF != int(want["brr.degf"][0]) {
		t.Errorf("design summary %+v", res.Design)
	}
	for _, c := range []struct{ design, err string }{
		{`{strata: stratum, psu: psu, weight: w0, replicates: {make: {type: JK1}}}`, "JK1 is for unstratified designs"},
		{`{psu: psu, weight: w0, replicates: {make: {type: JKn}}}`, "need strata"},
		{`{strata: stratum, psu: psu, weight: w0, replicates: {make: {type: BRR}}}`, "stratum s7 has one PSU"},
		{`{strata: stratum, psu: psu, weight: w0, replicates: {make: {type: BRR, small: split}}}`, "odd number of PSUs"},
		{`{strata: stratum, psu: psu, weight: w0, replicates: {make: {type: Fay}}}`, "rho in (0, 1)"},
		{`{strata: stratum, psu: psu, weight: w0, replicates: {make: {type: JKn}}}`, "stratum s7 has only one PSU"},
		{`{strata: stratum, psu: psu, weight: w0, replicates: {make: {type: JKn, rho: 0.5}}}`, "rho is for type Fay"},
		{`{strata: stratum, psu: psu, weight: w0, replicates: {columns: [w0, w_ps], make: {type: JKn}}}`, "make replaces columns"},
		{`{strata: stratum, psu: psu, weight: w0, replicates: {make: {type: jackknife}}}`, `make type "jackknife" is not one of`},
	} {
		plan, err := ParsePlan([]byte("data: x\ndesign: " + c.design + "\nestimates: [{id: a, total: remit}]\n"))
		if err == nil {
			_, err = RunTable(plan, tb)
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: got %v, want an error saying %q", c.design, err, c.err)
		}
	}
}
