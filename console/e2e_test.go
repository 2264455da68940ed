package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/fieldsim"
	"github.com/dotm-survey/dotm/mongodb/mongotest"
	"github.com/dotm-survey/dotm/questionnaire"
)

// chromiumPath is the browser the test drives (Debian's package, installed
// by CI). A missing browser fails the test.
const chromiumPath = "/usr/bin/chromium"

var testServer *mongotest.Server

func TestMain(m *testing.M) { os.Exit(mongotest.Run(m, &testServer)) }

// The EA of the test round and its centre; the web client's location is
// emulated there.
const (
	eaLat, eaLon = 4.711, -74.0721
	survey       = "co-2026"
)

type round struct {
	t      *testing.T
	srv    *httptest.Server
	tokens map[string]string
}

func (r *round) call(user, method, path string, body any, want int) []byte {
	r.t.Helper()
	var data []byte
	if body != nil {
		data, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, r.srv.URL+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.tokens[user])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		r.t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, user, res.StatusCode, want, out)
	}
	return out
}

// newRound is a small round as the demo runs one: an EA drawn, listed and
// screened, six households drawn by quota and assigned to enumerator ana,
// six interviews received (one refusal, one whose location is 50 km from
// the EA's other interviews), two approved by the supervisor. ids maps
// assignment ids to submission ids, and "flagged" to the assignment of
// the flagged interview.
func newRound(t *testing.T) (*round, map[string]string) {
	ctx := context.Background()
	store := testServer.Open(t)
	key, err := dotm.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := dotm.NewKeyring(key.ID, key)
	if err != nil {
		t.Fatal(err)
	}
	api := collector.NewServer(collector.Deps{DB: store, Users: store, Accounts: store, Auditor: store, Surveys: store, Forms: store,
		Assignments: store, Submissions: store, Listings: store, AuditLog: store, Design: store, Weights: store, Approved: store,
		Releases: store, Tallies: store, Fingerprints: store, Keys: keys})
	r := &round{t: t, srv: httptest.NewServer(api), tokens: map[string]string{}}
	t.Cleanup(r.srv.Close)
	for _, u := range []struct {
		name    string
		role    dotm.Role
		surveys []string
	}{{"admin", dotm.RoleAdmin, nil}, {"sup", dotm.RoleSupervisor, []string{survey}}, {"ana", dotm.RoleEnumerator, []string{survey}}} {
		token, hash, err := dotm.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if err := store.AddUser(ctx, dotm.User{Name: u.name, Role: u.role, Surveys: u.surveys}, hash); err != nil {
			t.Fatal(err)
		}
		r.tokens[u.name] = token
	}
	r.call("admin", "POST", "/api/v1/surveys", map[string]any{"id": survey, "country": "Colombia", "languages": []string{"es", "en"}}, 201)
	req, _ := http.NewRequest("POST", r.srv.URL+"/api/v1/surveys/"+survey+"/forms", bytes.NewReader(questionnaire.HouseholdYAML()))
	req.Header.Set("Content-Type", "application/yaml")
	req.Header.Set("Authorization", "Bearer "+r.tokens["admin"])
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("upload the form: %v %v", res, err)
	}
	// The first stage: two EAs drawn from a frame of three, ea-17 with
	// certainty (half the frame's size); only ea-17 is listed yet.
	req, _ = http.NewRequest("POST", r.srv.URL+"/api/v1/surveys/"+survey+"/sample/psus?n=2&seed=7",
		strings.NewReader("psu_id,stratum,size\nea-17,capital-urban,300\nea-18,capital-urban,150\nea-19,capital-urban,150\n"))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+r.tokens["admin"])
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		var body []byte
		if res != nil {
			body, _ = io.ReadAll(res.Body)
		}
		t.Fatalf("draw the EAs: %v %s", err, body)
	}
	classes := []string{fieldsim.CurrentMigrant, fieldsim.NonMigrant, fieldsim.ReturnMigrant, fieldsim.NonMigrant, fieldsim.CurrentMigrant, fieldsim.NonMigrant, fieldsim.NonMigrant, fieldsim.CurrentMigrant}
	var listed []map[string]any
	for i, c := range classes {
		listed = append(listed, map[string]any{"household_id": fmt.Sprintf("BOG-%d", i+1), "class": c})
	}
	r.call("sup", "POST", "/api/v1/surveys/"+survey+"/listings", map[string]any{"psu": "ea-17", "stratum": "capital-urban", "households": listed}, 201)
	// The second stage: 2 current migrant, 1 return migrant and 3
	// non-migrant households, assigned to ana.
	r.call("admin", "POST", "/api/v1/surveys/"+survey+"/sample/households", map[string]any{"quota": map[string]int{"current_migrant": 2, "return_migrant": 1, "non_migrant": 3},
		"seed": 3, "enumerators": []string{"ana"}, "enumerators_per_psu": 1, "supervisor": "sup", "form_id": "dotm_household"}, 200)
	var mine struct{ Assignments []dotm.Assignment }
	if err := json.Unmarshal(r.call("ana", "GET", "/api/v1/assignments", nil, 200), &mine); err != nil || len(mine.Assignments) != 6 {
		t.Fatalf("ana's assignments: %+v %v", mine, err)
	}
	class := map[string]string{}
	for _, l := range listed {
		class[l["household_id"].(string)] = l["class"].(string)
	}
	rng := rand.New(rand.NewPCG(17, 1))
	ids := map[string]string{} // by assignment, in the order of ana's list
	var order []string
	day := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Minute)
	for i, a := range mine.Assignments {
		hh := a.HouseholdID
		order = append(order, a.ID)
		h := fieldsim.Household{ID: hh, Region: "capital", Urban: true, Class: class[hh], EA: "ea-17"}
		end := day.Add(time.Duration(i) * 90 * time.Minute)
		answers := fieldsim.Interview(rng, h, end)
		if i == 5 {
			answers = fieldsim.Refusal(rng, h, end)
		} else {
			lat := eaLat + rng.NormFloat64()*0.004
			if i == 4 {
				lat += 50 / 111.2 // 50 km north of the EA
			}
			answers["gps"] = map[string]any{"lat": lat, "lon": eaLon + rng.NormFloat64()*0.004, "alt": 2600.0, "accuracy": 8.0}
		}
		id := uuid.NewString()
		ids[a.ID] = id
		r.call("ana", "POST", "/api/v1/submissions", map[string]any{"instance_id": id, "form_id": "dotm_household", "form_version": questionnaire.Household().Version,
			"assignment_id": a.ID, "started_at": end.Add(-45 * time.Minute).Format(time.RFC3339), "ended_at": end.Format(time.RFC3339), "answers": answers}, 201)
	}
	for _, a := range order[:2] {
		r.call("sup", "POST", "/api/v1/submissions/"+ids[a]+"/review", map[string]any{"decision": "approve"}, 200)
	}
	ids["flagged"] = order[4]
	return r, ids
}

