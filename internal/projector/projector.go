// Package projector is the runtime every projection runs on: it reads the
// event stream in order and applies it to a Pebble database.
//
// # Invariants
//
//   - Events are applied in stream order, each exactly once. The checkpoint
//     (the last applied stream sequence) is written in the same Pebble batch
//     as the view changes and committed with Sync, so a crash at any point
//     leaves the database either before or after a whole batch: nothing is
//     applied twice and nothing is skipped. On start the projector resumes at
//     checkpoint+1.
//   - Before an event reaches the projection it must continue its unit's
//     hash chain (events.Link: its hash recomputes from its content, its
//     version is the next one, its prev_hash is the hash of the unit's last
//     good event) and name the unit of the subject it was published on. A
//     message that fails — a body published straight onto a unit's subject
//     by someone bypassing the ledger, forged, altered or without a hash — is
//     quarantined instead of applied: recorded under m/q/<seq> with the
//     reason, in the same batch as the checkpoint, and counted. The unit's
//     chain head stays at its last good event, so the unit's views stop there
//     while every other unit keeps flowing, and a later event that continues
//     the chain from the last good one is applied. Quarantine is a pure
//     function of the stream too: a rebuild quarantines the same messages.
//   - An event that passed those checks but that the projection still cannot
//     apply halts the projector with an error naming the event. It is never
//     skipped: a view with a hole is worse than a view that is visibly
//     behind.
//   - Views must be pure functions of the event sequence, so a rebuild from
//     seq 1 yields byte-identical databases.
//
// The stream is read with an ordered consumer: its position lives in Pebble,
// not on the server, so projectors need no acks (acking every message halves
// the read rate) and every node of a cluster can run its own projectors into
// its own Pebble without coordinating consumer names.
package projector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/events"
)

// CheckpointKey is where a projector keeps its last applied stream sequence.
// Projections must not write keys with the prefix "m/": the projector keeps
// its checkpoint, its format, the units' chain heads and the quarantine
// there (keys.go).
var CheckpointKey = []byte("m/checkpoint")

// ErrHalted is matched by the error of a projector that met an event it
// could not apply.
var ErrHalted = errors.New("projector halted")

// View names the runtime itself uses in change notifications.
const (
	// ViewQuarantine: a message of the unit was quarantined.
	ViewQuarantine = "quarantine"
	// ViewResync: every view may have changed (a rebuild was swapped in, or
	// a live client fell behind); re-read what you show.
	ViewResync = "resync"
)

// Change says that a view of a unit changed at a stream sequence.
type Change struct {
	View     string `json:"view"`
	Unit     string `json:"unit"`
	Province string `json:"province,omitempty"`
	Seq      uint64 `json:"as_of_seq"`
	Type     string `json:"type,omitempty"`
}

// Applier is a projection: it applies a run of events, in stream order, to a
// Pebble batch. It may read committed state from db. It returns the changes
// it made, for live notifications. Every event it is given has passed the
// chain checks (see the package doc).
type Applier interface {
	Apply(ctx context.Context, db *pebble.DB, b *pebble.Batch, evs []*events.Event) ([]Change, error)
}

// BatchObserver is an Applier that keeps state in memory between batches
// (a cache of what it wrote). The projector tells it whether the batch it
// last applied was committed; after Aborted it must forget whatever that
// batch changed.
type BatchObserver interface {
	Committed()
	Aborted()
}

// QuarantineApplier is implemented by projections that must know about the
// messages the projector refused — the ledger's index does, because the
// server's expected-last-subject-sequence check counts them. It is called
// after Apply, in the same batch, with the batch's quarantined messages in
// stream order.
type QuarantineApplier interface {
	ApplyQuarantined(ctx context.Context, db *pebble.DB, b *pebble.Batch, qs []Quarantine) error
}

