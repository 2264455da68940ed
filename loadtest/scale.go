package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/client"
	"github.com/dotm-survey/dotm/mongodb"
)

// ScaleConfig describes a scale run: one embedded store grown through a
// real `dotm serve` process to Target submissions, measured at each of
// Checkpoints.
type ScaleConfig struct {
	// Binary is the dotm executable to run as `dotm serve`, `dotm users
	// add` and `dotm backup`.
	Binary string
	// DataDir is the server's data directory. It must not exist yet or be
	// empty: a run grows a store of its own from nothing.
	DataDir string
	// Target is the number of submissions to grow to (at most
	// MaxSubmissions); Checkpoints the sizes to measure at (Target is
	// always one).
	Target      int
	Checkpoints []int
	// Budget bounds the wall time of the growth: when it has passed, the
	// run stops growing, measures the size it reached and ends. Default 2h.
	Budget time.Duration
	// Enumerators post the growth in parallel (default 4), in offline-sync
	// batches of BatchSize (default 100).
	Enumerators, BatchSize int
	// Burst is how long the ingest rate is measured at each checkpoint,
	// with 16 enumerators and the default mix of single posts and batches
	// of 20 (default 10s).
	Burst time.Duration
	// Samples is how many times each console request is timed (default 20).
	Samples int
	// BackupUpTo: at checkpoints of at most this many submissions, time
	// `dotm backup` of the whole store (0: never).
	BackupUpTo int
	// Seed fixes the generated submissions.
	Seed uint64
	// Progress receives a line every ProgressEvery (default 15s) while
	// growing, and one per step; nil for none.
	Progress      io.Writer
	ProgressEvery time.Duration
	// OnCheckpoint, when set, gets each checkpoint as soon as it is
	// measured.
	OnCheckpoint func(Checkpoint)
}

// Checkpoint is what a scale run measured at one store size.
type Checkpoint struct {
	Submissions int `json:"submissions"`
	// Listed households (2 per submission) and audit entries (4 per
	// submission) in the store.
	Listed int `json:"listed_households"`
	Audit  int `json:"audit_entries"`
	// GrowRate is submissions per second while growing from the previous
	// checkpoint, with their assignments, listings and audit entries.
	GrowRate float64 `json:"grow_rate"`
	// Startup is the time from starting `dotm serve` on the store until
	// /readyz answers 200.
	Startup time.Duration `json:"startup_ns"`
	// Settle is the time from the start until the server's CPU went idle
	// (under 5% of a core over a second): the work it does at start-up in
	// the background after it is ready, the reconciliation of the tallies
	// against every submission. The requests and the burst are measured
	// after it (zero: not measured, in runs before it was).
	Settle time.Duration `json:"settle_ns,omitempty"`
	// RSSSettledKB is the server's peak resident memory (VmHWM) when it
	// settled.
	RSSSettledKB int64 `json:"rss_settled_kb,omitempty"`
	// DiskBytes is the size of the store's files (SQLite, WAL).
	DiskBytes int64 `json:"disk_bytes"`
	// RSSStartKB is the server's resident memory right after start-up,
	// RSSPeakKB its peak (VmHWM) after the burst and the requests.
	RSSStartKB int64 `json:"rss_start_kb"`
	RSSPeakKB  int64 `json:"rss_peak_kb"`
	// Burst is the ingest burst through HTTP.
	Burst Report `json:"burst"`
	// Requests are the console's and the API's reads.
	Requests []RequestTiming `json:"requests"`
	// Backup is the time of `dotm backup` and the size of its file (zero
	// when not measured).
	Backup      time.Duration `json:"backup_ns"`
	BackupBytes int64         `json:"backup_bytes"`
	// At is when the checkpoint was measured.
	At time.Time `json:"at"`
}

// RequestTiming is the latency of one request timed Samples times.
type RequestTiming struct {
	Name     string        `json:"name"`
	N        int           `json:"n"`
	P50      time.Duration `json:"p50_ns"`
	P95      time.Duration `json:"p95_ns"`
	Max      time.Duration `json:"max_ns"`
	Bytes    int           `json:"bytes"` // size of the answer
	Failures int           `json:"failures"`
}

