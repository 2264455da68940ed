package analysis

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath is the browser that prints the report (Debian's package,
// installed by CI, as for the web client's end-to-end test).
const chromiumPath = "/usr/bin/chromium"

// TestReportPrintsOnA4 prints the report to PDF as a browser's "Save as
// PDF" does, and checks the pages are A4, their number, and that no chart
// is cut: in print layout each chart is kept whole on a page (break-inside:
// avoid), fits the printable height and width, and no table is wider than
// the page.
func TestReportPrintsOnA4(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("printing the report needs %s (Debian package chromium): %v", chromiumPath, err)
	}
	rep, err := IndicatorReport(synthTable(t, 3000, 7), synthSpec)
	if err != nil {
		t.Fatal(err)
	}
	rep.WithMeta(SurveyMeta{Country: "Demoland", Round: "demo round", FieldworkStart: "2026-03-02", FieldworkEnd: "2026-04-17", Selected: 3200, Responding: 3000, ResponseRate: 0.9375})
	var html bytes.Buffer
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, html.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	// the print layout, measured: A4 less the @page margins is 186 × 269 mm
	// (703 × 1017 CSS px)
	const mm = 96 / 25.4
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 703, Height: 900, DeviceScaleFactor: 1})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
	  const out = [];
	  const pageW = document.documentElement.clientWidth, pageH = `+strconv.FormatFloat(269*mm, 'f', 1, 64)+`;
	  document.querySelectorAll('.chart').forEach((c, i) => {
	    const r = c.getBoundingClientRect(), st = getComputedStyle(c);
	    if (st.breakInside !== 'avoid') out.push('chart ' + i + ' may break across pages (' + st.breakInside + ')');
	    if (r.height > pageH) out.push('chart ' + i + ' is ' + Math.round(r.height) + ' px high, the page ' + Math.round(pageH));
	    if (r.right > pageW + 1) out.push('chart ' + i + ' ends at ' + Math.round(r.right) + ' px, the page at ' + pageW);
	  });
	  document.querySelectorAll('table').forEach((tb, i) => { if (tb.getBoundingClientRect().right > pageW + 1) out.push('table ' + i + ' is wider than the page'); });
	  return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	printed, err := chromedp.Run(ctx, chromedp.Action[page.PrintToPDFResult](func(ctx context.Context, _ *chromedp.Target) (page.PrintToPDFResult, error) {
		return chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: &yes, PrintBackground: &yes})
	}))
	if err != nil {
		t.Fatal(err)
	}
	pdf := printed.Data
	for _, c := range cut {
		t.Error(c)
	}
	boxes := regexp.MustCompile(`/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]`).FindAllSubmatch(pdf, -1)
	pages := len(regexp.MustCompile(`/Type /Page\b[^s]`).FindAll(pdf, -1))
	if len(boxes) == 0 || pages == 0 {
		t.Fatalf("the PDF (%d bytes) has %d pages, %d media boxes", len(pdf), pages, len(boxes))
	}
	for _, b := range boxes {
		w, _ := strconv.ParseFloat(string(b[1]), 64)
		h, _ := strconv.ParseFloat(string(b[2]), 64)
		if abs(w-595.3) > 1.5 || abs(h-841.9) > 1.5 { // A4: 210 × 297 mm in points
			t.Errorf("page of %.1f × %.1f pt, want A4 (595 × 842)", w, h)
		}
	}
	// 8 charts two by two, 8 tables, the summary and methods: a few pages
	if pages < 3 || pages > 12 {
		t.Errorf("%d pages", pages)
	}
	t.Logf("report printed on %d A4 pages (%d bytes of PDF)", pages, len(pdf))
	if dir := os.Getenv("DOTM_REPORT_PDF"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "report.pdf"), pdf, 0o644)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
