package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/client"
)

// Bounds of a run: whatever the caller asks, a run never goes beyond them.
const (
	MaxEnumerators  = 1024
	MaxDuration     = time.Hour
	MaxSubmissions  = 1_000_000
	DefaultMaxCount = 100_000
	maxBatch        = 500
)

// Config describes a run.
type Config struct {
	// URL is the base address of a dotm API on a loopback address, e.g.
	// http://127.0.0.1:8080. Other hosts are refused.
	URL string
	// Tokens are enumerators' bearer tokens; simulated enumerator i signs in
	// with Tokens[i % len(Tokens)].
	Tokens []string
	// Enumerators is the number of concurrent simulated enumerators.
	Enumerators int
	// Duration is how long new submissions are started; retries of posts
	// already started may run on for up to RetryWindow.
	Duration time.Duration
	// MaxSubmissions stops the run after this many distinct instances were
	// sent (0 means DefaultMaxCount).
	MaxSubmissions int
	// BatchShare is the share of posts that are batches (default 0.2; a
	// negative value means none); BatchSize the envelopes in a batch
	// (default 20, at most 500).
	BatchShare float64
	BatchSize  int
	// RetryWindow bounds how long one post is retried when it is not
	// acknowledged (network error, 5xx, 408, 429), with exponential backoff
	// from 50 ms up to 2 s, or the server's Retry-After up to 5 s. Default
	// 30 s.
	RetryWindow time.Duration
	// Timeout bounds one HTTP attempt (default 30 s).
	Timeout time.Duration
	// Seed fixes the submissions each enumerator sends.
	Seed uint64
	// FirstEnumerator numbers the simulated enumerators' generators from
	// this value on (household ids and device ids carry the number), so
	// that successive runs against one store send different households.
	FirstEnumerator int
	// Client sends the requests; nil means a client with keep-alive
	// connections sized to Enumerators.
	Client *http.Client
	// OnAck, when set, is called once for every instance the server
	// acknowledged (201 or 200, or created/duplicate in a batch), with the
	// envelope exactly as it was sent. Calls may come from many goroutines.
	OnAck func(instanceID string, envelope []byte)
	// OnSend, when set, is called before an instance is first posted.
	OnSend func(instanceID string, envelope []byte)
}

// Latency summarizes the latencies of HTTP attempts that got an answer.
type Latency struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

// Report is what a run measured.
type Report struct {
	Enumerators int
	// Elapsed is the wall time of the whole run, retries included.
	Elapsed time.Duration
	// Sent is the number of distinct instances posted; Acknowledged of those
	// the server acknowledged; Unacknowledged of those given up on.
	Sent, Acknowledged, Unacknowledged int
	// Created and Duplicates split Acknowledged: a duplicate is a retry of
	// an instance the server had already stored.
	Created, Duplicates int
	// Rejected counts instances the server refused for good (4xx, or a
	// batch item invalid, conflict or forbidden): none are expected.
	Rejected int
	// Requests counts HTTP attempts; Retries the attempts after the first.
	Requests, Retries int
	// Single and Batch are the latencies of single and batch posts.
	Single, Batch Latency
	// Errors counts unacknowledged attempts and refused items by status
	// ("503", "network", "batch item invalid", …).
	Errors map[string]int
	// ServerErrors counts 5xx answers.
	ServerErrors int
}

// SubmissionsPerSecond is acknowledged instances per second of the run.
func (r Report) SubmissionsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Acknowledged) / r.Elapsed.Seconds()
}

// Write prints the report for people.
func (r Report) Write(w io.Writer) {
	fmt.Fprintf(w, "enumerators        %d\n", r.Enumerators)
	fmt.Fprintf(w, "elapsed            %s\n", r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "instances sent     %d (acknowledged %d: created %d, duplicate %d; rejected %d; unacknowledged %d)\n",
		r.Sent, r.Acknowledged, r.Created, r.Duplicates, r.Rejected, r.Unacknowledged)
	fmt.Fprintf(w, "throughput         %.1f submissions/s\n", r.SubmissionsPerSecond())
	fmt.Fprintf(w, "requests           %d (retries %d, 5xx %d)\n", r.Requests, r.Retries, r.ServerErrors)
	for _, l := range []struct {
		name string
		l    Latency
	}{{"single", r.Single}, {"batch", r.Batch}} {
		fmt.Fprintf(w, "latency %-10s n=%d p50=%s p95=%s p99=%s max=%s\n", l.name, l.l.N, ms(l.l.P50), ms(l.l.P95), ms(l.l.P99), ms(l.l.Max))
	}
	keys := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		fmt.Fprintln(w, "errors             none")
	}
	for _, k := range keys {
		fmt.Fprintf(w, "errors %-11s %d\n", k, r.Errors[k])
	}
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + "ms"
}

// CheckURL accepts an http or https base URL whose host is on the loopback
// interface (localhost, 127.0.0.0/8 or ::1), and nothing else.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("loadtest: url %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("loadtest: url %q: want http:// or https://", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("loadtest: url %q: give only scheme, host and port", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("loadtest: url %q: refusing a host that is not on the loopback interface (localhost, 127.0.0.1, ::1); load tests run only against a server on this machine", raw)
	}
	return nil
}