func browserCtx(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the end-to-end test needs %s (Debian package chromium): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 150*time.Second)
	t.Cleanup(cancelT)
	return ctx
}

type browserT struct {
	t       *testing.T
	ctx     context.Context
	screens string
}

func (b *browserT) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.failShot()
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browserT) failShot() {
	if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(b.screens, "failure.png"), png, 0o644)
		b.t.Logf("the screen at the failure: %s", filepath.Join(b.screens, "failure.png"))
	}
	if msg, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector('#toast') || {}).textContent || ''`)); err == nil && msg != "" {
		b.t.Logf("the last message shown: %s", msg)
	}
}

func eval[T any](b *browserT, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %.120s: %v", js, err)
	}
	return v
}

func (b *browserT) waitJS(what, js string, timeout time.Duration) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.failShot()
		b.t.Fatalf("waiting for %s (%s): %v", what, js, err)
	}
}

// shot writes a screenshot of the viewport at width×height.
func (b *browserT) shot(name string, width, height int64) {
	b.t.Helper()
	resize := func(w, h int64) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: w, Height: h, DeviceScaleFactor: 1, Mobile: w < 600})
			return err
		})
	}
	b.do("resize", resize(width, height), chromedp.Sleep(200*time.Millisecond))
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.screens, fmt.Sprintf("%s-%dx%d.png", name, width, height)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.do("resize back", resize(1280, 800))
}

func (b *browserT) both(name string) {
	b.t.Helper()
	b.shot(name, 1280, 800)
	b.shot(name, 412, 915)
}

// TestConsoleEndToEnd: a supervisor signs in to the console, sees the
// round's progress (the summary endpoint's numbers and the round's own),
// opens the flagged interview, reads it with its identifiers (audited),
// returns it with a comment; the enumerator corrects it in the web client
// (the location taken again) and sends it; the supervisor approves the
// correction, and the enumerator sees the household approved.
// DOTM_CONSOLE_SCREENS names a folder for the screenshots (docs/ keeps
// those of the README).
func TestConsoleEndToEnd(t *testing.T) {
	r, ids := newRound(t)
	screens := os.Getenv("DOTM_CONSOLE_SCREENS")
	if screens == "" {
		screens = t.TempDir()
	} else if err := os.MkdirAll(screens, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browserT{t: t, ctx: browserCtx(t), screens: screens}
	origin := r.srv.URL
	lat, lon, acc, alt := eaLat, eaLon, 6.5, 2580.0
	b.do("grant geolocation", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: origin}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc, Altitude: &alt})
		return err
	}))

	// The supervisor signs in and sees the progress.
	b.do("open the console", chromedp.Navigate(origin+"/console/"), chromedp.WaitVisible("#token"))
	b.do("sign in", chromedp.SendKeys("#token", r.tokens["sup"]), chromedp.Click("#signin"))
	b.waitJS("the progress", `!!document.querySelector('#progress [data-total="interviewed"] b')`, 20*time.Second)
	var p dotm.Progress
	if err := json.Unmarshal(r.call("sup", "GET", "/api/v1/surveys/"+survey+"/progress", nil, 200), &p); err != nil {
		t.Fatal(err)
	}
	round := map[string]int{"interviewed": 6, "pending_review": 4, "approved": 2, "returned": 0, "refused": 1, "flagged": 1}
	api := map[string]int{"interviewed": p.Total.Interviewed, "pending_review": p.Total.Pending, "approved": p.Total.Approved,
		"returned": p.Total.Returned, "refused": p.Total.Refused, "flagged": p.Total.Flagged}
	for k, want := range round {
		shown := eval[string](b, fmt.Sprintf(`document.querySelector('#progress [data-total=%q] b').textContent`, k))
		if shown != fmt.Sprint(want) || api[k] != want {
			t.Errorf("%s: the console shows %s, the summary endpoint says %d, the round has %d", k, shown, api[k], want)
		}
	}
	for _, c := range []struct{ sel, want string }{
		{`#quotas tr[data-class="non_migrant"] td:nth-of-type(1)`, "3"},     // quota
		{`#quotas tr[data-class="non_migrant"] td:nth-of-type(2)`, "4"},     // listed
		{`#quotas tr[data-class="non_migrant"] td:nth-of-type(3)`, "3"},     // selected
		{`#quotas tr[data-class="current_migrant"] td:nth-of-type(4)`, "2"}, // interviewed
		{`#eas tr[data-psu="ea-17"] td:nth-of-type(1)`, "8"},                // listed
		{`#eas tr[data-psu="ea-17"] td:nth-of-type(2)`, "6"},                // selected
		{`[data-total="response_rate_rr1"] b`, "83.3%"},                     // 5 complete of 6 selected
	} {
		if got := eval[string](b, fmt.Sprintf(`document.querySelector(%s).textContent`, jsString(c.sel))); got != c.want {
			t.Errorf("%s: the console shows %q, want %s", c.sel, got, c.want)
		}
	}
	b.both("console-progress")

	// The review queue: the flagged interview, read as a questionnaire.
	b.do("review tab", chromedp.Click(`#tabs button[data-tab="review"]`))
	b.waitJS("the queue", `document.querySelectorAll('#queue li').length === 4`, 10*time.Second)
	flaggedAssignment := ids["flagged"]
	flagged := ids[flaggedAssignment]
	b.do("open the flagged interview", chromedp.Click(fmt.Sprintf(`#queue li[data-id=%q]`, flagged)))
	b.waitJS("its flag", `!!document.querySelector('#submission .flags [data-flag="gps_far"]') && (document.querySelector('#queue li.current') || {dataset: {}}).dataset.id === `+jsString(flagged), 10*time.Second)
	if n := eval[int](b, `document.querySelectorAll('#submission .qa.hidden-id').length`); n == 0 {
		t.Error("the identifiers are neither shown nor said to be hidden")
	}
	b.do("show the identifiers", chromedp.Click("#ids"))
	b.waitJS("the roster by name", `/^(Miembro del hogar|Household member) 1: \S+/.test(document.querySelector('#submission .repeat[data-name="members"] h3').textContent)`, 10*time.Second)
	var audit struct{ Entries []dotm.AuditEntry }
	_ = json.Unmarshal(r.call("admin", "GET", "/api/v1/audit?action=read_identifiers", nil, 200), &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Target != flagged || audit.Entries[0].Actor != "sup" {
		t.Errorf("the identifiers' read is not audited as one entry: %+v", audit.Entries)
	}
	eval[bool](b, `(() => { const s = document.querySelector('#lang'); s.value = 'es'; s.dispatchEvent(new Event('change')); return true; })()`)
	b.waitJS("Spanish labels", `[...document.querySelectorAll('#submission .qa .q')].some((q) => q.textContent === 'Región')`, 5*time.Second)
	b.both("console-review")
	const comment = "La ubicación está a 50 km del sector; tome el GPS de nuevo en la vivienda."
	b.do("comment", chromedp.SendKeys("#comment", comment))
	b.do("return it", chromedp.Click("#return"))
	b.waitJS("the queue without it", `document.querySelectorAll('#queue li').length === 3`, 10*time.Second)
	var sub struct {
		Status  string
		Reviews []dotm.Review
	}
	_ = json.Unmarshal(r.call("sup", "GET", "/api/v1/submissions/"+flagged, nil, 200), &sub)
	if sub.Status != "rejected" || len(sub.Reviews) != 1 || sub.Reviews[0].Comment != comment {
		t.Fatalf("after return: %+v", sub)
	}
	b.do("map tab", chromedp.Click(`#tabs button[data-tab="map"]`))
	b.waitJS("the map", `document.querySelectorAll('#map circle.point').length === 5 && document.querySelectorAll('#map rect.centroid').length === 1 && document.querySelectorAll('#map circle.flagged').length === 1`, 10*time.Second)
	b.shot("console-map", 1280, 800)

	// The enumerator corrects it in the web client.
	b.do("open the web client", chromedp.Navigate(origin+"/collect/"), chromedp.WaitVisible("#token"))
	const pin = "246810" // the web client seals drafts under a key from the enumerator's PIN
	b.do("sign in as ana", chromedp.SendKeys("#token", r.tokens["ana"]), chromedp.Click("#signin"), chromedp.WaitVisible("#pin-setup"))
	b.do("set the PIN", chromedp.SendKeys("#pin", pin), chromedp.SendKeys("#pin2", pin), chromedp.Click("#pin-save"))
	b.waitJS("the returned household", fmt.Sprintf(`!!document.querySelector('[data-assignment=%q] button.open')`, flaggedAssignment), 20*time.Second)
	if got := eval[string](b, fmt.Sprintf(`document.querySelector('[data-assignment=%q] .comment').textContent`, flaggedAssignment)); !strings.Contains(got, "50 km") {
		t.Errorf("the returned household shows %q, want the supervisor's comment", got)
	}
	b.do("correct it", chromedp.Click(fmt.Sprintf(`[data-assignment=%q] button.open`, flaggedAssignment)), chromedp.WaitVisible("#page"))
	for step := 0; ; step++ {
		if step > 40 {
			t.Fatal("the correction did not reach its end in 40 pages")
		}
		if eval[bool](b, `!!document.querySelector('#finish')`) {
			break
		}
		if eval[bool](b, `!!document.querySelector('#page .field[data-path="gps"] button.gps')`) {
			b.do("take the location again", chromedp.Click(`#page .field[data-path="gps"] button.gps`))
			b.waitJS("the new location", `document.querySelector('#page .field[data-path="gps"] output').textContent.includes('4.711')`, 10*time.Second)
		}
		page := eval[string](b, `(document.querySelector('.pagelink.current') || {dataset: {}}).dataset.page || ''`)
		b.do("next page", chromedp.Click("#next"))
		b.waitJS("the next page", fmt.Sprintf(`((document.querySelector('.pagelink.current') || {dataset: {}}).dataset.page || '') !== %s || !!document.querySelector('#finish')`, jsString(page)), 5*time.Second)
	}
	b.do("send the correction", chromedp.Click("#finish"))
	b.waitJS("the correction sent", `!!document.querySelector('#assignments') && document.querySelectorAll('#queue li').length === 0`, 30*time.Second)
	var subs struct {
		Submissions []struct {
			ID, Supersedes string
			Flags          []string
		}
	}
	_ = json.Unmarshal(r.call("sup", "GET", "/api/v1/submissions?survey="+survey+"&status=received", nil, 200), &subs)
	var correction string
	for _, s := range subs.Submissions {
		if s.Supersedes == flagged {
			correction = s.ID
			if slices.Contains(s.Flags, dotm.FlagGPSFar) {
				t.Errorf("the correction, located at the dwelling, is still flagged: %v", s.Flags)
			}
		}
	}
	if correction == "" {
		t.Fatalf("no received submission corrects %s: %+v", flagged, subs.Submissions)
	}

	// The supervisor approves the correction (keyboard: the queue's 'a').
	b.do("back to the console", chromedp.Navigate(origin+"/console/"))
	b.waitJS("the progress", `!!document.querySelector('#progress [data-total="interviewed"] b')`, 20*time.Second)
	b.do("review tab", chromedp.Click(`#tabs button[data-tab="review"]`))
	b.do("open the correction", chromedp.Click(fmt.Sprintf(`#queue li[data-id=%q]`, correction)))
	b.waitJS("the correction open", `((document.querySelector('#submission .meta') || {}).textContent || '').includes('correction') && document.querySelector('#queue li.current').dataset.id === `+jsString(correction), 10*time.Second)
	b.do("approve with a", chromedp.KeyEvent("a"))
	b.waitJS("the queue without it", fmt.Sprintf(`!document.querySelector('#queue li[data-id=%q]')`, correction), 10*time.Second)

	// The enumerator sees the household approved.
	b.do("the web client again", chromedp.Navigate(origin+"/collect/"), chromedp.WaitVisible("#unlock-button"))
	b.do("unlock", chromedp.SendKeys("#pin", pin), chromedp.Click("#unlock-button"))
	b.waitJS("the approved household", fmt.Sprintf(`!!document.querySelector('[data-assignment=%q].status-approved')`, flaggedAssignment), 20*time.Second)
	p = dotm.Progress{} // decoding into the earlier summary would merge its maps
	if err := json.Unmarshal(r.call("sup", "GET", "/api/v1/surveys/"+survey+"/progress", nil, 200), &p); err != nil {
		t.Fatal(err)
	}
	if p.Total.Interviewed != 6 || p.Total.Approved != 3 || p.Total.Returned != 0 || p.Total.Flags[dotm.FlagGPSFar] != 0 || p.Total.Selected != 6 || p.Total.Quota["non_migrant"] != 3 {
		t.Errorf("progress at the end: %+v", p.Total)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
