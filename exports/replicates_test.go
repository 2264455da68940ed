package exports

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/analysis"
)

var updateRelease = flag.Bool("update", false, "rewrite testdata/r-release/released.csv and declaration.R from a fresh release (then rerun release.R)")

// replicateProfile is testProfile for a public-use file: design codes
// dropped, 30 bootstrap replicate weights.
const replicateProfile = testProfile + `drop: [stratum, psu, fpc]
replicate_weights: {type: bootstrap, replicates: 30}
`

// TestReleaseReplicateWeights: a public-use release carries replicate
// weights made from the true design and no strata or PSU codes; read back
// with arrow-go, its columns analysed as its codebook declares them give
// the estimates and standard errors R's svrepdesign gives on the same
// columns (testdata/r-release, 1e-9 relative), and the replicate SEs are
// close to the true design's linearized ones.
func TestReleaseReplicateWeights(t *testing.T) {
	hh := householdTable(400, 5)
	p, err := ParseProfile([]byte(replicateProfile))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "rel")
	if _, _, err := Create(&Dataset{Survey: "gh-2026", Tables: []*Table{hh}}, p, out, testInfo, seeded(9)); err != nil {
		t.Fatal(err)
	}
	tbl, _, _ := arrowTable(t, filepath.Join(out, "households.parquet"))
	for _, name := range []string{"stratum", "psu", "fpc"} {
		if len(tbl.Schema().FieldIndices(name)) != 0 {
			t.Errorf("the release carries %s", name)
		}
	}
	var cb Codebook
	b, err := os.ReadFile(filepath.Join(out, CodebookJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cb); err != nil {
		t.Fatal(err)
	}
	info := cb.Design.Replicates
	if info == nil || len(info.Columns) != 30 || info.Type != "bootstrap" || info.Scale != 1.0/29 {
		t.Fatalf("codebook design %+v", cb.Design)
	}
	for _, want := range []string{"svrepdesign(", "jkrweight(repw_1-repw_30, multiplier(", "ReplicateEstimator("} {
		if !strings.Contains(cb.Design.R+cb.Design.Stata+cb.Design.Python, want) {
			t.Errorf("the design declarations lack %q:\n%s\n%s\n%s", want, cb.Design.R, cb.Design.Stata, cb.Design.Python)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, CodebookMarkdown))
	if !strings.Contains(string(md), "svrepdesign(") || !strings.Contains(string(md), "replicate weights repw_1 … repw_30") {
		t.Errorf("codebook.md does not declare the replicate design")
	}
	// The released columns, and each replicate's factor (repw_r / weight:
	// its PSU's draw count times n/(n − 1), exact in few digits).
	w := arrowFloats(t, tbl, "weight")
	remit := arrowStrings(t, tbl, "remit_received")
	migrant := arrowStrings(t, tbl, "migrant")
	reps := make([][]float64, len(info.Columns))
	factors := make([][]string, len(info.Columns))
	for r, name := range info.Columns {
		reps[r] = arrowFloats(t, tbl, name)
		factors[r] = make([]string, len(w))
		for i := range w {
			f := reps[r][i] / w[i]
			s := strconv.FormatFloat(f, 'g', 6, 64)
			g, _ := strconv.ParseFloat(s, 64)
			if g*w[i] != reps[r][i] {
				t.Fatalf("%s row %d: %.17g is not the weight %.17g times a short factor", name, i+1, reps[r][i], w[i])
			}
			factors[r][i] = s
		}
	}
	const dir = "testdata/r-release"
	if *updateRelease {
		var sb strings.Builder
		sb.WriteString("weight,remit_received,migrant")
		for r := range factors {
			fmt.Fprintf(&sb, ",f_%d", r+1)
		}
		sb.WriteString("\n")
		for i := range w {
			fmt.Fprintf(&sb, "%s,%s,%s", strconv.FormatFloat(w[i], 'g', -1, 64), remit[i], migrant[i])
			for r := range factors {
				sb.WriteString("," + factors[r][i])
			}
			sb.WriteString("\n")
		}
		if err := os.WriteFile(filepath.Join(dir, "released.csv"), []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "declaration.R"), []byte(cb.Design.R), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s/released.csv and declaration.R; now run Rscript release.R > expected.tsv there", dir)
	}
	// The columns R read are these.
	csvTable, err := analysis.ParseCSV(mustRead(t, filepath.Join(dir, "released.csv")), nil)
	if err != nil {
		t.Fatal(err)
	}
	decl := string(mustRead(t, filepath.Join(dir, "declaration.R")))
	if decl != cb.Design.R {
		t.Fatalf("the codebook's R declaration changed; rerun with -update and release.R:\n%s", cb.Design.R)
	}
	checkColumn := func(name string, got []float64) {
		col, err := csvTable.Column(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if col.Num[i] != v {
				t.Fatalf("%s row %d: release %.17g, released.csv %.17g (rerun with -update and release.R)", name, i+1, v, col.Num[i])
			}
		}
	}
	checkColumn("weight", w)
	for r := range reps {
		f := make([]float64, len(w))
		for i := range w {
			f[i], _ = strconv.ParseFloat(factors[r][i], 64)
		}
		checkColumn(fmt.Sprintf("f_%d", r+1), f)
	}
	// Analyse the release as its codebook declares it.
	at := analysis.NewTable(len(w))
	at.AddNumeric("weight", w)
	rv := make([]float64, len(w))
	for i, s := range remit {
		rv[i], _ = strconv.ParseFloat(s, 64)
	}
	at.AddNumeric("remit_received", rv)
	at.AddStrings("migrant", migrant)
	for r, name := range info.Columns {
		at.AddNumeric(name, reps[r])
	}
	spec := analysis.DesignSpec{Weight: "weight", Replicates: &analysis.ReplicateSpec{Columns: info.Columns, Type: info.Type, Scale: info.Scale, RScales: info.RScales, MSE: true}}
	plan, err := analysis.ParsePlan([]byte(`data: x
estimates:
  - {id: mean.remit, mean: remit_received}
  - {id: total.remit, total: remit_received}
  - {id: prop.migrant, proportion: migrant}
  - {id: by.remit, mean: remit_received, by: migrant}
`))
	if err != nil {
		t.Fatal(err)
	}
	plan.Design = analysis.PlanDesign{Weight: spec.Weight, Replicates: spec.Replicates}
	res, err := analysis.RunTable(plan, at)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]float64{"degf": {float64(res.Design.DF)}}
	for _, r := range res.Results {
		switch {
		case r.Type == "proportion":
			for _, l := range r.Levels {
				got["prop.migrant"+l.Level] = []float64{float64(*l.Estimate), float64(*l.SE)}
			}
		case r.By != "":
			for _, g := range r.Domains {
				got["by.remit."+g.Level] = []float64{float64(*g.Estimate), float64(*g.SE)}
			}
		default:
			got[r.ID] = []float64{float64(*r.Estimate), float64(*r.SE)}
		}
	}
	want := readTSV(t, filepath.Join(dir, "expected.tsv"))
	if len(want) < 8 {
		t.Fatalf("%d golden rows", len(want))
	}
	for key, wv := range want {
		g := got[key]
		if len(g) != len(wv) {
			t.Errorf("%s: got %v, R %v", key, g, wv)
			continue
		}
		for i := range wv {
			if math.Abs(g[i]-wv[i]) > 1e-9*math.Abs(wv[i]) {
				t.Errorf("%s[%d] = %.15g, R %.15g", key, i, g[i], wv[i])
			}
		}
	}
	if float64(info.DF) != want["degf"][0] {
		t.Errorf("codebook df %d, R's degf %g", info.DF, want["degf"][0])
	}
	// The replicates measure the true design's sampling error: their SE
	// of the share of remittance receivers is near the linearized SE on
	// the true strata and PSUs.
	truth := analysis.NewTable(len(w))
	truth.AddStrings("stratum", hh.Column("stratum").Strings)
	truth.AddStrings("psu", hh.Column("psu").Strings)
	truth.AddNumeric("weight", hh.Column("weight").Floats)
	truth.AddNumeric("remit_received", rv)
	tplan, _ := analysis.ParsePlan([]byte("data: x\nestimates: [{id: m, mean: remit_received}]\n"))
	tplan.Design = analysis.PlanDesign{Strata: "stratum", PSU: []string{"psu"}, Weight: "weight", LonelyPSU: "certainty"}
	tres, err := analysis.RunTable(tplan, truth)
	if err != nil {
		t.Fatal(err)
	}
	lin, repSE := float64(*tres.Results[0].SE), got["mean.remit"][1]
	if ratio := repSE / lin; ratio < 0.6 || ratio > 1.6 {
		t.Errorf("replicate SE %g vs linearized SE on the true design %g (ratio %.2f)", repSE, lin, ratio)
	}
	t.Logf("SE of the share receiving remittances: replicates %.5f, true design linearized %.5f", repSE, lin)
}

