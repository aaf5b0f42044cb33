package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/natstest"
	"github.com/ntmledger/ntmledger/internal/scenario"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

// dump is projections.Digest.
var dump = projections.Digest

func TestReplayIsByteIdenticalToIncrementalViews(t *testing.T) {
	communes, years := 1100, 5
	if testing.Short() {
		communes, years = 100, 3
	}
	srv := natstest.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l, err := ledger.Open(ctx, ledger.Config{JS: srv.JS, IndexDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	views, err := projections.Open(ctx, projections.Config{JS: srv.JS, Stream: ledger.StreamName, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer views.Close()

	ins := scenario.Events(scenario.Config{Communes: communes, Years: years, WithNoise: true})
	var last uint64
	for _, b := range scenario.Batches(ins, ledger.MaxBatch) {
		res, err := l.Append(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		last = res[len(res)-1].Seq
	}
	// A commune of another province whose registration is then retracted:
	// its read views go, in the incremental views and in the rebuilt ones.
	extra := scenario.Events(scenario.Config{Communes: 2, Years: 1, Province: "37", Seed: 3, Offset: 5000})
	res, err := l.Append(ctx, extra)
	if err != nil {
		t.Fatal(err)
	}
	// Its summary is written before the retraction comes.
	if err := views.WaitApplied(ctx, res[len(res)-1].Seq); err != nil {
		t.Fatal(err)
	}
	gone := ""
	for i, in := range extra {
		if in.Type == events.UnitRegistered && events.UnitKind(in.Unit) == "commune" {
			gone = in.Unit
			retract := &events.Input{Type: events.EntryRetracted, Unit: in.Unit, OccurredAt: "2016-01-01", Actor: in.Actor,
				Data: json.RawMessage(fmt.Sprintf(`{"target":%q,"reason":"đăng ký nhầm"}`, res[i].ID))}
			if res, err = l.Append(ctx, []*events.Input{retract}); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	last = res[len(res)-1].Seq
	if !testing.Short() && last < 100_000 {
		t.Fatalf("ledger holds %d events, want at least 100,000", last)
	}
	if err := views.WaitApplied(ctx, last); err != nil {
		t.Fatal(err)
	}
	before, keys, seq := dump(t, views)
	if seq != last || keys < communes {
		t.Fatalf("incremental views at seq %d with %d keys", seq, keys)
	}
	if list, err := views.Units(ctx, projections.UnitFilter{Province: "37"}); err != nil {
		t.Fatal(err)
	} else {
		for _, u := range list.Units {
			if u.Unit == gone {
				t.Fatalf("commune %s, its registration retracted, is still listed: %+v", gone, u)
			}
		}
		if len(list.Units) == 0 {
			t.Fatal("province 37 lists no units")
		}
	}
	probe := fmt.Sprintf("%05d", 10000+communes/2)
	want, err := views.Status(ctx, probe, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	// Reads keep being served while the rebuild runs.
	served := make(chan int, 1)
	stop := make(chan struct{})
	go func() {
		n := 0
		defer func() { served <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			st, err := views.Status(ctx, probe, "", time.Time{})
			if err != nil || st.Version != want.Version {
				t.Errorf("status during rebuild: %v, version %v", err, st)
				return
			}
			n++
		}
	}()
	if err := views.Rebuild(ctx, last, nil); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if n := <-served; n == 0 {
		t.Error("no read was served during the rebuild")
	}
	// The rebuild's body files were ingested, none is left beside.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".bodies") {
			t.Errorf("rebuild left %s behind", e.Name())
		}
	}
	after, keys2, seq2 := dump(t, views)
	if after != before || keys2 != keys || seq2 != seq {
		t.Fatalf("rebuilt views differ: %s (%d keys, seq %d) vs incremental %s (%d keys, seq %d)", after, keys2, seq2, before, keys, seq)
	}

	// The rebuilt generation is live: a new event reaches it.
	res, err = l.Append(ctx, scenario.Events(scenario.Config{Communes: 1, Years: 1, Province: "36", Seed: 9})[:1])
	if err != nil {
		t.Fatal(err)
	}
	if err := views.WaitApplied(ctx, res[0].Seq); err != nil {
		t.Fatal(err)
	}
	if st, err := views.Status(ctx, "36", "", time.Time{}); err != nil || st.Name == "" || st.AsOfSeq != res[0].Seq {
		t.Fatalf("status after the swap: %+v, %v", st, err)
	}
}