// ScaleReport is the outcome of a scale run.
type ScaleReport struct {
	Checkpoints []Checkpoint
	// Stopped says why the growth ended before Target, or is empty.
	Stopped string
	Elapsed time.Duration
}

// Names of what a scale run creates in its store.
const (
	scaleSurvey = "scale"
	scalePilot  = "scale-pilot"
)

func (c *ScaleConfig) check() error {
	if c.Binary == "" {
		return errors.New("scale: no dotm binary")
	}
	if c.DataDir == "" {
		return errors.New("scale: no data dir")
	}
	if ents, err := os.ReadDir(c.DataDir); err == nil && len(ents) > 0 {
		return fmt.Errorf("scale: data dir %s is not empty: a scale run grows a store of its own", c.DataDir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("scale: data dir: %w", err)
	}
	if c.Target < 100 || c.Target > MaxSubmissions {
		return fmt.Errorf("scale: target %d: want 100 to %d submissions", c.Target, MaxSubmissions)
	}
	cps := []int{c.Target}
	for _, n := range c.Checkpoints {
		if n < 100 || n > c.Target {
			return fmt.Errorf("scale: checkpoint %d: want 100 to the target %d", n, c.Target)
		}
		cps = append(cps, n)
	}
	slices.Sort(cps)
	c.Checkpoints = slices.Compact(cps)
	if c.Budget == 0 {
		c.Budget = 2 * time.Hour
	}
	if c.Budget < 0 || c.Budget > 24*time.Hour {
		return fmt.Errorf("scale: budget %s: want at most 24h", c.Budget)
	}
	if c.Enumerators == 0 {
		c.Enumerators = 4
	}
	if c.Enumerators < 1 || c.Enumerators > 64 {
		return fmt.Errorf("scale: enumerators %d: want 1 to 64", c.Enumerators)
	}
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.BatchSize < 1 || c.BatchSize > maxBatch {
		return fmt.Errorf("scale: batch size %d: want 1 to %d", c.BatchSize, maxBatch)
	}
	if c.Burst == 0 {
		c.Burst = 10 * time.Second
	}
	if c.Burst < time.Second || c.Burst > 5*time.Minute {
		return fmt.Errorf("scale: burst %s: want 1s to 5m", c.Burst)
	}
	if c.Samples == 0 {
		c.Samples = 20
	}
	if c.Samples < 1 || c.Samples > 1000 {
		return fmt.Errorf("scale: samples %d: want 1 to 1000", c.Samples)
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = 15 * time.Second
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return nil
}

// scaleRun is the state of a run.
type scaleRun struct {
	cfg       ScaleConfig
	srv       *server
	url       string
	addr      string
	admin     *client.Client
	sup       *client.Client
	enum      *client.Client // the first enumerator: its own submissions and assignments
	enumTok   []string
	enumNames []string
	subs      int // acknowledged submissions in the main survey
	listed    int // listed households of the main survey
	audit     int
	assigned  int
	segment   int
	store     *mongodb.Store // the server's store, reached through the address it published
}

// Scale grows one embedded store through a `dotm serve` process it starts
// on a loopback port, measuring at each checkpoint. Submissions go in
// through the API's batch endpoint (POST /submissions/batch: validation,
// sealing of identifiers, tallies, fingerprints), assignments through
// POST /surveys/{id}/assignments, listings through POST
// /surveys/{id}/listings (100 households to a PSU), and 4 audit entries
// per submission through the store's Record, one entry to an insert as a
// server records them, into the server's own store (reached the way other
// dotm commands reach it while it serves). At each
// the server is stopped and started again (start-up time), an
// ingest burst and the console's requests are timed, and the store's size
// on disk and the server's memory are read.
//
// Scale stops by itself: at Target, or when Budget has passed (the size
// reached is then measured as a last checkpoint), or at the first error.
func Scale(ctx context.Context, cfg ScaleConfig) (ScaleReport, error) {
	if err := cfg.check(); err != nil {
		return ScaleReport{}, err
	}
	start := time.Now()
	r := &scaleRun{cfg: cfg}
	var rep ScaleReport
	defer func() {
		if r.store != nil {
			_ = r.store.Close(context.Background())
		}
		if r.srv != nil {
			_ = r.srv.stop()
		}
	}()
	if err := r.setup(ctx); err != nil {
		return rep, err
	}
	deadline := start.Add(cfg.Budget)
	for _, n := range cfg.Checkpoints {
		t0 := time.Now()
		from := r.subs
		if err := r.grow(ctx, n, deadline); err != nil {
			return rep, err
		}
		rate := float64(r.subs-from) / time.Since(t0).Seconds()
		if r.subs < n {
			rep.Stopped = fmt.Sprintf("the budget of %s ran out at %d submissions on the way to %d", cfg.Budget, r.subs, n)
		}
		cp, err := r.measure(ctx, rate)
		if err != nil {
			return rep, err
		}
		rep.Checkpoints = append(rep.Checkpoints, cp)
		if cfg.OnCheckpoint != nil {
			cfg.OnCheckpoint(cp)
		}
		if rep.Stopped != "" || ctx.Err() != nil {
			break
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, ctx.Err()
}

func (r *scaleRun) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Progress, "%s scale: %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// setup makes the admin, starts the server, and creates the surveys, the
// supervisor, the enumerators and the pilot's listings.
func (r *scaleRun) setup(ctx context.Context) error {
	if err := os.MkdirAll(r.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, r.cfg.Binary, "users", "add", "--data-dir", r.cfg.DataDir, "--name", "scale-admin", "--role", "admin")
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scale: dotm users add: %v: %s", err, errb.String())
	}
	adminTok := strings.TrimSpace(out.String())
	if _, err := r.restart(ctx); err != nil {
		return err
	}
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}}
	r.admin = client.New(r.url, adminTok, hc)
	toks, err := Setup(ctx, hc, r.url, adminTok, scaleSurvey, "sc", 16)
	if err != nil {
		return err
	}
	r.enumTok = toks
	for i := range toks {
		r.enumNames = append(r.enumNames, fmt.Sprintf("sc-%03d", i+1))
	}
	r.enum = client.New(r.url, toks[0], hc)
	if _, err := r.admin.CreateSurvey(ctx, client.SurveyRequest{ID: scalePilot, Country: "Load test", Title: "dotm scale pilot", Languages: []string{"en"}}); err != nil {
		return fmt.Errorf("scale: create survey %s: %w", scalePilot, err)
	}
	supTok, err := r.admin.AddUser(ctx, "scale-sup", dotm.RoleSupervisor, []string{scaleSurvey, scalePilot})
	if err != nil {
		return fmt.Errorf("scale: add supervisor: %w", err)
	}
	r.sup = client.New(r.url, supTok, hc)
	// The pilot: 20 PSUs of 100 listed households, fixed while the main
	// survey grows, as the listings of a PSU the console reads.
	for p := range 20 {
		if err := r.sup.PostListing(ctx, scalePilot, listing(fmt.Sprintf("pilot-%02d", p), 100)); err != nil {
			return fmt.Errorf("scale: pilot listing: %w", err)
		}
	}
	return r.connect(ctx)
}

// connect opens the running server's store the way other dotm commands
// reach it while it serves: through the address it published in the data
// directory (mongodb.Open in shared mode).
func (r *scaleRun) connect(ctx context.Context) error {
	s, err := mongodb.Open(ctx, mongodb.Config{DataDir: r.cfg.DataDir, ConnectTimeout: 30 * time.Second})
	if err != nil {
		return fmt.Errorf("scale: the server's store: %w", err)
	}
	if !s.Shared() {
		_ = s.Close(ctx)
		return errors.New("scale: the store was not the running server's")
	}
	r.store = s
	return nil
}

func listing(psu string, n int) dotm.ListingRequest {
	hh := make([]dotm.ListedHousehold, n)
	classes := []dotm.HouseholdClass{dotm.CurrentMigrant, dotm.ReturnMigrant, dotm.NonMigrant}
	for i := range hh {
		hh[i] = dotm.ListedHousehold{HouseholdID: fmt.Sprintf("%s-%03d", psu, i), Class: classes[i%3]}
	}
	return dotm.ListingRequest{PSU: psu, Households: hh}
}

// grow adds submissions to the main survey until it holds n or the
// deadline passes, with their assignments, listings and audit entries.
func (r *scaleRun) grow(ctx context.Context, n int, deadline time.Time) error {
	for r.subs < n && ctx.Err() == nil {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		// Segments of at most 20,000 so that the listings and the audit
		// keep pace with the submissions.
		k := min(n-r.subs, 20_000)
		var acked atomic.Int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(r.cfg.ProgressEvery)
			defer t.Stop()
			t0, base := time.Now(), r.subs
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					a := int(acked.Load())
					r.logf("%d submissions (%.0f/s since %d)", base+a, float64(a)/time.Since(t0).Seconds(), base)
				}
			}
		}()
		rep, err := Run(ctx, Config{URL: r.url, Tokens: r.enumTok, Enumerators: r.cfg.Enumerators,
			Duration: min(left, MaxDuration), MaxSubmissions: k, BatchShare: 1, BatchSize: r.cfg.BatchSize,
			Seed: r.cfg.Seed, FirstEnumerator: r.segment * r.cfg.Enumerators, RetryWindow: time.Minute, Timeout: 2 * time.Minute,
			OnAck: func(string, []byte) { acked.Add(1) }})
		close(stop)
		<-done
		if err != nil {
			return err
		}
		r.segment++
		if rep.Created != rep.Acknowledged || rep.Unacknowledged > 0 || rep.Rejected > 0 || rep.ServerErrors > 0 {
			var w strings.Builder
			rep.Write(&w)
			return fmt.Errorf("scale: growing to %d: not every submission was stored:\n%s", n, w.String())
		}
		from := r.subs
		r.subs += rep.Created
		if err := r.companions(ctx, from, r.subs); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// companions writes what goes with submissions from..to: one assignment
