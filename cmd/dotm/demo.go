package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/client"
	"github.com/dotm-survey/dotm/exports"
	"github.com/dotm-survey/dotm/fieldsim"
	"github.com/dotm-survey/dotm/mongodb"
	"github.com/dotm-survey/dotm/questionnaire"
	"github.com/dotm-survey/dotm/round"
)

// demoConfig sizes a demo round.
type demoConfig struct {
	out         string
	households  int // target sample size
	seed        uint64
	eas         int // enumeration areas in the frame
	enumerators int
	supervisors int
}

// demoCounts are what the summary reports; the enumerators and supervisors
// update them concurrently.
type demoCounts struct {
	frameEAs, psus, listed, selected        atomic.Int64
	submitted, interviews, refusals         atomic.Int64
	invalidFirst, corrected422, duplicates  atomic.Int64
	batched, rejected, resubmitted, approve atomic.Int64
	respondents                             atomic.Int64
}

const demoSurvey = "dotm-demo"

func runDemo(e *env, args []string) error {
	fs := newFlags(e, "demo", "demo [--out DIR] [--households N] [--seed S]",
		"dotm demo --out ./demo --households 1200\ndotm serve --data-dir ./demo/data --key-file ./demo/data.key   # explore the same data through the API")
	cfg := demoConfig{}
	fs.StringVar(&cfg.out, "out", "demo", "directory for the demo's data, report and release: new, empty, or a previous demo's (whose files are replaced; nothing else in it is touched)")
	fs.IntVar(&cfg.households, "households", 1200, "households to select (about 15 per PSU)")
	seed := fs.Uint64("seed", 2026, "random seed of the whole round")
	fs.IntVar(&cfg.enumerators, "enumerators", 20, "enumerators interviewing concurrently")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	cfg.seed = *seed
	if cfg.households < 60 {
		return exitError{code: 2, msg: "demo: --households must be at least 60 (3 in each of 20 PSUs)"}
	}
	cfg.eas = max(60, cfg.households/2)
	cfg.supervisors = max(1, cfg.enumerators/5)
	return demo(e, cfg)
}

func demo(e *env, cfg demoConfig) error {
	start := time.Now()
	out := e.stdout
	if err := prepareDemoOut(cfg.out); err != nil {
		return err
	}
	dataDir := filepath.Join(cfg.out, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "dotm demo: a Development on the Move survey round on the embedded store (seed %d)\n\n", cfg.seed)

	// The store, a data key and the real HTTP server on a loopback port.
	keyFile := filepath.Join(cfg.out, "data.key")
	key, err := dotm.GenerateKey(time.Now())
	if err != nil {
		return err
	}
	keys, err := dotm.NewKeyring(key.ID, key)
	if err != nil {
		return err
	}
	if err := keys.WriteKeyFile(keyFile); err != nil {
		return fmt.Errorf("demo: write key file: %w", err)
	}
	store, err := mongodb.Open(e.ctx, mongodb.Config{DataDir: dataDir})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	adminToken, hash, err := dotm.NewToken()
	if err != nil {
		_ = store.Close(context.Background())
		return err
	}
	if err := store.AddUser(e.ctx, dotm.User{Name: "admin", Role: dotm.RoleAdmin}, hash); err != nil {
		_ = store.Close(context.Background())
		return fmt.Errorf("demo: add admin: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = store.Close(context.Background())
		return fmt.Errorf("demo: listen: %w", err)
	}
	base := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(e.ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
		done <- serveOn(ctx, ln, store, logger, serveFlags{shutdownWait: 10 * time.Second, keys: keys})
	}()
	fmt.Fprintf(out, "  %-34s %s, store in %s\n", "API", base, dataDir)

	r := &demoRun{cfg: cfg, e: e, base: base, admin: client.New(base, adminToken, nil), store: store,
		rng: rand.New(rand.NewPCG(cfg.seed, 1)), country: fieldsim.NewCountry(cfg.eas, cfg.seed)}
	runErr := r.run(ctx)
	stop()
	if err := <-done; err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return fmt.Errorf("demo: %w", runErr)
	}
	tokenFile := filepath.Join(cfg.out, "admin.token")
	if err := os.WriteFile(tokenFile, []byte(adminToken+"\n"), 0o600); err != nil {
		return fmt.Errorf("demo: write token: %w", err)
	}
	r.summary(out, time.Since(start))
	if err := r.writeSummary(filepath.Join(cfg.out, "summary.json")); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "\nExplore the same data through the API:\n  dotm serve --data-dir %s --key-file %s\n  curl -H \"Authorization: Bearer $(cat %s)\" http://127.0.0.1:8080/api/v1/surveys/%s/weights\n",
		dataDir, keyFile, tokenFile, demoSurvey)
	return nil
}

