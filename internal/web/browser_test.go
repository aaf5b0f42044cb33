package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/demo"
	"github.com/ntmledger/ntmledger/internal/httpapi"
	"github.com/ntmledger/ntmledger/internal/node"
)

// Chromium is where CI installs the browser (.ci/run). A missing browser
// fails the browser tests: it is a broken machine, not a reason to skip.
const Chromium = "/usr/bin/chromium"

// wait bounds how long a test waits for something that must happen; it
// guards against hangs and asserts nothing about speed.
const wait = 30 * time.Second

// demoNode starts a node on temp dirs with the embedded NATS in process,
// loads the demo data set and serves the API and dashboard.
func demoNode(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n, err := node.Start(ctx, node.Config{DataDir: tb.TempDir(), NATSListen: "none"})
	if err != nil {
		tb.Fatalf("start node: %v", err)
	}
	tb.Cleanup(func() { n.Close() })
	if _, err := demo.Load(ctx, n.Ledger, nil); err != nil {
		tb.Fatalf("load demo: %v", err)
	}
	if err := n.CatchUp(ctx); err != nil {
		tb.Fatalf("catch up: %v", err)
	}
	ts := httptest.NewServer(httpapi.New(n, nil))
	tb.Cleanup(ts.Close)
	return ts.URL
}

// browser starts headless Chromium at 1366×768 with its own profile and
// returns a tab context. JavaScript exceptions in the page are collected
// and reported by the returned check.
func browser(tb testing.TB) (context.Context, func()) {
	tb.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		tb.Fatalf("chromium is required at %s (apt-get install chromium): %v", Chromium, err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(Chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "vi-VN"),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1366, 768),
	)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(tb.Logf))
	tb.Cleanup(func() { cancelTab(); cancelAlloc() })
	var mu sync.Mutex
	var thrown []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			mu.Lock()
			thrown = append(thrown, msg)
			mu.Unlock()
		}
	}); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return ctx, func() {
		tb.Helper()
		mu.Lock()
		defer mu.Unlock()
		for _, m := range thrown {
			tb.Errorf("JavaScript exception in the page: %s", m)
		}
	}
}

// artifacts is where screenshots go: $NTM_ARTIFACTS, else
// testdata/artifacts beside this package (git-ignored).
func artifacts(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("NTM_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	saveScreenshot(t, name, png, err)
}

func fullScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	saveScreenshot(t, name, png, err)
}