// each, 2 listed households each (PSUs of 100), 4 audit entries each.
func (r *scaleRun) companions(ctx context.Context, from, to int) error {
	for r.assigned < to {
		k := min(to-r.assigned, 5000)
		items := make([]dotm.AssignmentItem, k)
		for j := range items {
			i := r.assigned + j
			items[j] = dotm.AssignmentItem{ID: fmt.Sprintf("sa-%07d", i), Enumerator: r.enumNames[i%len(r.enumNames)],
				HouseholdID: fmt.Sprintf("hh-%07d", i), PSU: fmt.Sprintf("psu-%05d", i/50), FormID: FormID()}
		}
		if _, err := r.admin.CreateAssignments(ctx, scaleSurvey, dotm.AssignmentsRequest{Assignments: items}); err != nil {
			return fmt.Errorf("scale: create assignments: %w", err)
		}
		r.assigned += k
	}
	for r.listed+100 <= 2*to {
		if err := r.sup.PostListing(ctx, scaleSurvey, listing(fmt.Sprintf("psu-%05d", r.listed/100), 100)); err != nil {
			return fmt.Errorf("scale: listing: %w", err)
		}
		r.listed += 100
	}
	// Audit entries as a server writes them: one at a time, through the
	// store's Record, from a few writers at once.
	first := r.audit / 4
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			errs[w] = r.auditFrom(ctx, first+w, to, writers)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.audit = 4 * to
	return nil
}