// demoRun is one demo round in progress.
type demoRun struct {
	cfg     demoConfig
	e       *env
	base    string
	admin   *client.Client
	store   *mongodb.Store
	rng     *rand.Rand
	country *fieldsim.Country
	counts  demoCounts

	enumerators map[string]*client.Client
	supervisors []*client.Client
	stat        *client.Client
	classOf     map[string]string // household id -> screening class
	form        *questionnaire.Form
	report      *analysis.Report
	release     *exports.Manifest
	relReport   *exports.Report
	releaseID   string
	weights     dotm.WeightsReport
	inputs      demoInputs
}

// demoInputs is what the demo sent to the API, kept to write as files.
type demoInputs struct {
	psuQuery   url.Values      // the PSU draw's parameters
	listing    strings.Builder // psu_id,household_id,class rows
	weightSpec dotm.WeightSpec
}

func (r *demoRun) run(ctx context.Context) error {
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"survey, form and team", r.setup},
		{"PSU sample", r.drawPSUs},
		{"listing and screening", r.listing},
		{"household sample", r.drawHouseholds},
		{"interviews", r.interviews},
		{"supervisor review", r.review},
		{"corrections", r.corrections},
		{"second review", r.review},
		{"weights", r.computeWeights},
		{"indicator report", r.indicatorReport},
		{"anonymized release", r.makeRelease},
		{"input files", r.writeInputs},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

func (r *demoRun) setup(ctx context.Context) error {
	p := newProgress(r.e.stdout, "survey, form and team", 3+r.cfg.enumerators+r.cfg.supervisors)
	if _, err := r.admin.CreateSurvey(ctx, client.SurveyRequest{
		ID: demoSurvey, Country: "Demoland", Title: "Development on the Move, demo round", Languages: []string{"en", "es"},
	}); err != nil {
		return err
	}
	p.add(1)
	r.form = questionnaire.Household()
	yaml, err := r.form.Encode("yaml")
	if err != nil {
		return err
	}
	if _, err := r.admin.UploadForm(ctx, demoSurvey, "application/yaml", yaml); err != nil {
		return err
	}
	p.add(1)
	addUser := func(name string, role dotm.Role) (*client.Client, error) {
		c, err := r.addUser(ctx, name, role)
		if err == nil {
			p.add(1)
		}
		return c, err
	}
	r.enumerators = map[string]*client.Client{}
	for i := 1; i <= r.cfg.enumerators; i++ {
		c, err := addUser(fmt.Sprintf("enum%02d", i), dotm.RoleEnumerator)
		if err != nil {
			return err
		}
		r.enumerators[fmt.Sprintf("enum%02d", i)] = c
	}
	for i := 1; i <= r.cfg.supervisors; i++ {
		c, err := addUser(fmt.Sprintf("sup%02d", i), dotm.RoleSupervisor)
		if err != nil {
			return err
		}
		r.supervisors = append(r.supervisors, c)
	}
	if r.stat, err = addUser("stat01", dotm.RoleStatistician); err != nil {
		return err
	}
	p.finish(fmt.Sprintf("%d enumerators, %d supervisors, 1 statistician; form %s %s in en/es", r.cfg.enumerators, r.cfg.supervisors, r.form.ID, r.form.Version))
	return nil
}

// addUser creates a user of the demo survey through the API and returns a
// client signed in as that user.
func (r *demoRun) addUser(ctx context.Context, name string, role dotm.Role) (*client.Client, error) {
	token, err := r.admin.AddUser(ctx, name, role, []string{demoSurvey})
	if err != nil {
		return nil, err
	}
	return r.admin.As(token), nil
}

func (r *demoRun) drawPSUs(ctx context.Context) error {
	p := newProgress(r.e.stdout, "PSU sample (PPS systematic)", 1)
	n := r.psuCount()
	q := url.Values{"n": {strconv.Itoa(n)}, "allocation": {"proportional"}, "seed": {strconv.FormatUint(r.cfg.seed, 10)}}
	sample, err := r.admin.DrawPSUs(ctx, demoSurvey, q, r.country.FrameCSV())
	if err != nil {
		return err
	}
	p.add(1)
	r.counts.frameEAs.Store(int64(len(r.country.EAs)))
	r.counts.psus.Store(int64(len(sample.PSUs)))
	certain := 0
	for _, s := range sample.PSUs {
		if s.Certainty {
			certain++
		}
	}
	r.inputs.psuQuery = q
	p.finish(fmt.Sprintf("%d of %d EAs in %d strata (%d with certainty)", len(sample.PSUs), len(r.country.EAs), len(sample.Strata), certain))
	return nil
}