// Config configures a projector.
type Config struct {
	Name    string              // for logs and metrics, e.g. "views"
	JS      jetstream.JetStream // required
	Stream  string              // stream name, required
	DB      *pebble.DB          // required
	Applier Applier             // required
	// BatchSize bounds the events applied in one Pebble batch. Default 2000.
	BatchSize int
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// OnChanges, if set, is called after each committed batch with its
	// changes. It must not block.
	OnChanges func([]Change)
	// Layout names the version of the applier's own key layout. A database
	// written under another layout is emptied and rebuilt from seq 1 (every
	// projection is a pure function of the stream, so nothing is lost).
	// Change it whenever the applier stores its keys differently.
	Layout string
	// Build is set for a database being built from seq 1 and read by
	// nobody until it is complete (a rebuild's new generation): the chain
	// heads are kept in memory rather than rewritten with every batch, and
	// written once by WriteHeads when Run has returned, instead of every
	// touched unit's head being overwritten in every batch.
	Build bool
}

// Projector applies the stream to one Pebble database.
type Projector struct {
	cfg Config
	log *slog.Logger

	applied     atomic.Uint64 // last committed stream sequence
	total       atomic.Uint64 // events applied since start
	quarantined atomic.Uint64 // quarantine records in the database
	lastTime    atomic.Int64  // unix nanos of the last commit
	startTime   atomic.Int64  // unix nanos of the last Run start

	mu      sync.Mutex
	halted  error
	waiters map[chan struct{}]uint64

	// heads are the committed chain heads of recently seen units; only the
	// goroutine of Run uses them.
	heads *Cache[Head]
	// unwritten are the heads of a build (Config.Build), all of them, for
	// WriteHeads; only the goroutine of Run uses them until it returns.
	unwritten map[string]Head
}

// HeadCacheSize bounds the chain heads a projector keeps in memory: every
// unit of the national hierarchy, before and after the 2025 reform, fits.
const HeadCacheSize = 1 << 16