// auditFrom records the audit entries of submissions i, i+step, … below to.
func (r *scaleRun) auditFrom(ctx context.Context, i, to, step int) error {
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	actions := []string{"review", "read_identifiers", "review", "sign_in_failed"}
	for ; i < to; i += step {
		at := base.Add(time.Duration(i) * time.Second)
		for e, a := range actions {
			err := r.store.Record(ctx, dotm.AuditEntry{Time: at.Add(time.Duration(e) * time.Millisecond), Actor: "scale-sup",
				Role: dotm.RoleSupervisor, Action: a, Survey: scaleSurvey, Target: fmt.Sprintf("hh-%07d", i)})
			if err != nil {
				return fmt.Errorf("scale: audit entry: %w", err)
			}
		}
	}
	return nil
}

// measure restarts the server and times what a checkpoint records.
func (r *scaleRun) measure(ctx context.Context, rate float64) (Checkpoint, error) {
	cp := Checkpoint{Submissions: r.subs, Listed: r.listed, Audit: r.audit, GrowRate: rate, At: time.Now().UTC()}
	r.logf("checkpoint at %d submissions (grew at %.0f/s): restarting the server", r.subs, rate)
	if r.store != nil {
		_ = r.store.Close(ctx)
		r.store = nil
	}
	var err error
	if cp.Startup, err = r.restart(ctx); err != nil {
		return cp, err
	}
	cp.RSSStartKB, _ = r.srv.memKB("VmRSS")
	r.logf("ready after %s; waiting for the server's start-up work to end", cp.Startup.Round(time.Millisecond))
	if cp.Settle, err = r.srv.settle(ctx, 30*time.Minute); err != nil {
		return cp, err
	}
	cp.Settle += cp.Startup
	cp.RSSSettledKB, _ = r.srv.memKB("VmHWM")
	if err := r.connect(ctx); err != nil {
		return cp, err
	}
	if cp.Requests, err = r.requests(ctx); err != nil {
		return cp, err
	}
	r.logf("requests timed; ingest burst of %s", r.cfg.Burst)
	cp.Burst, err = Run(ctx, Config{URL: r.url, Tokens: r.enumTok, Enumerators: 16, Duration: r.cfg.Burst,
		MaxSubmissions: MaxSubmissions, Seed: r.cfg.Seed + 1, FirstEnumerator: 500 + r.segment*16})
	if err != nil {
		return cp, err
	}
	r.segment++
	r.subs += cp.Burst.Created
	cp.RSSPeakKB, _ = r.srv.memKB("VmHWM")
	cp.DiskBytes = dirSize(filepath.Join(r.cfg.DataDir, "db"))
	if r.cfg.BackupUpTo > 0 && cp.Submissions <= r.cfg.BackupUpTo {
		file := filepath.Join(r.cfg.DataDir, "scale-backup.tmp")
		t0 := time.Now()
		var errb bytes.Buffer
		cmd := exec.CommandContext(ctx, r.cfg.Binary, "backup", "--data-dir", r.cfg.DataDir, "--out", file)
		cmd.Env = serverEnv()
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			return cp, fmt.Errorf("scale: dotm backup: %v: %s", err, errb.String())
		}
		cp.Backup = time.Since(t0)
		if st, err := os.Stat(file); err == nil {
			cp.BackupBytes = st.Size()
		}
		_ = os.Remove(file)
	}
	// The burst's submissions get their companions too, so that the next
	// checkpoint's store keeps the proportions.
	if err := r.companions(ctx, cp.Submissions, r.subs); err != nil {
		return cp, err
	}
	r.logf("checkpoint %d: start-up %s, disk %.0f MB, RSS %d/%d MB, burst %.0f/s", cp.Submissions,
		cp.Startup.Round(time.Millisecond), float64(cp.DiskBytes)/1e6, cp.RSSStartKB/1024, cp.RSSPeakKB/1024, cp.Burst.SubmissionsPerSecond())
	return cp, nil
}

