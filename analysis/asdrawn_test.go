package analysis

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/sampling"
)

var writeAsDrawn = flag.Bool("asdrawn.write", false, "rewrite testdata/r-asdrawn/sample.csv from dotm's sampler")

// asDrawnSample draws the sample of testdata/r-asdrawn with dotm's own
// sampler: 5 strata of 14 enumeration areas, 4 drawn per stratum by PPS
// systematic sampling, where three large EAs are drawn with certainty;
// households listed by screening class and drawn by quota (current 6,
// return 3, non-migrant 6: a class with fewer listed is taken whole). The
// survey variables are made up from the class and carried as the listing's
// extra columns. It returns the files: sample.csv (the analysis data,
// rows sorted as R's svydesign orders the first-stage clusters, so that R
// pairs each PSU with its own π in pps = "brewer"), and psus.csv and
// households.csv as dotm sample psus --all and dotm sample households
// write them (cmd/dotm's test makes the design file from them).
func asDrawnSample() (map[string][]byte, error) {
	r := rand.New(rand.NewPCG(20261204, 14))
	f := &sampling.Frame{ExtraColumns: []string{"region"}}
	regions := []string{"north", "north", "south", "south", "east"}
	for h := 1; h <= 5; h++ {
		for j := 1; j <= 14; j++ {
			size := math.Round(math.Exp(r.NormFloat64()*0.5 + 5))
			if (h == 1 && j == 3) || (h == 2 && j == 7) || (h == 4 && j == 12) {
				size *= 14 // self-representing
			}
			f.Units = append(f.Units, sampling.Unit{ID: fmt.Sprintf("s%d-e%02d", h, j), Stratum: fmt.Sprintf("s%d", h), Size: size, Extra: []string{regions[h-1]}})
		}
	}
	alloc := map[string]int{"s1": 4, "s2": 4, "s3": 4, "s4": 4, "s5": 4}
	draws, err := sampling.SelectPSUs(f, alloc, 14, sampling.SelectOptions{})
	if err != nil {
		return nil, err
	}
	var listed []sampling.ListedHousehold
	order := 0
	for _, d := range draws {
		if !d.Selected {
			continue
		}
		for _, c := range []struct {
			class, mig string
			lo, hi     int
		}{{"current_migrant", "current", 2, 20}, {"non_migrant", "none", 15, 70}, {"return_migrant", "return", 1, 8}} {
			m := c.lo + r.IntN(c.hi-c.lo+1)
			for k := 0; k < m; k++ {
				order++
				mig := c.mig
				if r.Float64() < 0.1 { // screening and interview disagree now and then
					mig = []string{"current", "return", "none"}[r.IntN(3)]
				}
				y := 0.0
				if mig == "current" || r.Float64() < 0.1 {
					y = math.Round(math.Exp(r.NormFloat64()*0.8 + 6))
				}
				bank := 0
				if r.Float64() < map[string]float64{"current": 0.6, "return": 0.45, "none": 0.3}[mig] {
					bank = 1
				}
				listed = append(listed, sampling.ListedHousehold{PSU: d.ID, ID: fmt.Sprintf("%s-h%03d", d.ID, order%1000), Class: c.class, Order: order,
					Extra: []string{mig, fmt.Sprint(1 + r.IntN(9)), fmt.Sprint(y), fmt.Sprint(bank)}})
			}
		}
	}
	q := sampling.Quota{"current_migrant": 6, "return_migrant": 3, "non_migrant": 6}
	hh, err := sampling.SelectHouseholds(listed, q, sampling.SimpleRandom, 14)
	if err != nil {
		return nil, err
	}
	psus := &sampling.PSUSample{Draws: draws, ExtraColumns: f.ExtraColumns}
	hs := &sampling.HouseholdSample{Draws: hh, ExtraColumns: []string{"migrant", "hh_size", "remit", "bank"}}
	ws, err := sampling.BaseWeights(psus, hs)
	if err != nil {
		return nil, err
	}
	type row struct {
		key  string
		cols []string
	}
	var rows []row
	for _, w := range ws {
		s1, p1, c := w.Stratum, w.PSU, "0"
		if w.Certainty {
			s1, p1, c = w.Stratum+"/"+w.PSU+"/"+w.Class, w.PSU+"/"+w.HouseholdID, "1"
		}
		rows = append(rows, row{key: s1 + "." + p1 + "\x00" + w.HouseholdID, cols: append([]string{w.HouseholdID, w.Stratum, w.PSU, w.Class, c,
			sampling.FormatFloat(w.Pi1), sampling.FormatFloat(w.Pi2), sampling.FormatFloat(w.Weight), w.PSUExtra[0]}, w.HouseholdExtra...)})
	}
	sort.Slice(rows, func(a, b int) bool { return rows[a].key < rows[b].key })
	var b bytes.Buffer
	b.WriteString("household_id,stratum,psu,class,certainty,pi1,pi2,weight,region,migrant,hh_size,remit,bank\n")
	for _, rw := range rows {
		b.WriteString(strings.Join(rw.cols, ",") + "\n")
	}
	out := map[string][]byte{"sample.csv": b.Bytes()}
	for name, t := range map[string]*sampling.Table{"psus.csv": psus.Table(true), "households.csv": hs.Table()} {
		var buf bytes.Buffer
		if err := t.Write(&buf); err != nil {
			return nil, err
		}
		out[name] = buf.Bytes()
	}
	return out, nil
}

