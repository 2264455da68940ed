package collector_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/exports"
	"github.com/dotm-survey/dotm/fieldsim"
	"github.com/dotm-survey/dotm/questionnaire"
)

// storedRelease puts a small release of gh-2026 straight into the store
// (published or not) and returns its id; the role table uses it.
func (a *apiEnv) storedRelease(published bool) string {
	a.t.Helper()
	ctx := context.Background()
	id := uuid.NewString()
	man := []byte(`{"release_id":"` + id + `"}` + "\n")
	sum := sha256.Sum256(man)
	r := dotm.Release{ID: id, Survey: a.survey, Created: time.Now().UTC().Truncate(time.Second), CreatedBy: "admin",
		Profile: "k: 3\n", Manifest: json.RawMessage(`{"release_id":"` + id + `","survey":"` + a.survey + `"}`), Report: json.RawMessage(`{"k":3,"passed":true}`),
		Files: []dotm.ReleaseFile{{Name: exports.ManifestJSON, Bytes: int64(len(man)), SHA256: hex.EncodeToString(sum[:])}}}
	if err := a.store.PutRelease(ctx, r, fstest.MapFS{exports.ManifestJSON: {Data: man}}); err != nil {
		a.t.Fatal(err)
	}
	if published {
		if err := a.store.PublishRelease(ctx, id, "admin", time.Now()); err != nil {
			a.t.Fatal(err)
		}
	}
	return id
}

// releaseProfile keeps k-anonymity on the household quasi-identifiers.
const releaseProfile = `
k: 3
quasi_identifiers: [region, urban, hh_size, head_sex, head_age, dest_country]
recode: {head_age: [0, 25, 35, 45, 55, 65, 120], hh_size: {top: 8}}
top_code: {remit_amount: 0.99, cons_pc: 0.995}
group_rare: {dest_country: 10}
geo: drop
max_risk: 0.2
# 60 households: most are unique on region × urban × size, which the PSU
# codes and the roster give; the test round is too small for k on those.
residual_k: 60
drop: [household_id_answer, enumerator_comments, dest_country_other, deviceid, start, end]
`

