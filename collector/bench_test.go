package collector_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/mongodb"
	"github.com/dotm-survey/dotm/questionnaire"
)

// householdEnv is an API with the built-in DotM household form uploaded and
// n enumerators e0, e1, …
//
// Like dotm serve on its embedded store, the store writes with the server's
// default write concern (w:1), the same as the raw driver runs it is
// compared with; the other tests' stores ask for majority.
func householdEnv(t testing.TB, n int) (*apiEnv, questionnaire.Submission) {
	t.Helper()
	// The embedded server's URI names a Unix socket (%2F in the host),
	// which net/url refuses to parse: add the option as text.
	uri := testServer.URI
	if !strings.Contains(uri, "w=") {
		sep := "?"
		if strings.Contains(uri, "?") {
			sep = "&"
		}
		uri += sep + "w=1"
	}
	// EmbeddedDir: the store indexes the embedded server's tables as
	// dotm serve's does (without it every update by _id, a tally's on each
	// submission, scans its collection).
	store, err := mongodb.Open(context.Background(), mongodb.Config{URI: uri, Database: fmt.Sprintf("bench%d", seq.Add(1)), EmbeddedDir: testServer.Dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(context.Background()) })
	a := newAPIEnvOn(t, store, newTestKeys(t), true)
	a.mustDoRaw("admin", "POST", "/api/v1/surveys/gh-2026/forms", "application/yaml", questionnaire.HouseholdYAML(), 201)
	ctx := context.Background()
	for i := range n {
		token, hash, err := dotm.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("e%d", i)
		if err := a.store.AddUser(ctx, dotm.User{Name: name, Role: dotm.RoleEnumerator, Surveys: []string{"gh-2026"}}, hash); err != nil {
			t.Fatal(err)
		}
		a.tokens[name] = token
	}
	return a, questionnaire.HouseholdExample()
}

// householdEnvelope is the example household as a new interview.
func householdEnvelope(ex questionnaire.Submission, i int) []byte {
	ans := ex.Answers
	ans["respondent_name"] = fmt.Sprintf("Respondent %d", i)
	b, _ := json.Marshal(map[string]any{
		"instance_id": uuid.NewString(), "form_id": ex.FormID, "form_version": ex.FormVersion,
		"started_at": ex.StartedAt, "ended_at": ex.EndedAt, "answers": ans,
	})
	return b
}

// TestHouseholdExample posts the questionnaire's valid household example:
// it is stored, its identifiers are encrypted, and the supervisor reads them.
func TestHouseholdExample(t *testing.T) {
	t.Parallel()
	a, ex := householdEnv(t, 1)
	body := householdEnvelope(ex, 7)
	var env map[string]any
	_ = json.Unmarshal(body, &env)
	id := env["instance_id"].(string)
	a.mustDo("e0", "POST", "/api/v1/submissions", body, 201)
	dump := a.dumpDB()
	for _, secret := range []string{"Respondent 7", "+57 310 555 0123", "Camila"} {
		if strings.Contains(dump, secret) {
			t.Fatalf("%q stored in clear", secret)
		}
	}
	s := decode[submissionJSON](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+id+"?include=identifiers", nil, 200))
	if s.Answers["respondent_name"] != "Respondent 7" || s.Answers["phone"] != "+57 310 555 0123" {
		t.Fatalf("identifiers: %v %v", s.Answers["respondent_name"], s.Answers["phone"])
	}
}

// loadResult is one measured run.
type loadResult struct {
	n        int
	elapsed  time.Duration
	lat      []time.Duration // one per call
	failures int64
}

