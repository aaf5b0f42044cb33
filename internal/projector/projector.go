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
//   - An event the projection cannot apply halts the projector with an error
//     naming the event. It is never skipped: a view with a hole is worse than
//     a view that is visibly behind.
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
// Projections must not write keys with the prefix "m/".
var CheckpointKey = []byte("m/checkpoint")

// ErrHalted is matched by the error of a projector that met an event it
// could not apply.
var ErrHalted = errors.New("projector halted")

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
// it made, for live notifications.
type Applier interface {
	Apply(ctx context.Context, db *pebble.DB, b *pebble.Batch, evs []*events.Event) ([]Change, error)
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
}

// Projector applies the stream to one Pebble database.
type Projector struct {
	cfg Config
	log *slog.Logger

	applied  atomic.Uint64 // last committed stream sequence
	total    atomic.Uint64 // events applied since start
	lastTime atomic.Int64  // unix nanos of the last commit

	mu      sync.Mutex
	halted  error
	waiters map[chan struct{}]uint64
}

// New opens a projector at its stored checkpoint.
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
	p := &Projector{cfg: cfg, log: cfg.Logger.With("projector", cfg.Name), waiters: map[chan struct{}]uint64{}}
	cp, err := ReadCheckpoint(cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("projector %s: %w", cfg.Name, err)
	}
	p.applied.Store(cp)
	return p, nil
}

// ReadCheckpoint returns the last applied stream sequence stored in db.
func ReadCheckpoint(db *pebble.DB) (uint64, error) {
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

// LastCommit is when the projector last committed a batch (zero if never).
func (p *Projector) LastCommit() time.Time {
	n := p.lastTime.Load()
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

type item struct {
	ev  *events.Event
	err error
}

// Run consumes the stream from the checkpoint until ctx is done or an event
// cannot be applied. It returns nil when ctx is cancelled.
func (p *Projector) Run(ctx context.Context) error {
	if err := p.Halted(); err != nil {
		return err
	}
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
	it, err := cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return fmt.Errorf("projector %s: messages: %w", p.cfg.Name, err)
	}
	feed := make(chan item, 2*p.cfg.BatchSize)
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	go func() {
		defer close(feed)
		for {
			msg, err := it.Next()
			if err != nil {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
					return
				}
				p.log.Warn("reading stream", "err", err)
				continue
			}
			it := item{}
			md, err := msg.Metadata()
			if err != nil {
				it.err = fmt.Errorf("message metadata: %w", err)
			} else {
				ev, err := events.Decode(msg.Data())
				if err != nil {
					it.err = fmt.Errorf("seq %d on %s: %w", md.Sequence.Stream, msg.Subject(), err)
				} else {
					ev.Seq = md.Sequence.Stream
					ev.Raw = msg.Data()
					it.ev = ev
				}
			}
			select {
			case feed <- it:
			case <-ctx.Done():
				return
			}
			if it.err != nil {
				return
			}
		}
	}()
	batch := make([]*events.Event, 0, p.cfg.BatchSize)
	for {
		var first item
		var ok bool
		select {
		case first, ok = <-feed:
		case <-ctx.Done():
			return nil
		}
		if !ok {
			return nil
		}
		batch = batch[:0]
		var feedErr error
		if first.err != nil {
			feedErr = first.err
		} else {
			batch = append(batch, first.ev)
		drain:
			for len(batch) < p.cfg.BatchSize {
				select {
				case it, ok := <-feed:
					if !ok {
						break drain
					}
					if it.err != nil {
						feedErr = it.err
						break drain
					}
					batch = append(batch, it.ev)
				default:
					break drain
				}
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

// commit applies evs in one Pebble batch together with the checkpoint.
func (p *Projector) commit(ctx context.Context, evs []*events.Event) error {
	// Messages at or below the checkpoint were already applied (a redelivery
	// after a reconnect); drop them before applying.
	at := p.applied.Load()
	i := 0
	for i < len(evs) && evs[i].Seq <= at {
		i++
	}
	evs = evs[i:]
	if len(evs) == 0 {
		return nil
	}
	b := p.cfg.DB.NewBatch()
	defer b.Close()
	changes, err := p.cfg.Applier.Apply(ctx, p.cfg.DB, b, evs)
	if err != nil {
		return err
	}
	last := evs[len(evs)-1].Seq
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
	p.applied.Store(last)
	p.total.Add(uint64(len(evs)))
	p.lastTime.Store(time.Now().UnixNano())
	p.wake()
	if p.cfg.OnChanges != nil && len(changes) > 0 {
		p.cfg.OnChanges(changes)
	}
	return nil
}
