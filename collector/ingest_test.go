package collector_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
)

// TestMarkersNeverStoredOrLogged submits direct answers holding marker
// strings, then reads every raw document of the database with the driver
// and the captured logs: no marker anywhere. A supervisor asking for
// identifiers gets them back, and that read is in the audit trail.
func TestMarkersNeverStoredOrLogged(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	marker := "MARKER" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	id := uuid.NewString()
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(id, "a-ana-1", validAnswers(marker)), 201)
	batchID := uuid.NewString()
	a.mustDo("ana", "POST", "/api/v1/submissions/batch", map[string]any{"submissions": []any{
		a.envelope(batchID, "a-ana-2", validAnswers(marker+"b")),
		a.envelope(uuid.NewString(), "a-ben-1", validAnswers(marker+"c")), // forbidden
	}}, 200)
	// Invalid and conflicting posts carrying markers must not log them either.
	bad := validAnswers(marker + "d")
	bad["hh_size"] = marker
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(uuid.NewString(), "", bad), 422)
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(id, "a-ana-1", validAnswers(marker+"e")), 409)
	// Reads that do not ask for identifiers do not get them.
	for _, user := range []string{"sup", "stat", "admin", "ana"} {
		body := a.mustDo(user, "GET", "/api/v1/submissions/"+id, nil, 200)
		if strings.Contains(string(body), marker) {
			t.Fatalf("%s got identifiers without asking: %s", user, body)
		}
	}
	for _, user := range []string{"stat", "admin", "ben", "sup_other"} {
		body := a.mustDo(user, "GET", "/api/v1/submissions/"+id+"?include=identifiers", nil, 403)
		if strings.Contains(string(body), marker) {
			t.Fatalf("%s: %s", user, body)
		}
	}
	a.mustDo("res", "GET", "/api/v1/submissions/"+id, nil, 403)

	dump := a.dumpDB()
	if !strings.Contains(dump, id) || !strings.Contains(dump, batchID) {
		t.Fatal("the dump does not hold the submissions: the test reads the wrong database")
	}
	if strings.Contains(dump, marker) {
		i := strings.Index(dump, marker)
		t.Fatalf("a direct answer is stored in clear: …%s…", dump[max(0, i-200):min(len(dump), i+50)])
	}
	if !strings.Contains(dump, `"region":"north"`) {
		t.Fatal("non-direct answers should be stored in clear (the dump format changed?)")
	}

	// The supervisor asks for identifiers: gets them, and it is audited.
	s := decode[submissionJSON](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+id+"?include=identifiers", nil, 200))
	members := s.Answers["members"].([]any)
	if !s.Identifiers || s.Answers["respondent_name"] != marker+" respondent" || s.Answers["phone"] != marker+" phone" ||
		members[1].(map[string]any)["member_name"] != marker+" member1" || s.Answers["gps"].(map[string]any)["lat"] != 5.6037 {
		t.Fatalf("identifiers: %+v", s.Answers)
	}
	au := decode[struct {
		Entries []dotm.AuditEntry `json:"entries"`
	}](t, a.mustDo("admin", "GET", "/api/v1/audit?action=read_identifiers", nil, 200))
	if len(au.Entries) != 1 || au.Entries[0].Actor != "sup" || au.Entries[0].Target != id || au.Entries[0].Survey != "gh-2026" {
		t.Fatalf("audit: %+v", au.Entries)
	}
	// Statisticians never get direct answers, even inside repeats.
	st := decode[submissionJSON](t, a.mustDo("stat", "GET", "/api/v1/submissions/"+id, nil, 200))
	if _, ok := st.Answers["members"].([]any)[0].(map[string]any)["member_name"]; ok || st.Answers["gps"] != nil {
		t.Fatalf("statistician view: %+v", st.Answers)
	}
	if m := st.Answers["members"].([]any)[0].(map[string]any); m["age"] != 41.0 {
		t.Fatalf("statistician loses quasi answers: %+v", m)
	}

	logs := a.logs.String()
	if !strings.Contains(logs, `"route":"/api/v1/submissions"`) {
		t.Fatalf("no request logs captured: %q", logs)
	}
	if strings.Contains(logs, marker) {
		t.Fatalf("a log line holds a direct answer: %s", logs)
	}
	for _, tok := range a.tokens {
		if strings.Contains(logs, tok) || strings.Contains(dump, tok) {
			t.Fatal("a token is in the logs or the database")
		}
	}
}

