package projections

import (
	"context"
	"testing"
	"time"

	"github.com/ntmledger/ntmledger/internal/natstest"
	"github.com/ntmledger/ntmledger/internal/scenario"
	"github.com/ntmledger/ntmledger/ledger"
)

// A rebuild empties the live applier's caches from its own goroutine while
// the live projector goes on applying (Views.Rebuild, applier.dropCaches).
// Views whose caches are dropped over and over while events arrive hold
// exactly what views never dropped hold.
func TestDroppingCachesChangesNothing(t *testing.T) {
	srv := natstest.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := ledger.Open(ctx, ledger.Config{JS: srv.JS, IndexDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	open := func() *Views {
		v, err := Open(ctx, Config{JS: srv.JS, Stream: ledger.StreamName, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	kept, dropped := open(), open()

	stop := make(chan struct{})
	drops := make(chan int, 1)
	go func() {
		n := 0
		defer func() { drops <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			dropped.mu.RLock()
			a := dropped.live
			dropped.mu.RUnlock()
			a.dropCaches()
			n++
			time.Sleep(200 * time.Microsecond)
		}
	}()
	var last uint64
	for _, b := range scenario.Batches(scenario.Events(scenario.Config{Communes: 60, Years: 4, WithNoise: true}), 50) {
		res, err := l.Append(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		last = res[len(res)-1].Seq
	}
	for _, v := range []*Views{kept, dropped} {
		if err := v.WaitApplied(ctx, last); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if n := <-drops; n < 10 {
		t.Fatalf("caches dropped %d times while events were applied", n)
	}
	want, wantKeys, _ := Digest(t, kept)
	got, gotKeys, _ := Digest(t, dropped)
	if got != want || gotKeys != wantKeys || wantKeys < 60 {
		t.Fatalf("views with dropped caches: %s (%d keys); never dropped: %s (%d keys)", got, gotKeys, want, wantKeys)
	}
}