// New opens a projector at its stored checkpoint.
//
// A database written before the projector kept chain heads (no format
// marker but a checkpoint) cannot verify the chains it continues, and one
// written under another Layout cannot be read by this applier; New empties
// either so the projection is rebuilt from seq 1. Every projection is a
// pure function of the stream, so this loses nothing.
func New(cfg Config) (*Projector, error) {
	if cfg.JS == nil || cfg.DB == nil || cfg.Applier == nil || cfg.Stream == "" {
		return nil, errors.New("projector: JS, Stream, DB and Applier are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 2000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Projector{cfg: cfg, log: cfg.Logger.With("projector", cfg.Name), waiters: map[chan struct{}]uint64{}, heads: NewCache[Head](HeadCacheSize)}
	if cfg.Build {
		p.unwritten = map[string]Head{}
	}
	if err := p.checkFormat(); err != nil {
		return nil, fmt.Errorf("projector %s: %w", cfg.Name, err)
	}
	cp, err := ReadCheckpoint(cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("projector %s: %w", cfg.Name, err)
	}
	p.applied.Store(cp)
	n, err := countQuarantined(cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("projector %s: %w", cfg.Name, err)
	}
	p.quarantined.Store(n)
	return p, nil
}

func (p *Projector) checkFormat() error {
	want := formatVersion
	if p.cfg.Layout != "" {
		want += "/" + p.cfg.Layout
	}
	var found string
	v, closer, err := p.cfg.DB.Get(formatKey)
	switch {
	case err == nil:
		found = string(v)
		closer.Close()
		if found == want {
			return nil
		}
	case !errors.Is(err, pebble.ErrNotFound):
		return fmt.Errorf("read format: %w", err)
	}
	cp, err := ReadCheckpoint(p.cfg.DB)
	if err != nil {
		return err
	}
	if cp > 0 {
		p.log.Warn("projection was written in another layout; rebuilding it from seq 1", "checkpoint", cp, "layout", found, "want", want)
		// NoSync, like every write here: the log keeps writes in order, so
		// no later batch survives a crash without this one (and a database
		// built without a log is discarded after a crash, never read).
		if err := p.cfg.DB.DeleteRange([]byte{0}, []byte{0xff}, pebble.NoSync); err != nil {
			return fmt.Errorf("empty stale projection: %w", err)
		}
	}
	if err := p.cfg.DB.Set(formatKey, []byte(want), pebble.NoSync); err != nil {
		return fmt.Errorf("write format: %w", err)
	}
	return nil
}

// ReadCheckpoint returns the last applied stream sequence stored in db.
func ReadCheckpoint(db pebble.Reader) (uint64, error) {
	v, closer, err := db.Get(CheckpointKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("read checkpoint: %d bytes, want 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Name is the projector's name.
func (p *Projector) Name() string { return p.cfg.Name }

// Applied is the last stream sequence committed to the database.
func (p *Projector) Applied() uint64 { return p.applied.Load() }

// Total is the number of events applied since the projector started.
func (p *Projector) Total() uint64 { return p.total.Load() }

// Quarantined is the number of messages the projection has quarantined.
func (p *Projector) Quarantined() uint64 { return p.quarantined.Load() }

// LastCommit is when the projector last committed a batch (zero if never).
func (p *Projector) LastCommit() time.Time {
	n := p.lastTime.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// LastProgress is when the projector last made progress: its last commit,
// or when it started running if it has committed nothing since. Health
// checks compare it with the lag to tell "behind but moving" from "stuck".
func (p *Projector) LastProgress() time.Time {
	n := max(p.lastTime.Load(), p.startTime.Load())
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Halted returns the error that halted the projector, or nil.
func (p *Projector) Halted() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.halted
}

// WaitApplied blocks until the projector has applied seq, ctx is done, or
// the projector halts.
func (p *Projector) WaitApplied(ctx context.Context, seq uint64) error {
	if p.applied.Load() >= seq {
		return nil
	}
	ch := make(chan struct{})
	p.mu.Lock()
	if p.halted != nil {
		p.mu.Unlock()
		return p.halted
	}
	if p.applied.Load() >= seq {
		p.mu.Unlock()
		return nil
	}
	p.waiters[ch] = seq
	p.mu.Unlock()
	select {
	case <-ch:
		if p.applied.Load() >= seq {
			return nil
		}
		return p.Halted()
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.waiters, ch)
		p.mu.Unlock()
		return fmt.Errorf("projector %s: waiting for seq %d (at %d): %w", p.cfg.Name, seq, p.applied.Load(), ctx.Err())
	}
}

func (p *Projector) wake() {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := p.applied.Load()
	for ch, seq := range p.waiters {
		if at >= seq || p.halted != nil {
			close(ch)
			delete(p.waiters, ch)
		}
	}
}

func (p *Projector) halt(err error) error {
	err = fmt.Errorf("%w: %s: %w", ErrHalted, p.cfg.Name, err)
	p.mu.Lock()
	p.halted = err
	p.mu.Unlock()
	p.wake()
	p.log.Error("projector halted; views stop here until the cause is fixed", "err", err, "applied", p.applied.Load())
	return err
}

// item is one message read from the stream: a decoded event, a message that
// could not be decoded (q), or a read error that halts the projector (err).
type item struct {
	seq     uint64
	subject string
	ev      *events.Event
	q       *Quarantine
	err     error
}

// Run consumes the stream from the checkpoint until ctx is done or an event
// cannot be applied. It returns nil when ctx is cancelled.
func (p *Projector) Run(ctx context.Context) error {
	if err := p.Halted(); err != nil {
		return err
	}
	p.startTime.Store(time.Now().UnixNano())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cons, err := p.cfg.JS.OrderedConsumer(ctx, p.cfg.Stream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   p.applied.Load() + 1,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("projector %s: consumer: %w", p.cfg.Name, err)
	}
	chunks, err := ReadChunks(ctx, cons, ChunkSize, func(err error) {
		p.log.Warn("reading stream", "err", err)
	})
	if err != nil {
		return fmt.Errorf("projector %s: messages: %w", p.cfg.Name, err)
	}
	slots := DecodeInOrder(ctx, chunks, readItem)
	// take returns the next decoded chunk: waiting for one when wait is
	// set, else only if one has been read already. ok is false when the
	// stream was closed (or ctx is done, or, without wait, nothing was read).
	take := func(wait bool) (chunk []item, ok bool) {
		var slot chan []item
		if wait {
			select {
			case slot, ok = <-slots:
			case <-ctx.Done():
				return nil, false
			}
		} else {
			select {
			case slot, ok = <-slots:
			default:
				return nil, false
			}
		}
		if !ok {
			return nil, false
		}
		select {
		case chunk = <-slot:
			return chunk, true
		case <-ctx.Done():
			return nil, false
		}
	}
	batch := make([]item, 0, p.cfg.BatchSize)
	var carry []item // read and decoded, not yet in a batch
	for {
		if len(carry) == 0 {
			var ok bool
			if carry, ok = take(true); !ok {
				return nil
			}
		}
		batch = batch[:0]
		var feedErr error
	fill:
		for len(batch) < p.cfg.BatchSize {
			if len(carry) == 0 {
				var ok bool
				if carry, ok = take(false); !ok {
					break
				}
			}
			for len(carry) > 0 && len(batch) < p.cfg.BatchSize {
				it := carry[0]
				carry = carry[1:]
				if it.err != nil {
					feedErr = it.err
					break fill
				}
				batch = append(batch, it)
			}
		}
		if len(batch) > 0 {
			if err := p.commit(ctx, batch); err != nil {
				return p.halt(err)
			}
		}
		if feedErr != nil {
			return p.halt(feedErr)
		}
	}
}

// readItem decodes one message. A body that does not decode is quarantined,
// not a reason to halt: anyone allowed to publish on the stream's subjects
// could otherwise stop every projection.
func readItem(r Raw) item {
	msg, md := r.Msg, r.MD
	if r.Err != nil {
		return item{err: fmt.Errorf("message metadata on %s: %w", msg.Subject(), r.Err)}
	}
	it := item{seq: md.Sequence.Stream, subject: msg.Subject()}
	ev, err := events.Decode(msg.Data())
	if err != nil {
		province, unit := SubjectUnit(it.subject)
		it.q = &Quarantine{
			Seq: it.seq, Subject: it.subject, Unit: unit, Province: province,
			Reason: events.ChainUndecodable, Detail: err.Error(),
		}
		return it
	}
	ev.Seq = it.seq
	ev.Raw = msg.Data()
	ev.Precompute()
	it.ev = ev
	return it
}

// WriteHeads writes the chain heads a build kept in memory (Config.Build).
// Call it once Run has returned, before the database is used.
func (p *Projector) WriteHeads() error {
	b := p.cfg.DB.NewBatch()
	defer func() { b.Close() }()
	n := 0
	for unit, h := range p.unwritten {
		if err := b.Set(headKey(unit), h.encode(), nil); err != nil {
			return fmt.Errorf("write chain head of %s: %w", unit, err)
		}
		if n++; n%4096 == 0 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return fmt.Errorf("write chain heads: %w", err)
			}
			b.Close()
			b = p.cfg.DB.NewBatch()
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("write chain heads: %w", err)
	}
	clear(p.unwritten)
	return nil
}

// commit checks items against their units' chains and applies the good
// events in one Pebble batch together with the quarantine records, the
// chain heads and the checkpoint.
func (p *Projector) commit(ctx context.Context, items []item) error {
	// Messages at or below the checkpoint were already applied (a redelivery
	// after a reconnect); drop them before applying.
	at := p.applied.Load()
	i := 0
	for i < len(items) && items[i].seq <= at {
		i++
	}
	items = items[i:]
	if len(items) == 0 {
		return nil
	}
	b := p.cfg.DB.NewBatch()
	defer b.Close()
	heads := map[string]*Head{}
	var order []string
	head := func(unit string) (*Head, error) {
		if h, ok := heads[unit]; ok {
			return h, nil
		}
		h, ok := p.unwritten[unit]
		if !ok {
			h, ok = p.heads.Get(unit)
		}
		if !ok {
			var err error
			if h, err = ReadHead(p.cfg.DB, unit); err != nil {
				return nil, err
			}
		}
		heads[unit] = &h
		order = append(order, unit)
		return &h, nil
	}
	good := make([]*events.Event, 0, len(items))
	var qs []Quarantine
	for _, it := range items {
		if it.q != nil {
			qs = append(qs, *it.q)
			continue
		}
		ev := it.ev
		province, unit := SubjectUnit(it.subject)
		h, err := head(unit)
		if err != nil {
			return err
		}
		var cerr *events.ChainError
		if ev.Unit != unit {
			cerr = &events.ChainError{Reason: events.ChainWrongSubject, Detail: fmt.Sprintf("event %s names unit %s but was published on %s", ev.ID, ev.Unit, it.subject)}
		} else if err := events.Link(ev, h.Version, h.Hash); err != nil {
			if !errors.As(err, &cerr) {
				return err
			}
		} else if _, err := ev.ParsedData(); err != nil {
			cerr = &events.ChainError{Reason: events.ChainUndecodable, Detail: fmt.Sprintf("event %s: %v", ev.ID, err)}
		}
		if cerr == nil {
			h.Version, h.Hash, h.Seq = ev.Version, ev.Hash, ev.Seq
			good = append(good, ev)
			continue
		}
		qs = append(qs, Quarantine{
			Seq: ev.Seq, Subject: it.subject, Unit: unit, Province: province,
			ID: ev.ID, Type: string(ev.Type), Version: ev.Version, Hash: ev.Hash, PrevHash: ev.PrevHash,
			OccurredAt: ev.OccurredAt, RecordedAt: ev.RecordedAt,
			Reason: cerr.Reason, Detail: cerr.Detail, AfterVersion: h.Version, AfterSeq: h.Seq,
		})
	}
	var changes []Change
	committed := false
	if len(good) > 0 {
		if obs, ok := p.cfg.Applier.(BatchObserver); ok {
			defer func() {
				if committed {
					obs.Committed()
				} else {
					obs.Aborted()
				}
			}()
		}
		var err error
		if changes, err = p.cfg.Applier.Apply(ctx, p.cfg.DB, b, good); err != nil {
			return err
		}
	}
	if p.unwritten == nil { // a build keeps them for WriteHeads
		for _, unit := range order {
			if err := b.Set(headKey(unit), heads[unit].encode(), nil); err != nil {
				return fmt.Errorf("write chain head of %s: %w", unit, err)
			}
		}
	}
	if len(qs) > 0 {
		for _, q := range qs {
			if err := b.Set(quarantineKey(q.Seq), q.encode(), nil); err != nil {
				return fmt.Errorf("write quarantine of seq %d: %w", q.Seq, err)
			}
			changes = append(changes, Change{View: ViewQuarantine, Unit: q.Unit, Province: q.Province, Seq: q.Seq, Type: q.Reason})
		}
		if qa, ok := p.cfg.Applier.(QuarantineApplier); ok {
			if err := qa.ApplyQuarantined(ctx, p.cfg.DB, b, qs); err != nil {
				return err
			}
		}
	}
	last := items[len(items)-1].seq
	var cp [8]byte
	binary.BigEndian.PutUint64(cp[:], last)
	if err := b.Set(CheckpointKey, cp[:], nil); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	// NoSync is safe here: the checkpoint is in the same batch, so after an
	// OS crash the database holds a prefix of whole batches and the projector
	// resumes after the last one that survived. The stream is the record.
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("commit batch ending at seq %d: %w", last, err)
	}
	committed = true
	for _, unit := range order {
		if p.unwritten != nil {
			p.unwritten[unit] = *heads[unit]
			continue
		}
		p.heads.Put(unit, *heads[unit])
	}
	p.applied.Store(last)
	p.total.Add(uint64(len(good)))
	for _, q := range qs {
		p.log.Warn("quarantined a message that does not continue its unit's hash chain; the unit's views stay at its last good event",
			"seq", q.Seq, "subject", q.Subject, "unit", q.Unit, "reason", q.Reason, "detail", q.Detail)
	}
	p.quarantined.Add(uint64(len(qs)))
	p.lastTime.Store(time.Now().UnixNano())
	p.wake()
	if p.cfg.OnChanges != nil && len(changes) > 0 {
		p.cfg.OnChanges(changes)
	}
	return nil
}
