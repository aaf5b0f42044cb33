package ledger

import (
	"fmt"
	"sync"
	"testing"

	"github.com/oklog/ulid/v2"
)

// The filter never says no to an id it was given, across its growth, while
// readers ask concurrently; and says maybe to few ids it was not given.
func TestIDFilterHasNoFalseNegatives(t *testing.T) {
	f := newIDFilter()
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
