package webclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/mongodb/mongotest"
	"github.com/dotm-survey/dotm/questionnaire"
)

// chromiumPath is the browser the end-to-end test drives (Debian's
// package, installed by CI). A missing browser fails the test.
const chromiumPath = "/usr/bin/chromium"

// testServer is the MongoDB server of this test binary: DOTM_TEST_MONGO_URI
// or one embedded server.
var testServer *mongotest.Server

func TestMain(m *testing.M) { os.Exit(mongotest.Run(m, &testServer)) }

// e2e is a collector on a fresh database with a survey, the built-in
// household form, an enumerator, a supervisor and two assignments (one of
// them returned by the supervisor with a comment).
type e2e struct {
	t      *testing.T
	srv    *httptest.Server
	db     *mongo.Database
	tokens map[string]string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
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
		Assignments: store, Submissions: store, Listings: store, AuditLog: store, Design: store, Keys: keys})
	e := &e2e{t: t, srv: httptest.NewServer(api), tokens: map[string]string{}}
	t.Cleanup(e.srv.Close)
	client, err := mongo.Connect(options.Client().ApplyURI(testServer.URI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	e.db = client.Database(store.Database())

	for _, u := range []struct {
		name    string
		role    dotm.Role
		surveys []string
	}{{"admin", dotm.RoleAdmin, nil}, {"sup", dotm.RoleSupervisor, []string{"co-2026"}}, {"ana", dotm.RoleEnumerator, []string{"co-2026"}}} {
		token, hash, err := dotm.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if err := store.AddUser(ctx, dotm.User{Name: u.name, Role: u.role, Surveys: u.surveys}, hash); err != nil {
			t.Fatal(err)
		}
		e.tokens[u.name] = token
	}
	e.call("admin", "POST", "/api/v1/surveys", "application/json", map[string]any{"id": "co-2026", "country": "Colombia", "languages": []string{"es", "en"}}, 201)
	e.call("admin", "POST", "/api/v1/surveys/co-2026/forms", "application/yaml", questionnaire.HouseholdYAML(), 201)
	e.call("admin", "POST", "/api/v1/surveys/co-2026/assignments", "application/json", map[string]any{"assignments": []map[string]any{
		{"id": "a-101", "enumerator": "ana", "supervisor": "sup", "household_id": "BOG-101", "psu": "psu-17", "stratum": "urbano", "form_id": "dotm_household"},
		{"id": "a-102", "enumerator": "ana", "supervisor": "sup", "household_id": "BOG-102", "psu": "psu-17", "stratum": "urbano", "form_id": "dotm_household"},
	}}, 201)
	// psu-17 was drawn from a frame that gives its region and urban
	if err := store.PutPSUSample(ctx, dotm.PSUSample{Survey: "co-2026", Allocation: "proportional", DrawnAt: time.Now(), DrawnBy: "admin",
		PSUs: []dotm.SampledPSU{{PSU: "psu-17", Stratum: "urbano", Size: 120, Pi1: 0.1, Extra: map[string]string{"region": "north", "urban": "no"}}}}); err != nil {
		t.Fatal(err)
	}
	// a-102 was sent before and returned by the supervisor with a comment
	answers := fixture(t)
	answers["household_id"] = "BOG-102"
	answers["interview_date"] = time.Now().UTC().Format("2006-01-02")
	id := uuid.NewString()
	now := time.Now().UTC()
	e.call("ana", "POST", "/api/v1/submissions", "application/json", map[string]any{"instance_id": id, "form_id": "dotm_household", "form_version": questionnaire.Household().Version,
		"started_at": now.Add(-time.Hour).Format(time.RFC3339), "ended_at": now.Format(time.RFC3339), "answers": answers, "assignment_id": "a-102"}, 201)
	e.call("sup", "POST", "/api/v1/submissions/"+id+"/review", "application/json", map[string]any{"decision": "reject", "comment": "La edad del jefe no coincide con la cédula; verifique el listado de miembros."}, 200)
	return e
}

// call sends a request as user and checks the status.
func (e *e2e) call(user, method, path, ctype string, body any, want int) []byte {
	e.t.Helper()
	var data []byte
	switch b := body.(type) {
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		e.t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, user, res.StatusCode, want, out)
	}
	return out
}

