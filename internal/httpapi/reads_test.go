package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/xuri/excelize/v2"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/export"
	"github.com/ntmledger/ntmledger/internal/httpapi"
	"github.com/ntmledger/ntmledger/internal/live"
	"github.com/ntmledger/ntmledger/internal/node"
	"github.com/ntmledger/ntmledger/ledger"
)

// wait bounds how long a test waits for something that must happen; it
// guards against hangs and asserts nothing about speed.
const wait = 30 * time.Second

// startNode starts a node whose embedded NATS listens on a random port, so
// tests can connect a plain NATS client, and serves its API.
func startNode(t *testing.T, cfg node.Config) (*httptest.Server, *node.Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg.DataDir, cfg.NATSListen = t.TempDir(), "127.0.0.1:0"
	n, err := node.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	ts := httptest.NewServer(httpapi.New(n, nil))
	t.Cleanup(ts.Close)
	return ts, n
}

func plainNATS(t *testing.T, n *node.Node) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(n.Server.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

var clerk = events.Actor{ID: "vpdp-35", Role: "province", Name: "Văn phòng Điều phối NTM tỉnh Hà Nam"}

func line(t *testing.T, typ events.Type, unit, date string, doc *events.Document, data any) string {
	t.Helper()
	raw, _ := json.Marshal(data)
	b, err := json.Marshal(events.Input{Type: typ, Unit: unit, OccurredAt: date, Actor: &clerk, Document: doc, Data: raw})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func reg(t *testing.T, unit, name, kind, parent string) string {
	d := map[string]any{"name": name, "kind": kind}
	if parent != "" {
		d["parent"] = parent
	}
	return line(t, events.UnitRegistered, unit, "2015-01-01", nil, d)
}

// post appends JSON Lines and returns the results.
func post(t *testing.T, base string, lines ...string) []ledger.Result {
	t.Helper()
	resp, err := http.Post(base+"/v1/events", "application/x-ndjson", strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Events []ledger.Result `json:"events"`
		Error  string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("append: HTTP %d %s %v", resp.StatusCode, out.Error, err)
	}
	return out.Events
}

func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode
}

func hierarchy(t *testing.T) []string {
	return []string{
		reg(t, "35", "Tỉnh Hà Nam", "province", ""),
		reg(t, "347", "Thành phố Phủ Lý", "district", "35"),
		reg(t, "13306", "Xã Phù Vân", "commune", "347"),
		reg(t, "13309", "Xã Liêm Chính", "commune", "347"),
		reg(t, "13507", "Xã Đinh Xá", "commune", "347"),
	}
}

func assess(t *testing.T, unit, criterion, status string) string {
	return line(t, events.CriterionAssessed, unit, "2024-05-01", nil, map[string]any{"tier": "ntm", "criterion": criterion, "status": status, "stage": "district"})
}

// sseReader reads a live stream's events.
type sseReader struct {
	sc   *bufio.Scanner
	body io.Closer
}

func openSSE(t *testing.T, url string) *sseReader {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("live: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := &sseReader{sc: bufio.NewScanner(resp.Body), body: resp.Body}
	if name, _ := r.next(t); name != "hello" {
		t.Fatalf("first event %q, want hello", name)
	}
	return r
}

// next returns the next event's name ("" for a message) and data.
func (r *sseReader) next(t *testing.T) (string, string) {
	t.Helper()
	name, data := "", ""
	for r.sc.Scan() {
		l := r.sc.Text()
		switch {
		case l == "" && data != "":
			return name, data
		case strings.HasPrefix(l, "event: "):
			name = strings.TrimPrefix(l, "event: ")
		case strings.HasPrefix(l, "data: "):
			data += strings.TrimPrefix(l, "data: ")
		}
	}
	t.Fatalf("live stream ended: %v", r.sc.Err())
	return "", ""
}

func TestLiveChangeReachesSSEAndNATSAfterPost(t *testing.T) {
	ts, n := startNode(t, node.Config{})
	post(t, ts.URL, hierarchy(t)...)

	nc := plainNATS(t, n)
	sub, err := nc.SubscribeSync(live.SubjectPrefix + ".status.35.13306")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	sse := openSSE(t, ts.URL+"/v1/live?unit=13306")
	res := post(t, ts.URL, assess(t, "13306", "10", "met"))
	seq := res[0].Seq

	for {
		name, data := sse.next(t)
		var m live.Message
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("SSE data %q: %v", data, err)
		}
		if m.Unit != "13306" {
			t.Fatalf("filter ?unit=13306 let through %+v", m)
		}
		if name == "" && m.View == "status" && m.Seq == seq {
			if m.Province != "35" || m.Type != string(events.CriterionAssessed) {
				t.Fatalf("SSE change: %+v", m)
			}
			break
		}
	}
	for {
		msg, err := sub.NextMsg(wait)
		if err != nil {
			t.Fatalf("NATS live message: %v", err)
		}
		var m live.Message
		if err := json.Unmarshal(msg.Data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Seq == seq {
			if m.View != "status" || m.Unit != "13306" {
				t.Fatalf("NATS change: %+v", m)
			}
			break
		}
	}
}

func TestStalledLiveClientsDoNotBlockAppendsOrProjection(t *testing.T) {
	ts, n := startNode(t, node.Config{LiveBuffer: 4})
	post(t, ts.URL, hierarchy(t)...)
	// A subscriber that never reads, and an SSE client that stops reading
	// after the hello.
	stuck := n.Live.Subscribe(live.Filter{})
	defer stuck.Close()
	openSSE(t, ts.URL+"/v1/live")

	var last uint64
	for i := range 40 {
		res := post(t, ts.URL, assess(t, []string{"13306", "13309", "13507"}[i%3], fmt.Sprint(1+i%19), "met"))
		last = res[0].Seq
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := n.Views.WaitApplied(ctx, last); err != nil {
		t.Fatalf("projection behind a stuck client: %v", err)
	}
	// The stuck subscriber's buffer overflowed: it holds a resync first,
	// then at most the buffer's worth of later changes.
	first := <-stuck.C()
	if first.View != live.ViewResync {
		t.Fatalf("first message of a client that fell behind: %+v", first)
	}
	if st := n.Live.Stats(); st.Resyncs == 0 || st.Dropped == 0 {
		t.Fatalf("hub stats: %+v", st)
	}
	if got := len(stuck.C()); got > 4 {
		t.Fatalf("buffer holds %d messages, bound is 4", got)
	}
}

// forge publishes a body onto a unit's subject with a plain NATS request
// (JetStream answers with its ack) and returns the stream sequence.
func forge(t *testing.T, nc *nats.Conn, subject string, body []byte) uint64 {
	t.Helper()
	msg, err := nc.Request(subject, body, wait)
	if err != nil {
		t.Fatal(err)
	}
	var ack struct {
		Seq   uint64 `json:"seq"`
		Error any    `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &ack); err != nil || ack.Seq == 0 {
		t.Fatalf("ack %s: %v", msg.Data, err)
	}
	return ack.Seq
}

func TestForgedMessagesAreQuarantinedReportedAndCounted(t *testing.T) {
	ts, n := startNode(t, node.Config{})
	post(t, ts.URL, hierarchy(t)...)
	good := post(t, ts.URL, assess(t, "13306", "10", "met"))
	var hist struct {
		Events []events.Event `json:"events"`
	}
	getJSON(t, ts.URL+"/v1/units/13306/history?min_seq="+fmt.Sprint(good[0].Seq), &hist)
	head := hist.Events[len(hist.Events)-1]

	// A grant that never went through the ledger: no hash at all...
	forged := events.Event{
		ID: events.NewID(), Type: events.RecognitionGranted, Unit: "13306", OccurredAt: "2024-06-01",
		RecordedAt: "2024-06-01T00:00:00Z", Actor: clerk, Document: &events.Document{Number: "999/QĐ-UBND", Date: "2024-06-01"},
		Data: json.RawMessage(`{"tier":"ntm"}`), Version: head.Version + 1, PrevHash: head.Hash,
	}
	body, err := events.Encode(&forged)
	if err != nil {
		t.Fatal(err)
	}
	nc := plainNATS(t, n)
	missing := forge(t, nc, ledger.Subject("35", "13306"), body)
	// ...and one sealed properly, then altered (a forged hash).
	forged.ID = events.NewID()
	if _, err := events.Seal(&forged); err != nil {
		t.Fatal(err)
	}
	forged.Document.Number = "1000/QĐ-UBND"
	body, _ = events.Encode(&forged)
	forge(t, nc, ledger.Subject("35", "13306"), body)

	// Other units keep updating, and so does 13306 from its last good event.
	other := post(t, ts.URL, line(t, events.RecognitionGranted, "13309", "2024-06-02",
		&events.Document{Number: "1001/QĐ-UBND", Date: "2024-06-02", Issuer: "UBND tỉnh Hà Nam"}, map[string]any{"tier": "ntm"}))
	next := post(t, ts.URL, assess(t, "13306", "17", "not_met"))
	if next[0].Version != head.Version+1 {
		t.Fatalf("append after the forgery: version %d, want %d", next[0].Version, head.Version+1)
	}
	var st struct {
		Tier    string `json:"tier"`
		Version uint64 `json:"version"`
	}
	getJSON(t, ts.URL+"/v1/units/13309?min_seq="+fmt.Sprint(other[0].Seq), &st)
	if st.Tier != "ntm" {
		t.Fatalf("13309 did not update: %+v", st)
	}
	getJSON(t, ts.URL+"/v1/units/13306?min_seq="+fmt.Sprint(next[0].Seq), &st)
	if st.Tier != "" || st.Version != head.Version+1 {
		t.Fatalf("13306 shows the forged grant or a wrong version: %+v", st)
	}
	getJSON(t, ts.URL+"/v1/units/13306/history", &hist)
	for _, e := range hist.Events {
		if e.Type == events.RecognitionGranted {
			t.Fatalf("history of 13306 holds the forged event %s", e.ID)
		}
	}

	var rep ledger.VerifyReport
	getJSON(t, ts.URL+"/v1/verify", &rep)
	if rep.OK || len(rep.Breaks) != 1 {
		t.Fatalf("verify: %+v", rep)
	}
	b := rep.Breaks[0]
	if b.Unit != "13306" || b.Seq != missing || b.Version != head.Version+1 || b.Reason != events.ChainHashMissing || b.Bad != 2 || b.LastGood != good[0].Seq {
		t.Fatalf("first break: %+v", b)
	}
	getJSON(t, ts.URL+"/v1/verify?unit=13309", &rep)
	if !rep.OK || rep.Events != 2 || rep.Unit != "13309" {
		t.Fatalf("verify 13309: %+v", rep)
	}
	getJSON(t, ts.URL+"/v1/verify?unit=13306", &rep)
	if rep.OK || rep.Breaks[0].Seq != missing {
		t.Fatalf("verify 13306: %+v", rep)
	}

	var findings struct {
		Findings []struct {
			Kind, Unit, Reason string
			Seq                uint64
		} `json:"findings"`
	}
	getJSON(t, ts.URL+"/v1/findings?province=35", &findings)
	// Only the quarantine findings concern this test (the rulebook raises
	// others, e.g. a grant without assessments on record).
	quarantined := findings.Findings[:0]
	for _, f := range findings.Findings {
		if f.Kind == "quarantined_event" {
			quarantined = append(quarantined, f)
		}
	}
	findings.Findings = quarantined
	if len(findings.Findings) != 2 || findings.Findings[0].Unit != "13306" || findings.Findings[0].Reason != events.ChainHashMissing ||
		findings.Findings[1].Reason != events.ChainHashMismatch || findings.Findings[0].Kind != "quarantined_event" {
		t.Fatalf("findings: %+v", findings)
	}

	fams := scrape(t, ts.URL)
	for _, p := range []string{"views", "ledger-index"} {
		if v := value(t, fams, "ntm_projector_quarantined_events_total", "projector", p); v != 2 {
			t.Fatalf("%s quarantined %v, want 2", p, v)
		}
	}
	var health httpapi.Health
	if code := getJSON(t, ts.URL+"/healthz", &health); code != 200 {
		t.Fatalf("a quarantined message made the node unhealthy: %+v", health)
	}
}

func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse as Prometheus text: %v", err)
	}
	return fams
}

func value(t *testing.T, fams map[string]*dto.MetricFamily, name, label, lv string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("metric %s missing", name)
	}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if label == "" || l.GetName() == label && l.GetValue() == lv {
				switch {
				case m.GetCounter() != nil:
					return m.GetCounter().GetValue()
				case m.GetGauge() != nil:
					return m.GetGauge().GetValue()
				}
			}
		}
		if label == "" && len(m.GetLabel()) == 0 {
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s{%s=%q} missing", name, label, lv)
	return 0
}

func TestMetricsParseAndCount(t *testing.T) {
	ts, _ := startNode(t, node.Config{})
	post(t, ts.URL, hierarchy(t)...)
	resp, err := http.Post(ts.URL+"/v1/events", "application/json", strings.NewReader(`{"type":"nope"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	openSSE(t, ts.URL+"/v1/live")
	fams := scrape(t, ts.URL)
	for _, tc := range []struct {
		name, label, lv string
		want            float64
	}{
		{"ntm_ledger_appended_events_total", "", "", 5},
		{"ntm_ledger_append_requests_total", "result", "ok", 1},
		{"ntm_ledger_rejections_total", "reason", "invalid", 1},
		{"ntm_live_sse_clients", "", "", 1},
		{"ntm_projector_halted", "projector", "views", 0},
		{"ntm_views_rebuild_running", "", "", 0},
	} {
		if got := value(t, fams, tc.name, tc.label, tc.lv); got != tc.want {
			t.Errorf("%s{%s=%q} = %v, want %v", tc.name, tc.label, tc.lv, got, tc.want)
		}
	}
	for _, name := range []string{"ntm_ledger_append_duration_seconds", "ntm_projector_lag_events", "ntm_projector_apply_rate_events_per_second",
		"ntm_projector_applied_events_total", "ntm_stream_last_seq", "ntm_views_rebuild_progress_ratio"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}
	if h := fams["ntm_ledger_append_duration_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleCount() != 2 {
		t.Errorf("append latency samples: %d, want 2", h.GetSampleCount())
	}
}

func download(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: HTTP %d %s", url, resp.StatusCode, b)
	}
	return b
}

func xlsxRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func column(t *testing.T, rows [][]string, name string) int {
	t.Helper()
	for i, c := range rows[0] {
		if c == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, rows[0])
	return -1
}

func TestExportsReadBackWithVietnameseText(t *testing.T) {
	ts, _ := startNode(t, node.Config{})
	post(t, ts.URL, hierarchy(t)...)
	post(t, ts.URL, line(t, events.RecognitionGranted, "13507", "2019-12-20",
		&events.Document{Number: "3000/QĐ-UBND", Date: "2019-12-20", Issuer: "UBND tỉnh Hà Nam"}, map[string]any{"tier": "ntm"}))
	res := post(t, ts.URL, line(t, events.RecognitionRevoked, "13507", "2023-03-15",
		&events.Document{Number: "250/QĐ-UBND", Date: "2023-03-15", Issuer: "UBND tỉnh Hà Nam"},
		map[string]any{"tier": "ntm", "reason": "not_maintained", "basis": "18/2022/QĐ-TTg", "note": "Không duy trì tiêu chí Môi trường"}))
	seq := fmt.Sprint(res[0].Seq)

	for _, format := range []string{export.XLSX, export.CSV} {
		t.Run(format, func(t *testing.T) {
			read := func(path string) [][]string {
				b := download(t, ts.URL+path+"&format="+format+"&min_seq="+seq)
				if format == export.XLSX {
					return xlsxRows(t, b)
				}
				if !bytes.HasPrefix(b, []byte(export.BOM)) {
					t.Fatalf("CSV without a byte-order mark")
				}
				rows, err := export.ReadCSV(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				return rows
			}
			status := read("/v1/export/status?province=35")
			if len(status) != 6 { // header, province, district, three communes
				t.Fatalf("status rows: %v", status)
			}
			name, unit := column(t, status, "name"), column(t, status, "unit")
			names := map[string]string{}
			for _, r := range status[1:] {
				names[r[unit]] = r[name]
			}
			if names["13507"] != "Xã Đinh Xá" || names["35"] != "Tỉnh Hà Nam" || names["347"] != "Thành phố Phủ Lý" {
				t.Fatalf("names: %v", names)
			}

			hist := read("/v1/export/history/13507?from=")
			if len(hist) != 4 || hist[3][column(t, hist, "type")] != "recognition.revoked" || hist[3][column(t, hist, "document_issuer")] != "UBND tỉnh Hà Nam" ||
				!strings.Contains(hist[3][column(t, hist, "data")], "Không duy trì tiêu chí Môi trường") || hist[1][column(t, hist, "actor_name")] != clerk.Name {
				t.Fatalf("history rows: %v", hist)
			}

			revs := read("/v1/export/revocations?province=35")
			if len(revs) != 2 {
				t.Fatalf("revocation rows: %v", revs)
			}
			r := revs[1]
			if r[column(t, revs, "name")] != "Xã Đinh Xá" || r[column(t, revs, "decision_number")] != "250/QĐ-UBND" ||
				r[column(t, revs, "ended_decision_number")] != "3000/QĐ-UBND" || r[column(t, revs, "held_days")] != "1181" || r[column(t, revs, "basis")] != "18/2022/QĐ-TTg" {
				t.Fatalf("revocation row: %v", r)
			}
		})
	}
}

func TestReadEndpointsOverHTTP(t *testing.T) {
	ts, _ := startNode(t, node.Config{})
	res := post(t, ts.URL, hierarchy(t)...)
	seq := fmt.Sprint(res[len(res)-1].Seq)
	var units struct {
		Units []struct{ Unit, Name string } `json:"units"`
		Next  string                        `json:"next"`
	}
	if code := getJSON(t, ts.URL+"/v1/units?parent=347&kind=commune&limit=2&min_seq="+seq, &units); code != 200 || len(units.Units) != 2 || units.Next != "13309" {
		t.Fatalf("units: %d %+v", code, units)
	}
	after := units.Next
	units.Next = ""
	getJSON(t, ts.URL+"/v1/units?parent=347&limit=2&after="+after, &units)
	if len(units.Units) != 1 || units.Units[0].Name != "Xã Đinh Xá" || units.Next != "" {
		t.Fatalf("second page: %+v", units)
	}
	var progress struct {
		Unit  string `json:"unit"`
		Years []any  `json:"years"`
	}
	if code := getJSON(t, ts.URL+"/v1/progress/35", &progress); code != 200 || progress.Unit != "35" {
		t.Fatalf("progress: %d %+v", code, progress)
	}
	var revs struct {
		Revocations []any  `json:"revocations"`
		AsOfSeq     uint64 `json:"as_of_seq"`
	}
	if code := getJSON(t, ts.URL+"/v1/revocations?province=35&from=2020-01-01", &revs); code != 200 || revs.Revocations == nil || revs.AsOfSeq == 0 {
		t.Fatalf("revocations: %d %+v", code, revs)
	}
	for _, bad := range []string{"/v1/units?at_risk=maybe", "/v1/units?kind=hamlet", "/v1/units?limit=0", "/v1/revocations?from=2020-13-01",
		"/v1/revocations?reason=bored", "/v1/progress/13306", "/v1/progress/35?year=twenty", "/v1/export/status?format=pdf", "/v1/verify?unit=ntm.>"} {
		var e struct{ Error string }
		if code := getJSON(t, ts.URL+bad, &e); code < 400 || code >= 500 || e.Error == "" {
			t.Errorf("GET %s: %d %q, want a 4xx naming the problem", bad, code, e.Error)
		}
	}
	if code := getJSON(t, ts.URL+"/v1/progress/36", &struct{}{}); code != 404 {
		t.Errorf("progress of an unknown province: %d", code)
	}
}