// surveyRound runs a small survey round of gh-2026 through the API with the
// household form: PSU sample, listing, household sample, interviews by ana
// and ben (every direct answer carrying marker; phone numbers are
// phoneMarker), approval, weights. It
// returns the estimated number of households (the sum of final weights).
func surveyRound(t *testing.T, a *apiEnv, marker, phoneMarker string) float64 {
	t.Helper()
	form := questionnaire.Household()
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/gh-2026/forms", "application/yaml", questionnaire.HouseholdYAML(), 201)
	country := fieldsim.NewCountry(60, 3)
	sample := decode[dotm.PSUSample](t, a.mustDoRaw("admin", "POST", "/api/v1/surveys/gh-2026/sample/psus?n=20&allocation=proportional&seed=5",
		"text/csv", country.FrameCSV(), 201))
	classOf := map[string]string{}
	for i, psu := range sample.PSUs {
		ea, ok := country.EA(psu.PSU)
		if !ok {
			t.Fatalf("PSU %s is not in the frame", psu.PSU)
		}
		var hh []map[string]string
		for _, l := range fieldsim.List(ea, rand.New(rand.NewPCG(5, uint64(i)))) {
			hh = append(hh, map[string]string{"household_id": l.ID, "class": l.Class})
			classOf[l.ID] = l.Class
		}
		a.mustDo("sup", "POST", "/api/v1/surveys/gh-2026/listings", map[string]any{"psu": psu.PSU, "stratum": psu.Stratum, "households": hh}, 201)
	}
	a.mustDo("admin", "POST", "/api/v1/surveys/gh-2026/sample/households", map[string]any{
		"quota": map[string]int{"current_migrant": 1, "return_migrant": 1, "non_migrant": 1}, "seed": 5,
		"enumerators": []string{"ana", "ben"}, "form_id": form.ID}, 200)
	rng := rand.New(rand.NewPCG(5, 99))
	var ids []string
	for _, enu := range []string{"ana", "ben"} {
		list := decode[assignmentsJSON](t, a.mustDo(enu, "GET", "/api/v1/assignments?status=assigned", nil, 200))
		var batch []any
		for _, as := range list.Assignments {
			ea, ok := country.EA(as.PSU)
			if !ok {
				continue // the fixture's assignments outside the sample
			}
			end := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
			ans := fieldsim.Interview(rng, fieldsim.Household{ID: as.HouseholdID, Region: ea.Region, Urban: ea.Urban, Class: classOf[as.HouseholdID]}, end)
			ans["respondent_name"] = marker + " respondent"
			ans["phone"] = phoneMarker
			for _, m := range ans["members"].([]any) {
				m.(map[string]any)["member_name"] = marker + " member"
			}
			id := uuid.NewString()
			ids = append(ids, id)
			batch = append(batch, map[string]any{"instance_id": id, "form_id": form.ID, "form_version": form.Version, "assignment_id": as.ID,
				"started_at": end.Add(-time.Hour).Format(time.RFC3339), "ended_at": end.Format(time.RFC3339), "answers": ans})
		}
		res := decode[struct {
			Results []struct{ Result string } `json:"results"`
		}](t, a.mustDo(enu, "POST", "/api/v1/submissions/batch", map[string]any{"submissions": batch}, 200))
		for i, r := range res.Results {
			if r.Result != "created" {
				t.Fatalf("%s: batch item %d: %s", enu, i, r.Result)
			}
		}
	}
	// Four supervisors' worth of reviews at once.
	var wg sync.WaitGroup
	failed := make(chan string, len(ids))
	for k := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < len(ids); i += 4 {
				if st, b, _ := a.do("sup", "POST", "/api/v1/submissions/"+ids[i]+"/review", map[string]any{"decision": "approve"}); st != 200 {
					failed <- fmt.Sprintf("review %s: %d %s", ids[i], st, b)
				}
			}
		}()
	}
	wg.Wait()
	close(failed)
	for msg := range failed {
		t.Fatal(msg)
	}
	w := decode[dotm.WeightsReport](t, a.mustDo("stat", "POST", "/api/v1/surveys/gh-2026/weights", map[string]any{}, 200))
	if w.Respondents != len(ids) || w.Respondents < 50 {
		t.Fatalf("weights: %d respondents of %d interviews", w.Respondents, len(ids))
	}
	return w.Final.Sum
}

type releaseJSON struct {
	ID        string `json:"id"`
	Survey    string `json:"survey"`
	Published bool   `json:"published"`
	Manifest  struct {
		ReleaseID string `json:"release_id"`
		Files     []struct {
			Name   string `json:"name"`
			SHA256 string `json:"sha256"`
			Bytes  int64  `json:"bytes"`
			Rows   *int64 `json:"rows"`
		} `json:"files"`
	} `json:"manifest"`
	Report struct {
		K      int  `json:"k"`
		Passed bool `json:"passed"`
	} `json:"report"`
	Files []dotm.ReleaseFile `json:"files"`
}