// scaleRequest is one of the reads timed at a checkpoint.
type scaleRequest struct {
	name string
	c    *client.Client
	path string
}

// requests times the console's and the API's reads, each cfg.Samples
// times.
func (r *scaleRun) requests(ctx context.Context) ([]RequestTiming, error) {
	// A cursor in the middle of the survey's submissions: the last id of a
	// page that starts from a random-looking id.
	var page struct {
		Submissions []struct {
			ID string `json:"id"`
		} `json:"submissions"`
	}
	if _, err := r.admin.Do(ctx, http.MethodGet, "/api/v1/submissions?survey="+scaleSurvey+"&after=8&limit=1", nil, "", &page); err != nil {
		return nil, fmt.Errorf("scale: a middle submission: %w", err)
	}
	mid := "8"
	if len(page.Submissions) > 0 {
		mid = page.Submissions[0].ID
	}
	var audit struct {
		Entries []dotm.AuditEntry `json:"entries"`
	}
	before := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(r.audit/8) * time.Second)
	if _, err := r.admin.Do(ctx, http.MethodGet, "/api/v1/audit?limit=1&before="+url.QueryEscape(before.Format(time.RFC3339Nano)), nil, "", &audit); err != nil {
		return nil, fmt.Errorf("scale: a middle audit entry: %w", err)
	}
	auditMid := url.Values{"action": {"sign_in_failed"}, "limit": {"100"}}
	if len(audit.Entries) > 0 {
		auditMid.Set("before", audit.Entries[0].Time.Format(time.RFC3339Nano))
		auditMid.Set("before_id", audit.Entries[0].ID)
	}
	qs := []scaleRequest{
		{"GET /submissions?survey&limit=100", r.admin, "/api/v1/submissions?survey=" + scaleSurvey + "&limit=100"},
		{"GET /submissions?survey&status=received", r.sup, "/api/v1/submissions?survey=" + scaleSurvey + "&status=received&limit=100"},
		{"GET /submissions?survey&after=(middle)", r.admin, "/api/v1/submissions?survey=" + scaleSurvey + "&after=" + url.QueryEscape(mid) + "&limit=100"},
		{"GET /submissions (enumerator's own)", r.enum, "/api/v1/submissions?limit=100"},
		{"GET /assignments (enumerator's own)", r.enum, "/api/v1/assignments?status=assigned"},
		{"GET /surveys/{pilot}/listings (20 PSUs)", r.sup, "/api/v1/surveys/" + scalePilot + "/listings"},
		{"GET /audit?limit=100", r.admin, "/api/v1/audit?limit=100"},
		{"GET /audit?action&before&before_id (middle)", r.admin, "/api/v1/audit?" + auditMid.Encode()},
		{"GET /surveys/{id}/progress", r.sup, "/api/v1/surveys/" + scaleSurvey + "/progress"},
	}
	var out []RequestTiming
	for _, q := range qs {
		t := RequestTiming{Name: q.name}
		var ds []time.Duration
		for range r.cfg.Samples {
			t0 := time.Now()
			resp, err := q.c.Send(ctx, http.MethodGet, q.path, nil, "")
			d := time.Since(t0)
			if err != nil || resp.Status != http.StatusOK {
				t.Failures++
				if t.Failures == 1 {
					r.logf("%s: %v %d %.200s", q.name, err, resp.Status, resp.Body)
				}
				continue
			}
			t.Bytes = len(resp.Body)
			ds = append(ds, d)
		}
		l := summarize(ds)
		t.N, t.P50, t.P95, t.Max = l.N, l.P50, l.P95, l.Max
		out = append(out, t)
	}
	return out, nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// server is a `dotm serve` process on a loopback port.
