package ledger

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/natstest"
	"github.com/ntmledger/ntmledger/internal/scenario"
)

// The filter never says no to an id it was given, across its growth, while
// readers ask concurrently; and says maybe to few ids it was not given.
func TestIDFilterHasNoFalseNegatives(t *testing.T) {
	f := newIDFilter()
	if !f.mayContain("anything") {
		t.Fatal("a filter not yet filled from the index ruled an id out")
	}
	f.ready.Store(true)                // as fill does, here over an empty index
	const n = 3*filterFirstCap + 12345 // three parts
	ids := make([]string, n)
	for i := range ids {
		ids[i] = ulid.Make().String()
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				f.mayContain(ids[i%len(ids)])
			}
		}()
	}
	for _, id := range ids {
		f.add(id)
	}
	close(stop)
	wg.Wait()
	if parts := len(*f.parts.Load()); parts != 3 {
		t.Errorf("%d ids in %d parts, want 3", n, parts)
	}
	for _, id := range ids {
		if !f.mayContain(id) {
			t.Fatalf("the filter lost %s", id)
		}
	}
	const probes = 200_000
	fp := 0
	for i := range probes {
		if f.mayContain(fmt.Sprintf("never-added-%d", i)) {
			fp++
		}
	}
	// About 1.5% per part, three parts.
	if rate := float64(fp) / probes; rate > 0.06 {
		t.Errorf("false positives: %.2f%% of ids never added", 100*rate)
	}
	t.Logf("false positives: %.2f%%", 100*float64(fp)/probes)
}

func BenchmarkIDFilter(b *testing.B) {
	f := newIDFilter()
	f.ready.Store(true)
	for range 10_000_000 {
		f.add(ulid.Make().String())
	}
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = ulid.Make().String()
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f.mayContain(ids[i&(len(ids)-1)])
	}
}

// A ledger opened over an index that holds ids reads them all into its
// filter, and the ids its index applies afterwards too: none is ruled out.
func TestFilterHoldsEveryIDOfTheIndex(t *testing.T) {
	srv := natstest.Start(t, "")
	ctx := context.Background()
	dir := t.TempDir()
	ins := scenario.Events(scenario.Config{Communes: 30, Years: 2})
	half := len(ins) / 2
	l, err := Open(ctx, Config{JS: srv.JS, IndexDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	appendAll := func(l *Ledger, ins []*events.Input) {
		for _, b := range scenario.Batches(ins, MaxBatch) {
			res, err := l.Append(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				ids = append(ids, r.ID)
			}
		}
	}
	appendAll(l, ins[:half])
	l.Close()

	l, err = Open(ctx, Config{JS: srv.JS, IndexDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	appendAll(l, ins[half:])
	last, err := l.Stream().Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Index().WaitApplied(ctx, last.State.LastSeq); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !l.ids.ready.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the filter was not filled from the index within 30 s")
		}
	}
	for _, id := range ids {
		if !l.ids.mayContain(id) {
			t.Fatalf("the filter rules out %s, which the index holds", id)
		}
	}
	if l.ids.mayContain(events.NewID()) && l.ids.mayContain(events.NewID()) && l.ids.mayContain(events.NewID()) {
		t.Error("the filter rules out none of three new ids")
	}
}
