package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/projector"
	"github.com/ntmledger/ntmledger/internal/rules"
)

// ViewStatus and ViewHistory name the views in change notifications.
const (
	ViewStatus  = "status"
	ViewHistory = "history"
)

// applier maintains the status and history views.
//
// It keeps the folded states and summaries it wrote in memory (bounded), so
// a unit's next event does not read and decode them again: the projector is
// the only writer of its database, and tells the applier whether each batch
// was committed (projector.BatchObserver). An aborted batch may have changed
// cached states in place, so it empties the caches.
//
// cacheMu guards the caches and last: the projector's goroutine holds it
// through Apply, Committed and Aborted; dropCaches takes it from another.
type applier struct {
	fold folder

	cacheMu   sync.Mutex
	states    *projector.Cache[*State]
	summaries *projector.Cache[*UnitSummary]
	last      *batchState // the batch applied and not yet committed or aborted

	// bodies, when set (a rebuild), takes the stored bodies of committed
	// batches instead of the batches themselves.
	bodies *bodyFiles
	// built, when set (a rebuild), keeps the units' states and what their
	// read views need, to be written once when the build is done
	// (writeBuilt) instead of after every batch.
	built *builtViews
}

// StateCacheSize bounds the folded unit states an applier keeps in memory:
// every commune, district and province of the country, before and after the
// 2025 reform, fits.
const StateCacheSize = 1 << 15

func newApplier(rs *rules.Set) *applier {
	return &applier{
		fold:      folder{rules: rs},
		states:    projector.NewCache[*State](StateCacheSize),
		summaries: projector.NewCache[*UnitSummary](StateCacheSize),
	}
}

// Committed keeps what the last batch wrote.
func (a *applier) Committed() {
	a.cacheMu.Lock()
	defer a.cacheMu.Unlock()
	if bs := a.last; bs != nil {
		if a.bodies != nil {
			a.bodies.add(bs.bodies)
		}
		if a.built != nil {
			// A build keeps every state it folded; the caches stay unused.
			a.built.note(bs)
			a.last = nil
			return
		}
		for _, unit := range bs.order {
			a.states.Put(unit, bs.states[unit])
		}
		for unit, sum := range bs.sums {
			a.summaries.Put(unit, sum)
		}
		for _, unit := range bs.gone {
			a.summaries.Delete(unit)
		}
	}
	a.last = nil
}

// Aborted forgets everything cached: the batch changed states in place.
// A build cannot go on: its states are only in memory.
func (a *applier) Aborted() {
	a.cacheMu.Lock()
	defer a.cacheMu.Unlock()
	a.states.Clear()
	a.summaries.Clear()
	a.last = nil
	if a.built != nil {
		a.built.broken = true
	}
}

// dropCaches empties the caches, from any goroutine. A rebuild calls it on
// the live applier it is about to replace: every unit's state fits in the
// caches, so they hold about as much memory as the build's own states, for
// a generation that serves reads from its database until the swap. They
// refill with the units that receive events meanwhile. A batch applied and
// not yet committed keeps its states: Committed puts them back.
func (a *applier) dropCaches() {
	a.cacheMu.Lock()
	defer a.cacheMu.Unlock()
	a.states.Clear()
	a.summaries.Clear()
}

// batchState is what one Apply call has loaded and changed.
type batchState struct {
	db     *pebble.DB
	cache  *projector.Cache[*State]
	states map[string]*State
	fresh  map[string][]*events.Event // events of this batch, per unit
	order  []string                   // units in first-touched order, for deterministic writes
	sums   map[string]*UnitSummary    // summaries written by this batch
	gone   []string                   // units whose summary this batch removed
	built  *builtViews                // a rebuild's states, or nil

	files  *bodyFiles // a rebuild's body writer, or nil
	bodies []bodyRec  // this batch's bodies, for files
}

// history reads a unit's stored history as of the last committed batch.
func (bs *batchState) history(unit string) ([]*events.Event, error) {
	var lookup func(uint64) ([]byte, bool)
	if bs.files != nil {
		lookup = bs.files.lookup
	}
	return readHistoryWith(bs.db, lookup, unit, 0, 0, 0, false)
}

// newBatchState starts what one batch loads and changes in db.
func (a *applier) newBatchState(db *pebble.DB) *batchState {
	return &batchState{db: db, cache: a.states, states: map[string]*State{}, fresh: map[string][]*events.Event{}, sums: map[string]*UnitSummary{}}
}