func (r *demoRun) listing(ctx context.Context) error {
	sample, err := r.admin.PSUSample(ctx, demoSurvey)
	if err != nil {
		return err
	}
	p := newProgress(r.e.stdout, "listing and screening", len(sample.PSUs))
	r.classOf = map[string]string{}
	byClass := map[string]int{}
	for i, psu := range sample.PSUs {
		ea, ok := r.country.EA(psu.PSU)
		if !ok {
			return fmt.Errorf("PSU %s is not in the frame", psu.PSU)
		}
		listed := fieldsim.List(ea, rand.New(rand.NewPCG(r.cfg.seed, uint64(i)+100)))
		hh := make([]dotm.ListedHousehold, len(listed))
		for j, l := range listed {
			hh[j] = dotm.ListedHousehold{HouseholdID: l.ID, Class: dotm.HouseholdClass(l.Class)}
			r.classOf[l.ID] = l.Class
			byClass[l.Class]++
		}
		sup := r.supervisors[i%len(r.supervisors)]
		if err := sup.PostListing(ctx, demoSurvey, dotm.ListingRequest{PSU: psu.PSU, Stratum: psu.Stratum, Households: hh}); err != nil {
			return err
		}
		for _, h := range hh {
			fmt.Fprintf(&r.inputs.listing, "%s,%s,%s\n", psu.PSU, h.HouseholdID, h.Class)
		}
		r.counts.listed.Add(int64(len(listed)))
		p.add(1)
	}
	p.finish(fmt.Sprintf("%d households listed: %d current migrant, %d return migrant, %d non-migrant",
		r.counts.listed.Load(), byClass[fieldsim.CurrentMigrant], byClass[fieldsim.ReturnMigrant], byClass[fieldsim.NonMigrant]))
	return nil
}

func (r *demoRun) drawHouseholds(ctx context.Context) error {
	p := newProgress(r.e.stdout, "household sample (quotas)", 1)
	names := make([]string, 0, len(r.enumerators))
	for n := range r.enumerators {
		names = append(names, n)
	}
	sort.Strings(names)
	seed := r.cfg.seed
	res, err := r.admin.DrawHouseholds(ctx, demoSurvey, dotm.HouseholdDraw{Quota: r.quota(), Seed: &seed, Enumerators: names, FormID: r.form.ID})
	if err != nil {
		return err
	}
	p.add(1)
	r.counts.selected.Store(int64(res.Selected))
	q := r.quota()
	p.finish(fmt.Sprintf("%d selected (%d/%d/%d per PSU): %d current, %d return, %d non-migrant; one assignment each",
		res.Selected, q["current_migrant"], q["return_migrant"], q["non_migrant"], res.ByClass["current_migrant"], res.ByClass["return_migrant"], res.ByClass["non_migrant"]))
	return nil
}

// psuCount is the number of PSUs to draw: about 15 households each, and at
// least 2 in each of the 10 strata.
func (r *demoRun) psuCount() int { return max(20, r.cfg.households/15) }

// quota splits a PSU's households 40/20/40 between current-migrant,
// return-migrant and non-migrant households (6/3/6 for the default round):
// migrant households are oversampled against their share in the listing.
func (r *demoRun) quota() map[string]int {
	per := max(3, r.cfg.households/r.psuCount())
	ret := max(1, int(math.Round(0.2*float64(per))))
	cur := (per - ret + 1) / 2
	return map[string]int{"current_migrant": cur, "return_migrant": ret, "non_migrant": per - ret - cur}
}

// interviews: every enumerator works through its assignments concurrently.
// About 4% of households refuse, 3% of first attempts carry a mistake the
// server's 422 catches, 2% are sent twice (a retry after a lost answer), and
// a quarter of the enumerators work offline and sync in batches.
func (r *demoRun) interviews(ctx context.Context) error {
	p := newProgress(r.e.stdout, "interviews (concurrent, over HTTP)", int(r.counts.selected.Load()))
	names := make([]string, 0, len(r.enumerators))
	for n := range r.enumerators {
		names = append(names, n)
	}
	sort.Strings(names)
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	for k, name := range names {
		wg.Add(1)
		go func(k int, name string) {
			defer wg.Done()
			if err := r.enumerate(ctx, name, k%4 == 3, rand.New(rand.NewPCG(r.cfg.seed, uint64(k)+1000)), p); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}(k, name)
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		return err
	}
	p.finish(fmt.Sprintf("%d submitted (%d refusals); %d caught by the 422 and corrected; %d retried duplicates; %d sent offline in batches",
		r.counts.submitted.Load(), r.counts.refusals.Load(), r.counts.corrected422.Load(), r.counts.duplicates.Load(), r.counts.batched.Load()))
	return nil
}