func (c *Config) check() error {
	if err := CheckURL(c.URL); err != nil {
		return err
	}
	c.URL = strings.TrimRight(c.URL, "/")
	if len(c.Tokens) == 0 {
		return errors.New("loadtest: no enumerator tokens")
	}
	for i, t := range c.Tokens {
		if t == "" || strings.ContainsAny(t, " \t\r\n") {
			return fmt.Errorf("loadtest: token %d is empty or has spaces", i+1)
		}
	}
	if c.Enumerators < 1 || c.Enumerators > MaxEnumerators {
		return fmt.Errorf("loadtest: enumerators %d: want 1 to %d", c.Enumerators, MaxEnumerators)
	}
	if c.Duration <= 0 || c.Duration > MaxDuration {
		return fmt.Errorf("loadtest: duration %s: want more than 0 and at most %s", c.Duration, MaxDuration)
	}
	if c.MaxSubmissions == 0 {
		c.MaxSubmissions = DefaultMaxCount
	}
	if c.MaxSubmissions < 1 || c.MaxSubmissions > MaxSubmissions {
		return fmt.Errorf("loadtest: max submissions %d: want 1 to %d", c.MaxSubmissions, MaxSubmissions)
	}
	if c.BatchShare == 0 {
		c.BatchShare = 0.2
	}
	if c.BatchShare > 1 {
		return fmt.Errorf("loadtest: batch share %g: want at most 1", c.BatchShare)
	}
	if c.BatchSize == 0 {
		c.BatchSize = 20
	}
	if c.BatchSize < 1 || c.BatchSize > maxBatch {
		return fmt.Errorf("loadtest: batch size %d: want 1 to %d", c.BatchSize, maxBatch)
	}
	if c.RetryWindow == 0 {
		c.RetryWindow = 30 * time.Second
	}
	if c.RetryWindow < 0 || c.RetryWindow > 10*time.Minute {
		return fmt.Errorf("loadtest: retry window %s: want at most 10m", c.RetryWindow)
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Client == nil {
		c.Client = &http.Client{Transport: &http.Transport{
			Proxy:               nil, // never through a proxy: loopback only
			MaxIdleConns:        c.Enumerators * 2,
			MaxIdleConnsPerHost: c.Enumerators * 2,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	return nil
}

// run state shared by the enumerators.
type runner struct {
	cfg      Config
	mu       sync.Mutex
	rep      Report
	single   []time.Duration
	batch    []time.Duration
	budget   int // instances left to send
	deadline time.Time
}

// Run simulates cfg.Enumerators enumerators posting submissions until
// cfg.Duration has passed or cfg.MaxSubmissions instances were sent, then
// waits for the retries in flight (each bounded by cfg.RetryWindow) and
// reports. An error means the run could not start (bad config); what
// happened during the run is in the report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.check(); err != nil {
		return Report{}, err
	}
	r := &runner{cfg: cfg, budget: cfg.MaxSubmissions}
	r.rep.Enumerators = cfg.Enumerators
	r.rep.Errors = map[string]int{}
	start := time.Now()
	r.deadline = start.Add(cfg.Duration)
	// A hard stop for everything, retries included.
	ctx, cancel := context.WithDeadline(ctx, r.deadline.Add(cfg.RetryWindow+cfg.Timeout))
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < cfg.Enumerators; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r.enumerator(ctx, i)
		}(i)
	}
	wg.Wait()
	r.rep.Elapsed = time.Since(start)
	r.rep.Single = summarize(r.single)
	r.rep.Batch = summarize(r.batch)
	return r.rep, nil
}

// take reserves up to n instances of the run's budget.
func (r *runner) take(n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Now().After(r.deadline) {
		return 0
	}
	n = min(n, r.budget)
	r.budget -= n
	return n
}

func (r *runner) enumerator(ctx context.Context, i int) {
	gen := NewGenerator(r.cfg.Seed, r.cfg.FirstEnumerator+i)
	rng := rand.New(rand.NewPCG(r.cfg.Seed^0x9e3779b97f4a7c15, uint64(i)))
	token := r.cfg.Tokens[i%len(r.cfg.Tokens)]
	for ctx.Err() == nil {
		batch := r.cfg.BatchShare > 0 && rng.Float64() < r.cfg.BatchShare
		want := 1
		if batch {
			want = r.cfg.BatchSize
		}
		n := r.take(want)
		if n == 0 {
			return
		}
		envs := make([][]byte, n)
		ids := make([]string, n)
		for k := range envs {
			e := gen.Next()
			b, err := json.Marshal(e)
			if err != nil {
				panic(err) // plain maps and strings always marshal
			}
			envs[k], ids[k] = b, e.InstanceID
			if r.cfg.OnSend != nil {
				r.cfg.OnSend(e.InstanceID, b)
			}
		}
		r.mu.Lock()
		r.rep.Sent += n
		r.mu.Unlock()
		if batch {
			r.postBatch(ctx, token, ids, envs)
		} else {
			r.postSingle(ctx, token, ids[0], envs[0])
		}
	}
}