func (bs *batchState) get(unit string) (*State, error) {
	if s, ok := bs.states[unit]; ok {
		return s, nil
	}
	var s *State
	ok := false
	if bs.built != nil {
		s, ok = bs.built.states[unit]
	}
	if !ok {
		s, ok = bs.cache.Get(unit)
	}
	if !ok {
		var err error
		if s, err = loadState(bs.db, unit); err != nil {
			return nil, err
		}
	}
	if s == nil {
		s = &State{Unit: unit, Kind: events.UnitKind(unit)}
	}
	bs.states[unit] = s
	bs.order = append(bs.order, unit)
	return s, nil
}

func (a *applier) Apply(_ context.Context, db *pebble.DB, b *pebble.Batch, evs []*events.Event) ([]projector.Change, error) {
	a.cacheMu.Lock()
	defer a.cacheMu.Unlock()
	bs := a.newBatchState(db)
	bs.files, bs.built = a.bodies, a.built
	a.last = bs
	changes := make([]projector.Change, 0, len(evs))
	for _, ev := range evs {
		s, err := bs.get(ev.Unit)
		if err != nil {
			return nil, err
		}
		if err := a.fold.apply(s, ev); err != nil {
			return nil, fmt.Errorf("event %s (seq %d, unit %s): %w", ev.ID, ev.Seq, ev.Unit, err)
		}
		raw := ev.Raw
		if raw == nil {
			if raw, err = events.Encode(ev); err != nil {
				return nil, err
			}
		}
		if err := b.Set(historyKey(ev.Unit, ev.Version), historyValue(ev.Seq), nil); err != nil {
			return nil, err
		}
		if a.bodies != nil {
			bs.bodies = append(bs.bodies, bodyRec{seq: ev.Seq, raw: raw})
		} else if err := b.Set(bodyKey(ev.Seq), raw, nil); err != nil {
			return nil, err
		}
		bs.fresh[ev.Unit] = append(bs.fresh[ev.Unit], ev)
		switch ev.Type {
		case events.UnitRegistered:
			s.Province = ev.Unit
			if s.Kind != "province" && s.Parent != "" {
				p, err := bs.get(s.Parent)
				if err != nil {
					return nil, err
				}
				s.Province = p.Province
			}
		case events.UnitReorganized:
			d := s.Reorganized
			for _, from := range d.From {
				old, err := bs.get(from)
				if err != nil {
					return nil, err
				}
				if old.Dissolved == nil {
					old.Dissolved = &Dissolution{Effective: d.Effective, Resolution: d.Resolution}
				}
				if !slices.Contains(old.Dissolved.Into, ev.Unit) {
					old.Dissolved.Into = append(old.Dissolved.Into, ev.Unit)
				}
				changes = append(changes, projector.Change{View: ViewStatus, Unit: from, Province: old.Province, Seq: ev.Seq, Type: string(ev.Type)})
			}
		case events.EntryRetracted:
			if err := a.refold(bs, s); err != nil {
				return nil, fmt.Errorf("event %s (seq %d): refold %s: %w", ev.ID, ev.Seq, ev.Unit, err)
			}
		}
		changes = append(changes,
			projector.Change{View: ViewHistory, Unit: ev.Unit, Province: s.Province, Seq: ev.Seq, Type: string(ev.Type)},
			projector.Change{View: ViewStatus, Unit: ev.Unit, Province: s.Province, Seq: ev.Seq, Type: string(ev.Type)})
	}
	if a.built != nil {
		return changes, nil // written when the build is done
	}
	for _, unit := range bs.order {
		if err := writeState(b, bs.states[unit]); err != nil {
			return nil, err
		}
	}
	more, err := a.applyReadViews(bs, b)
	if err != nil {
		return nil, err
	}
	return append(changes, more...), nil
}

func writeState(b *pebble.Batch, s *State) error {
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return b.Set(stateKey(s.Unit), v, nil)
}

// refold rebuilds a unit's state from its whole history, leaving out
// retracted events. What other units' events did to it (dissolution) and
// where it sits (province) are kept.
func (a *applier) refold(bs *batchState, s *State) error {
	hist, err := bs.history(s.Unit)
	if err != nil {
		return err
	}
	hist = append(hist, bs.fresh[s.Unit]...)
	fresh := foldEvents(&a.fold, s.Unit, hist, nil)
	fresh.Dissolved, fresh.Province = s.Dissolved, s.Province
	*s = *fresh
	return nil
}

