package loadtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.2:8080/", true},
		{"https://localhost:8443", true},
		{"http://[::1]:8080", true},
		{"http://10.0.0.5:8080", false},
		{"http://0.0.0.0:8080", false},
		{"http://example.org", false},
		{"http://127.0.0.1.example.org", false},
		{"http://localhost.example.org:80", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
		{"http://user:pw@127.0.0.1:8080", false},
		{"http://127.0.0.1:8080?x=1", false},
		{"", false},
	} {
		err := CheckURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestConfigBounds(t *testing.T) {
	good := Config{URL: "http://127.0.0.1:1", Tokens: []string{"t"}, Enumerators: 1, Duration: time.Second}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"remote host", func(c *Config) { c.URL = "http://192.168.1.10:8080" }},
		{"no tokens", func(c *Config) { c.Tokens = nil }},
		{"token with space", func(c *Config) { c.Tokens = []string{"a b"} }},
		{"zero enumerators", func(c *Config) { c.Enumerators = 0 }},
		{"too many enumerators", func(c *Config) { c.Enumerators = MaxEnumerators + 1 }},
		{"no duration", func(c *Config) { c.Duration = 0 }},
		{"too long", func(c *Config) { c.Duration = MaxDuration + time.Second }},
		{"too many submissions", func(c *Config) { c.MaxSubmissions = MaxSubmissions + 1 }},
		{"batch too big", func(c *Config) { c.BatchSize = 501 }},
		{"batch share over 1", func(c *Config) { c.BatchShare = 1.5 }},
	} {
		c := good
		tc.mod(&c)
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%s: run started", tc.name)
		}
	}
}