// attempt is one HTTP answer (or failure to get one).
type attempt struct {
	status     int
	body       []byte
	retryAfter time.Duration
	err        error
}

func (r *runner) send(ctx context.Context, token, path string, body []byte, isBatch bool) attempt {
	actx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	t0 := time.Now()
	resp, err := client.New(r.cfg.URL, token, r.cfg.Client).Send(actx, http.MethodPost, path, body, "application/json")
	d := time.Since(t0)
	if err != nil {
		r.count(func(rep *Report) { rep.Requests++; rep.Errors["network"]++ })
		return attempt{err: err}
	}
	a := attempt{status: resp.Status, body: resp.Body, retryAfter: min(resp.RetryAfter, 5*time.Second)}
	r.mu.Lock()
	r.rep.Requests++
	if isBatch {
		r.batch = append(r.batch, d)
	} else {
		r.single = append(r.single, d)
	}
	if a.status >= 500 {
		r.rep.ServerErrors++
	}
	if a.status >= 300 {
		r.rep.Errors[strconv.Itoa(a.status)]++
	}
	r.mu.Unlock()
	return a
}

func (r *runner) count(f func(*Report)) {
	r.mu.Lock()
	f(&r.rep)
	r.mu.Unlock()
}

// retryable reports whether an attempt may succeed if sent again.
func retryable(a attempt) bool {
	return a.err != nil || a.status >= 500 || a.status == http.StatusRequestTimeout || a.status == http.StatusTooManyRequests
}

// retry sends body until it gets an answer that is not retryable, or the
// retry window is over; it returns the last attempt.
func (r *runner) retry(ctx context.Context, token, path string, body []byte, isBatch bool) attempt {
	end := time.Now().Add(r.cfg.RetryWindow)
	backoff := 50 * time.Millisecond
	for n := 0; ; n++ {
		if n > 0 {
			r.count(func(rep *Report) { rep.Retries++ })
		}
		a := r.send(ctx, token, path, body, isBatch)
		if !retryable(a) {
			return a
		}
		wait := backoff
		if a.retryAfter > 0 {
			wait = a.retryAfter
		}
		backoff = min(backoff*2, 2*time.Second)
		if time.Now().Add(wait).After(end) || ctx.Err() != nil {
			return a
		}
		select {
		case <-ctx.Done():
			return a
		case <-time.After(wait):
		}
	}
}

func (r *runner) postSingle(ctx context.Context, token, id string, env []byte) {
	a := r.retry(ctx, token, "/api/v1/submissions", env, false)
	switch {
	case a.status == http.StatusCreated || a.status == http.StatusOK:
		r.ack(id, env, a.status == http.StatusCreated)
	case retryable(a):
		r.count(func(rep *Report) { rep.Unacknowledged++ })
	default:
		r.count(func(rep *Report) { rep.Rejected++ })
	}
}

func (r *runner) postBatch(ctx context.Context, token string, ids []string, envs [][]byte) {
	var body bytes.Buffer
	body.WriteString(`{"submissions":[`)
	for k, e := range envs {
		if k > 0 {
			body.WriteByte(',')
		}
		body.Write(e)
	}
	body.WriteString(`]}`)
	a := r.retry(ctx, token, "/api/v1/submissions/batch", body.Bytes(), true)
	if a.status != http.StatusOK {
		r.count(func(rep *Report) {
			if retryable(a) {
				rep.Unacknowledged += len(ids)
			} else {
				rep.Rejected += len(ids)
			}
		})
		return
	}
	var res dotm.BatchAnswer
	if err := json.Unmarshal(a.body, &res); err != nil || len(res.Results) != len(ids) {
		r.count(func(rep *Report) { rep.Errors["batch answer unreadable"]++; rep.Unacknowledged += len(ids) })
		return
	}
	for _, it := range res.Results {
		if it.Index < 0 || it.Index >= len(ids) || it.InstanceID != ids[it.Index] {
			r.count(func(rep *Report) { rep.Errors["batch answer mismatched"]++; rep.Unacknowledged++ })
			continue
		}
		switch it.Result {
		case dotm.ResultCreated, dotm.ResultDuplicate:
			r.ack(ids[it.Index], envs[it.Index], it.Result == dotm.ResultCreated)
		default:
			r.count(func(rep *Report) { rep.Errors["batch item "+it.Result]++; rep.Rejected++ })
		}
	}
}

func (r *runner) ack(id string, env []byte, created bool) {
	r.mu.Lock()
	r.rep.Acknowledged++
	if created {
		r.rep.Created++
	} else {
		r.rep.Duplicates++
	}
	r.mu.Unlock()
	if r.cfg.OnAck != nil {
		r.cfg.OnAck(id, env)
	}
}

// summarize gives nearest-rank percentiles: the p-th percentile is the
// smallest value with at least p% of the values at or below it.
func summarize(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		k := int(math.Ceil(float64(len(s))*p/100)) - 1
		return s[max(0, min(k, len(s)-1))]
	}
	return Latency{N: len(s), P50: rank(50), P95: rank(95), P99: rank(99), Max: s[len(s)-1]}
}