func collect(ch chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

func (r *demoRun) enumerate(ctx context.Context, name string, offline bool, rng *rand.Rand, p *progress) error {
	c := r.enumerators[name]
	assigned, err := c.Assignments(ctx, dotm.AssignmentAssigned)
	if err != nil {
		return err
	}
	var queue []dotm.Envelope
	flush := func() error {
		if len(queue) == 0 {
			return nil
		}
		res, err := c.SubmitBatch(ctx, queue)
		if err != nil {
			return err
		}
		for i, it := range res.Results {
			if it.Result != dotm.ResultCreated && it.Result != dotm.ResultDuplicate {
				return fmt.Errorf("batch item %s: %s", queue[i].InstanceID, it.Result)
			}
		}
		r.counts.batched.Add(int64(len(queue)))
		r.counts.submitted.Add(int64(len(queue)))
		p.add(len(queue))
		queue = queue[:0]
		return nil
	}
	for _, a := range assigned {
		env, err := r.interview(a, rng, false)
		if err != nil {
			return err
		}
		if env.Answers["consent"] == "no" {
			r.counts.refusals.Add(1)
		} else {
			r.counts.interviews.Add(1)
		}
		if offline {
			queue = append(queue, env)
			if len(queue) == 10 {
				if err := flush(); err != nil {
					return err
				}
			}
			continue
		}
		if err := r.send(ctx, c, env, rng); err != nil {
			return err
		}
		p.add(1)
	}
	return flush()
}

// fieldworkStart is the first day of the demo's fieldwork: interview
// times come from the seed, not the clock, so that one seed gives one round.
var fieldworkStart = time.Date(2026, time.March, 2, 8, 0, 0, 0, time.UTC)

// interview makes the envelope of one assignment's interview; its instance
// id and times are drawn from rng, its day within the fieldwork's first
// four weeks, or, for a revisit, in the fifth.
func (r *demoRun) interview(a dotm.Assignment, rng *rand.Rand, revisit bool) (dotm.Envelope, error) {
	ea, ok := r.country.EA(a.PSU)
	if !ok {
		return dotm.Envelope{}, fmt.Errorf("assignment %s: PSU %s unknown", a.ID, a.PSU)
	}
	h := fieldsim.Household{ID: a.HouseholdID, Region: ea.Region, Urban: ea.Urban, Class: r.classOf[a.HouseholdID], EA: ea.ID}
	day := rng.IntN(28)
	if revisit {
		day = 28 + rng.IntN(7)
	}
	end := fieldworkStart.Add(time.Duration(day)*24*time.Hour + time.Duration(rng.IntN(10*60))*time.Minute)
	id, err := uuid.NewRandomFromReader(rngReader{rng})
	if err != nil {
		return dotm.Envelope{}, err
	}
	var answers map[string]any
	if rng.Float64() < 0.04 {
		answers = fieldsim.Refusal(rng, h, end)
	} else {
		answers = fieldsim.Interview(rng, h, end)
	}
	return dotm.Envelope{InstanceID: id.String(), FormID: r.form.ID, FormVersion: r.form.Version, AssignmentID: a.ID,
		StartedAt: end.Add(-time.Duration(40+rng.IntN(40)) * time.Minute).Format(time.RFC3339), EndedAt: end.Format(time.RFC3339), Answers: answers}, nil
}

// send posts one interview as an online tablet does: a mistake the server
// refuses is corrected and sent again; a lost answer is retried.
func (r *demoRun) send(ctx context.Context, c *client.Client, env dotm.Envelope, rng *rand.Rand) error {
	if env.Answers["consent"] == "yes" && rng.Float64() < 0.03 {
		bad, path := fieldsim.Mistake(rng, env.Answers)
		wrong := env
		wrong.Answers = bad
		_, err := c.Submit(ctx, wrong)
		var ae *dotm.Error
		caught := false
		if errors.As(err, &ae) && ae.Code == dotm.EUNPROCESSABL {
			for _, p := range ae.Problems {
				caught = caught || p.Path == path
			}
		}
		if !caught {
			return fmt.Errorf("a mistake at %s was not refused as expected: %v", path, err)
		}
		r.counts.invalidFirst.Add(1)
		r.counts.corrected422.Add(1)
	}
	created, err := c.Submit(ctx, env)
	if err != nil {
		return err
	}
	if !created {
		return fmt.Errorf("first post of %s was taken for a retry", env.InstanceID)
	}
	r.counts.submitted.Add(1)
	if rng.Float64() < 0.02 { // the answer was lost on the way: the tablet retries
		created, err := c.Submit(ctx, env)
		if err != nil || created {
			return fmt.Errorf("retry of %s: created again %v, %v", env.InstanceID, created, err)
		}
		r.counts.duplicates.Add(1)
	}
	return nil
}

// review: supervisors approve what waits, rejecting about 4% of interviews
// with a comment.
func (r *demoRun) review(ctx context.Context) error {
	type item struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	var waiting []item
	after := ""
	for {
		var page struct {
			Submissions []item `json:"submissions"`
			NextAfter   string `json:"next_after"`
		}
		path := fmt.Sprintf("/api/v1/submissions?survey=%s&status=received&limit=500", demoSurvey)
		if after != "" {
			path += "&after=" + after
		}
		if _, err := r.supervisors[0].Do(ctx, "GET", path, nil, "", &page); err != nil {
			return err
		}
		waiting = append(waiting, page.Submissions...)
		if page.NextAfter == "" {
			break
		}
		after = page.NextAfter
	}
	// The page order follows arrival, which the concurrent enumerators
	// make different from run to run; the ids come from the seed, so
	// reviewing in id order makes one seed give one round.
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].ID < waiting[j].ID })
	first := r.counts.rejected.Load() == 0
	label := "supervisor review"
	if !first {
		label = "second review"
	}
	p := newProgress(r.e.stdout, label, len(waiting))
	var wg sync.WaitGroup
	errs := make(chan error, len(r.supervisors))
	var rejected, approved atomic.Int64
	for k, sup := range r.supervisors {
		wg.Add(1)
		go func(k int, sup *client.Client) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(r.cfg.seed, uint64(k)+5000))
			for i := k; i < len(waiting); i += len(r.supervisors) {
				decision, comment := "approve", ""
				if first && rng.Float64() < 0.04 {
					decision, comment = "reject", pickComment(rng)
				}
				if err := sup.Review(ctx, waiting[i].ID, dotm.ReviewRequest{Decision: decision, Comment: comment}); err != nil {
					errs <- err
					return
				}
				if decision == "reject" {
					rejected.Add(1)
				} else {
					approved.Add(1)
				}
				p.add(1)
			}
		}(k, sup)
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		return err
	}
	r.counts.rejected.Add(rejected.Load())
	r.counts.approve.Add(approved.Load())
	p.finish(fmt.Sprintf("%d approved, %d returned to the enumerator with a comment", approved.Load(), rejected.Load()))
	return nil
}