type server struct {
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// restart stops the running server, if any, starts a new one on a free
// loopback port and returns how long it took to answer /readyz.
func (r *scaleRun) restart(ctx context.Context) (time.Duration, error) {
	if r.srv != nil {
		if err := r.srv.stop(); err != nil {
			return 0, err
		}
		r.srv = nil
	}
	if r.addr == "" {
		// One loopback port for the whole run, so that clients keep their
		// address across restarts.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("scale: a free port: %w", err)
		}
		r.addr = l.Addr().String()
		l.Close()
	}
	addr := r.addr
	logf, err := os.OpenFile(filepath.Join(r.cfg.DataDir, "serve.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("scale: server log: %w", err)
	}
	cmd := exec.Command(r.cfg.Binary, "serve", "--addr", addr, "--data-dir", r.cfg.DataDir, "--insecure-dev-key")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = serverEnv()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return 0, fmt.Errorf("scale: start dotm serve: %w", err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1), log: logf}
	go func() { s.done <- cmd.Wait() }()
	r.srv = s
	r.url = "http://" + addr
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	for {
		select {
		case err := <-s.done:
			s.done <- err
			return 0, fmt.Errorf("scale: dotm serve exited while starting (%v); see %s", err, logf.Name())
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := hc.Get(r.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(t0), nil
			}
		}
		if time.Since(t0) > 30*time.Minute {
			return 0, errors.New("scale: dotm serve not ready within 30 minutes")
		}
	}
}

// serverEnv is this process's environment without DOTM_ variables, so
// that the server and the commands of a run use the run's data directory
// and its embedded store, never a --mongo-uri or address from the caller's
// environment.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOTM_") {
			env = append(env, kv)
		}
	}
	return env
}