func (r loadResult) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r loadResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := slices.Clone(r.lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// runLoad runs calls (each storing per documents) on workers goroutines.
func runLoad(workers int, calls [][]func() error, per int) loadResult {
	var mu sync.Mutex
	var lat []time.Duration
	var failures atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, len(calls[w]))
			for _, call := range calls[w] {
				t0 := time.Now()
				if err := call(); err != nil {
					failures.Add(1)
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range calls {
		n += len(c) * per
	}
	return loadResult{n: n, elapsed: time.Since(start), lat: lat, failures: failures.Load()}
}

// BenchmarkIngest measures ingest of valid DotM household submissions over
// loopback HTTP by 8 and 32 simulated enumerators, one by one and in batches,
// and the raw driver rate (insertOne loop, insertMany) of the same stored
// documents into the same embedded server, and reports API/raw.
//
// The raw paths insert the documents the API stored (read back from the
// database, under new ids). The paths take turns in rounds (API then raw,
// raw then API in the next round), so that drift over the run (the database
// file and its write-ahead log growing, garbage collection) falls on both
// alike; a path's rate is its submissions over its time summed over rounds.
//
//	go test -run '^$' -bench Ingest -benchtime 1x ./collector/
func BenchmarkIngest(b *testing.B) {
	const (
		batchSize = 40
		rounds    = 4
	)
	total := 3840 // submissions per path; DOTM_BENCH_SUBMISSIONS changes it (a multiple of 32 × 40 × 4)
	if v, err := strconv.Atoi(os.Getenv("DOTM_BENCH_SUBMISSIONS")); err == nil && v > 0 {
		total = v
	}
	unit := 32 * batchSize * rounds
	total = (total + unit - 1) / unit * unit
	perRound := total / rounds
	for range b.N {
		for _, workers := range []int{8, 32} {
			a, ex := householdEnv(b, workers)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
			post := func(user, path string, body []byte, want int) func() error {
				return func() error {
					req, _ := http.NewRequest("POST", a.srv.URL+path, bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+a.tokens[user])
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						return err
					}
					defer resp.Body.Close()
					var sink bytes.Buffer
					_, _ = sink.ReadFrom(resp.Body)
					if resp.StatusCode != want {
						return fmt.Errorf("status %d: %s", resp.StatusCode, sink.Bytes())
					}
					return nil
				}
			}
			seqNo := 0
			apiSingle := func() [][]func() error {
				calls := make([][]func() error, workers)
				for i := range perRound {
					w := i % workers
					calls[w] = append(calls[w], post(fmt.Sprintf("e%d", w), "/api/v1/submissions", householdEnvelope(ex, seqNo), 201))
					seqNo++
				}
				return calls
			}
			apiBatch := func() [][]func() error {
				calls := make([][]func() error, workers)
				for i := 0; i < perRound; i += batchSize {
					w := (i / batchSize) % workers
					items := make([]json.RawMessage, batchSize)
					for j := range items {
						items[j] = householdEnvelope(ex, seqNo)
						seqNo++
					}
					body, _ := json.Marshal(map[string]any{"submissions": items})
					calls[w] = append(calls[w], post(fmt.Sprintf("e%d", w), "/api/v1/submissions/batch", body, 200))
				}
				return calls
			}

			// Warm-up (not timed): the documents the raw paths insert are
			// the ones these API calls stored.
			if r := runLoad(workers, apiSingle()[:workers], 1); r.failures > 0 {
				b.Fatalf("warm-up: %d failed calls", r.failures)
			}
			db := a.rawDB()
			ctx := context.Background()
			cur, err := db.Collection("submissions").Find(ctx, bson.D{})
			if err != nil {
				b.Fatal(err)
			}
			var stored []bson.D
			if err := cur.All(ctx, &stored); err != nil {
				b.Fatal(err)
			}
			if len(stored) == 0 {
				b.Fatal("no stored submissions to insert raw")
			}
			docs := func(n int) []any {
				out := make([]any, n)
				for i := range out {
					d := slices.Clone(stored[i%len(stored)])
					d[0] = bson.E{Key: "_id", Value: uuid.NewString()}
					out[i] = d
				}
				return out
			}
			one, many := db.Collection("raw_insert_one"), db.Collection("raw_insert_many")
			rawOne := func() [][]func() error {
				calls := make([][]func() error, workers)
				for i, d := range docs(perRound) {
					calls[i%workers] = append(calls[i%workers], func() error { _, err := one.InsertOne(ctx, d); return err })
				}
				return calls
			}
			rawMany := func() [][]func() error {
				calls := make([][]func() error, workers)
				fd := docs(perRound)
				for i := 0; i < perRound; i += batchSize {
					chunk := fd[i : i+batchSize]
					w := (i / batchSize) % workers
					calls[w] = append(calls[w], func() error { _, err := many.InsertMany(ctx, chunk); return err })
				}
				return calls
			}

			var res [4]loadResult // api single, raw insertOne, api batch, raw insertMany
			for r := range rounds {
				order := []int{0, 1, 2, 3}
				if r%2 == 1 {
					order = []int{1, 0, 3, 2}
				}
				for _, p := range order {
					var got loadResult
					switch p {
					case 0:
						got = runLoad(workers, apiSingle(), 1)
					case 1:
						got = runLoad(workers, rawOne(), 1)
					case 2:
						got = runLoad(workers, apiBatch(), batchSize)
					case 3:
						got = runLoad(workers, rawMany(), batchSize)
					}
					res[p].n += got.n
					res[p].elapsed += got.elapsed
					res[p].lat = append(res[p].lat, got.lat...)
					res[p].failures += got.failures
				}
			}
			for _, r := range res {
				if r.failures > 0 {
					b.Fatalf("%d failed calls", r.failures)
				}
			}
			// Printed, not logged: the testing package cuts a benchmark's log
			// after ten lines, and both runs' tables are the point.
			fmt.Printf("BenchmarkIngest: %d enumerators, %d household submissions per path in %d rounds\n", workers, total, rounds)
			names := []string{"api single", "raw insertOne", fmt.Sprintf("api batch(%d)", batchSize), fmt.Sprintf("raw insertMany(%d)", batchSize)}
			for i, r := range res {
				fmt.Printf("  %-20s %8.0f submissions/s  p50 %7.2f ms  p99 %7.2f ms\n", names[i], r.rate(), ms(r.pct(0.5)), ms(r.pct(0.99)))
			}
			single, batch := res[0].rate()/res[1].rate(), res[2].rate()/res[3].rate()
			fmt.Printf("  ratio API/raw: single %.2f, batch %.2f\n", single, batch)
			b.ReportMetric(res[0].rate(), fmt.Sprintf("single_subs/s_%d", workers))
			b.ReportMetric(res[2].rate(), fmt.Sprintf("batch_subs/s_%d", workers))
			b.ReportMetric(single, fmt.Sprintf("single_ratio_%d", workers))
			b.ReportMetric(batch, fmt.Sprintf("batch_ratio_%d", workers))
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
