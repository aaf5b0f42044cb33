package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ntmledger/ntmledger/events"
)

// overlay holds what this ledger appended that its index may not hold yet:
// the units' states after each of its appends and the ids it stored, each
// with the stream sequence it was stored at. It is never written anywhere:
// it is exactly what the stream acknowledged, kept in memory so the next
// request can be checked without waiting for the index to apply the last
// one. An entry is dropped as soon as the index has applied its sequence.
//
// INVARIANT (under Ledger.mu): index state ⊕ overlay = the state after every
// event up to the stream's last sequence, provided nobody else appended since
// this ledger's last append. syncState checks that proviso on every request
// and otherwise waits for the index to reach the stream's end.
type overlay struct {
	units     map[string]*unitState
	ids       map[string]*idEntry
	retracted map[string]uint64 // event id → seq of the retraction that targets it
	last      uint64            // the stream's last sequence as this ledger knows it

	// order is every entry in the order appended (so in seq order): prune
	// drops from its front what the index has applied, touching nothing
	// else.
	order []overlayKey
}

// overlayKey names an entry of the overlay: an id, a unit (unit set) or a
// retraction target (retraction set), stored at seq.
type overlayKey struct {
	seq        uint64
	key        string
	unit       bool
	retraction bool
}

// MaxOverlay bounds how many appended events the ledger holds in memory
// for its index: when the index lags further behind (its projector starved
// of CPU by a bulk import, say), appends wait for it to catch up. It bounds
// the memory of a long import and the checks' view of what is stored.
const MaxOverlay = 100_000

func (o *overlay) unit(code string) (*unitState, error) {
	u, ok := o.units[code]
	if !ok {
		return nil, nil
	}
	c := *u
	c.Recs = append([]recognition(nil), u.Recs...)
	return &c, nil
}

func (l *Ledger) loadID(id string) (*idEntry, error) {
	e, ok := l.recent.ids[id]
	if ok {
		c := *e
		e = &c
	} else {
		if !l.ids.mayContain(id) {
			return nil, nil
		}
		var err error
		if e, err = loadID(l.db, id); err != nil || e == nil {
			return e, err
		}
	}
	if _, ok := l.recent.retracted[id]; ok {
		e.Retracted = true
	}
	return e, nil
}

// record adds a successful append to the overlay. If the append did not
// start right after the last sequence known, another writer appended in
// between: the overlay is marked stale so the next request waits for the
// index instead.
func (o *overlay) record(res []Result, pend []pending, units map[string]*unitState, contents []string, ins []*events.Input, last uint64) {
	if o.units == nil {
		o.units, o.ids, o.retracted = map[string]*unitState{}, map[string]*idEntry{}, map[string]uint64{}
	}
	first := res[pend[0].index].Seq
	lastSeq := map[string]uint64{}
	for _, p := range pend {
		r := res[p.index]
		lastSeq[r.Unit] = r.Seq
		in := ins[p.index]
		o.ids[r.ID] = &idEntry{Seq: r.Seq, Unit: r.Unit, Version: r.Version, Type: in.Type, Content: contents[p.index]}
		o.order = append(o.order, overlayKey{seq: r.Seq, key: r.ID})
		if in.Type == events.EntryRetracted {
			var d events.Retraction
			if json.Unmarshal(in.Data, &d) == nil {
				o.retracted[d.Target] = r.Seq
				o.order = append(o.order, overlayKey{seq: r.Seq, key: d.Target, retraction: true})
			}
		}
	}
	for _, p := range pend { // in request order, so order stays sorted by seq
		code := res[p.index].Unit
		seq, ok := lastSeq[code]
		if !ok || res[p.index].Seq != seq {
			continue
		}
		u := units[code]
		u.LastSeq = seq
		o.units[code] = u
		o.order = append(o.order, overlayKey{seq: seq, key: code, unit: true})
	}
	if first != o.last+1 {
		o.last = 0 // stale: someone else appended in between
		return
	}
	o.last = last
}

// prune drops the entries the index has applied.
func (o *overlay) prune(applied uint64) {
	n := 0
	for n < len(o.order) && o.order[n].seq <= applied {
		k := o.order[n]
		switch {
		case k.unit:
			if u, ok := o.units[k.key]; ok && u.LastSeq <= applied {
				delete(o.units, k.key)
			}
		case k.retraction:
			if seq, ok := o.retracted[k.key]; ok && seq <= applied {
				delete(o.retracted, k.key)
			}
		default:
			delete(o.ids, k.key)
		}
		n++
	}
	o.order = o.order[n:]
	if len(o.order) == 0 {
		o.order = nil // let the backing array go
	}
}

// syncState makes index ⊕ overlay current before a request is checked. When
// the stream ends at this ledger's last append, nothing else was written and
// the overlay covers what the index lacks; otherwise another writer appended
// and the ledger waits for the index to reach the stream's end.
func (l *Ledger) syncState(ctx context.Context) error {
	if len(l.flights) == 0 {
		info, err := l.stream.Info(ctx)
		if err != nil {
			return fmt.Errorf("ledger: stream info: %w", err)
		}
		if last := info.State.LastSeq; last != l.recent.last {
			wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			defer cancel()
			if err := l.index.WaitApplied(wctx, last); err != nil {
				return fmt.Errorf("ledger: index catching up: %w", err)
			}
			l.recent = overlay{last: last}
		}
	}
	// With requests in flight the overlay runs ahead of the stream; they
	// are fenced by the stream's expected last sequence instead (see
	// AppendAsync).
	last := l.recent.last
	if n := len(l.recent.ids); n > MaxOverlay && last > MaxOverlay/2 {
		// Wait until the index holds all but half the bound.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if err := l.index.WaitApplied(wctx, last-MaxOverlay/2); err != nil {
			return fmt.Errorf("ledger: index catching up (%d events behind): %w", n, err)
		}
	}
	l.recent.prune(l.index.Applied())
	return nil
}
