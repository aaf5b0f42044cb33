package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/node"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

// auditData writes a small ledger into a data directory: a commune granted
// and revoked, a target, and a forged message on another commune's subject.
func auditData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := node.Start(ctx, node.Config{DataDir: dir, NATSListen: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	a := &events.Actor{ID: "a", Role: "province", Name: "Văn phòng Điều phối"}
	in := func(typ events.Type, unit, date string, doc *events.Document, data string) *events.Input {
		return &events.Input{Type: typ, Unit: unit, OccurredAt: date, Actor: a, Document: doc, Data: json.RawMessage(data)}
	}
	qd := func(num, date string) *events.Document {
		return &events.Document{Number: num, Date: date, Issuer: "UBND tỉnh Hà Nam"}
	}
	if _, err := n.Ledger.Append(ctx, []*events.Input{
		in(events.UnitRegistered, "35", "2015-01-01", nil, `{"name":"Tỉnh Hà Nam","kind":"province"}`),
		in(events.UnitRegistered, "347", "2015-01-01", nil, `{"name":"Thành phố Phủ Lý","kind":"district","parent":"35"}`),
		in(events.UnitRegistered, "13507", "2015-01-01", nil, `{"name":"Xã Đinh Xá","kind":"commune","parent":"347"}`),
		in(events.UnitRegistered, "13306", "2015-01-01", nil, `{"name":"Xã Phù Vân","kind":"commune","parent":"347"}`),
		in(events.RecognitionGranted, "13507", "2019-12-20", qd("3000/QĐ-UBND", "2019-12-20"), `{"tier":"ntm"}`),
		in(events.RecognitionRevoked, "13507", "2023-03-15", qd("250/QĐ-UBND", "2023-03-15"), `{"tier":"ntm","reason":"not_maintained","basis":"18/2022/QĐ-TTg"}`),
		in(events.TargetSet, "35", "2021-01-10", qd("12/KH-UBND", "2021-01-10"), `{"year":2021,"level":"commune","tier":"ntm","count":1}`),
	}); err != nil {
		t.Fatal(err)
	}
	forged := events.Event{ID: events.NewID(), Type: events.RecognitionGranted, Unit: "13306", OccurredAt: "2024-01-01",
		RecordedAt: "2024-01-01T00:00:00Z", Actor: *a, Document: qd("1/QĐ-GIẢ", "2024-01-01"), Data: json.RawMessage(`{"tier":"ntm"}`), Version: 2}
	body, _ := events.Encode(&forged)
	if _, err := n.JS.Publish(ctx, ledger.Subject("35", "13306"), body); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	err := Run(context.Background(), env, args)
	return out.String(), err
}

func TestAuditCommandsDirect(t *testing.T) {
	dir := auditData(t)
	direct := []string{"--direct", "--data", dir, "--json"}

	out, err := runCLI(t, append([]string{"revocations", "--province", "35"}, direct...)...)
	if err != nil {
		t.Fatal(err)
	}
	var revs projections.RevocationList
	if err := json.Unmarshal([]byte(out), &revs); err != nil || len(revs.Revocations) != 1 || revs.Revocations[0].Name != "Xã Đinh Xá" || revs.Revocations[0].Ended.HeldDays != 1181 {
		t.Fatalf("revocations: %v %s", err, out)
	}

	out, err = runCLI(t, append([]string{"progress", "--year", "2021"}, append(direct, "35")...)...)
	if err != nil {
		t.Fatal(err)
	}
	var prog projections.ProgressReport
	if err := json.Unmarshal([]byte(out), &prog); err != nil || len(prog.Years) != 1 || prog.Years[0].Tiers[0].OnTrack == nil || *prog.Years[0].Tiers[0].OnTrack {
		t.Fatalf("progress: %v %s", err, out)
	}

	out, err = runCLI(t, append([]string{"verify"}, direct...)...)
	if !errors.Is(err, errChainBroken) {
		t.Fatalf("verify of a forged ledger: %v", err)
	}
	var rep ledger.VerifyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Breaks) != 1 || rep.Breaks[0].Unit != "13306" || rep.Breaks[0].Reason != events.ChainHashMissing {
		t.Fatalf("verify: %v %s", err, out)
	}
	if _, err := runCLI(t, append([]string{"verify"}, append(direct, "13507")...)...); err != nil {
		t.Fatalf("verify of an intact unit: %v", err)
	}

	out, err = runCLI(t, append([]string{"findings", "--province", "35"}, direct...)...)
	if err != nil || !strings.Contains(out, `"kind": "quarantined_event"`) {
		t.Fatalf("findings: %v %s", err, out)
	}

	file := filepath.Join(t.TempDir(), "thu-hoi.xlsx")
	if _, err := runCLI(t, "export", "--direct", "--data", dir, "revocations", "-o", file); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil || len(rows) != 2 || rows[1][2] != "Xã Đinh Xá" || rows[1][6] != "250/QĐ-UBND" {
		t.Fatalf("exported rows: %v %v", err, rows)
	}
	if _, err := os.Stat(file + ".part"); !os.IsNotExist(err) {
		t.Fatalf("a partial file is left behind: %v", err)
	}
	if _, err := runCLI(t, "export", "--direct", "--data", dir, "minutes"); !errors.Is(err, errUsage) {
		t.Fatalf("export of an unknown table: %v", err)
	}
}
