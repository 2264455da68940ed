package collector_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
)

// allocated runs f and returns the bytes the process allocated meanwhile
// (the server runs in this process).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestRepeatEntriesBounded: an envelope of 2 MB holding 690,000 empty
// repeat entries is refused with 422 naming the repeat, without the ~280 MB
// its decoding took; alone and in a batch.
func TestRepeatEntriesBounded(t *testing.T) {
	a := newAPIEnv(t)
	entries := strings.Repeat("{},", 690_000)
	env := fmt.Sprintf(`{"instance_id":%q,"form_id":"mini_household","form_version":"2026-01","started_at":"2026-03-01T09:00:00Z","ended_at":"2026-03-01T10:00:00Z","answers":{"respondent_name":"x","members":[%s{}]}}`,
		uuid.NewString(), entries)
	if len(env) > collector.MaxSubmissionBytes {
		t.Fatalf("envelope of %d bytes", len(env))
	}
	var st int
	var b []byte
	n := allocated(func() { st, b, _ = a.do("ana", "POST", "/api/v1/submissions", env) })
	p := decode[problemDoc](t, b)
	if st != 422 || !p.has("answers.members", "constraint") {
		t.Errorf("690,000 repeat entries: %d %s", st, b)
	}
	if n > 64<<20 {
		t.Errorf("refusing 690,000 repeat entries allocated %d MB (ceiling 64 MB)", n>>20)
	}
	n = allocated(func() { st, b, _ = a.do("ana", "POST", "/api/v1/submissions/batch", `{"submissions":[`+env+`]}`) })
	if st != 200 || !strings.Contains(string(b), `"path":"answers.members"`) {
		t.Errorf("in a batch: %d %.300s", st, b)
	}
	if n > 64<<20 {
		t.Errorf("refusing them in a batch allocated %d MB (ceiling 64 MB)", n>>20)
	}
	// Nested repeat entries count too, however they are spread.
	nested := fmt.Sprintf(`{"instance_id":%q,"form_id":"mini_household","form_version":"2026-01","started_at":"2026-03-01T09:00:00Z","ended_at":"2026-03-01T10:00:00Z","answers":{"members":[%s{}]}}`,
		uuid.NewString(), strings.Repeat(`{"trips":[`+strings.Repeat("{},", 99)+`{}]},`, 2000))
	st, b, _ = a.do("ana", "POST", "/api/v1/submissions", nested)
	if st != 422 || !strings.Contains(string(b), "repeat entries") {
		t.Errorf("200,000 nested repeat entries: %d %.300s", st, b)
	}
}