func pickComment(rng *rand.Rand) string {
	return []string{
		"Please check the ages in the roster against the ID cards.",
		"Remittance amount looks too high: confirm with the respondent.",
		"GPS accuracy poor: take the point again outside the house.",
	}[rng.IntN(3)]
}

// corrections: enumerators open their returned assignments, read the
// comment, revisit and resubmit a correction that supersedes the original.
func (r *demoRun) corrections(ctx context.Context) error {
	p := newProgress(r.e.stdout, "corrections", int(r.counts.rejected.Load()))
	rng := rand.New(rand.NewPCG(r.cfg.seed, 9000))
	names := make([]string, 0, len(r.enumerators))
	for n := range r.enumerators {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		c := r.enumerators[name]
		returned, err := c.Assignments(ctx, dotm.AssignmentReturned)
		if err != nil {
			return err
		}
		sort.Slice(returned, func(i, j int) bool { return returned[i].ID < returned[j].ID })
		for _, a := range returned {
			if a.Comment == "" {
				return fmt.Errorf("returned assignment %s has no comment", a.ID)
			}
			env, err := r.interview(a, rng, true)
			if err != nil {
				return err
			}
			env.Supersedes = a.SubmissionID
			if env.Answers["consent"] == "no" { // a revisit finds the household willing
				env.Answers = fieldsim.Interview(rng, fieldsim.Household{ID: a.HouseholdID, Region: env.Answers["region"].(string), Urban: env.Answers["urban"] == "yes", Class: r.classOf[a.HouseholdID], EA: a.PSU}, fieldworkStart.Add(30*24*time.Hour))
			}
			if _, err := c.Submit(ctx, env); err != nil {
				return err
			}
			r.counts.resubmitted.Add(1)
			p.add(1)
		}
	}
	p.finish(fmt.Sprintf("%d corrected and resubmitted", r.counts.resubmitted.Load()))
	return nil
}

func (r *demoRun) computeWeights(ctx context.Context) error {
	p := newProgress(r.e.stdout, "weights (base, nonresponse, rake)", 1)
	var margins []dotm.MarginSpec
	for _, m := range r.country.Margins() {
		margins = append(margins, dotm.MarginSpec{Variable: m.Variable, Category: m.Category, Total: m.Total})
	}
	r.inputs.weightSpec = dotm.WeightSpec{
		NonresponseClasses: []string{"stratum"},
		Calibration:        &dotm.CalibrationSpec{Method: "rake", Margins: margins, MaxIter: 100, Tol: 1e-10},
	}
	w, err := r.stat.ComputeWeights(ctx, demoSurvey, r.inputs.weightSpec)
	if err != nil {
		return err
	}
	r.weights = w
	p.add(1)
	r.counts.respondents.Store(int64(r.weights.Respondents))
	cal := ""
	if c := r.weights.Calibration; c != nil {
		cal = fmt.Sprintf(", raked to %d census totals in %d iterations (converged: %v)", len(margins), c.Iterations, c.Converged)
	}
	p.finish(fmt.Sprintf("%d respondents weighted to %.0f households%s; Kish deff %.2f",
		r.weights.Respondents, r.weights.Final.Sum, cal, r.weights.Final.Deff))
	return nil
}

