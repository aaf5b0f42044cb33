package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/natstest"
	"github.com/ntmledger/ntmledger/ledger"
)

var actor = &events.Actor{ID: "tester", Role: "province", Name: "Văn phòng điều phối"}

func input(t testing.TB, typ events.Type, unit, date string, doc *events.Document, data any) *events.Input {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return &events.Input{Type: typ, Unit: unit, OccurredAt: date, Actor: actor, Document: doc, Data: raw}
}

// hierarchy registers province 35, district 347 and communes 13306, 13426.
func hierarchy(t testing.TB) []*events.Input {
	return []*events.Input{
		input(t, events.UnitRegistered, "35", "2015-01-01", nil, map[string]any{"name": "Tỉnh Hà Nam", "kind": "province", "region": "red_river_delta"}),
		input(t, events.UnitRegistered, "347", "2015-01-01", nil, map[string]any{"name": "Thành phố Phủ Lý", "kind": "district", "parent": "35"}),
		input(t, events.UnitRegistered, "13306", "2015-01-01", nil, map[string]any{"name": "Xã Phù Vân", "kind": "commune", "parent": "347"}),
		input(t, events.UnitRegistered, "13426", "2015-01-01", nil, map[string]any{"name": "Xã Kim Bình", "kind": "commune", "parent": "347"}),
	}
}

func assess(t testing.TB, unit, date, criterion, status string) *events.Input {
	return input(t, events.CriterionAssessed, unit, date, nil, map[string]any{"tier": "ntm", "criterion": criterion, "status": status, "stage": "province"})
}

func grant(t testing.TB, unit, date, tier, number string) *events.Input {
	return input(t, events.RecognitionGranted, unit, date, &events.Document{Number: number, Date: date, Issuer: "UBND tỉnh Hà Nam"}, map[string]any{"tier": tier})
}

type env struct {
	srv *natstest.Server
	l   *ledger.Ledger
	dir string
}

func open(t testing.TB, srv *natstest.Server, dir string, window time.Duration) *ledger.Ledger {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := ledger.Open(ctx, ledger.Config{JS: srv.JS, IndexDir: dir, DuplicateWindow: window})
	if err != nil {
		t.Fatalf("open ledger: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func setup(t testing.TB) *env {
	t.Helper()
	srv := natstest.Start(t, "")
	dir := t.TempDir()
	return &env{srv: srv, l: open(t, srv, dir, 0), dir: dir}
}

func lastSeq(t testing.TB, js jetstream.JetStream) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), ledger.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

func mustAppend(t testing.TB, l *ledger.Ledger, ins ...*events.Input) []ledger.Result {
	t.Helper()
	res, err := l.Append(context.Background(), ins)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return res
}

func TestAppendAssignsSequencesVersionsAndChain(t *testing.T) {
	e := setup(t)
	res := mustAppend(t, e.l, hierarchy(t)...)
	if len(res) != 4 {
		t.Fatalf("got %d results", len(res))
	}
	for i, r := range res {
		if r.Seq != uint64(i+1) || r.Version != 1 || r.ID == "" || r.Duplicate {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	res = mustAppend(t, e.l, assess(t, "13306", "2019-10-01", "1", "met"), assess(t, "13306", "2019-10-01", "2", "met"))
	if res[0].Version != 2 || res[1].Version != 3 || res[1].Seq != 6 {
		t.Errorf("versions/seqs = %+v", res)
	}
	// The chain links each event to the unit's previous one.
	s, _ := e.srv.JS.Stream(context.Background(), ledger.StreamName)
	var prev string
	for _, seq := range []uint64{3, 5, 6} {
		m, err := s.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := events.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := events.Verify(ev, prev); err != nil {
			t.Errorf("seq %d: %v", seq, err)
		}
		if m.Subject != ledger.Subject("35", "13306") {
			t.Errorf("seq %d on subject %q", seq, m.Subject)
		}
		prev = ev.Hash
	}
}

func TestIdempotentRetry(t *testing.T) {
	srv := natstest.Start(t, "")
	dir := t.TempDir()
	const window = 300 * time.Millisecond
	l := open(t, srv, dir, window)
	req := hierarchy(t)
	req = append(req, assess(t, "13306", "2019-10-01", "1", "met"))
	for _, in := range req {
		in.ID = newID()
	}
	first := mustAppend(t, l, req...)
	before := lastSeq(t, srv.JS)

	check := func(when string, l *ledger.Ledger) {
		t.Helper()
		again := mustAppend(t, l, req...)
		for i := range first {
			if again[i].ID != first[i].ID || again[i].Seq != first[i].Seq || again[i].Version != first[i].Version || !again[i].Duplicate {
				t.Errorf("%s: result %d = %+v, want the original %+v", when, i, again[i], first[i])
			}
		}
		if got := lastSeq(t, srv.JS); got != before {
			t.Errorf("%s: stream grew from %d to %d", when, before, got)
		}
	}
	check("immediately", l)

	// Beyond the stream's duplicate window only the ledger's index remembers.
	time.Sleep(3 * window)
	check("after the duplicate window", l)

	// After a restart of the server and of the ledger.
	l.Close()
	srv.Stop()
	srv = natstest.Start(t, srv.Dir)
	l = open(t, srv, dir, window)
	check("after a restart", l)

	// With a fresh index rebuilt from the stream.
	l2 := open(t, srv, t.TempDir(), window)
	check("with an index rebuilt from the stream", l2)

	// Same id, other content: 409 and nothing stored.
	other := *req[4]
	other.Data = json.RawMessage(`{"tier":"ntm","criterion":"1","status":"not_met","stage":"province"}`)
	_, err := l.Append(context.Background(), []*events.Input{&other})
	var ce *ledger.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ledger.ErrConflict) || ce.Field != "id" {
		t.Fatalf("reused id with other content: err = %v, want a conflict on id", err)
	}
	if got := lastSeq(t, srv.JS); got != before {
		t.Errorf("stream grew to %d", got)
	}
}

func newID() string {
	return events.NewID()
}

func TestRacingWritersOneWins(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sameIdx bool // both writers share one ledger (one process) or not (two nodes)
	}{{"one ledger", true}, {"two ledgers on one stream", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			mustAppend(t, e.l, hierarchy(t)...)
			other := e.l
			if !tc.sameIdx {
				other = open(t, e.srv, t.TempDir(), 0)
			}
			v := uint64(1)
			a := assess(t, "13306", "2020-01-01", "1", "met")
			a.ExpectedVersion = &v
			b := assess(t, "13306", "2020-01-01", "2", "not_met")
			b.ExpectedVersion = &v
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, w := range []struct {
				l  *ledger.Ledger
				in *events.Input
			}{{e.l, a}, {other, b}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = w.l.Append(context.Background(), []*events.Input{w.in})
				}()
			}
			wg.Wait()
			won, lost := 0, -1
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case errors.Is(err, ledger.ErrConflict):
					lost = i
				default:
					t.Fatalf("writer %d: unexpected error %v", i, err)
				}
			}
			if won != 1 || lost < 0 {
				t.Fatalf("errors = %v, want exactly one success and one conflict", errs)
			}
			// The unit's history holds the winner only.
			s, _ := e.srv.JS.Stream(context.Background(), ledger.StreamName)
			m, err := s.GetLastMsgForSubject(context.Background(), ledger.Subject("35", "13306"))
			if err != nil {
				t.Fatal(err)
			}
			ev, _ := events.Decode(m.Data)
			loser := []*events.Input{a, b}[lost]
			if ev.Version != 2 || string(ev.Data) == string(loser.Data) {
				t.Errorf("last event of the unit: version %d data %s; loser data %s", ev.Version, ev.Data, loser.Data)
			}
			if got := lastSeq(t, e.srv.JS); got != 5 {
				t.Errorf("stream at %d, want 5", got)
			}
		})
	}
}