// xlsxBomb is a small zip whose one worksheet inflates to size bytes.
func xlsxBomb(t *testing.T, size int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"xl/workbook.xml":     `<?xml version="1.0"?><workbook/>`,
	} {
		w, _ := zw.Create(name)
		io.WriteString(w, body)
	}
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	row := `<row><c t="inlineStr"><is><t>text</t></is></c></row>`
	io.WriteString(w, `<?xml version="1.0"?><worksheet><sheetData>`)
	for n := 0; n < size; n += len(row) {
		io.WriteString(w, row)
	}
	io.WriteString(w, `</sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestXLSXUploadBounded: a 1 MB workbook inflating to 250 MB of sheet XML
// is refused with 413 naming the limit, cheaply.
func TestXLSXUploadBounded(t *testing.T) {
	a := newAPIEnv(t)
	bomb := xlsxBomb(t, 250<<20)
	if len(bomb) > 2<<20 {
		t.Fatalf("bomb of %d bytes", len(bomb))
	}
	var st int
	var b []byte
	start := time.Now()
	n := allocated(func() {
		st, b, _ = a.doRaw("admin", "POST", "/api/v1/surveys/gh-2026/forms?format=xlsx", "", bytes.NewReader(bomb), nil)
	})
	if st != 413 || !strings.Contains(string(b), "MiB") {
		t.Errorf("xlsx bomb: %d %s", st, b)
	}
	if n > 64<<20 || time.Since(start) > 10*time.Second {
		t.Errorf("refusing the bomb allocated %d MB in %s", n>>20, time.Since(start))
	}
}

// TestErrorResponsesBounded: an answer with thousands of problems lists
// the first ones and says how many there were.
func TestErrorResponsesBounded(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	answers := validAnswers("x")
	for i := range 20_000 {
		answers[fmt.Sprintf("zz_unknown_%d", i)] = 1
	}
	st, b, _ := a.do("ana", "POST", "/api/v1/submissions", a.envelope(uuid.NewString(), "", answers))
	var p struct {
		Problems      []dotm.Problem `json:"problems"`
		ProblemsTotal int            `json:"problems_total"`
	}
	if err := json.Unmarshal(b, &p); err != nil || st != 422 {
		t.Fatalf("%d %v %.300s", st, err, b)
	}
	if len(p.Problems) != 100 || p.ProblemsTotal != 20_000 || len(b) > 64<<10 {
		t.Errorf("%d problems listed of %d, %d bytes", len(p.Problems), p.ProblemsTotal, len(b))
	}
	// A form with thousands of broken rows: the same.
	var form strings.Builder
	form.WriteString("settings: {form_id: broken, version: '1'}\nsurvey:\n")
	for i := range 20_000 {
		fmt.Fprintf(&form, "  - {type: nonsense_%d, name: q%d}\n", i, i)
	}
	st, b, _ = a.doRaw("admin", "POST", "/api/v1/surveys/gh-2026/forms?format=yaml", "", strings.NewReader(form.String()), nil)
	if err := json.Unmarshal(b, &p); err != nil || st != 422 {
		t.Fatalf("form: %d %v %.300s", st, err, b)
	}
	if len(p.Problems) > 100 || p.ProblemsTotal < 1000 || len(b) > 64<<10 {
		t.Errorf("form: %d problems listed of %d, %d bytes", len(p.Problems), p.ProblemsTotal, len(b))
	}
}

// TestConcurrentLargeBodiesBounded: large bodies in flight at once are
// bounded by bytes; over the bound the server answers 503 with
// Retry-After at once instead of reading another large body.
func TestConcurrentLargeBodiesBounded(t *testing.T) {
	t.Parallel()
	a := newAPIEnvWith(t, func(d *collector.Deps) { d.MaxInFlightBytes = 3 << 20 })
	pr, pw := io.Pipe()
	const size = 2 << 20
	req, _ := http.NewRequest("POST", a.srv.URL+"/api/v1/submissions/batch", pr)
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+a.tokens["ana"])
	req.Header.Set("Content-Type", "application/json")
	done := make(chan int)
	go func() {
		resp, err := a.srv.Client().Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	pw.Write([]byte(`{"submissions":[`)) // the first is in flight
	time.Sleep(200 * time.Millisecond)
	big := `{"submissions":[` + strings.Repeat(" ", size-len(`{"submissions":[]}`)) + `]}`
	st, b, h := a.do("ben", "POST", "/api/v1/submissions/batch", big)
	if st != 503 || h.Get("Retry-After") == "" || h.Get("Content-Type") != "application/problem+json" {
		t.Errorf("a second large body while one is in flight: %d %q %.200s", st, h.Get("Retry-After"), b)
	}
	// Small requests are not held up.
	a.mustDo("ben", "GET", "/api/v1/me", nil, 200)
	pw.Write([]byte(strings.Repeat(" ", size-len(`{"submissions":[`)-2) + "]}"))
	pw.Close()
	if st := <-done; st == 0 || st == 503 {
		t.Fatalf("the first large body: %d", st)
	}
	if st, b, _ := a.do("ben", "POST", "/api/v1/submissions/batch", big); st == 503 {
		t.Errorf("after the first finished: %d %.200s", st, b)
	}
}