// fixture is a full household interview: a roster of 4, 2 migrants abroad,
// a returnee, remittances. The app fills household_id from the assignment;
// the test types today's date.
func fixture(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/household_es.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// flatten lists a nested answers object by path, as the app's data-path
// attributes name fields ("members[2].age"); repeat lengths by repeat path.
func flatten(prefix string, m map[string]any, values map[string]any, repeats map[string]int) {
	for k, v := range m {
		if list, ok := v.([]any); ok && len(list) > 0 {
			if _, isObj := list[0].(map[string]any); isObj {
				repeats[prefix+k] = len(list)
				for i, x := range list {
					flatten(fmt.Sprintf("%s%s[%d].", prefix, k, i), x.(map[string]any), values, repeats)
				}
				continue
			}
		}
		values[prefix+k] = v
	}
}

// browserCtx starts chromium with the flags CI uses and a fresh profile.
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
		chromedp.Flag("lang", "es"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel)
	// start the browser on this context (a step's shorter timeout must not own it)
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

// failShot keeps what the screen showed when a step failed.
func (b *browserT) failShot() {
	if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(b.screens, "failure.png"), png, 0o644)
		b.t.Logf("the screen at the failure: %s", filepath.Join(b.screens, "failure.png"))
	}
	if msg, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('#toast').textContent`)); err == nil && msg != "" {
		b.t.Logf("the last message shown: %s", msg)
	}
}

// eval runs JavaScript (promises awaited) and decodes its JSON value into T.
func eval[T any](b *browserT, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %.120s: %v", js, err)
	}
	return v
}

// waitJS waits until the expression is truthy.
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
	b.do("resize", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: width, Height: height, DeviceScaleFactor: 1})
		return err
	}), chromedp.Sleep(150*time.Millisecond))
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(b.screens, fmt.Sprintf("%s-%dx%d.png", name, width, height))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.do("resize back", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 1280, Height: 800, DeviceScaleFactor: 1})
		return err
	}))
}

// fitsPhone shows the page at 412×915 (a phone held upright), keeps a
// screenshot, and checks that nothing is wider than the screen.
func (b *browserT) fitsPhone(name string) {
	b.t.Helper()
	b.do("phone size", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 412, Height: 915, DeviceScaleFactor: 1, Mobile: true})
		return err
	}), chromedp.Sleep(150*time.Millisecond))
	over := eval[[]string](b, `(() => {
	  const out = [];
	  const w = document.documentElement.clientWidth;
	  if (document.documentElement.scrollWidth > w) out.push('page ' + document.documentElement.scrollWidth + ' px wide');
	  const h = document.querySelector('header#top');
	  if (h.scrollWidth > h.clientWidth) out.push('header content ' + h.scrollWidth + ' px in ' + h.clientWidth);
	  for (const e of h.querySelectorAll('*')) { const r = e.getBoundingClientRect(); if (r.width && (r.right > w + 0.5 || r.left < -0.5)) out.push((e.id || e.className || e.tagName) + ' at ' + Math.round(r.left) + '–' + Math.round(r.right)); }
	  if (h.getBoundingClientRect().height > 70) out.push('header ' + Math.round(h.getBoundingClientRect().height) + ' px high');
	  return out;
	})()`)
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err == nil {
		_ = os.WriteFile(filepath.Join(b.screens, name+"-412x915.png"), png, 0o644)
	}
	if len(over) > 0 {
		b.t.Errorf("%s at 412×915: %v", name, over)
	}
	b.do("resize back", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 1280, Height: 800, DeviceScaleFactor: 1})
		return err
	}))
}

// both takes the screenshot in landscape and in portrait.
func (b *browserT) both(name string) {
	b.t.Helper()
	b.shot(name, 1280, 800)
	b.shot(name, 800, 1280)
}

// setOffline switches the page's network off or on (requests fail, and
// navigator.onLine and the online/offline events follow).
func (b *browserT) setOffline(off bool) {
	b.t.Helper()
	b.do("network", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		yes := off
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &yes,
			MatchedNetworkConditions:    []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// fieldOnPage describes a shown field of the current page.
type fieldOnPage struct {
	Path   string `json:"path"`
	Type   string `json:"type"`
	Widget string `json:"widget"` // input, textarea, select, choices, geo, check
}

const listFields = `(() => {
  const out = [];
  for (const f of document.querySelectorAll('#page .field')) {
    if (f.closest('[hidden]')) continue;
    const type = [...f.classList].find((c) => c.startsWith('type-')).slice(5);
    let widget = 'input';
    if (f.querySelector('.choices')) widget = 'choices';
    else if (f.querySelector('select')) widget = 'select';
    else if (f.querySelector('.geobox')) widget = 'geo';
    else if (f.querySelector('textarea')) widget = 'textarea';
    else if (f.querySelector('input[type=date], input[type=time], input[type=datetime-local]')) widget = 'date';
    out.push({path: f.dataset.path, type, widget});
  }
  return out;
})()`

// fill answers one field through the page as an enumerator would: typing,
// tapping choices, picking from a list, recording the location.
func (b *browserT) fill(f fieldOnPage, v any) {
	b.t.Helper()
	sel := fmt.Sprintf(`#page .field[data-path=%q]`, f.Path)
	// bring the field to the middle of the screen, clear of the sticky bars
	eval[bool](b, fmt.Sprintf(`(() => { document.querySelector(%s).scrollIntoView({block: 'center'}); return true; })()`, jsString(sel)))
	switch f.Widget {
	case "input", "textarea":
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			b.t.Fatalf("%s: cannot type %#v", f.Path, v)
		}
		tag := "input"
		if f.Widget == "textarea" {
			tag = "textarea"
		}
		eval[bool](b, fmt.Sprintf(`(() => { document.querySelector(%s).value = ''; return true; })()`, jsString(sel+" "+tag)))
		b.do("type "+f.Path, chromedp.SendKeys(sel+" "+tag, s))
	case "choices":
		var names []string
		switch x := v.(type) {
		case string:
			names = []string{x}
		case []any:
			for _, n := range x {
				names = append(names, n.(string))
			}
		}
		for _, n := range names {
			b.do("tap "+f.Path+"="+n, chromedp.Click(fmt.Sprintf(`%s label[data-choice=%q]`, sel, n)))
		}
	case "select", "date":
		tag := "select"
		if f.Widget == "date" {
			tag = "input"
		}
		eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = %s; e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`,
			jsString(sel+" "+tag), jsString(fmt.Sprint(v))))
	case "geo":
		b.do("record location", chromedp.Click(sel+" button.gps"))
		b.waitJS("location of "+f.Path, fmt.Sprintf(`document.querySelector(%s).textContent.includes('4.711')`, jsString(sel+" output")), 10*time.Second)
	default:
		b.t.Fatalf("%s: unknown widget %s", f.Path, f.Widget)
	}
	eval[bool](b, `dotmTest.idle().then(() => true)`) // the rules have run for this answer
}

func TestBrowserEndToEnd(t *testing.T) {
	e := newE2E(t)
	ctx := browserCtx(t)
	screens := os.Getenv("DOTM_SCREENS")
	if screens == "" {
		screens = t.TempDir()
	} else if err := os.MkdirAll(screens, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browserT{t: t, ctx: ctx, screens: screens}
	origin := e.srv.URL

	lat, lon, acc, alt := 4.711, -74.0721, 6.5, 2580.0
	b.do("grant geolocation", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: origin}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc, Altitude: &alt})
		return err
	}))

	// sign in
	b.do("open the app", chromedp.Navigate(origin+"/collect/"), chromedp.WaitVisible("#token"))
	b.shot("01-signin", 800, 1280)
	b.do("sign in", chromedp.SendKeys("#token", e.tokens["ana"]), chromedp.Click("#signin"), chromedp.WaitVisible("#pin-setup"))
	// the PIN that encrypts the interviews on the tablet: too short, then two that differ, are refused
	const pin = "246810"
	for _, c := range []struct{ a, b, want string }{{"123", "123", "at least 6"}, {pin, "246811", "differ"}} {
		eval[bool](b, `(() => { document.querySelector('#pin').value = ''; document.querySelector('#pin2').value = ''; return true; })()`)
		b.do("PIN "+c.a, chromedp.SendKeys("#pin", c.a), chromedp.SendKeys("#pin2", c.b), chromedp.Click("#pin-save"))
		b.waitJS("the PIN refused", fmt.Sprintf(`document.querySelector('#pin-error').textContent.includes(%s)`, jsString(c.want)), 5*time.Second)
	}
	eval[bool](b, `(() => { document.querySelector('#pin').value = ''; document.querySelector('#pin2').value = ''; return true; })()`)
	b.do("set the PIN", chromedp.SendKeys("#pin", pin), chromedp.SendKeys("#pin2", pin), chromedp.Click("#pin-save"))
	b.waitJS("the assignment list", `document.querySelectorAll('li.assignment').length === 2`, 20*time.Second)
	if got := eval[string](b, `document.querySelector('#unsent').textContent`); !strings.Contains(got, "Every interview on this tablet is sent") {
		t.Errorf("the home screen says %q about unsent interviews, want that all are sent", got)
	}
	b.fitsPhone("01-home")
	if got := eval[string](b, `document.querySelector('[data-assignment="a-102"] .comment').textContent`); !strings.Contains(got, "cédula") {
		t.Errorf("returned assignment shows %q, want the supervisor's comment", got)
	}
	b.waitJS("the service worker", `navigator.serviceWorker.ready.then(() => true)`, 20*time.Second)

	// rule parity: every vector through the WebAssembly build gives what Go gives
	for _, v := range loadVectors(t) {
		f, js := vectorForm(t, v)
		want := goState(t, v, f)
		got := eval[string](b, fmt.Sprintf(`(async () => { const r = await dotmTest.Rules.load(%s); return JSON.stringify(await dotmTest.Rules.state(r.handle, %s, %s, %s)); })()`,
			jsString(string(js)), string(v.Answers), jsString(v.Lang), jsString(v.Now)))
		if g := canonical(t, []byte(got)); !bytes.Equal(g, want) {
			t.Errorf("vector %s: the browser's state differs from Go's\nbrowser: %s\n     go: %s", v.Name, g, want)
		}
		if v.Name == "household_valid_es" {
			// what one answer costs the tablet: a State of the whole household interview
			ms := eval[float64](b, fmt.Sprintf(`(async () => { const r = await dotmTest.Rules.load(%s); let t0 = 0;
			  for (let i = 0; i < 60; i++) { if (i === 10) t0 = performance.now(); await dotmTest.Rules.state(r.handle, %s, "es", %s); } return (performance.now() - t0) / 50; })()`,
				jsString(string(js)), string(v.Answers), jsString(v.Now)))
			t.Logf("WebAssembly State of the full household interview: %.1f ms", ms)
		}
	}

	// open the household, in Spanish
	b.waitJS("a quiet home screen", `dotmTest.quiet()`, 10*time.Second)
	b.do("open a-101", chromedp.Click(`[data-assignment="a-101"] button.open`), chromedp.WaitVisible("#page"))
	eval[bool](b, `(() => { const s = document.querySelector('#lang'); s.value = 'es'; s.dispatchEvent(new Event('change')); return true; })()`)
	b.waitJS("Spanish labels", `document.querySelector('#page h2').textContent === 'Portada'`, 5*time.Second)
	if got := eval[string](b, `document.querySelector('#page .field[data-path="household_id"] input').value`); got != "BOG-101" {
		t.Errorf("household_id prefilled %q, want BOG-101 from the assignment", got)
	}
	if got := eval[string](b, `document.querySelector('#form-title').textContent`); got != "Desarrollo en movimiento: cuestionario del hogar" {
		t.Errorf("the form's title in Spanish reads %q", got)
	}
	// what the assignment gives is filled in and locked
	if got := eval[string](b, `['household_id', 'region', 'urban'].map((n) => {
	  const f = document.querySelector('#page .field[data-path="' + n + '"]');
	  const inputs = [...f.querySelectorAll('input')];
	  const locked = f.classList.contains('locked') && inputs.every((i) => i.readOnly || i.disabled);
	  const v = inputs.filter((i) => i.type !== 'radio' || i.checked).map((i) => i.value).join('');
	  return n + '=' + v + (locked ? ' locked' : ' open');
	}).join(', ')`); got != "household_id=BOG-101 locked, region=north locked, urban=no locked" {
		t.Errorf("fields from the assignment: %s", got)
	}
	b.fitsPhone("02-cover")

	values, repeats := map[string]any{}, map[string]int{}
	flatten("", fixture(t), values, repeats)
	values["interview_date"] = time.Now().Format("2006-01-02")
	filled := map[string]bool{"household_id": true, "region": true, "urban": true}
	sexLabel := func(i int) string {
		return eval[string](b, fmt.Sprintf(`document.querySelector('#page .field[data-path="members[%d].sex"] .qlabel span').textContent`, i))
	}
	constraintDone := false
	for step := 0; ; step++ {
		if step > 40 {
			t.Fatal("the interview did not reach its end in 40 pages")
		}
		if eval[bool](b, `!!document.querySelector('#finish')`) {
			break
		}
		page := eval[int](b, `Number(document.querySelector('.pagelink.current').dataset.page)`)
		t.Logf("page %d: %s", page, eval[string](b, `document.querySelector('#page h2').textContent`))
		// add repeat entries the form does not count for us
		for path, n := range repeats {
			have := eval[int](b, fmt.Sprintf(`(() => { const r = document.querySelector('#page .repeat[data-path=%q]'); return r && !r.closest('[hidden]') ? r.querySelectorAll(':scope > .instance').length : -1; })()`, path))
			for ; have >= 0 && have < n; have++ {
				b.do("add to "+path, chromedp.Click(fmt.Sprintf(`#page button[data-add=%q]`, path)))
			}
		}
		for {
			var next *fieldOnPage
			for _, f := range eval[[]fieldOnPage](b, listFields) {
				if _, ok := values[f.Path]; ok && !filled[f.Path] {
					next = &f
					break
				}
			}
			if next == nil {
				break
			}
			if next.Path == "members[0].member_name" {
				// until a name is given the label reads as a sentence
				if got := sexLabel(0); got != "Sexo de miembro del hogar 1" {
					t.Errorf("the sex of a member without a name: %q", got)
				}
			}
			if next.Path == "members[1].age" && !constraintDone {
				// a constraint error: an age of 150, refused next to the field in Spanish
				b.fill(*next, "150")
				b.waitJS("the constraint message", `(document.querySelector('#page .field[data-path="members[1].age"] .error') || {}).textContent === 'La edad debe estar entre 0 y 110 años.'`, 5*time.Second)
				b.do("next with an error", chromedp.Click("#next"))
				if p := eval[int](b, `Number(document.querySelector('.pagelink.current').dataset.page)`); p != page {
					t.Fatalf("Next went on to page %d with an invalid age", p)
				}
				b.do("scroll", chromedp.ScrollIntoView(`#page .field[data-path="members[1].age"]`))
				b.both("03-constraint-error")
				constraintDone = true
			}
			b.fill(*next, values[next.Path])
			filled[next.Path] = true
		}
		if page == 1 {
			if got, name := sexLabel(0), values["members[0].member_name"]; got != fmt.Sprint("Sexo de ", name) {
				t.Errorf("the sex of member 1: %q, want it to name %v", got, name)
			}
			eval[bool](b, `(() => { window.scrollTo(0, 0); return true; })()`)
			b.fitsPhone("02-roster")
			b.both("02-roster")
		}
		b.do("next page", chromedp.Click("#next"))
		b.waitJS("the next page", fmt.Sprintf(`Number(document.querySelector('.pagelink.current').dataset.page) !== %d || !!document.querySelector('#finish')`, page), 5*time.Second)
		if p := eval[int](b, `Number(document.querySelector('.pagelink.current').dataset.page)`); p == page {
			errs := eval[[]string](b, `[...document.querySelectorAll('#page .invalid')].map((e) => e.dataset.path + ': ' + e.querySelector('.error').textContent)`)
			t.Fatalf("page %d does not let the interview go on: %v", page, errs)
		}
	}
	if !constraintDone {
		t.Error("the roster never showed members[1].age: no constraint error was triggered")
	}
	var missing []string
	for p := range values {
		if !filled[p] {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("answers of the fixture that the form never asked: %v", missing)
	}
	if n := eval[int](b, `document.querySelectorAll('#finish-problems li').length`); n != 0 {
		t.Fatalf("the finish page lists %d problems", n)
	}

	// offline: the app itself comes from the service worker's cache, the
	// assignments and the draft from IndexedDB; finish and queue
	b.do("let the draft be saved", chromedp.Sleep(500*time.Millisecond))
	b.setOffline(true)
	b.do("reload offline", chromedp.Reload(), chromedp.WaitVisible("#unlock"))
	// the draft on the tablet is encrypted: no answer is stored in clear
	if got := eval[string](b, `new Promise((resolve) => {
	  const r = indexedDB.open('dotm-collect');
	  r.onsuccess = () => { const q = r.result.transaction('interviews').objectStore('interviews').getAll();
	    q.onsuccess = () => resolve(q.result.map((x) => (x.answers ? 'CLEAR ' : '') + (x.sealed && x.sealed.data.byteLength > 100 ? 'sealed' : 'none') +
	      (JSON.stringify(x).includes('Rosa') ? ' NAME' : '')).join(',')); };
	})`); got != "sealed" {
		t.Errorf("the draft as stored on the tablet: %q, want one sealed record", got)
	}
	if got := eval[string](b, `document.querySelector('#unsent').textContent`); !strings.Contains(got, "1 entrevista") {
		t.Errorf("the unlock screen says %q, want 1 unsent interview", got)
	}
	b.do("a wrong PIN", chromedp.SendKeys("#pin", "999999"), chromedp.Click("#unlock-button"))
	b.waitJS("the PIN refused", `document.querySelector('#pin-error').textContent === 'PIN incorrecto.'`, 10*time.Second)
	b.do("unlock", chromedp.SendKeys("#pin", pin), chromedp.Click("#unlock-button"))
	b.waitJS("the app without a network", `document.querySelectorAll('li.assignment').length === 2 && document.querySelector('#net').classList.contains('off')`, 20*time.Second)
	if got := eval[string](b, `navigator.serviceWorker.controller ? 'controlled' : 'not controlled'`); got != "controlled" {
		t.Errorf("the page is %s by the service worker", got)
	}
	b.waitJS("a quiet home screen", `dotmTest.quiet()`, 10*time.Second)
	b.do("resume the draft", chromedp.Click(`[data-assignment="a-101"] button.open`), chromedp.WaitVisible("#finish"))
	b.do("finish", chromedp.Click("#finish"))
	b.waitJS("the queued interview", `document.querySelectorAll('#queue li.status-queued').length === 1`, 10*time.Second)
	instance := eval[string](b, `document.querySelector('#queue li').dataset.instance`)
	b.do("wait while offline", chromedp.Sleep(2*time.Second))
	b.both("04-offline-queued")
	ctxDB := context.Background()
	if n, err := e.db.Collection("submissions").CountDocuments(ctxDB, bson.D{{Key: "_id", Value: instance}}); err != nil || n != 0 {
		t.Fatalf("while offline the server has %d copies of the interview (%v)", n, err)
	}

	// online: the queue sends it by itself
	b.setOffline(false)
	b.waitJS("the queue to empty", `document.querySelectorAll('#queue li').length === 0 && document.querySelector('#outbox-badge').hidden`, 30*time.Second)
	b.both("05-synced")
	if n, err := e.db.Collection("submissions").CountDocuments(ctxDB, bson.D{{Key: "_id", Value: instance}}); err != nil || n != 1 {
		t.Fatalf("after sync the server has %d copies of interview %s (%v), want 1", n, instance, err)
	}
	// a second delivery of the same interview (a retry after a lost answer) is acknowledged, not stored again
	status := eval[string](b, fmt.Sprintf(`(async () => {
	  const iv = await dotmTest.db.interview(%s);
	  if (iv.status !== 'sent') return 'status ' + iv.status;
	  iv.status = 'queued'; iv.next_try = null; await dotmTest.db.putInterview(iv);
	  window.dispatchEvent(new Event('online'));
	  for (let i = 0; i < 100; i++) { await new Promise((r) => setTimeout(r, 100)); if ((await dotmTest.db.interview(%s)).status === 'sent') return 'sent'; }
	  return 'not sent';
	})()`, jsString(instance), jsString(instance)))
	if status != "sent" {
		t.Fatalf("resending the interview: %s", status)
	}
	var doc bson.M
	if err := e.db.Collection("submissions").FindOne(ctxDB, bson.D{{Key: "_id", Value: instance}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.db.Collection("submissions").CountDocuments(ctxDB, bson.D{{Key: "assignment_id", Value: "a-101"}}); n != 1 {
		t.Errorf("assignment a-101 has %d submissions, want exactly 1", n)
	}
	if doc["assignment_id"] != "a-101" || doc["form_id"] != "dotm_household" {
		t.Errorf("stored submission: assignment %v, form %v", doc["assignment_id"], doc["form_id"])
	}
	// what was stored is the interview as entered: read it back through the API
	var got struct {
		Answers map[string]any `json:"answers"`
	}
	body := e.call("sup", "GET", "/api/v1/submissions/"+instance+"?include=identifiers", "", nil, 200)
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	checks := map[string]any{"household_id": "BOG-101", "respondent_name": "Rosa Jiménez", "n_members": 4.0, "n_migrants": 2.0, "hh_size": 4.0}
	for k, want := range checks {
		if got.Answers[k] != want {
			t.Errorf("stored %s = %#v, want %#v", k, got.Answers[k], want)
		}
	}
	if m, _ := got.Answers["members"].([]any); len(m) != 4 || m[1].(map[string]any)["age"] != 44.0 {
		t.Errorf("stored roster: %v", got.Answers["members"])
	}
	if g, _ := got.Answers["gps"].(map[string]any); g == nil || g["lat"] != lat || g["accuracy"] != acc {
		t.Errorf("stored gps: %v", got.Answers["gps"])
	}

	// the returned household opens as a correction of the stored interview
	b.waitJS("a quiet home screen", `dotmTest.quiet()`, 10*time.Second)
	b.do("correct a-102", chromedp.Click(`[data-assignment="a-102"] button.open`), chromedp.WaitVisible("#page"))
	if got := eval[string](b, `document.querySelector('#page .field[data-path="respondent_name"] input').value`); got != "Rosa Jiménez" {
		t.Errorf("the correction starts with respondent_name %q, want the submitted answer", got)
	}
	if got := eval[string](b, `(async () => (await dotmTest.db.interviews()).find((iv) => iv.assignment_id === 'a-102').supersedes || '')()`); got == "" {
		t.Error("the correction does not say which submission it supersedes")
	}
	// repeats: an extra roster entry is refused by the count, removing it fixes that
	b.do("roster of the correction", chromedp.Click(`.pagelink[data-page="1"]`), chromedp.WaitVisible(`#page button[data-add="members"]`))
	b.do("add a member", chromedp.Click(`#page button[data-add="members"]`))
	b.waitJS("five entries", `document.querySelectorAll('#page .repeat[data-path="members"] > .instance').length === 5`, 5*time.Second)
	b.do("next with five", chromedp.Click("#next"))
	b.waitJS("the count problem", `(document.querySelector('#page .repeat[data-path="members"] > .error') || {}).textContent.includes('4')`, 5*time.Second)
	b.do("remove the fifth", chromedp.Click(`#page button[data-remove="members[4]"]`))
	b.waitJS("four entries and no count problem", `document.querySelectorAll('#page .repeat[data-path="members"] > .instance').length === 4 && document.querySelector('#page .repeat[data-path="members"] > .error').textContent === ''`, 5*time.Second)
	b.do("save the correction", chromedp.Click("#save-exit"), chromedp.WaitVisible("#assignments"))

	// several waiting interviews go in one batch; one the server refuses stays
	// on the tablet with the server's reasons, the other is stored
	good, bad, maybe := uuid.NewString(), uuid.NewString(), uuid.NewString()
	answers := fixture(t)
	answers["household_id"] = "BOG-201"
	answers["interview_date"] = time.Now().Format("2006-01-02")
	aj, _ := json.Marshal(answers)
	answers["consent"] = "maybe"
	answers["household_id"] = "BOG-203"
	mj, _ := json.Marshal(answers)
	ended := time.Now().UTC().Format(time.RFC3339)
	b.waitJS("a quiet home screen", `dotmTest.quiet()`, 10*time.Second)
	eval[bool](b, fmt.Sprintf(`(async () => {
	  const base = {form_id: 'dotm_household', form_version: %s, started_at: %s, ended_at: %s, status: 'queued', attempts: 0};
	  await dotmTest.db.putInterview(Object.assign({instance_id: %s, household_id: 'BOG-201', answers: %s}, base));
	  await dotmTest.db.putInterview(Object.assign({instance_id: %s, household_id: 'BOG-202', answers: {}}, base));
	  await dotmTest.db.putInterview(Object.assign({instance_id: %s, household_id: 'BOG-203', answers: %s}, base));
	  window.dispatchEvent(new Event('online'));
	  return true;
	})()`, jsString(questionnaire.Household().Version), jsString(time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)), jsString(ended),
		jsString(good), string(aj), jsString(bad), jsString(maybe), string(mj)))
	b.waitJS("the batch results", fmt.Sprintf(`document.querySelectorAll('#queue > li').length === 2 && !!document.querySelector('#queue li.status-failed[data-instance=%q] .error')`, bad), 20*time.Second)
	// the server's problems are named by the question's label, never by an internal path
	if msg := eval[string](b, fmt.Sprintf(`document.querySelector('#queue li[data-instance=%q] ul.problems').textContent`, bad)); !strings.Contains(msg, "Name of the respondent") || strings.Contains(msg, "respondent_name") {
		t.Errorf("the refused interview shows %q, want the server's problems by label", msg)
	}
	// one wrong answer: one problem, what follows from it folded under it
	type folded struct {
		Roots    []string `json:"roots"`
		Summary  string   `json:"summary"`
		Follow   int      `json:"follow"`
		Expanded bool     `json:"expanded"`
	}
	f := eval[folded](b, fmt.Sprintf(`(() => { const li = document.querySelector('#queue li[data-instance=%q]');
	  const roots = [...li.querySelectorAll('ul.problems > li.problem-root')];
	  const d = li.querySelector('details.follow');
	  return {roots: roots.map((r) => r.firstChild.textContent), summary: d ? d.querySelector('summary').textContent : '',
	    follow: li.querySelectorAll('ul.follow-on > li').length, expanded: d ? d.open : false}; })()`, maybe))
	if len(f.Roots) != 1 || !strings.Contains(f.Roots[0], `"maybe" is not one of: yes, no`) || !strings.HasPrefix(f.Roots[0], "I will ask about your household") ||
		f.Follow < 30 || f.Summary != fmt.Sprintf("%d problemas que se derivan de este (se corrigen con él)", f.Follow) || f.Expanded {
		t.Errorf("consent \"maybe\" refused: %+v", f)
	}
	if got := eval[string](b, `document.querySelector('#unsent').textContent`); !strings.Contains(got, "entrevistas de esta tableta sin enviar") {
		t.Errorf("the home screen says %q about unsent interviews", got)
	}
	for id, want := range map[string]int64{good: 1, bad: 0, maybe: 0} {
		if n, err := e.db.Collection("submissions").CountDocuments(ctxDB, bson.D{{Key: "_id", Value: id}}); err != nil || n != want {
			t.Errorf("batch: %d copies of %s, want %d (%v)", n, id, want, err)
		}
	}
	b.shot("06-batch-refused", 800, 1280)
	b.do("reopen the refused interview", chromedp.Click(fmt.Sprintf(`#queue li[data-instance=%q] button.reopen`, bad)), chromedp.WaitVisible("#page"))
	b.waitJS("the problems next to the fields", `document.querySelectorAll('#page .field.invalid').length > 0 || document.querySelectorAll('#page .field.required').length > 0`, 5*time.Second)
	b.do("close it", chromedp.Click("#save-exit"), chromedp.WaitVisible("#assignments"))

	// choice filters in the page: a second form whose districts follow the region
	rules, err := os.ReadFile("testdata/vectors/form_rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e.call("admin", "POST", "/api/v1/surveys/co-2026/forms", "application/yaml", rules, 201)
	e.call("admin", "POST", "/api/v1/surveys/co-2026/assignments", "application/json", map[string]any{"assignments": []map[string]any{
		{"id": "a-103", "enumerator": "ana", "household_id": "BOG-103", "form_id": "rules"}}}, 201)
	b.waitJS("a quiet home screen", `dotmTest.quiet()`, 10*time.Second)
	b.do("refresh", chromedp.Click(`.home-head button`))
	b.waitJS("the new assignment", `!!document.querySelector('[data-assignment="a-103"] button.open') && dotmTest.quiet()`, 10*time.Second)
	b.do("open a-103", chromedp.Click(`[data-assignment="a-103"] button.open`), chromedp.WaitVisible(`#page .field[data-path="district"]`))
	shown := func() string {
		return eval[string](b, `[...document.querySelectorAll('#page .field[data-path="district"] [data-choice]')].filter((c) => !c.hidden).map((c) => c.dataset.choice).join(' ')`)
	}
	if got := shown(); got != "" {
		t.Errorf("districts before a region: %q, want none", got)
	}
	b.fill(fieldOnPage{Path: "region", Widget: "choices"}, "north")
	if got := shown(); got != "n1 n2" {
		t.Errorf("districts of the north: %q", got)
	}
	b.fill(fieldOnPage{Path: "region", Widget: "choices"}, "south")
	if got := shown(); got != "s1" {
		t.Errorf("districts of the south: %q", got)
	}
	migrants := `[...document.querySelectorAll('.pagelink')].find((l) => ['Migrantes', 'Migrants'].includes(l.textContent)).hidden`
	if !eval[bool](b, migrants) {
		t.Error("the migrants section is offered before anyone is abroad")
	}
	b.do("the page of has_migrants", chromedp.Click(`.pagelink[data-page="2"]`), chromedp.WaitVisible(`#page .field[data-path="has_migrants"]`))
	b.fill(fieldOnPage{Path: "has_migrants", Widget: "choices"}, "yes")
	if eval[bool](b, migrants) {
		t.Error("the migrants section stays hidden with someone abroad")
	}
	// What the tablet keeps: an acknowledged interview keeps its answers for
	// a grace period, loses them once it is over, and signing out clears the
	// tablet (after the warning about unsent interviews, accepted here).
	b.do("back home", chromedp.Click("#save-exit"), chromedp.WaitVisible("#assignments"))
	b.waitJS("a quiet app", `dotmTest.quiet()`, 10*time.Second)
	kept := eval[string](b, fmt.Sprintf(`(async () => {
	  const before = await dotmTest.db.interview(%s);
	  if (!before || !before.answers || !(before.purge_at > Date.now())) return 'the acknowledged interview is not kept for its grace period: ' + JSON.stringify(before && before.purge_at);
	  before.purge_at = Date.now() - 1; // the grace period is over
	  await dotmTest.db.putInterview(before);
	  await dotmTest.purgeSent();
	  const all = await dotmTest.db.interviews();
	  const sent = all.find((iv) => iv.instance_id === %s);
	  if (!sent || sent.status !== 'sent') return 'the sent interview is gone or not sent: ' + JSON.stringify(sent);
	  if (sent.answers) return 'the sent interview still has its answers';
	  if (JSON.stringify(sent).includes('Rosa')) return 'the respondent\'s name is still on the tablet';
	  return 'ok';
	})()`, jsString(instance), jsString(instance)))
	if kept != "ok" {
		t.Errorf("after the grace period: %s", kept)
	}
	eval[bool](b, `window.confirm = () => true; true`)
	b.do("sign out", chromedp.Click(`.home-head button.quiet`))
	b.waitJS("the sign-in page", `!!document.querySelector('#token') || !!document.querySelector('input[type=password]')`, 10*time.Second)
	if n := eval[int](b, `(async () => (await dotmTest.db.interviews()).length)()`); n != 0 {
		t.Errorf("after signing out the tablet holds %d interviews", n)
	}
	t.Logf("screenshots in %s", screens)
}