func TestRequestIsAllOrNothing(t *testing.T) {
	e := setup(t)
	mustAppend(t, e.l, hierarchy(t)...)
	before := lastSeq(t, e.srv.JS)
	build := func() []*events.Input {
		var ins []*events.Input
		for i := 0; i < 50; i++ {
			ins = append(ins, assess(t, []string{"13306", "13426"}[i%2], "2020-05-01", fmt.Sprint(i%19+1), "met"))
		}
		return ins
	}
	cases := []struct {
		name  string
		spoil func(in *events.Input)
		field string
	}{
		{"bad date", func(in *events.Input) { in.OccurredAt = "2020-13-45" }, "occurred_at"},
		{"unknown unit", func(in *events.Input) { in.Unit = "99999" }, "unit"},
		{"criterion outside the set", func(in *events.Input) {
			in.Data = json.RawMessage(`{"tier":"ntm","criterion":"23","status":"met","stage":"province"}`)
		}, "data.criterion"},
		{"bad status", func(in *events.Input) {
			in.Data = json.RawMessage(`{"tier":"ntm","criterion":"2","status":"mostly","stage":"province"}`)
		}, "data.status"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ins := build()
			tc.spoil(ins[37])
			_, err := e.l.Append(context.Background(), ins)
			var fe *events.FieldError
			if !errors.As(err, &fe) || fe.Index != 37 || fe.Field != tc.field {
				t.Fatalf("err = %v, want a field error on event 37 %s", err, tc.field)
			}
			if got := lastSeq(t, e.srv.JS); got != before {
				t.Fatalf("stream grew from %d to %d", before, got)
			}
		})
	}
	// And the clean request goes through whole.
	res := mustAppend(t, e.l, build()...)
	if got := lastSeq(t, e.srv.JS); got != before+50 || res[49].Seq != before+50 {
		t.Fatalf("stream at %d after a clean request of 50", got)
	}
}

