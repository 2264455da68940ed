package exports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

var testInfo = Info{ID: "rel-test-1", Survey: "households.csv", Created: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), Version: "test"}

func seeded(seed uint64) Options {
	return Options{IDKey: []byte("test key"), Rand: rand.New(rand.NewPCG(seed, 7))}
}

// arrowTable reads a Parquet file with the independent arrow-go reader.
func arrowTable(t *testing.T, path string) (arrow.Table, map[string]string, int) {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("arrow: open %s: %v", path, err)
	}
	defer rdr.Close()
	kv := map[string]string{}
	for _, k := range rdr.MetaData().KeyValueMetadata() {
		if k.Value != nil {
			kv[k.Key] = *k.Value
		}
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("arrow: %s: %v", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("arrow: read %s: %v", path, err)
	}
	return tbl, kv, rdr.NumRowGroups()
}

// arrowStrings returns column name of tbl as text ("\x00null" for nulls).
func arrowStrings(t *testing.T, tbl arrow.Table, name string) []string {
	t.Helper()
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("arrow: no column %s", name)
	}
	var out []string
	for _, chunk := range tbl.Column(idx[0]).Data().Chunks() {
		for i := 0; i < chunk.Len(); i++ {
			if chunk.IsNull(i) {
				out = append(out, "\x00null")
			} else {
				out = append(out, chunk.ValueStr(i))
			}
		}
	}
	return out
}

func arrowFloats(t *testing.T, tbl arrow.Table, name string) []float64 {
	t.Helper()
	idx := tbl.Schema().FieldIndices(name)
	var out []float64
	for _, chunk := range tbl.Column(idx[0]).Data().Chunks() {
		out = append(out, chunk.(*array.Float64).Float64Values()...)
	}
	return out
}

// kAnonymity recomputes, from released values, the smallest number of
// records matching a record on the quasi-identifiers (null matches any).
func kAnonymity(cols [][]string) int {
	n := len(cols[0])
	minF := n
	// Group identical rows, then compare groups (few distinct patterns).
	type group struct {
		vals  []string
		count int
	}
	idx := map[string]*group{}
	var groups []*group
	for i := 0; i < n; i++ {
		vals := make([]string, len(cols))
		for j := range cols {
			vals[j] = cols[j][i]
		}
		key := strings.Join(vals, "\x01")
		g, ok := idx[key]
		if !ok {
			g = &group{vals: vals}
			idx[key] = g
			groups = append(groups, g)
		}
		g.count++
	}
	for _, a := range groups {
		f := 0
		for _, b := range groups {
			match := true
			for j := range a.vals {
				if a.vals[j] != "\x00null" && b.vals[j] != "\x00null" && a.vals[j] != b.vals[j] {
					match = false
					break
				}
			}
			if match {
				f += b.count
			}
		}
		minF = min(minF, f)
	}
	return minF
}