// TestConcurrentDuplicatePosts: 20 goroutines post one instance at once;
// exactly one document is stored, one answer is 201 and the others 200.
func TestConcurrentDuplicatePosts(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	id := uuid.NewString()
	env := a.envelope(id, "a-ana-1", validAnswers("dup"))
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, _ := a.do("ana", "POST", "/api/v1/submissions", env)
			statuses[i] = st
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[200] != 19 {
		t.Fatalf("statuses %v", count)
	}
	n, err := a.rawDB().Collection("submissions").CountDocuments(context.Background(), bson.D{})
	if err != nil || n != 1 {
		t.Fatalf("%d documents stored (%v), want 1", n, err)
	}
	// The same with batches racing each other and single posts.
	id2 := uuid.NewString()
	env2 := a.envelope(id2, "", validAnswers("dup2"))
	results := make([]string, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				st, _, _ := a.do("ana", "POST", "/api/v1/submissions", env2)
				results[i] = fmt.Sprint(st)
				return
			}
			st, b, _ := a.do("ana", "POST", "/api/v1/submissions/batch", map[string]any{"submissions": []any{env2, env2}})
			if st != 200 {
				results[i] = fmt.Sprint(st)
				return
			}
			r := decode[batchJSON](t, b)
			results[i] = r.Results[0].Result + "," + r.Results[1].Result
		}()
	}
	wg.Wait()
	created := 0
	for _, r := range results {
		created += strings.Count(r, "201") + strings.Count(r, "created")
		if strings.Contains(r, "conflict") || strings.Contains(r, "409") || strings.HasPrefix(r, "5") {
			t.Fatalf("results %v", results)
		}
	}
	if created != 1 {
		t.Fatalf("%d creations in %v", created, results)
	}
	n, _ = a.rawDB().Collection("submissions").CountDocuments(context.Background(), bson.D{})
	if n != 2 {
		t.Fatalf("%d documents, want 2", n)
	}
}

type batchJSON struct {
	Results []struct {
		Index      int            `json:"index"`
		InstanceID string         `json:"instance_id"`
		Result     string         `json:"result"`
		Status     int            `json:"status"`
		Detail     string         `json:"detail"`
		Problems   []dotm.Problem `json:"problems"`
	} `json:"results"`
	Counts map[string]int `json:"counts"`
}

func TestBatchMixed(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	stored := uuid.NewString()
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(stored, "", validAnswers("s")), 201)
	fresh, fresh2 := uuid.NewString(), uuid.NewString()
	invalid := validAnswers("i")
	invalid["region"] = "east"
	unknownField := a.envelope(uuid.NewString(), "", validAnswers("u"))
	unknownField["colour"] = "red"
	items := []any{
		a.envelope(fresh, "", validAnswers("f")),                   // 0 created
		a.envelope(stored, "", validAnswers("s")),                  // 1 duplicate of a stored one
		a.envelope(stored, "", validAnswers("other")),              // 2 conflict
		a.envelope(uuid.NewString(), "", invalid),                  // 3 invalid answers
		a.envelope(uuid.NewString(), "a-ben-1", validAnswers("b")), // 4 forbidden
		a.envelope(fresh, "", validAnswers("f")),                   // 5 duplicate within the batch
		42,                                                         // 6 not an envelope
		unknownField,                                               // 7 unknown envelope field
		a.envelope(fresh2, "a-ana-2", validAnswers("g")),           // 8 created, moves the assignment
		a.envelope("not-a-uuid", "", validAnswers("n")),            // 9 invalid id
	}
	r := decode[batchJSON](t, a.mustDo("ana", "POST", "/api/v1/submissions/batch", map[string]any{"submissions": items}, 200))
	want := []struct {
		result string
		status int
	}{{"created", 201}, {"duplicate", 200}, {"conflict", 409}, {"invalid", 422}, {"forbidden", 403},
		{"duplicate", 200}, {"invalid", 422}, {"invalid", 422}, {"created", 201}, {"invalid", 422}}
	if len(r.Results) != len(want) {
		t.Fatalf("%d results", len(r.Results))
	}
	for i, w := range want {
		got := r.Results[i]
		if got.Index != i || got.Result != w.result || got.Status != w.status {
			t.Errorf("item %d: %+v, want %s", i, got, w.result)
		}
	}
	if len(r.Results[3].Problems) == 0 || r.Results[3].Problems[0].Path != "region" {
		t.Errorf("invalid item's problems: %+v", r.Results[3].Problems)
	}
	if r.Counts["created"] != 2 || r.Counts["duplicate"] != 2 || r.Counts["invalid"] != 4 || r.Counts["conflict"] != 1 || r.Counts["forbidden"] != 1 {
		t.Errorf("counts %v", r.Counts)
	}
	if got := a.assignment("ana", "a-ana-2"); got.Status != dotm.AssignmentSubmitted || got.SubmissionID != fresh2 {
		t.Errorf("assignment: %+v", got)
	}
	n, _ := a.rawDB().Collection("submissions").CountDocuments(context.Background(), bson.D{})
	if n != 3 {
		t.Errorf("%d documents, want 3", n)
	}
	// Limits of a batch.
	many := make([]any, collector.MaxBatch+1)
	for i := range many {
		many[i] = 1
	}
	a.mustDo("ana", "POST", "/api/v1/submissions/batch", map[string]any{"submissions": many}, 422)
	a.mustDo("ana", "POST", "/api/v1/submissions/batch", map[string]any{}, 422)
	a.mustDo("ana", "POST", "/api/v1/submissions/batch", []any{}, 422)
}