// surveyData reads the round back from the store, as `dotm analyze` and
// `dotm release create --survey` do.
func (r *demoRun) surveyData() round.SurveyData {
	return storeSurveyData(r.store)
}

func (r *demoRun) indicatorReport(ctx context.Context) error {
	p := newProgress(r.e.stdout, "indicator report", 1)
	ds, err := r.surveyData().Dataset(ctx, demoSurvey)
	if err != nil {
		return err
	}
	pd, err := r.surveyData().CalibratedDesign(ctx, demoSurvey, "")
	if err != nil {
		return err
	}
	spec := pd.Spec()
	t, err := round.AnalysisTable(ds.Table("households"), analysis.IndicatorColumns(spec))
	if err != nil {
		return err
	}
	rep, err := analysis.IndicatorReport(t, spec)
	if err != nil {
		return err
	}
	rep.WithMeta(r.reportMeta(ds.Table("households")))
	r.report = rep
	if err := writeAtomic(filepath.Join(r.cfg.out, "report.html"), func(w io.Writer) error { return rep.WriteHTML(w) }); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(r.cfg.out, "report.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}); err != nil {
		return err
	}
	p.add(1)
	p.finish(fmt.Sprintf("%s (%d indicators, with charts)", filepath.Join(r.cfg.out, "report.html"), len(rep.Indicators)))
	return nil
}

// demoProfile is the release profile of the demo: the example profile for
// the built-in household form (exports.HouseholdProfile).
const demoProfile = exports.HouseholdProfile

// demoProfileFor is demoProfile for a demo of n households. A round much
// smaller than a real one (--households 100) leaves most households unique
// on region, urban and size, which the PSU codes and the roster give: such
// a demo allows them all, and a global risk up to 0.15 (some 15 expected
// re-identifications in 100 records), and the disclosure report and
// summary say how many there are. A real round's profile must not.
func demoProfileFor(n int) string {
	if n >= 1000 {
		return demoProfile
	}
	p := strings.Replace(demoProfile, "residual_k: 150", fmt.Sprintf("residual_k: %d", max(5*n, 150)), 1) // their people too
	return strings.Replace(p, "max_risk: 0.05", "max_risk: 0.15", 1)
}

// makeRelease goes through the API as the three people involved do: the
// statistician makes the release (disclosure control runs on the server),
// the admin publishes it, and a researcher lists and downloads its files,
// each checked against the manifest's SHA-256.
func (r *demoRun) makeRelease(ctx context.Context) error {
	p := newProgress(r.e.stdout, "anonymized release", 3)
	rel, err := r.stat.CreateRelease(ctx, demoSurvey, []byte(demoProfileFor(r.cfg.households)))
	if err != nil {
		return err
	}
	p.add(1)
	if err := r.admin.PublishRelease(ctx, rel.ID); err != nil {
		return err
	}
	p.add(1)
	researcher, err := r.addUser(ctx, "researcher01", dotm.RoleResearcher)
	if err != nil {
		return err
	}
	dir := filepath.Join(r.cfg.out, "release")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range rel.Files {
		b, err := researcher.Download(ctx, "/api/v1/releases/"+rel.ID+"/files/"+f.Name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			return fmt.Errorf("release file %s: SHA-256 differs from the manifest", f.Name)
		}
		if err := writeAtomic(filepath.Join(dir, f.Name), func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return err
		}
	}
	p.add(1)
	man, err := exports.ParseManifest(rel.Manifest)
	if err != nil {
		return err
	}
	rrep, err := exports.ParseReport(rel.Report)
	if err != nil {
		return err
	}
	r.release, r.relReport, r.releaseID = man, rrep, rel.ID
	var hh int64
	for _, f := range man.Files {
		if f.Name == "households.parquet" && f.Rows != nil {
			hh = *f.Rows
		}
	}
	held := fmt.Sprintf("k=%d held on the linked tables", rrep.K)
	if n := rrep.Tables[0].ResidualK; n > 0 {
		held = fmt.Sprintf("k=%d held on the linked tables except %d households unique on region, urban and size (which design codes and roster give; allowed by the profile)", rrep.K, n)
	}
	p.finish(fmt.Sprintf("release %s published; a researcher downloaded its %d files to %s: %d households, %s, risk %.4f",
		rel.ID[:8], len(rel.Files), dir, hh, held, rrep.Tables[0].After.Global))
	return nil
}