func TestReleaseFromCSV(t *testing.T) {
	const n = 3000
	src := householdTable(n, 1)
	csvBytes := tableCSV(src)
	in, err := ReadCSV(bytes.NewReader(csvBytes), "households.csv")
	if err != nil {
		t.Fatal(err)
	}
	var weightTotal float64
	for i := 0; i < n; i++ {
		weightTotal += in.Column("weight").Float(i)
	}
	p, err := ParseProfile([]byte(testProfile + "row_group_rows: 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "release")
	man, rep, err := Create(&Dataset{Survey: "households.csv", Tables: []*Table{in}}, p, out, testInfo, seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || rep.Tables[0].After.KViolations != 0 {
		t.Fatalf("report: %+v", rep)
	}
	if rep.Tables[0].Before.KViolations == 0 || rep.Tables[0].SuppressedTotal == 0 {
		t.Errorf("the test data should need suppression: before %+v, suppressed %d", rep.Tables[0].Before, rep.Tables[0].SuppressedTotal)
	}
	if rep.Tables[0].After.Global >= rep.Tables[0].Before.Global {
		t.Errorf("global risk did not fall: before %v after %v", rep.Tables[0].Before.Global, rep.Tables[0].After.Global)
	}

	// Every file: listed in the manifest with the right SHA-256, free of markers.
	ents, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"households.parquet": true, "households.dta": true, DDIXML: true, CodebookJSON: true, CodebookMarkdown: true, ReportJSON: true, ReportMarkdown: true, ReportHTML: true, ManifestJSON: true}
	if len(ents) != len(want) {
		t.Errorf("release holds %d files, want %d", len(ents), len(want))
	}
	listed := map[string]ManifestFile{}
	for _, f := range man.Files {
		listed[f.Name] = f
	}
	for _, e := range ents {
		if !want[e.Name()] {
			t.Errorf("unexpected file %s", e.Name())
		}
		data, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, marker := range []string{markerName, markerPhone, "HH-0000001"} {
			if bytes.Contains(data, []byte(marker)) {
				t.Errorf("%s contains the direct identifier marker %q", e.Name(), marker)
			}
		}
		if e.Name() == ManifestJSON {
			continue
		}
		sum := sha256.Sum256(data)
		if f, ok := listed[e.Name()]; !ok || f.SHA256 != hex.EncodeToString(sum[:]) || f.Bytes != int64(len(data)) {
			t.Errorf("manifest entry of %s: %+v, file sha256 %x size %d", e.Name(), f, sum, len(data))
		}
	}
	if r := listed["households.parquet"].Rows; r == nil || *r != n {
		t.Errorf("manifest rows: %v, want %d", r, n)
	}

	// Read back with arrow-go.
	tbl, kv, rowGroups := arrowTable(t, filepath.Join(out, "households.parquet"))
	defer tbl.Release()
	if tbl.NumRows() != n {
		t.Errorf("arrow rows %d, want %d", tbl.NumRows(), n)
	}
	if rowGroups != 3 {
		t.Errorf("row groups %d, want 3 (1000 rows each)", rowGroups)
	}
	for k, v := range map[string]string{"dotm.release_id": "rel-test-1", "dotm.survey": "households.csv", "dotm.created": "2026-11-27T10:00:00Z", "dotm.version": "test"} {
		if kv[k] != v {
			t.Errorf("key/value metadata %s = %q, want %q", k, kv[k], v)
		}
	}
	wantTypes := []struct {
		name     string
		typ      arrow.DataType
		nullable bool
	}{
		{"household_id", arrow.BinaryTypes.String, false},
		{"stratum", arrow.BinaryTypes.String, false},
		{"psu", arrow.BinaryTypes.String, false},
		{"weight", arrow.PrimitiveTypes.Float64, false},
		{"region", arrow.BinaryTypes.String, true},
		{"urban", arrow.PrimitiveTypes.Int64, true},
		{"hh_size", arrow.PrimitiveTypes.Int64, true},
		{"head_age", arrow.BinaryTypes.String, true},
		{"dest_country", arrow.BinaryTypes.String, true},
		{"cons_pc", arrow.PrimitiveTypes.Float64, false},
		{"interview_date", arrow.FixedWidthTypes.Date32, false},
		{"migrant", arrow.BinaryTypes.String, false},
	}
	sch := tbl.Schema()
	for _, w := range wantTypes {
		idx := sch.FieldIndices(w.name)
		if len(idx) != 1 {
			t.Errorf("column %s missing", w.name)
			continue
		}
		f := sch.Field(idx[0])
		if !arrow.TypeEqual(f.Type, w.typ) || f.Nullable != w.nullable {
			t.Errorf("column %s: %s nullable=%v, want %s nullable=%v", w.name, f.Type, f.Nullable, w.typ, w.nullable)
		}
	}
	for _, gone := range []string{"respondent_name", "phone", "gps_lat", "gps_lon"} {
		if len(sch.FieldIndices(gone)) != 0 {
			t.Errorf("column %s was released", gone)
		}
	}
	if got := sch.Field(0).Name; got != "household_id" {
		t.Errorf("first column %s: column order not kept", got)
	}

	// Weights sum to the input's total; dates are first of month.
	var sum float64
	for _, w := range arrowFloats(t, tbl, "weight") {
		sum += w
	}
	if math.Abs(sum-weightTotal) > 1e-9*weightTotal {
		t.Errorf("weights sum %v, want %v", sum, weightTotal)
	}
	for _, d := range arrowStrings(t, tbl, "interview_date") {
		if !strings.HasSuffix(d, "-01") {
			t.Fatalf("interview_date %s not truncated to month", d)
		}
	}
	ids := arrowStrings(t, tbl, "household_id")
	seen := map[string]bool{}
	for _, id := range ids {
		if len(id) != 32 || seen[id] {
			t.Fatalf("household_id %q: want 32 hex digits, unique", id)
		}
		seen[id] = true
	}
	for _, s := range arrowStrings(t, tbl, "stratum") {
		if !strings.HasPrefix(s, "S") || len(s) != 3 {
			t.Fatalf("stratum code %q", s)
		}
	}
	// hh_size top-coded, rare destinations grouped.
	for _, s := range arrowStrings(t, tbl, "hh_size") {
		if s != "\x00null" && len(s) > 1 && s > "10" && s != "10" {
			t.Fatalf("hh_size %s above the top code 10", s)
		}
	}
	// Rare destinations grouped: every released destination but "other"
	// is held by at least 10 input records, and some were grouped.
	inCount := map[string]int{}
	for i := 0; i < n; i++ {
		inCount[in.Column("dest_country").Format(i)]++
	}
	for _, s := range arrowStrings(t, tbl, "dest_country") {
		if s != "\x00null" && s != "other" && inCount[s] < 10 {
			t.Errorf("destination %q (%d input records) released, not grouped into other", s, inCount[s])
		}
	}
	grouped := false
	for _, v := range readCodebookVariables(t, out, "households") {
		if v.Name == "dest_country" {
			for _, tr := range v.Transformations {
				grouped = grouped || strings.Contains(tr, "grouped into \"other\"")
			}
		}
	}
	if !grouped {
		t.Error("dest_country: no transformation says rare destinations were grouped into other")
	}

	// head_female recodes head_sex: it must not give suppressed sexes away.
	sexes, females := arrowStrings(t, tbl, "head_sex"), arrowStrings(t, tbl, "head_female")
	nullSex := 0
	for i := range sexes {
		if (sexes[i] == "\x00null") != (females[i] == "\x00null") {
			t.Fatalf("row %d: head_sex %q but head_female %q", i, sexes[i], females[i])
		}
		if sexes[i] == "\x00null" {
			nullSex++
		}
	}
	if nullSex == 0 {
		t.Error("test data should suppress some head_sex values")
	}

	// k-anonymity recomputed from the file.
	var qcols [][]string
	for _, q := range p.QuasiIdentifiers {
		qcols = append(qcols, arrowStrings(t, tbl, q))
	}
	if k := kAnonymity(qcols); k < p.K {
		t.Errorf("released file is %d-anonymous, want %d", k, p.K)
	}

	// Codebook: every released column, with sensitivity and transformations.
	var cb Codebook
	data, _ := os.ReadFile(filepath.Join(out, CodebookJSON))
	if err := json.Unmarshal(data, &cb); err != nil {
		t.Fatal(err)
	}
	if len(cb.Tables) != 1 || len(cb.Tables[0].Variables) != int(sch.NumFields()) {
		t.Fatalf("codebook has %d variables, file %d columns", len(cb.Tables[0].Variables), sch.NumFields())
	}
	vars := map[string]Variable{}
	for _, v := range cb.Tables[0].Variables {
		vars[v.Name] = v
	}
	if v := vars["head_age"]; v.Sensitivity != Quasi || len(v.ValueLabels) != 6 || len(v.Transformations) < 2 {
		t.Errorf("codebook head_age: %+v", v)
	}
	if v := vars["remit_amount"]; v.Sensitivity != Sensitive || len(v.Transformations) != 1 {
		t.Errorf("codebook remit_amount: %+v", v)
	}
	md, _ := os.ReadFile(filepath.Join(out, CodebookMarkdown))
	if !bytes.Contains(md, []byte("### `head_age`")) || !bytes.Contains(md, []byte("`respondent_name`: direct identifier")) {
		t.Errorf("codebook.md lacks head_age or the dropped list:\n%s", md)
	}

	// An existing empty folder is filled.
	empty := filepath.Join(t.TempDir(), "empty")
	os.Mkdir(empty, 0o755)
	if _, _, err := Create(&Dataset{Tables: []*Table{householdTable(50, 3)}}, &Profile{K: 1, AllowKBelow3: true}, empty, testInfo, seeded(1)); err != nil {
		t.Errorf("release into an empty folder: %v", err)
	} else if ents, _ := os.ReadDir(empty); len(ents) != 9 {
		t.Errorf("empty folder now holds %d files", len(ents))
	}

	// Immutable: a second release into the same folder is refused.
	if _, _, err := Create(&Dataset{Tables: []*Table{in}}, p, out, testInfo, seeded(1)); err == nil {
		t.Error("second release into a full folder succeeded")
	}
}

func TestReleaseRefused(t *testing.T) {
	in := householdTable(500, 2)
	for _, tc := range []struct {
		name, profile string
	}{
		{"max_risk", "k: 3\nquasi_identifiers: [region, urban, hh_size, head_sex, head_age]\nmax_risk: 0.00001\n"},
		{"k above n", "k: 600\nquasi_identifiers: [region, urban]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(tc.profile))
			if err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			out := filepath.Join(parent, "release")
			_, rep, err := Create(&Dataset{Tables: []*Table{in}}, p, out, testInfo, seeded(3))
			var refused *RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			if rep == nil || rep.Passed || len(rep.Tables[0].Worst) == 0 || len(rep.Tables[0].Problems) == 0 {
				t.Fatalf("report %+v", rep)
			}
			ents, _ := os.ReadDir(parent)
			if len(ents) != 0 {
				t.Errorf("refused release left %d entries in %s", len(ents), parent)
			}
		})
	}
	if in.Column("respondent_name") == nil || !strings.HasPrefix(in.Column("respondent_name").Strings[0], markerName) {
		t.Error("Anonymize changed its input")
	}
}

func TestReleaseDisplace(t *testing.T) {
	in := householdTable(400, 4)
	p, err := ParseProfile([]byte("k: 1\nallow_k_below_3: true\ngeo: displace\n"))
	if err != nil {
		t.Fatal(err)
	}
	// Keep the original row order to compare: find rows by pseudonym.
	anon, _, err := Anonymize(&Dataset{Tables: []*Table{in}}, p, seeded(5))
	if err != nil {
		t.Fatal(err)
	}
	out := anon.Tables[0]
	orig := map[string]int{}
	for i, id := range in.Column("household_id").Strings {
		orig[pseudonym([]byte("test key"), "household", id)] = i
	}
	perPSU := map[string][2]float64{}
	for i, id := range out.Column("household_id").Strings {
		j := orig[id]
		lat0, lon0 := in.Column("gps_lat").Floats[j], in.Column("gps_lon").Floats[j]
		lat1, lon1 := out.Column("gps_lat").Floats[i], out.Column("gps_lon").Floats[i]
		km := haversineKm(lat0, lon0, lat1, lon1)
		limit := RuralFarMaxKm
		if in.Column("urban").Ints[j] == 1 {
			limit = UrbanMaxKm
		}
		if km <= 0 || km > limit*1.001 {
			t.Fatalf("row %d moved %.4f km, want (0, %v]", j, km, limit)
		}
		shift := [2]float64{lat1 - lat0, lon1 - lon0}
		psu := out.Column("psu").Strings[i]
		if prev, ok := perPSU[psu]; ok && (math.Abs(prev[0]-shift[0]) > 1e-9 || math.Abs(prev[1]-shift[1]) > 1e-3*math.Abs(prev[1])) {
			t.Fatalf("PSU %s: points moved differently %v vs %v", psu, prev, shift)
		}
		perPSU[psu] = shift
	}
}

func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

func TestParquetRoundTrip(t *testing.T) {
	in := householdTable(50, 6)
	in.Columns[5].SetNull(3) // region
	path := filepath.Join(t.TempDir(), "t.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteParquet(f, in, 16, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, _ := os.Open(path)
	defer r.Close()
	st, _ := r.Stat()
	got, err := ReadParquet(r, st.Size(), "t.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Columns) != len(in.Columns) || got.Rows() != in.Rows() {
		t.Fatalf("read %d columns × %d rows, want %d × %d", len(got.Columns), got.Rows(), len(in.Columns), in.Rows())
	}
	for j, c := range in.Columns {
		g := got.Columns[j]
		if g.Name != c.Name || g.Type != c.Type {
			t.Fatalf("column %d: %s %s, want %s %s", j, g.Name, g.Type, c.Name, c.Type)
		}
		for i := 0; i < in.Rows(); i++ {
			if g.Format(i) != c.Format(i) || g.IsNull(i) != c.IsNull(i) {
				t.Fatalf("column %s row %d: %q, want %q", c.Name, i, g.Format(i), c.Format(i))
			}
		}
	}
}

// readCodebookVariables reads a release's codebook.json and returns the
// variables of a table.
func readCodebookVariables(t *testing.T, dir, table string) []Variable {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, CodebookJSON))
	if err != nil {
		t.Fatal(err)
	}
	var cb Codebook
	if err := json.Unmarshal(data, &cb); err != nil {
		t.Fatal(err)
	}
	for _, ct := range cb.Tables {
		if ct.Name == table {
			return ct.Variables
		}
	}
	t.Fatalf("codebook: no table %s", table)
	return nil
}
