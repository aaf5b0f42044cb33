package ledger

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// idFilter answers, without reading the index, that an event id is not in
// it: a Bloom filter of every id the index holds. Almost every id a request
// brings is new, and each lookup of a new id searched the index's memtables
// and the filters of its tables: about 4 µs per event, a tenth of a bulk
// import's CPU, under the ledger's lock.
//
// The index's applier adds each id in Apply, before the batch that stores
// it commits, so an id the index holds is in the filter before any reader
// can find it there (an id whose batch does not commit stays in the
// filter, which only costs a lookup). The ids the index held when the
// ledger opened are read into it beside the applier (fill): until that is
// done, the filter rules nothing out. Readers take no lock: bits are set
// and read atomically. A "maybe" is checked in the index
// as before, so a false positive costs one lookup, and nothing else.
//
// The filter grows by parts of twice the capacity of the last, each a
// blocked Bloom filter (all of an id's bits in one 64-byte block: one cache
// miss per part) of about 10 bits per id: about 1.5% false positives per
// part, 15 MB for ten million ids.
type idFilter struct {
	seed  maphash.Seed
	parts atomic.Pointer[[]*filterPart]
	// ready: every id the index held when the ledger opened has been added
	// (fill). Until then the filter rules nothing out.
	ready atomic.Bool
	mu    sync.Mutex // held by writers: the applier, and fill
}

type filterPart struct {
	words []atomic.Uint64 // blocks of 8 words
	cap   int             // ids it was sized for
	n     int             // ids added (the writer's only)
}

const (
	filterBlockWords = 8  // 512 bits: one cache line
	filterBitsPerID  = 10 // about 1.5% false positives in 512-bit blocks
	filterProbes     = 7  // bits set per id
	filterFirstCap   = 1 << 20
)

func newIDFilter() *idFilter {
	f := &idFilter{seed: maphash.MakeSeed()}
	f.grow(filterFirstCap)
	return f
}

func (f *idFilter) grow(capacity int) {
	blocks := max(1, capacity*filterBitsPerID/(64*filterBlockWords))
	p := &filterPart{words: make([]atomic.Uint64, blocks*filterBlockWords), cap: capacity}
	var parts []*filterPart
	if old := f.parts.Load(); old != nil {
		parts = append(parts, *old...)
	}
	parts = append(parts, p)
	f.parts.Store(&parts)
}

// block returns the block of h in p, and the seed of its probes.
func (p *filterPart) block(h uint64) ([]atomic.Uint64, uint64) {
	blocks := uint64(len(p.words) / filterBlockWords)
	i, _ := bits.Mul64(h, blocks)
	// The probes within the block come from the hash's bits, mixed again
	// and rotated.
	return p.words[i*filterBlockWords : (i+1)*filterBlockWords], h*0x9e3779b97f4a7c15 | 1
}

// add records id.
func (f *idFilter) add(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := *f.parts.Load()
	p := parts[len(parts)-1]
	if p.n >= p.cap {
		f.grow(2 * p.cap)
		parts = *f.parts.Load()
		p = parts[len(parts)-1]
	}
	p.n++
	block, g := p.block(maphash.String(f.seed, id))
	for range filterProbes {
		g = bits.RotateLeft64(g, 9)
		block[(g&511)>>6].Or(1 << (g & 63))
	}
}

// mayContain is false when the index certainly does not hold id.
func (f *idFilter) mayContain(id string) bool {
	if !f.ready.Load() {
		return true
	}
	h := maphash.String(f.seed, id)
parts:
	for _, p := range *f.parts.Load() {
		block, g := p.block(h)
		for range filterProbes {
			g = bits.RotateLeft64(g, 9)
			if block[(g&511)>>6].Load()&(1<<(g&63)) == 0 {
				continue parts
			}
		}
		return true
	}
	return false
}

// fill adds every id db's index holds, and then lets the filter rule ids
// out. Ids the applier commits meanwhile are in the scan or were added by
// the applier, or both.
func (f *idFilter) fill(ctx context.Context, db *pebble.DB) (int, error) {
	// "i0" is the first key after every "i/…".
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: idPrefix, UpperBound: []byte("i0")})
	if err != nil {
		return 0, fmt.Errorf("ledger index: read ids: %w", err)
	}
	n := 0
	for it.First(); it.Valid(); it.Next() {
		f.add(string(it.Key()[len(idPrefix):]))
		if n++; n%65536 == 0 && ctx.Err() != nil {
			it.Close()
			return n, ctx.Err()
		}
	}
	if err := it.Close(); err != nil {
		return n, fmt.Errorf("ledger index: read ids: %w", err)
	}
	f.ready.Store(true)
	return n, nil
}