// summary prints the counts at each step and the key indicators.
func (r *demoRun) summary(w io.Writer, took time.Duration) {
	c := &r.counts
	fmt.Fprintf(w, "\nSurvey round %s finished in %.0fs\n\n", demoSurvey, took.Seconds())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "frame EAs\tPSUs\tlisted\tselected\tinterviewed\trefused\t422 fixed\trejected\tcorrected\tapproved\tweighted\t")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c.frameEAs.Load(), c.psus.Load(), c.listed.Load(), c.selected.Load(),
		c.interviews.Load(), c.refusals.Load(), c.corrected422.Load(), c.rejected.Load(), c.resubmitted.Load(), c.approve.Load(), c.respondents.Load())
	tw.Flush()
	if r.report == nil {
		return
	}
	fmt.Fprintln(w, "\nKey indicators by household migration status (estimate [95% CI])")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	groups := []string{fieldsim.CurrentMigrant, fieldsim.ReturnMigrant, fieldsim.NonMigrant}
	fmt.Fprintln(tw, "indicator\t"+strings.Join(groups, "\t")+"\t")
	for _, ind := range r.report.Indicators {
		switch ind.ID {
		case "remit_share", "cons_mean", "bank", "enrolled", "women_decide":
		default:
			continue
		}
		row := []string{ind.Label}
		for _, g := range groups {
			cell := "-"
			for _, ge := range ind.ByMigrant {
				if ge.Group == g {
					cell = fmtEstimate(float64(ge.Estimate), float64(ge.CI[0]), float64(ge.CI[1]), ind.Unit)
					if ge.Diff != nil && float64(ge.Diff.P) < 0.05 {
						cell += " *"
					}
				}
			}
			row = append(row, cell)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
	fmt.Fprintln(w, "  * differs from non-migrant households (design-based t test, p < 0.05)")
	fmt.Fprintf(w, "\nReport:  %s\nRelease: %s (Parquet tables, disclosure report, codebook, manifest; published as release %s)\n",
		filepath.Join(r.cfg.out, "report.html"), filepath.Join(r.cfg.out, "release"), r.releaseID)
}

// demoSummary is summary.json: the counts of the round, where its outputs
// are (relative to the demo's folder), whether the release passed its
// disclosure checks, and the indicators. Everything in it follows from the
// seed: two demos with one seed write the same bytes (the time taken is on
// the terminal only).
type demoSummary struct {
	Survey     string                     `json:"survey"`
	Seed       uint64                     `json:"seed"`
	Counts     map[string]int64           `json:"counts"`
	Weighted   float64                    `json:"weighted_households"`
	Report     string                     `json:"report"`
	Release    string                     `json:"release"`
	ReleaseOK  bool                       `json:"release_passed"`
	ReleaseHH  int64                      `json:"release_households"`
	Indicators []analysis.IndicatorResult `json:"indicators"`
}

func (r *demoRun) writeSummary(path string) error {
	c := &r.counts
	sum := demoSummary{Survey: demoSurvey, Seed: r.cfg.seed, Weighted: r.weights.Final.Sum,
		Report: "report.html", Release: "release",
		Counts: map[string]int64{
			"frame_eas": c.frameEAs.Load(), "psus": c.psus.Load(), "listed": c.listed.Load(), "selected": c.selected.Load(),
			"submitted": c.submitted.Load(), "interviews": c.interviews.Load(), "refusals": c.refusals.Load(),
			"refused_by_422_and_corrected": c.corrected422.Load(), "retried_duplicates": c.duplicates.Load(), "batched": c.batched.Load(),
			"rejected": c.rejected.Load(), "resubmitted": c.resubmitted.Load(), "approved": c.approve.Load(), "respondents": c.respondents.Load(),
		}}
	if r.relReport != nil {
		sum.ReleaseOK = r.relReport.Passed
	}
	if r.release != nil {
		for _, f := range r.release.Files {
			if f.Name == "households.parquet" && f.Rows != nil {
				sum.ReleaseHH = *f.Rows
			}
		}
	}
	if r.report != nil {
		sum.Indicators = r.report.Indicators
	}
	return writeAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	})
}

func fmtEstimate(est, lo, hi float64, unit string) string {
	if strings.HasPrefix(unit, "share") {
		return fmt.Sprintf("%.1f%% [%.1f, %.1f]", 100*est, 100*lo, 100*hi)
	}
	return fmt.Sprintf("%.0f [%.0f, %.0f]", est, lo, hi)
}

// demoMarker marks a folder as a demo's output, so that a later demo may
// replace what it wrote there.
const demoMarker = ".dotm-demo"