// TestReplicateWeightsProfile: replicate weights are on by default when a
// profile drops the design codes, off otherwise, and a bad spec names the
// key.
func TestReplicateWeightsProfile(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want string // type and count, "" for none, or an error
	}{
		{testProfile, ""},
		{testProfile + "drop: [stratum, psu]\n", "bootstrap 80"},
		{testProfile + "drop: [psu]\nreplicate_weights: off\n", ""},
		{testProfile + "replicate_weights: {type: JKn}\n", "JKn 0"},
		{testProfile + "replicate_weights: {type: Fay}\n", "Fay 0"},
		{testProfile + "replicate_weights: {type: bootstrap, replicates: 1}\n", "error: replicates: 1"},
		{testProfile + "replicate_weights: {type: jackknife}\n", `error: type "jackknife"`},
		{testProfile + "replicate_weights: {typ: JKn}\n", `error: unknown key "typ"`},
		{testProfile + "replicate_weights: {type: JKn, replicates: 80}\n", "error: replicates is for type bootstrap"},
	} {
		p, err := ParseProfile([]byte(c.yaml))
		var got string
		switch {
		case err != nil:
			got = "error: " + err.Error()
		case p.ReplicateWeights != nil:
			got = fmt.Sprintf("%s %d", p.ReplicateWeights.Type, p.ReplicateWeights.Replicates)
		}
		if !strings.HasPrefix(c.want, "error: ") && got != c.want || strings.HasPrefix(c.want, "error: ") && !strings.Contains(got, strings.TrimPrefix(c.want, "error: ")) {
			t.Errorf("%q: got %q, want %q", strings.TrimPrefix(c.yaml, testProfile), got, c.want)
		}
	}
	// JKn on the whole design: one replicate per PSU, strata of one PSU
	// taken with certainty; every table carrying the weight gets them.
	hh := householdTable(300, 3)
	p, err := ParseProfile([]byte(testProfile + "replicate_weights: {type: JKn}\n"))
	if err != nil {
		t.Fatal(err)
	}
	anon, rep, err := Anonymize(&Dataset{Survey: "x", Tables: []*Table{hh}}, p, seeded(4))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Replicates == nil || rep.Replicates.Type != "JKn" || anon.Tables[0].Column(rep.Replicates.Columns[len(rep.Replicates.Columns)-1]) == nil {
		t.Fatalf("report %+v", rep.Replicates)
	}
	psus := map[string]bool{}
	for _, s := range hh.Column("psu").Strings {
		psus[s] = true
	}
	if len(rep.Replicates.Columns) > len(psus) || len(rep.Replicates.Columns) < len(psus)/2 {
		t.Errorf("%d JKn replicates for %d PSUs", len(rep.Replicates.Columns), len(psus))
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readTSV reads "name<TAB>value..." golden lines.
func readTSV(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(mustRead(t, path))), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		for _, s := range f[1:] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: %q", path, line)
			}
			out[f[0]] = append(out[f[0]], v)
		}
	}
	return out
}