// foldEvents folds a unit's history (in version order), leaving out
// retracted events, and those keep rejects.
func foldEvents(f *folder, unit string, hist []*events.Event, skip func(*events.Event) bool) *State {
	retracted := map[string]bool{}
	for _, ev := range hist {
		if skip != nil && skip(ev) {
			continue
		}
		if ev.Type == events.EntryRetracted {
			if d, err := ev.ParsedData(); err == nil {
				retracted[d.(*events.Retraction).Target] = true
			}
		}
	}
	s := &State{Unit: unit, Kind: events.UnitKind(unit)}
	for _, ev := range hist {
		if skip != nil && skip(ev) {
			continue
		}
		if retracted[ev.ID] {
			// The retracted event still counts in version and seq; its content does not.
			s.Version, s.Seq = ev.Version, ev.Seq
			continue
		}
		_ = f.apply(s, ev) // stored events decoded once already
	}
	if len(retracted) > 0 {
		s.Retracted = map[string]string{}
		for _, ev := range hist {
			if ev.Type == events.EntryRetracted && (skip == nil || !skip(ev)) {
				if d, err := ev.ParsedData(); err == nil {
					s.Retracted[d.(*events.Retraction).Target] = ev.ID
				}
			}
		}
	}
	return s
}

func loadState(db pebble.Reader, unit string) (*State, error) {
	v, closer, err := db.Get(stateKey(unit))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state of %s: %w", unit, err)
	}
	defer closer.Close()
	var s State
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("decode state of %s: %w", unit, err)
	}
	return &s, nil
}

// readHistory returns a unit's stored events in version order.
func readHistory(db pebble.Reader, unit string) ([]*events.Event, error) {
	return readHistoryRange(db, unit, 0, 0)
}

// readHistoryRange returns a unit's stored events with versions after
// after and, when before is not 0, before before, in version order.
func readHistoryRange(db pebble.Reader, unit string, after, before uint64) ([]*events.Event, error) {
	return readHistoryWith(db, nil, unit, after, before, 0, false)
}

// readHistoryWith is readHistoryRange that first asks lookup, if set, for
// bodies not yet in db (a rebuild's bodies not yet ingested). With n > 0 it
// reads at most n events: the first n of the range, or its last n when
// last is set.
func readHistoryWith(db pebble.Reader, lookup func(uint64) ([]byte, bool), unit string, after, before uint64, n int, last bool) ([]*events.Event, error) {
	if after == math.MaxUint64 {
		return nil, nil
	}
	p := historyUnitPrefix(unit)
	lo, hi := p, prefixEnd(p)
	if after > 0 {
		lo = historyKey(unit, after+1)
	}
	if before > 0 {
		hi = historyKey(unit, before)
	}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	start, step := it.First, it.Next
	if last {
		start, step = it.Last, it.Prev
	}
	for ok := start(); ok && (n <= 0 || len(seqs) < n); ok = step() {
		seq, err := parseHistoryValue(it.Value())
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("history of %s: %w", unit, err)
		}
		seqs = append(seqs, seq)
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, fmt.Errorf("history of %s: %w", unit, err)
	}
	if last {
		slices.Reverse(seqs)
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	// Ask lookup first: a body it does not hold was in db before the
	// iterator below was opened.
	var held map[uint64][]byte
	if lookup != nil {
		for _, seq := range seqs {
			if b, ok := lookup(seq); ok {
				if held == nil {
					held = map[uint64][]byte{}
				}
				held[seq] = b
			}
		}
	}
	// A unit's versions are in stream order: one forward pass over the
	// bodies between its first and last seq.
	bodies, err := db.NewIter(&pebble.IterOptions{LowerBound: bodyKey(seqs[0]), UpperBound: bodyKey(seqs[len(seqs)-1] + 1)})
	if err != nil {
		return nil, err
	}
	defer bodies.Close()
	out := make([]*events.Event, 0, len(seqs))
	for _, seq := range seqs {
		if b, ok := held[seq]; ok {
			ev, err := events.Decode(b)
			if err != nil {
				return nil, fmt.Errorf("history of %s: seq %d: %w", unit, seq, err)
			}
			ev.Seq, ev.Raw = seq, b
			out = append(out, ev)
			continue
		}
		k := bodyKey(seq)
		if !bodies.SeekGE(k) || !bytes.Equal(bodies.Key(), k) {
			if err := bodies.Error(); err != nil {
				return nil, fmt.Errorf("history of %s: %w", unit, err)
			}
			return nil, fmt.Errorf("history of %s: no stored body for seq %d", unit, seq)
		}
		body := append([]byte(nil), bodies.Value()...)
		ev, err := events.Decode(body)
		if err != nil {
			return nil, fmt.Errorf("history of %s: seq %d: %w", unit, seq, err)
		}
		ev.Seq = seq
		ev.Raw = body
		out = append(out, ev)
	}
	return out, nil
}