// TestBadInput: every kind of garbage is a 4xx problem+json, never a 5xx.
func TestBadInput(t *testing.T) {
	t.Parallel()
	a := newAPIEnv(t)
	good := func(mod func(map[string]any)) map[string]any {
		e := a.envelope(uuid.NewString(), "", validAnswers("b"))
		mod(e)
		return e
	}
	big := `{"instance_id":"` + uuid.NewString() + `","answers":{"respondent_name":"` + strings.Repeat("x", 10<<20) + `"}}`
	deep := `{"answers":` + strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000) + `}`
	cases := []struct {
		name        string
		contentType string
		body        any
		status      int
		problem     string // a problem path that must be named
	}{
		{"malformed JSON", "", `{"instance_id":`, 400, ""},
		{"not JSON", "", `instance_id=1`, 400, ""},
		{"two values", "", `{} {}`, 400, ""},
		{"empty body", "", ``, 400, ""},
		{"an array", "", `[]`, 422, ""},
		{"wrong content type", "text/plain", `{}`, 400, ""},
		{"wrong type: instance_id", "", good(func(e map[string]any) { e["instance_id"] = 5 }), 422, "instance_id"},
		{"wrong type: answers", "", good(func(e map[string]any) { e["answers"] = "all fine" }), 422, "answers"},
		{"wrong type: started_at", "", good(func(e map[string]any) { e["started_at"] = 1700000000 }), 422, "started_at"},
		{"bad time", "", good(func(e map[string]any) { e["ended_at"] = "yesterday" }), 422, "ended_at"},
		{"ended before started", "", good(func(e map[string]any) { e["ended_at"] = "2026-02-01T00:00:00Z" }), 422, "ended_at"},
		{"wrong answer type", "", good(func(e map[string]any) { e["answers"].(map[string]any)["hh_size"] = "three" }), 422, "hh_size"},
		{"huge number", "", strings.Replace(mustJSON(t, good(func(map[string]any) {})), `"hh_size":3`, `"hh_size":1e400`, 1), 422, ""},
		{"unknown envelope field", "", good(func(e map[string]any) { e["device"] = "x" }), 422, "device"},
		{"unknown answer", "", good(func(e map[string]any) { e["answers"].(map[string]any)["shoe_size"] = 42 }), 422, "shoe_size"},
		{"10 MB body", "", big, 413, ""},
		{"deep nesting", "", deep, 400, ""},
		{"missing fields", "", `{}`, 422, "instance_id"},
		{"missing answers", "", good(func(e map[string]any) { delete(e, "answers") }), 422, "answers"},
		{"missing form", "", good(func(e map[string]any) { delete(e, "form_id"); delete(e, "form_version") }), 422, "form_id"},
		{"invalid UUID", "", good(func(e map[string]any) { e["instance_id"] = "1234" }), 422, "instance_id"},
		{"UUID with braces", "", good(func(e map[string]any) { e["instance_id"] = "{" + uuid.NewString() + "}" }), 422, "instance_id"},
		{"URN UUID", "", good(func(e map[string]any) { e["instance_id"] = "urn:uuid:" + uuid.NewString() }), 422, "instance_id"},
		{"invalid supersedes", "", good(func(e map[string]any) { e["supersedes"] = "x" }), 422, "supersedes"},
		{"invalid assignment id", "", good(func(e map[string]any) { e["assignment_id"] = "../../etc" }), 422, "assignment_id"},
		{"null answers", "", good(func(e map[string]any) { e["answers"] = nil }), 422, "answers"},
		{"invalid UTF-8", "", []byte("{\"instance_id\":\"\xff\xfe\"}"), 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a.t = t
			var body []byte
			switch b := c.body.(type) {
			case string:
				body = []byte(b)
			case []byte:
				body = b
			default:
				body = []byte(mustJSON(t, b))
			}
			ct := c.contentType
			if ct == "" {
				ct = "application/json"
			}
			st, resp, h := a.doRaw("ana", "POST", "/api/v1/submissions", ct, strings.NewReader(string(body)), nil)
			if st != c.status {
				t.Fatalf("status %d, want %d: %.300s", st, c.status, resp)
			}
			if h.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("content type %q", h.Get("Content-Type"))
			}
			p := decode[problemDoc](t, resp)
			if p.Status != st || p.Type == "" || p.Title == "" {
				t.Fatalf("problem %+v", p)
			}
			if c.problem != "" {
				found := false
				for _, x := range p.Problems {
					found = found || x.Path == c.problem
				}
				if !found {
					t.Fatalf("no problem names %s: %s", c.problem, resp)
				}
			}
			// The same garbage inside a batch is an invalid item, never a 5xx.
			if c.contentType == "" && st != 413 && st != 400 && len(body) > 0 && body[0] == '{' {
				bst, bresp, _ := a.doRaw("ana", "POST", "/api/v1/submissions/batch", "application/json",
					strings.NewReader(`{"submissions":[`+string(body)+`]}`), nil)
				if bst != http.StatusOK {
					t.Fatalf("batch: %d %.300s", bst, bresp)
				}
				if r := decode[batchJSON](t, bresp); r.Results[0].Result != "invalid" || r.Results[0].Status != c.status {
					t.Fatalf("batch item: %+v", r.Results[0])
				}
			}
		})
	}
	a.t = t
	// A 10 MB envelope inside a batch is refused as an item.
	st, resp, _ := a.doRaw("ana", "POST", "/api/v1/submissions/batch", "application/json", strings.NewReader(`{"submissions":[`+big+`]}`), nil)
	if st != 200 || decode[batchJSON](t, resp).Results[0].Status != 413 {
		t.Fatalf("batch with a 10 MB item: %d %.300s", st, resp)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// TestDuplicateInterviewsFlagged: through the API, a second household with
// the first one's answers and phone is flagged as a duplicate of it, the
// first is not, and a fingerprint claimed by an interview that is not in
// the store (a failed write) flags nothing. Duplicate detection reads the
// first interview's assignment only (SubmissionAssignment).
func TestDuplicateInterviewsFlagged(t *testing.T) {
	t.Parallel()
	a, ex := householdEnv(t, 1)
	post := func(i int) string {
		t.Helper()
		body := householdEnvelope(ex, i)
		var env map[string]any
		_ = json.Unmarshal(body, &env)
		a.mustDo("e0", "POST", "/api/v1/submissions", body, 201)
		return env["instance_id"].(string)
	}
	flags := func(id string) []string {
		t.Helper()
		var s struct {
			Flags []string `json:"flags"`
		}
		if err := json.Unmarshal(a.mustDo("sup", "GET", "/api/v1/submissions/"+id, nil, 200), &s); err != nil {
			t.Fatal(err)
		}
		return s.Flags
	}
	first, second := post(1), post(2)
	if f := flags(first); slices.Contains(f, dotm.FlagDupAnswers) || slices.Contains(f, dotm.FlagDupPhone) {
		t.Errorf("the first interview is flagged %v", f)
	}
	if f := flags(second); !slices.Contains(f, dotm.FlagDupAnswers) || !slices.Contains(f, dotm.FlagDupPhone) {
		t.Errorf("the copy is flagged %v, want %s and %s", f, dotm.FlagDupAnswers, dotm.FlagDupPhone)
	}
	// The owner of every fingerprint gone from the store: nothing to
	// compare with, so the next copy is not flagged as a duplicate.
	ctx := context.Background()
	if _, err := a.rawDB().Collection("submissions").DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: []string{first, second}}}}}); err != nil {
		t.Fatal(err)
	}
	if f := flags(post(3)); slices.Contains(f, dotm.FlagDupAnswers) || slices.Contains(f, dotm.FlagDupPhone) {
		t.Errorf("a copy of interviews no longer stored is flagged %v", f)
	}
}
