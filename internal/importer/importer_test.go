package importer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/demo"
	"github.com/ntmledger/ntmledger/internal/importer"
	"github.com/ntmledger/ntmledger/internal/node"
	"github.com/ntmledger/ntmledger/internal/units"
	"github.com/ntmledger/ntmledger/ledger"
)

// The kill test re-executes this test binary as an import process.
const (
	helperData = "NTM_IMPORT_HELPER_DATA"
	helperFile = "NTM_IMPORT_HELPER_FILE"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperData); dir != "" {
		os.Exit(helper(dir, os.Getenv(helperFile)))
	}
	os.Exit(m.Run())
}

// helper imports a file into a data directory, printing a line after each
// batch, until it finishes or is killed.
func helper(dir, file string) int {
	ctx := context.Background()
	n, err := node.Start(ctx, node.Config{DataDir: dir, NATSListen: "none"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer n.Close()
	_, err = importer.Run(ctx, importer.Config{Appender: n.Ledger, BatchSize: 500, Progress: func(p importer.Progress) {
		fmt.Printf("batch rows=%d stored=%d\n", p.Rows, p.Stored)
	}}, []string{file})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func startNode(t *testing.T, dir string) *node.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := node.Start(ctx, node.Config{DataDir: dir, NATSListen: "none"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writeJSONL(t *testing.T, path string, ins []*events.Input) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, in := range ins {
		if err := enc.Encode(in); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// registrations of Thành phố Phủ Lý (Hà Nam) and its province.
func phuLy() []*events.Input {
	return demo.Registrations(units.MustLoad().Hierarchy, func(c *units.Commune) bool { return c.District == "347" })
}

// A spreadsheet as a provincial office fills it: Vietnamese headers, a
// column the importer does not know, DD/MM/YYYY dates, Vietnamese values,
// a decimal comma, and a few mistakes.
const sheet = `Mã đơn vị,Tên xã,Loại,Ngày,Mức,Tiêu chí,Kết quả,Cấp đánh giá,Giá trị,Số văn bản,Ngày văn bản,Cơ quan ban hành,Lý do,Căn cứ
13306,Xã Phù Vân,đánh giá,15/11/2019,nông thôn mới,1,đạt,tỉnh,,,,,,
13306,Xã Phù Vân,đánh giá,15/11/2019,nông thôn mới,17,Đạt,tỉnh,"92,5",,,,,
13306,Xã Phù Vân,đánh giá,15/11/2019,nông thôn mới,10,cơ bản đạt,huyện,,,,,,
13306,Xã Phù Vân,đánh giá,15/11/2019,nông thôn mới,10,tuyệt vời,huyện,,,,,,
13306,Xã Phù Vân,công nhận,20/12/2019,NTM,,,,,3019/QĐ-UBND,20/12/2019,UBND tỉnh Hà Nam,,
13306,Xã Phù Vân,công nhận,21/12/2019,NTM nâng cao,,,,,3020/QĐ-UBND,21/12/2019,UBND tỉnh Hà Nam,,
13426,Xã Kim Bình,công nhận,20/12/2019,NTM kiểu mẫu,,,,,3019/QĐ-UBND,20/12/2019,UBND tỉnh Hà Nam,,
99999,Xã Không Có,đánh giá,15/11/2019,nông thôn mới,1,đạt,tỉnh,,,,,,
13426,Xã Kim Bình,đánh giá,31/02/2019,nông thôn mới,1,đạt,tỉnh,,,,,,
13426,Xã Kim Bình,đánh giá,15/11/2019,nông thôn mới,25,đạt,tỉnh,,,,,,
13306,Xã Phù Vân,thu hồi,01/03/2024,nông thôn mới,,,,,150/QĐ-UBND,01/03/2024,UBND tỉnh Hà Nam,không duy trì,18/2022/QĐ-TTg
13306,Xã Phù Vân,đánh giá,15/11/2019,nông thôn mới,1,đạt,tỉnh,,,,,,
`

func TestImportGoodAndBadRows(t *testing.T) {
	dir := t.TempDir()
	units := filepath.Join(dir, "units.jsonl")
	writeJSONL(t, units, phuLy())
	csvPath := filepath.Join(dir, "hanam.csv")
	if err := os.WriteFile(csvPath, []byte("\xef\xbb\xbf"+sheet), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()
	var report bytes.Buffer
	cfg := importer.Config{Appender: n.Ledger, Report: &report, Actor: events.Actor{ID: "so-nn-ha-nam", Role: "province"}}
	sum, err := importer.Run(ctx, cfg, []string{units, csvPath})
	if err != nil {
		t.Fatal(err)
	}
	regs := len(phuLy())
	// Good: the registrations, 3 assessments, the ntm and advanced grants,
	// the revocation; the last row repeats the first (a duplicate); 5 bad.
	if sum.Stored != regs+6 || sum.Bad != 5 || sum.Duplicate != 1 || sum.Rows != regs+12 {
		t.Errorf("summary %+v, want stored %d, bad 5, duplicate 1, rows %d\nreport:\n%s", sum, regs+6, regs+12, report.String())
	}
	wantBad := []string{
		"hanam.csv:5: status: \"tuyệt vời\" is not a known value",
		"hanam.csv:8: data.tier: granting model requires advanced",
		"hanam.csv:9: unit: unknown unit \"99999\"",
		"hanam.csv:10: occurred_at: \"31/02/2019\" is not a date",
		"hanam.csv:11: data.criterion: \"25\" is not a criterion",
	}
	for _, w := range wantBad {
		if !strings.Contains(report.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, report.String())
		}
	}
	if got := strings.Count(report.String(), "\n"); got != 5 {
		t.Errorf("report has %d lines, want 5:\n%s", got, report.String())
	}
	// The revocation on 2024-03-01 ended ntm and advanced.
	if err := n.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := n.Views.Status(ctx, "13306", "2024-01-01", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Tier != "advanced" {
		t.Errorf("13306 on 2024-01-01: tier %q, want advanced", st.Tier)
	}
	if it := st.Criteria["ntm"].Items["17"]; it.Value == nil || *it.Value != 92.5 || it.Stage != "province" {
		t.Errorf("criterion 17: %+v", it)
	}

	// Again: nothing new, the same bad rows.
	report.Reset()
	again, err := importer.Run(ctx, cfg, []string{units, csvPath})
	if err != nil {
		t.Fatal(err)
	}
	if again.Stored != 0 || again.Duplicate != regs+7 || again.Bad != 5 {
		t.Errorf("second import %+v: want nothing stored, %d duplicates, 5 bad", again, regs+7)
	}
}

// killFile writes an import of about 10,000 events: Lào Cai's units and
// four rounds of assessments of every commune.
func killFile(t *testing.T, path string) int {
	h := units.MustLoad().Hierarchy
	ins := demo.Registrations(h, func(c *units.Commune) bool { return c.Province == "10" })
	b := demo.NewBuilder()
	a := &events.Actor{ID: "test", Role: "district"}
	for _, c := range h.CommunesOf("10") {
		for i, date := range []string{"2022-10-01", "2023-10-01", "2024-10-01", "2025-04-01"} {
			b.Assess(a, c.Code, date, "ntm", "district", 19, []int{1 + i, 5 + i})
		}
	}
	ins = append(ins, b.Inputs()...)
	writeJSONL(t, path, ins)
	return len(ins)
}

// Acceptance: an import killed (SIGKILL) midway and run again ends with
// exactly one copy of every event.
func TestKilledImportResumes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "big.jsonl")
	total := killFile(t, file)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperData+"="+dir, helperFile+"="+file)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	batches := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "batch ") {
			batches++
		}
		if batches == 3 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if batches < 3 {
		t.Fatalf("the import ended before its third batch: %s", stderr.String())
	}

	n := startNode(t, dir)
	defer n.Close()
	ctx := context.Background()
	before, err := n.StreamLastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before < 1500 || before >= uint64(total) {
		t.Fatalf("after the kill the stream holds %d of %d events: not midway", before, total)
	}
	sum, err := importer.Run(ctx, importer.Config{Appender: n.Ledger}, []string{file})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Bad != 0 || sum.Stored+sum.Duplicate != total || uint64(sum.Duplicate) != before {
		t.Errorf("resumed import %+v: want %d duplicates and %d stored", sum, before, uint64(total)-before)
	}
	// Exactly one copy of every event in the stream.
	info, err := n.Ledger.Stream().Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(total) {
		t.Fatalf("stream holds %d messages, want %d", info.State.Msgs, total)
	}
	seen := map[string]bool{}
	cons, err := n.JS.OrderedConsumer(ctx, "NTM_EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for len(seen) < total {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			ev, err := events.Decode(msg.Data())
			if err != nil {
				t.Fatal(err)
			}
			if seen[ev.ID] {
				t.Fatalf("event %s stored twice", ev.ID)
			}
			seen[ev.ID] = true
		}
		if got == 0 {
			t.Fatalf("stream ended after %d distinct events, want %d", len(seen), total)
		}
	}
}

func TestDeriveIDIsStableAndContentBound(t *testing.T) {
	mk := func(status string) *events.Input {
		return &events.Input{Type: events.CriterionAssessed, Unit: "13306", OccurredAt: "2024-10-01",
			Actor: &events.Actor{ID: "a", Role: "district"},
			Data:  json.RawMessage(`{"tier":"ntm","criterion":"1","status":"` + status + `","stage":"district"}`)}
	}
	a, err := importer.DeriveID(mk("met"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := importer.DeriveID(mk("met"))
	c, _ := importer.DeriveID(mk("not_met"))
	if a != b || a == c {
		t.Fatalf("ids %s %s %s", a, b, c)
	}
}

// An import stops where reading fails, or where it is cancelled: what was
// stored before is counted, and nothing after it is appended.
func TestImportStopsWhereReadingFailsOrIsCancelled(t *testing.T) {
	dir := t.TempDir()
	regs := filepath.Join(dir, "units.jsonl")
	writeJSONL(t, regs, phuLy())
	big := filepath.Join(dir, "big.jsonl")
	total := killFile(t, big)
	n := startNode(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()

	// A directory where a file was expected: the first file is stored,
	// and the error names the second.
	sum, err := importer.Run(ctx, importer.Config{Appender: n.Ledger}, []string{regs, dir})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("import of a directory: %v, want an error naming %s", err, dir)
	}
	if sum.Done || sum.Stored != len(phuLy()) {
		t.Errorf("summary %+v: want not done, %d stored", sum, len(phuLy()))
	}

	// Cancelled after its second batch.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := 0
	sum, err = importer.Run(cctx, importer.Config{Appender: n.Ledger, BatchSize: 500, Progress: func(p importer.Progress) {
		if batches++; batches == 2 {
			cancel()
		}
	}}, []string{big})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled import: %v", err)
	}
	last, err := n.StreamLastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done || sum.Stored+sum.Duplicate >= total || uint64(sum.Stored) != last-uint64(len(phuLy())) {
		t.Errorf("cancelled import %+v: the stream holds %d events after the %d registrations, of %d", sum, last-uint64(len(phuLy())), len(phuLy()), total)
	}
}

// plainAppender hides the ledger's AppendPreparedAsync: the importer then
// validates rows itself and the ledger validates them again, as over HTTP.
type plainAppender struct{ l *ledger.Ledger }

func (p plainAppender) Append(ctx context.Context, ins []*events.Input) ([]ledger.Result, error) {
	return p.l.Append(ctx, ins)
}

func (p plainAppender) AppendAsync(ctx context.Context, ins []*events.Input) (*ledger.Pending, error) {
	return p.l.AppendAsync(ctx, ins)
}

// Rows the ledger prepares in the import's reading goroutine are stored
// exactly as rows the importer validates and the ledger checks again: the
// same ids (derived ones included), the same counts, the same report.
func TestPreparedAndPlainImportsAgree(t *testing.T) {
	dir := t.TempDir()
	units := filepath.Join(dir, "units.jsonl")
	writeJSONL(t, units, phuLy())
	csvPath := filepath.Join(dir, "hanam.csv")
	if err := os.WriteFile(csvPath, []byte(sheet), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func(app func(*ledger.Ledger) importer.Appender) (importer.Summary, string, []string) {
		n := startNode(t, t.TempDir())
		defer n.Close()
		var report bytes.Buffer
		sum, err := importer.Run(ctx, importer.Config{Appender: app(n.Ledger), Report: &report, Actor: events.Actor{ID: "so-nn-ha-nam", Role: "province"}}, []string{units, csvPath})
		if err != nil {
			t.Fatal(err)
		}
		cons, err := n.JS.OrderedConsumer(ctx, "NTM_EVENTS", jetstream.OrderedConsumerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		var stored []string
		for len(stored) < sum.Stored {
			msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
			if err != nil {
				t.Fatal(err)
			}
			ev, err := events.Decode(msg.Data())
			if err != nil {
				t.Fatal(err)
			}
			stored = append(stored, ev.ID+" "+ev.Unit+" "+string(ev.Type)+" "+string(ev.Data))
		}
		sum.Elapsed, sum.Read = 0, 0
		return sum, report.String(), stored
	}
	ps, prep, pstored := run(func(l *ledger.Ledger) importer.Appender { return l })
	qs, plain, qstored := run(func(l *ledger.Ledger) importer.Appender { return plainAppender{l} })
	if ps != qs || prep != plain {
		t.Errorf("prepared: %+v\n%s\nplain: %+v\n%s", ps, prep, qs, plain)
	}
	if strings.Join(pstored, "\n") != strings.Join(qstored, "\n") {
		t.Errorf("stored events differ:\nprepared:\n%s\nplain:\n%s", strings.Join(pstored, "\n"), strings.Join(qstored, "\n"))
	}
	if ps.Stored == 0 || ps.Bad != 5 {
		t.Errorf("summary %+v: want stored events and 5 bad rows", ps)
	}
}