// stop sends SIGTERM and waits for the process to end.
func (s *server) stop() error {
	defer s.log.Close()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return fmt.Errorf("scale: dotm serve: %w", err)
		}
		return nil
	case <-time.After(2 * time.Minute):
		_ = s.cmd.Process.Kill()
		return errors.New("scale: dotm serve did not stop within 2 minutes of SIGTERM")
	}
}

// settle waits until the server's CPU use over a second falls under 5% of
// a core, and returns how long that took.
func (s *server) settle(ctx context.Context, limit time.Duration) (time.Duration, error) {
	t0 := time.Now()
	prev, err := s.cpu()
	if err != nil {
		return 0, err
	}
	for {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Second):
		}
		now, err := s.cpu()
		if err != nil {
			return 0, err
		}
		if now-prev < 50*time.Millisecond {
			return time.Since(t0), nil
		}
		prev = now
		if time.Since(t0) > limit {
			return 0, fmt.Errorf("scale: the server still busy %s after start-up", limit)
		}
	}
}

// cpu is the server process's CPU time so far (user + system).
func (s *server) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("scale: server CPU time: %w", err)
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, errors.New("scale: server CPU time: short /proc stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("scale: server CPU time: unreadable /proc stat")
	}
	return time.Duration(u+st) * 10 * time.Millisecond, nil // clock ticks of 1/100 s
}

// memKB reads a memory figure (VmRSS, VmHWM) of the server process.
func (s *server) memKB(field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s", field)
}

// WriteMarkdown prints the report as tables: one row per checkpoint, and
// the requests' p50/p95 by size.
func (rep ScaleReport) WriteMarkdown(w io.Writer) {
	cps := rep.Checkpoints
	fmt.Fprintf(w, "| submissions | listed households | audit entries | growth (subs/s) | burst ingest (subs/s) | burst p95 single / batch (ms) | start-up: ready / settled (s) | disk (MB) | RSS after start / peak (MB) | backup (s) |\n")
	fmt.Fprintf(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range cps {
		backup, settled := "–", "–"
		if c.Settle > 0 {
			settled = fmt.Sprintf("%.1f", c.Settle.Seconds())
		}
		if c.Backup > 0 {
			backup = fmt.Sprintf("%.1f (%.0f MB)", c.Backup.Seconds(), float64(c.BackupBytes)/1e6)
		}
		fmt.Fprintf(w, "| %d | %d | %d | %.0f | %.0f | %s / %s | %.1f / %s | %.0f | %d / %d | %s |\n", c.Submissions, c.Listed, c.Audit, c.GrowRate,
			c.Burst.SubmissionsPerSecond(), msf(c.Burst.Single.P95), msf(c.Burst.Batch.P95), c.Startup.Seconds(), settled, float64(c.DiskBytes)/1e6,
			c.RSSStartKB/1024, c.RSSPeakKB/1024, backup)
	}
	if len(cps) == 0 {
		return
	}
	fmt.Fprintf(w, "\nrequest latency p50 / p95 (ms) by stored submissions\n\n| request |")
	for _, c := range cps {
		fmt.Fprintf(w, " %d |", c.Submissions)
	}
	fmt.Fprintf(w, "\n|---|")
	for range cps {
		fmt.Fprintf(w, "---:|")
	}
	fmt.Fprintln(w)
	for i, q := range cps[0].Requests {
		fmt.Fprintf(w, "| %s |", q.Name)
		for _, c := range cps {
			if i >= len(c.Requests) {
				fmt.Fprintf(w, " |")
				continue
			}
			t := c.Requests[i]
			if t.N == 0 {
				fmt.Fprintf(w, " failed |")
				continue
			}
			fmt.Fprintf(w, " %s / %s |", msf(t.P50), msf(t.P95))
		}
		fmt.Fprintln(w)
	}
	if rep.Stopped != "" {
		fmt.Fprintf(w, "\nstopped: %s\n", rep.Stopped)
	}
}

func msf(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return strconv.FormatFloat(float64(d)/1e6, 'f', 0, 64)
	}
	return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64)
}

// MarshalJSONLine is the checkpoint as one line of JSON.
func (c Checkpoint) MarshalJSONLine() []byte {
	b, _ := json.Marshal(c)
	return append(b, '\n')
}