// TestSurveyRelease makes, publishes and downloads a release of a survey
// round through the API.
func TestSurveyRelease(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	marker := "MARKER" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	phoneMarker := fmt.Sprintf("+%d", 1_000_000_000_000+rand.Int64N(1_000_000_000_000))
	total := surveyRound(t, a, marker, phoneMarker)

	// A profile that cannot be met is refused, and nothing is stored.
	st, body, h := a.doRaw("stat", "POST", "/api/v1/surveys/gh-2026/releases", "application/yaml",
		strings.NewReader("k: 3\nquasi_identifiers: [region, urban, hh_size, head_sex, head_age, dest_country]\nmax_risk: 0.0001\n"), nil)
	if st != 422 || h.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("impossible profile: %d %s", st, body)
	}
	refused := decode[struct {
		Problems []dotm.Problem `json:"problems"`
		Report   struct {
			Passed bool `json:"passed"`
			Tables []struct {
				Worst []exports.Combination `json:"worst_combinations"`
			} `json:"tables"`
		} `json:"report"`
	}](t, body)
	if refused.Report.Passed || len(refused.Report.Tables) == 0 || len(refused.Report.Tables[0].Worst) == 0 || len(refused.Problems) < 2 {
		t.Fatalf("refusal without the worst combinations: %s", body)
	}
	for _, col := range []string{"releases", "release_files"} {
		if n, err := a.rawDB().Collection(col).CountDocuments(context.Background(), bson.D{}); err != nil || n != 0 {
			t.Fatalf("after a refusal %s holds %d documents (%v)", col, n, err)
		}
	}

	rel := decode[releaseJSON](t, a.mustDoRaw("stat", "POST", "/api/v1/surveys/gh-2026/releases", "application/yaml", []byte(releaseProfile), 201))
	if _, err := uuid.Parse(rel.ID); err != nil || rel.Manifest.ReleaseID != rel.ID || rel.Published || !rel.Report.Passed || rel.Report.K != 3 {
		t.Fatalf("created release: %+v", rel)
	}
	if len(rel.Files) != len(rel.Manifest.Files)+1 {
		t.Fatalf("stored files %v, manifest %v", rel.Files, rel.Manifest.Files)
	}

	// Unpublished: researchers do not see it; statisticians do.
	a.mustDo("res", "GET", "/api/v1/releases/"+rel.ID, nil, 404)
	a.mustDo("res", "GET", "/api/v1/releases/"+rel.ID+"/files/households.parquet", nil, 404)
	if list := a.mustDo("res", "GET", "/api/v1/releases", nil, 200); strings.Contains(string(list), rel.ID) {
		t.Fatalf("researcher lists an unpublished release: %s", list)
	}
	if list := a.mustDo("stat", "GET", "/api/v1/releases?survey=gh-2026", nil, 200); !strings.Contains(string(list), rel.ID) {
		t.Fatalf("statistician does not list the release: %s", list)
	}
	a.mustDo("stat", "POST", "/api/v1/releases/"+rel.ID+"/publish", nil, 403)
	pub := decode[releaseJSON](t, a.mustDo("admin", "POST", "/api/v1/releases/"+rel.ID+"/publish", nil, 200))
	if !pub.Published {
		t.Fatalf("published: %+v", pub)
	}
	a.mustDo("admin", "POST", "/api/v1/releases/"+rel.ID+"/publish", nil, 409)
	got := decode[releaseJSON](t, a.mustDo("res", "GET", "/api/v1/releases/"+rel.ID, nil, 200))
	if !got.Published || got.Manifest.ReleaseID != rel.ID {
		t.Fatalf("researcher view: %+v", got)
	}

	// Every file downloads with its SHA-256 as ETag; no marker anywhere.
	downloads := 0
	for _, f := range got.Files {
		st, b, h := a.doRaw("res", "GET", "/api/v1/releases/"+rel.ID+"/files/"+f.Name, "", nil, nil)
		downloads++
		sum := sha256.Sum256(b)
		if st != 200 || hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Bytes || h.Get("ETag") != `"`+f.SHA256+`"` {
			t.Fatalf("%s: %d, %d bytes, etag %s, want %s", f.Name, st, len(b), h.Get("ETag"), f.SHA256)
		}
		want := map[string]string{".parquet": "application/vnd.apache.parquet", ".json": "application/json", ".md": "text/markdown; charset=utf-8",
			".dta": "application/x-stata-dta", ".xml": "application/xml", ".html": "text/html; charset=utf-8"}[f.Name[strings.LastIndex(f.Name, "."):]]
		if h.Get("Content-Type") != want {
			t.Fatalf("%s: content type %q, want %q", f.Name, h.Get("Content-Type"), want)
		}
		if bytes.Contains(b, []byte(marker)) || bytes.Contains(b, []byte(phoneMarker[1:])) {
			t.Fatalf("%s holds a direct answer", f.Name)
		}
	}
	var hh []byte
	var hhSum string
	var hhRows int64
	for _, f := range got.Manifest.Files {
		if f.Name == "households.parquet" {
			hhSum, hhRows = f.SHA256, *f.Rows
		}
	}
	_, hh, _ = a.doRaw("res", "GET", "/api/v1/releases/"+rel.ID+"/files/households.parquet", "", nil, nil)
	downloads++
	sum := sha256.Sum256(hh)
	if hex.EncodeToString(sum[:]) != hhSum {
		t.Fatal("households.parquet does not match the manifest's SHA-256")
	}
	// The stored records and chunks hold no marker either.
	for _, col := range []string{"releases", "release_files"} {
		cur, err := a.rawDB().Collection(col).Find(context.Background(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.Raw
		if err := cur.All(context.Background(), &docs); err != nil || len(docs) == 0 {
			t.Fatalf("%s: %d documents (%v)", col, len(docs), err)
		}
		for _, d := range docs {
			if bytes.Contains(d, []byte(marker)) || bytes.Contains(d, []byte(phoneMarker[1:])) {
				t.Fatalf("%s holds a direct answer", col)
			}
		}
	}

	// The independent reader: rows as in the manifest, weights summing to
	// the estimated number of households.
	rdr, err := file.NewParquetReader(bytes.NewReader(hh))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumRows() != hhRows {
		t.Fatalf("arrow reads %d rows, manifest says %d", tbl.NumRows(), hhRows)
	}
	idx := tbl.Schema().FieldIndices("weight")
	if len(idx) != 1 {
		t.Fatalf("no weight column in %s", tbl.Schema())
	}
	var wsum float64
	for _, ch := range tbl.Column(idx[0]).Data().Chunks() {
		w, ok := ch.(*array.Float64)
		if !ok {
			t.Fatalf("weight is %s, want double", ch.DataType())
		}
		for i := 0; i < w.Len(); i++ {
			if w.IsNull(i) {
				t.Fatal("a null weight")
			}
			wsum += w.Value(i)
		}
	}
	if math.Abs(wsum-total) > 1e-9*total {
		t.Fatalf("weights sum to %.10g, the survey estimates %.10g households", wsum, total)
	}

	// Range: 206 with the right bytes. If-None-Match: 304.
	st, part, h := a.doRaw("res", "GET", "/api/v1/releases/"+rel.ID+"/files/households.parquet", "", nil, map[string][]string{"Range": {"bytes=4-99"}})
	downloads++
	if st != 206 || !bytes.Equal(part, hh[4:100]) || h.Get("Content-Range") != fmt.Sprintf("bytes 4-99/%d", len(hh)) {
		t.Fatalf("range: %d %q %d bytes", st, h.Get("Content-Range"), len(part))
	}
	st, b, _ := a.doRaw("res", "GET", "/api/v1/releases/"+rel.ID+"/files/households.parquet", "", nil, map[string][]string{"If-None-Match": {`"` + hhSum + `"`}})
	downloads++
	if st != 304 || len(b) != 0 {
		t.Fatalf("If-None-Match: %d, %d bytes", st, len(b))
	}
	a.mustDo("res", "GET", "/api/v1/releases/"+rel.ID+"/files/nothing.parquet", nil, 404)

	// One audit entry per download; create and publish are audited.
	au := decode[struct {
		Entries []dotm.AuditEntry `json:"entries"`
	}](t, a.mustDo("admin", "GET", "/api/v1/audit?action=release_download&limit=1000", nil, 200))
	if len(au.Entries) != downloads {
		t.Fatalf("%d download audit entries, want %d", len(au.Entries), downloads)
	}
	for _, e := range au.Entries {
		if e.Actor != "res" || e.Survey != "gh-2026" || !strings.HasPrefix(e.Target, rel.ID+"/") {
			t.Fatalf("audit entry %+v", e)
		}
	}
	for _, action := range []string{"release_create", "release_publish", "release_refused"} {
		au := decode[struct {
			Entries []dotm.AuditEntry `json:"entries"`
		}](t, a.mustDo("admin", "GET", "/api/v1/audit?action="+action, nil, 200))
		if len(au.Entries) == 0 {
			t.Fatalf("no %s audit entry", action)
		}
	}
}