// fakeAPI answers like dotm's submission routes, storing instance ids, and
// fails every failEvery-th request with 503 (or drops the connection) so
// that the client's retries are exercised.
type fakeAPI struct {
	mu        sync.Mutex
	stored    map[string]string
	requests  atomic.Int64
	failEvery int64
	drop      bool
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	if r.Header.Get("Authorization") != "Bearer tok" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var body struct {
		Submissions []json.RawMessage `json:"submissions"`
	}
	var items []json.RawMessage
	if r.URL.Path == "/api/v1/submissions/batch" {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		items = body.Submissions
	} else {
		var raw json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		items = []json.RawMessage{raw}
	}
	type result struct {
		Index      int    `json:"index"`
		InstanceID string `json:"instance_id"`
		Result     string `json:"result"`
	}
	results := make([]result, len(items))
	f.mu.Lock()
	for i, it := range items {
		var e Envelope
		json.Unmarshal(it, &e)
		results[i] = result{Index: i, InstanceID: e.InstanceID, Result: "created"}
		if old, ok := f.stored[e.InstanceID]; ok {
			results[i].Result = "duplicate"
			if old != string(it) {
				results[i].Result = "conflict"
			}
		}
		f.stored[e.InstanceID] = string(it)
	}
	f.mu.Unlock()
	// The write is done, but the answer may be lost: the client must retry
	// and get "duplicate".
	if f.failEvery > 0 && n%f.failEvery == 0 {
		if f.drop {
			panic(http.ErrAbortHandler)
		}
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path == "/api/v1/submissions/batch" {
		json.NewEncoder(w).Encode(map[string]any{"results": results})
		return
	}
	if results[0].Result == "created" {
		w.WriteHeader(http.StatusCreated)
	}
	json.NewEncoder(w).Encode(map[string]string{"id": results[0].InstanceID, "status": "received"})
}

func TestRunRetriesUntilAcknowledged(t *testing.T) {
	for _, drop := range []bool{false, true} {
		api := &fakeAPI{stored: map[string]string{}, failEvery: 3, drop: drop}
		srv := httptest.NewServer(api)
		var mu sync.Mutex
		acked := map[string]int{}
		sent := map[string]bool{}
		rep, err := Run(context.Background(), Config{
			URL: srv.URL, Tokens: []string{"tok"}, Enumerators: 6, Duration: time.Minute, MaxSubmissions: 300,
			BatchShare: 0.3, BatchSize: 7, RetryWindow: 5 * time.Second, Seed: 1,
			OnSend: func(id string, _ []byte) { mu.Lock(); sent[id] = true; mu.Unlock() },
			OnAck:  func(id string, _ []byte) { mu.Lock(); acked[id]++; mu.Unlock() },
		})
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rep.Sent != 300 || len(sent) != 300 {
			t.Fatalf("drop=%v: sent %d (%d distinct), want 300", drop, rep.Sent, len(sent))
		}
		if rep.Acknowledged != 300 || len(acked) != 300 || rep.Unacknowledged != 0 || rep.Rejected != 0 {
			t.Fatalf("drop=%v: report %+v, %d distinct acks", drop, rep, len(acked))
		}
		for id, n := range acked {
			if n != 1 {
				t.Fatalf("instance %s acknowledged %d times", id, n)
			}
		}
		if len(api.stored) != 300 {
			t.Fatalf("server stored %d", len(api.stored))
		}
		if rep.Retries == 0 || rep.Duplicates == 0 || rep.Created+rep.Duplicates != 300 {
			t.Errorf("drop=%v: retries %d, created %d, duplicates %d", drop, rep.Retries, rep.Created, rep.Duplicates)
		}
		if drop && rep.Errors["network"] == 0 || !drop && (rep.Errors["503"] == 0 || rep.ServerErrors != rep.Errors["503"]) {
			t.Errorf("drop=%v: errors %v, 5xx %d", drop, rep.Errors, rep.ServerErrors)
		}
		if rep.Single.N == 0 || rep.Batch.N == 0 || rep.Single.P50 > rep.Single.P99 || rep.Single.P99 > rep.Single.Max {
			t.Errorf("latencies %+v %+v", rep.Single, rep.Batch)
		}
		var b strings.Builder
		rep.Write(&b)
		if !strings.Contains(b.String(), "submissions/s") {
			t.Errorf("report:\n%s", b.String())
		}
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	srv := httptest.NewServer(&fakeAPI{stored: map[string]string{}})
	defer srv.Close()
	start := time.Now()
	rep, err := Run(context.Background(), Config{URL: srv.URL, Tokens: []string{"tok"}, Enumerators: 2, Duration: 300 * time.Millisecond, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("a 300ms run took %s", el)
	}
	if rep.Sent == 0 || rep.Acknowledged != rep.Sent {
		t.Fatalf("report %+v", rep)
	}
}

func TestRunGivesUpAfterRetryWindow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	rep, err := Run(context.Background(), Config{URL: srv.URL, Tokens: []string{"tok"}, Enumerators: 2, Duration: time.Second,
		MaxSubmissions: 4, BatchShare: -1, RetryWindow: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Acknowledged != 0 || rep.Unacknowledged != rep.Sent || rep.Sent != 4 || rep.ServerErrors == 0 {
		t.Fatalf("report %+v", rep)
	}
}

func TestRunCountsRejections(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
	}))
	defer srv.Close()
	rep, err := Run(context.Background(), Config{URL: srv.URL, Tokens: []string{"tok"}, Enumerators: 1, Duration: time.Second,
		MaxSubmissions: 3, BatchShare: -1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 3 || rep.Retries != 0 || rep.Errors["422"] != 3 {
		t.Fatalf("report %+v", rep)
	}
}

func TestSummarize(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(101-i)*time.Millisecond)
	}
	l := summarize(d)
	if l.N != 100 || l.P50 != 50*time.Millisecond || l.P95 != 95*time.Millisecond || l.P99 != 99*time.Millisecond || l.Max != 100*time.Millisecond {
		t.Fatalf("%+v", l)
	}
	if l := summarize([]time.Duration{7}); l.P50 != 7 || l.P99 != 7 {
		t.Fatalf("%+v", l)
	}
	if l := summarize(nil); l.N != 0 {
		t.Fatalf("%+v", l)
	}
}