// saveScreenshot writes a captured screenshot to the test artifacts.
func saveScreenshot(t *testing.T, name string, png []byte, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifacts(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// until waits for a JavaScript condition to hold.
func until(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(wait))); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, js, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// postEvent appends one event through the API and returns its seq.
func postEvent(t *testing.T, base string, in events.Input) uint64 {
	t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/v1/events", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Events []struct {
			Seq uint64 `json:"seq"`
		} `json:"events"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated || len(out.Events) != 1 {
		t.Fatalf("append: HTTP %d %s %v", resp.StatusCode, out.Error, err)
	}
	return out.Events[0].Seq
}

var inspector = &events.Actor{ID: "pnn-347", Role: "district", Name: "Phòng Nông nghiệp thành phố Phủ Lý"}

func assessment(unit, date, criterion, status string) events.Input {
	data, _ := json.Marshal(map[string]string{"tier": "ntm", "criterion": criterion, "status": status, "stage": "district"})
	return events.Input{Type: events.CriterionAssessed, Unit: unit, OccurredAt: date, Actor: inspector, Data: data}
}

// province is the provincial People's Committee of the new Ninh Bình,
// which recognizes its communes.
var province = &events.Actor{ID: "ubnd-37", Role: "province", Name: "UBND tỉnh Ninh Bình"}

// liemHa is a xã of the new Ninh Bình formed on 2025-07-01: in the demo it
// holds no tier.
const liemHa = "13456@2025"

// carryOver is the explicit grant that carries a recognition over to a
// unit formed by the reform (no recognition carries over by itself).
func carryOver(unit, date string) events.Input {
	data, _ := json.Marshal(map[string]string{"tier": "ntm"})
	return events.Input{Type: events.RecognitionGranted, Unit: unit, OccurredAt: date, Actor: province, Data: data,
		Document: &events.Document{Number: "100/QĐ-UBND", Date: date, Issuer: "UBND tỉnh Ninh Bình"}}
}

func revocation(unit, date string) events.Input {
	data, _ := json.Marshal(map[string]string{"tier": "ntm", "reason": "not_maintained", "basis": "18/2022/QĐ-TTg", "note": "Tiêu chí 10 không duy trì"})
	return events.Input{Type: events.RecognitionRevoked, Unit: unit, OccurredAt: date, Actor: inspector, Data: data,
		Document: &events.Document{Number: "1234/QĐ-UBND", Date: date, Issuer: "UBND tỉnh Hà Nam"}}
}

// Acceptance (issue 6): the dashboard in a real browser over a real node
// with the demo data; events posted through the API reach the open page
// without a reload.
func TestDashboardInBrowser(t *testing.T) {
	base := demoNode(t)
	ctx, checkJS := browser(t)
	defer checkJS()
	seq := func() uint64 {
		v, _ := strconv.ParseUint(eval[string](t, ctx, `document.getElementById('seq').dataset.seq`), 10, 64)
		return v
	}

	// The default overview: after the reform no commune holds a tier, so
	// the page shows the figures as of the latest recognition (20/06/2025,
	// Trà Vinh's last round) and says so, with the way back to today.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768), chromedp.Navigate(base+"/#/")); err != nil {
		t.Fatalf("open the dashboard: %v", err)
	}
	until(t, ctx, "the provinces table as of the latest recognition", `document.querySelectorAll('#provinces tbody tr').length >= 60`)
	if got := eval[string](t, ctx, `document.getElementById('ov-banner')?.innerText ?? ''`); !strings.Contains(got, "Đang hiển thị số liệu tính đến ngày 20/06/2025") {
		t.Errorf("default overview banner %q, want it to say the figures are as of 20/06/2025", got)
	}
	if got := eval[string](t, ctx, `location.hash`); got != "#/" {
		t.Errorf("the default overview moved the route to %q", got)
	}
	screenshot(t, ctx, "summary-default.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#ov-today"))); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "today's overview", `location.hash === '#/?as_of=now' && document.getElementById('ov-hint') !== null && document.getElementById('ov-banner') === null`)

	// The overview, as of the eve of the 2025 reform: every province's
	// communes by tier, in Vietnamese, on a 1366×768 screen.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/?as_of=2025-06-30")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the provinces table", `document.querySelectorAll('#provinces tbody tr').length >= 60 && document.getElementById('ov-banner')?.innerText.includes('30/06/2025')`)
	until(t, ctx, "the live stream", `document.getElementById('live-dot').classList.contains('on')`)
	if got := eval[string](t, ctx, `document.documentElement.lang`); got != "vi" {
		t.Errorf("page language %q, want vi", got)
	}
	hanam := eval[string](t, ctx, `document.querySelector('#provinces tr[data-province="35"]').innerText`)
	if !strings.Contains(hanam, "Tỉnh Hà Nam") || !strings.Contains(hanam, "83 / 98") {
		t.Errorf("Hà Nam's row: %q, want Tỉnh Hà Nam with 83 / 98 communes recognized", hanam)
	}
	if nav := eval[string](t, ctx, `document.querySelector('nav').innerText`); !strings.Contains(nav, "Nguy cơ thu hồi") {
		t.Errorf("navigation is not in Vietnamese: %q", nav)
	}
	screenshot(t, ctx, "summary.png")
	before := seq()
	if before == 0 {
		t.Fatalf("the seq indicator shows nothing")
	}

	// A new event through the API appears in the live feed and moves the
	// seq indicator, on the same page (no reload: the marker survives).
	eval[bool](t, ctx, `window.__sameDocument = true`)
	s1 := postEvent(t, base, assessment("13306", "2025-05-02", "10", "basically_met"))
	until(t, ctx, "the assessment in the live feed", fmt.Sprintf(`document.querySelector('#live-feed li[data-seq="%d"][data-type="criterion.assessed"]') !== null`, s1))
	until(t, ctx, "the seq indicator to advance", fmt.Sprintf(`Number(document.getElementById('seq').dataset.seq) >= %d`, s1))
	if after := seq(); after <= before {
		t.Errorf("seq indicator %d after the post, %d before", after, before)
	}
	until(t, ctx, "the unit's name in the feed", fmt.Sprintf(`document.querySelector('#live-feed li[data-seq="%d"]')?.innerText.includes('Xã Phù Vân')`, s1))

	// The unit page: criteria grid and history; a later assessment of the
	// same criterion turns its cell without a reload.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/unit/13306")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the criteria grid", `document.querySelector('#criteria td[data-tier="ntm"][data-criterion="10"]') !== null`)
	until(t, ctx, "the history with the posted event", fmt.Sprintf(`document.querySelector('#history li[data-seq="%d"]') !== null`, s1))
	if got := eval[string](t, ctx, `document.querySelector('#criteria td[data-tier="ntm"][data-criterion="10"]').dataset.status`); got != "basically_met" {
		t.Errorf("criterion 10 shows %q, want basically_met", got)
	}
	screenshot(t, ctx, "unit.png")
	fullScreenshot(t, ctx, "unit-full.png")
	s2 := postEvent(t, base, assessment("13306", "2025-05-20", "10", "met"))
	until(t, ctx, "the new assessment in the history", fmt.Sprintf(`document.querySelector('#history li[data-seq="%d"]') !== null`, s2))
	until(t, ctx, "criterion 10 to turn met", `document.querySelector('#criteria td[data-tier="ntm"][data-criterion="10"]')?.dataset.status === 'met'`)
	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Errorf("the page reloaded")
	}

	// as_of: the unit before it was recognized at all.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/unit/13306?as_of=2010-01-01")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the status as of 2010", `document.querySelector('#u-tier .tier.t-none') !== null`)

	// Progress against targets: Long An's yearly plan as a chart and a table.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/progress/80")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "Long An's progress chart", `document.querySelector('#progress-chart rect') !== null && document.querySelectorAll('#progress tbody tr').length > 0`)
	screenshot(t, ctx, "progress.png")

	// A dissolved commune: its badge, the units it went into, and the risk
	// still open when it was dissolved (it is no longer at risk).
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/unit/13507")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "Xã Đinh Xá dissolved, with its open risk", `document.getElementById('u-dissolved')?.innerText.includes('01/07/2025') && document.getElementById('u-risks-open')?.innerText.includes('18/2022')`)
	if !eval[bool](t, ctx, `document.querySelector('#u-dissolved-into a[href="#/unit/13444%402025"]') !== null`) {
		t.Errorf("Xã Đinh Xá does not link to the unit it was dissolved into: %q", eval[string](t, ctx, `document.getElementById('u-dissolved-into')?.innerHTML ?? ''`))
	}
	if got := eval[string](t, ctx, `document.getElementById('u-risks-open').innerText`); !strings.Contains(got, "R1") || !strings.Contains(got, "10★") {
		t.Errorf("open risk %q, want R1 with the key criterion 10 marked", got)
	}
	fullScreenshot(t, ctx, "unit-dissolved.png")

	// A district counts its thị trấn apart (not graded).
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/unit/847")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "Huyện Châu Thành's communes", `/1 không xét/.test(document.querySelector('#u-children [data-kind="commune"]')?.innerText ?? '')`)

	// Communes at risk of revocation: none now (the two of the demo were
	// dissolved), and the page says why. A commune of the new Ninh Bình,
	// recognized and then found to miss 6 of 19 criteria including Income
	// while the page is open, appears at risk under Decision 18/2022 (R1)
	// without a reload.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/at-risk")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the empty at-risk view", `document.getElementById('ar-empty')?.innerText.includes('Hiện không có xã nào') && document.querySelector('#ar-open li[data-unit="13507"]')?.innerText.includes('Xã Đinh Xá')`)
	screenshot(t, ctx, "at-risk-empty.png")
	postEvent(t, base, carryOver(liemHa, "2025-07-15"))
	for c := 1; c <= 19; c++ {
		status := "met"
		switch c {
		case 5, 6, 8, 10, 12, 17:
			status = "not_met"
		}
		postEvent(t, base, assessment(liemHa, "2025-09-10", strconv.Itoa(c), status))
	}
	until(t, ctx, "Xã Liêm Hà at risk", `document.querySelector('#at-risk')?.innerText.includes('Xã Liêm Hà') && document.querySelector('#at-risk').innerText.includes('18/2022') && document.getElementById('ar-empty') === null`)
	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Errorf("the page reloaded")
	}
	screenshot(t, ctx, "at-risk.png")

	// The revocation timeline gains a revocation posted while it is open.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/revocations")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the revocation page", `document.querySelector('#revocations, main p.muted') !== null && !document.querySelector('main [aria-busy="true"]')`)
	s3 := postEvent(t, base, revocation("13306", "2025-06-10"))
	until(t, ctx, "the revocation in the timeline", `document.querySelectorAll('#revocations li').length > 0 && document.querySelector('#revocations')?.innerText.includes('Xã Phù Vân')`)
	until(t, ctx, "the seq indicator at the revocation", fmt.Sprintf(`Number(document.getElementById('seq').dataset.seq) >= %d`, s3))

	// English on demand; dates become ISO, the route stays.
	if !eval[bool](t, ctx, `/\d{2}\/\d{2}\/\d{4}/.test(document.querySelector('#revocations .when').innerText)`) {
		t.Errorf("Vietnamese dates are not dd/mm/yyyy: %q", eval[string](t, ctx, `document.querySelector('#revocations .when').innerText`))
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#lang"))); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "English", `document.documentElement.lang === 'en' && document.querySelector('nav')?.innerText.includes('Revocations')`)
	until(t, ctx, "ISO dates", `/^\d{4}-\d{2}-\d{2}$/.test(document.querySelector('#revocations .when')?.innerText)`)

	// Ten thousand communes, a page at a time.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#/units?kind=commune")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the first page of communes", `document.querySelectorAll('#units tbody tr').length === 100`)
	first := eval[string](t, ctx, `document.querySelector('#units tbody tr td').innerText`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".pager button:last-child"))); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the second page", fmt.Sprintf(`(document.querySelector('#units tbody tr td')?.innerText ?? %q) !== %q`, first, first))
}

// BenchmarkDashboardFirstRender opens the dashboard on the demo data in a
// fresh tab per iteration and reports the bytes transferred for the page
// (HTML and assets, gzipped) and with its first API reads, and the time
// from navigation to the first view rendered with data.
func BenchmarkDashboardFirstRender(b *testing.B) {
	base := demoNode(b)
	bctx, checkJS := browser(b)
	defer checkJS()
	var renderMS, pageBytes, allBytes float64
	for b.Loop() {
		ctx, cancel := chromedp.NewContext(bctx)
		// Tabs share the browser's HTTP cache: with it off, every
		// iteration is a first visit.
		err := chromedp.Do(ctx, noCache, chromedp.Navigate(base+"/#/?as_of=2025-06-30"))
		if err == nil {
			_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`performance.getEntriesByName('ntm:first-render').length > 0`, chromedp.WithPollingTimeout(wait)))
		}
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		m, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(() => {
			const nav = performance.getEntriesByType('navigation')[0];
			const res = performance.getEntriesByType('resource');
			const page = nav.transferSize + res.filter((r) => r.name.includes('/assets/')).reduce((s, r) => s + r.transferSize, 0);
			const all = nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0);
			return { render: performance.getEntriesByName('ntm:first-render')[0].startTime, page, all };
		})()`))
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		renderMS += m["render"]
		pageBytes += m["page"]
		allBytes += m["all"]
	}
	n := float64(b.N)
	b.ReportMetric(renderMS/n, "ms-first-render/op")
	b.ReportMetric(pageBytes/n, "page-bytes/op")
	b.ReportMetric(allBytes/n, "bytes-with-api/op")
}

// noCache turns the tab's HTTP cache off.
func noCache(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
	if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
		return chromedp.Void{}, fmt.Errorf("network.enable: %w", err)
	}
	if _, err := cdp.Call(ctx, t, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		return chromedp.Void{}, fmt.Errorf("disable cache: %w", err)
	}
	return chromedp.Void{}, nil
}