func TestStructuralChecks(t *testing.T) {
	e := setup(t)
	mustAppend(t, e.l, hierarchy(t)...)
	mustAppend(t, e.l, grant(t, "13306", "2019-12-20", "ntm", "3000/QĐ-UBND"))
	noDoc := grant(t, "13426", "2019-12-20", "ntm", "x")
	noDoc.Document = nil
	stored := mustAppend(t, e.l, assess(t, "13306", "2020-01-01", "3", "met"))
	cases := []struct {
		name  string
		in    *events.Input
		field string
	}{
		{"unknown unit", assess(t, "13999", "2020-01-01", "1", "met"), "unit"},
		{"document missing", noDoc, "document"},
		{"advanced without ntm", grant(t, "13426", "2020-01-01", "advanced", "1/QĐ"), "data.tier"},
		{"model without advanced", grant(t, "13306", "2021-06-01", "model", "2/QĐ"), "data.tier"},
		{"ntm granted twice", grant(t, "13306", "2021-06-01", "ntm", "3/QĐ"), "data.tier"},
		{"revoking a tier not held", input(t, events.RecognitionRevoked, "13426", "2023-01-01",
			&events.Document{Number: "9/QĐ"}, map[string]any{"tier": "ntm", "reason": "not_maintained", "basis": "18/2022/QĐ-TTg"}), "data.tier"},
		{"revoking before it was granted", input(t, events.RecognitionRevoked, "13306", "2019-01-01",
			&events.Document{Number: "9/QĐ"}, map[string]any{"tier": "ntm", "reason": "not_maintained"}), "data.tier"},
		{"revoking another decision", input(t, events.RecognitionRevoked, "13306", "2023-01-01",
			&events.Document{Number: "9/QĐ"}, map[string]any{"tier": "ntm", "reason": "not_maintained", "revokes": "1/QĐ"}), "data.revokes"},
		{"tier the kind does not have", input(t, events.RecognitionGranted, "35", "2020-12-31",
			&events.Document{Number: "1/QĐ-TTg"}, map[string]any{"tier": "advanced"}), "data.tier"},
		{"registering twice", hierarchy(t)[2], "unit"},
		{"parent not registered", input(t, events.UnitRegistered, "13999", "2015-01-01", nil,
			map[string]any{"name": "Xã Mới", "kind": "commune", "parent": "999"}), "data.parent"},
		{"retracting an unknown event", input(t, events.EntryRetracted, "13306", "2020-02-01", nil,
			map[string]any{"target": newID(), "reason": "typo"}), "data.target"},
		{"retracting another unit's event", input(t, events.EntryRetracted, "13426", "2020-02-01", nil,
			map[string]any{"target": stored[0].ID, "reason": "typo"}), "data.target"},
	}
	before := lastSeq(t, e.srv.JS)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.l.Append(context.Background(), []*events.Input{tc.in})
			var fe *events.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want a field error on %s", err, tc.field)
			}
			if got := lastSeq(t, e.srv.JS); got != before {
				t.Fatalf("stream grew to %d", got)
			}
		})
	}
	// Revoking ntm ends advanced with it: advanced can then not be revoked.
	mustAppend(t, e.l, grant(t, "13306", "2021-12-20", "advanced", "4000/QĐ-UBND"))
	mustAppend(t, e.l, input(t, events.RecognitionRevoked, "13306", "2023-06-01",
		&events.Document{Number: "900/QĐ-UBND"}, map[string]any{"tier": "ntm", "reason": "not_maintained", "basis": "18/2022/QĐ-TTg"}))
	_, err := e.l.Append(context.Background(), []*events.Input{input(t, events.RecognitionRevoked, "13306", "2023-07-01",
		&events.Document{Number: "901/QĐ-UBND"}, map[string]any{"tier": "advanced", "reason": "not_maintained"})})
	if !errors.Is(err, events.ErrInvalid) {
		t.Fatalf("revoking advanced after ntm was revoked: err = %v, want rejected", err)
	}
	// A retraction of the grant lifts the prerequisite again.
	res := mustAppend(t, e.l, input(t, events.EntryRetracted, "13306", "2023-08-01", nil, map[string]any{"target": stored[0].ID, "reason": "entered twice"}))
	if res[0].Version == 0 {
		t.Fatal("retraction not stored")
	}
}

func TestTooLargeRequest(t *testing.T) {
	e := setup(t)
	ins := make([]*events.Input, ledger.MaxBatch+1)
	for i := range ins {
		ins[i] = hierarchy(t)[0]
	}
	if _, err := e.l.Append(context.Background(), ins); !errors.Is(err, ledger.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestStreamIsImmutableFileStorage(t *testing.T) {
	e := setup(t)
	mustAppend(t, e.l, hierarchy(t)...)
	s, err := e.srv.JS.Stream(context.Background(), ledger.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := info.Config
	if !c.DenyDelete || !c.DenyPurge || c.Storage != jetstream.FileStorage || !c.AllowAtomicPublish {
		t.Fatalf("stream config: deny_delete=%v deny_purge=%v storage=%v atomic=%v", c.DenyDelete, c.DenyPurge, c.Storage, c.AllowAtomicPublish)
	}
	if err := s.DeleteMsg(context.Background(), 1); err == nil {
		t.Error("deleting a message succeeded")
	}
	if err := s.Purge(context.Background()); err == nil {
		t.Error("purging the stream succeeded")
	}
	if got := lastSeq(t, e.srv.JS); got != 4 {
		t.Errorf("stream at %d", got)
	}
}