// demoOutputs are the entries a demo writes into its folder: the only ones
// a later demo removes.
var demoOutputs = append([]string{"data", "data.key", "admin.token", "summary.json", "report.html", "report.json", "release", demoMarker}, demoInputFiles...)

// prepareDemoOut makes dir ready for a demo without deleting anything the
// demo did not create: a new or empty folder is used as it is; a previous
// demo's folder (it has the marker) loses only the demo's own entries, and
// only when no running dotm process holds its data directory; any other
// non-empty folder is refused.
func prepareDemoOut(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("demo: --out %s: %w", dir, err)
	case len(ents) == 0:
	default:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil && !oldDemoOutput(dir) {
			return fmt.Errorf("demo: --out %s is not empty and was not written by dotm demo (no %s file); nothing was changed: choose a new or empty folder", dir, demoMarker)
		}
		if held, err := dataDirHeld(filepath.Join(dir, "data")); err != nil {
			return fmt.Errorf("demo: --out %s: %w", dir, err)
		} else if held {
			return fmt.Errorf("demo: --out %s: its data directory is in use by a running dotm process (dotm serve?); nothing was changed: stop it or choose another folder", dir)
		}
		for _, name := range demoOutputs {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("demo: replace the previous demo's %s: %w", name, err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo: --out %s: %w", dir, err)
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("written by dotm demo; a later dotm demo --out here replaces only its own files\n"), 0o644)
}

// oldDemoOutput recognises the folder of a demo made before the marker
// existed: it holds the demo's summary, token and key beside its store.
func oldDemoOutput(dir string) bool {
	for _, name := range []string{"summary.json", "admin.token", "data.key", "data"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// dataDirHeld reports whether a dotm process holds the data directory's
// lock (see mongodb.Open): a demo must not delete a store in use.
func dataDirHeld(dataDir string) (bool, error) {
	f, err := os.OpenFile(filepath.Join(dataDir, "LOCK"), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true, nil
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false, nil
}

// rngReader reads random bytes from a seeded generator: the demo's UUIDs
// repeat with its seed (never use it where an id must be unguessable).
type rngReader struct{ rng *rand.Rand }

func (r rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.rng.Uint32())
	}
	return len(p), nil
}

// demoPlan is plan.yaml: an analysis of the release the researcher
// downloaded, with the design its codebook declares.
const demoPlan = `# dotm analyze --format table plan.yaml: the release's households, with its design
data: release/households.parquet
design: {strata: stratum, psu: psu, weight: weight, fpc: fpc, lonely_psu: adjust}
estimates:
  - {id: bank, mean: bank_account, by: migrant}
  - {id: remittances, mean: remit_received, by: migrant}
  - {id: consumption, mean: cons_pc, by: migrant, na_rm: true}
`

// demoInputFiles are the files writeInputs writes: what the round was made
// from, to run its steps again by hand (the README's tour does).
var demoInputFiles = []string{"frame.csv", "margins.csv", "psu-draw.txt", "listing.csv", "weights.json", "release-profile.yaml", "plan.yaml"}

// writeInputs writes the files the round was made from: the census frame
// and margins, the PSU draw's parameters, the listing, the weight spec, the
// release profile, and a plan that analyses the downloaded release.
func (r *demoRun) writeInputs(context.Context) error {
	spec, err := json.MarshalIndent(r.inputs.weightSpec, "", "  ")
	if err != nil {
		return err
	}
	q := r.inputs.psuQuery
	files := map[string]string{
		"frame.csv":   string(r.country.FrameCSV()),
		"margins.csv": string(fieldsim.MarginsCSV(r.country.Margins())),
		"psu-draw.txt": "# The demo drew its PSUs through POST /api/v1/surveys/" + demoSurvey + "/sample/psus?" + r.inputs.psuQuery.Encode() + "\n" +
			"# with frame.csv as the body; the CLI draws the same sample from the same frame and seed:\n" +
			"dotm sample psus --frame frame.csv --n " + q.Get("n") + " --allocation " + q.Get("allocation") + " --seed " + q.Get("seed") + " --out psus.csv --all\n",
		"listing.csv":          "psu_id,household_id,class\n" + r.inputs.listing.String(),
		"weights.json":         string(spec) + "\n",
		"release-profile.yaml": demoProfileFor(r.cfg.households),
		"plan.yaml":            demoPlan,
	}
	for _, name := range demoInputFiles {
		body := files[name]
		if err := writeAtomic(filepath.Join(r.cfg.out, name), func(w io.Writer) error { _, err := io.WriteString(w, body); return err }); err != nil {
			return err
		}
	}
	fmt.Fprintf(r.e.stdout, "  %-34s %s\n", "input files", strings.Join(demoInputFiles, ", "))
	return nil
}