// TestAsDrawnSampleIsDotmsDraw: the committed sample is what dotm's sampler
// draws (go test -run TestAsDrawnSampleIsDotmsDraw -args -asdrawn.write
// rewrites it; then rerun asdrawn.R), with certainty EAs in it.
func TestAsDrawnSampleIsDotmsDraw(t *testing.T) {
	files, err := asDrawnSample()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		path := "testdata/r-asdrawn/" + name
		if *writeAsDrawn {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(old, b) {
			t.Fatalf("%s is not what dotm's sampler draws now; rewrite it with -asdrawn.write and rerun asdrawn.R", path)
		}
	}
	cert := 0
	for _, line := range strings.Split(string(files["sample.csv"]), "\n") {
		if f := strings.Split(line, ","); len(f) > 4 && f[4] == "1" {
			cert++
		}
	}
	if cert == 0 {
		t.Fatal("the sample has no household of a certainty EA")
	}
}

// asDrawnPlans are the designs of testdata/r-asdrawn/asdrawn.R as plans:
// dotm moves the certainty EAs up a stage itself (certainty: column).
var asDrawnPlans = map[string]string{
	"hh": `{strata: stratum, stage_strata: class, psu: [psu, household_id], certainty: certainty, weight: weight, nest: true, lonely_psu: adjust}`,
	"brewer": `{strata: stratum, stage_strata: class, psu: [psu, household_id], certainty: certainty, weight: weight, nest: true, lonely_psu: adjust,
           fpc: [pi1, pi2], pps: brewer}`,
	// The design dotm stored before: EAs as if drawn by simple random
	// sampling (fpc = frame EAs, 14 in every stratum).
	"naive": `{strata: stratum, psu: psu, weight: weight, fpc: frame_eas}`,
}

const asDrawnEstimates = `
estimates:
  - {id: mean.remit, mean: remit}
  - {id: total.remit, total: remit}
  - {id: mean.bank, mean: bank}
  - {id: ratio, ratio: {numerator: remit, denominator: hh_size}}
  - {id: prop, proportion: migrant}
  - {id: by.bank, mean: bank, by: migrant}
  - {id: by.remit, total: remit, by: region}
  - {id: domain.remit.return, mean: remit, subset: "migrant = 'return'"}
`

// TestAsDrawnDesignMatchesR: means, totals, ratios, proportions, domains
// and svyby of the design as drawn (certainty EAs as strata of their
// households, class strata at stage 2) equal R's, with replacement and
// with Brewer's PPS approximation, to 1e-9 relative; the old design's
// standard errors differ.
func TestAsDrawnDesignMatchesR(t *testing.T) {
	want := readGolden(t, "testdata/r-asdrawn/expected.tsv")
	tb := loadCSV(t, "testdata/r-asdrawn/sample.csv")
	eas := make([]float64, tb.Len())
	for i := range eas {
		eas[i] = 14
	}
	tb.AddNumeric("frame_eas", eas)
	got := map[string]map[string][]float64{}
	for name, design := range asDrawnPlans {
		plan, err := ParsePlan([]byte("data: sample.csv\ndesign: " + design + asDrawnEstimates))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res, err := RunTable(plan, tb)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		g := asDrawnResults(res)
		got[name] = g
		checked := 0
		for key, w := range want {
			short, ok := strings.CutPrefix(key, name+".")
			if !ok {
				continue
			}
			v, ok := g[short]
			if !ok {
				t.Errorf("%s: no result", key)
				continue
			}
			for i := range w {
				if !closeRel(v[i], w[i], relTol, 1e-12) {
					t.Errorf("%s[%d] = %.15g, R %.15g", key, i, v[i], w[i])
				}
			}
			checked++
		}
		if checked < 15 {
			t.Errorf("%s: %d values checked", name, checked)
		}
	}
	if se := got["hh"]["total.remit"][1]; math.Abs(se/got["naive"]["total.remit"][1]-1) < 0.01 {
		t.Errorf("the design as drawn gives the old design's SE %g", se)
	}
}

// asDrawnResults keys a run's results as asdrawn.R names them.
func asDrawnResults(res *Results) map[string][]float64 {
	g := map[string][]float64{"df": {float64(res.Design.DF)}}
	for _, r := range res.Results {
		switch {
		case r.Type == "proportion":
			for _, l := range r.Levels {
				g["prop.migrant"+l.Level] = []float64{val(l.Estimate), val(l.SE)}
			}
		case r.By != "":
			for _, d := range r.Domains {
				g[r.ID+"."+d.Level] = []float64{val(d.Estimate), val(d.SE)}
			}
		case r.Type == "ratio":
			g["ratio.remit/hh_size"] = []float64{val(r.Estimate), val(r.SE)}
		default:
			g[r.ID] = []float64{val(r.Estimate), val(r.SE)}
		}
	}
	return g
}
