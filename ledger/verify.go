package ledger

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/projector"
)

// VerifyReport is the result of recomputing hash chains from the stream.
type VerifyReport struct {
	OK bool `json:"ok"`
	// Unit is the unit verified; "" for the whole ledger.
	Unit string `json:"unit,omitempty"`
	// ThroughSeq is the last stream sequence read.
	ThroughSeq uint64 `json:"through_seq"`
	Units      int    `json:"units"`
	Events     int    `json:"events"`
	// Breaks lists, per unit whose chain is broken, the first break in
	// stream order, by unit and seq.
	Breaks []ChainBreak `json:"breaks"`
}

// ChainBreak is the first message of a unit's subject that does not
// continue its chain.
type ChainBreak struct {
	Unit    string `json:"unit"`
	Subject string `json:"subject"`
	Seq     uint64 `json:"seq"`
	// Version is the version the unit's next event must have; Claimed is
	// what the message says (0 when it did not decode).
	Version  uint64 `json:"version"`
	Claimed  uint64 `json:"claimed_version,omitempty"`
	ID       string `json:"id,omitempty"`
	Reason   string `json:"reason"` // events.Chain*
	Detail   string `json:"detail"`
	LastGood uint64 `json:"last_good_seq"` // seq of the unit's last good event before it
	// Bad counts every message of the unit that failed, this one included.
	Bad int `json:"bad"`
}

// Verify recomputes hash chains from the stream itself — not from any view,
// since tamper evidence must check the record — for one unit (its subject
// only) or, with unit "", every unit. A message that breaks a chain is
// checked the way projectors check it (events.Link) and skipped: the chain
// continues from the last good event, so a forged message is one break,
// not a cascade. progress, if set, is called with the seq read and the
// last seq.
func (l *Ledger) Verify(ctx context.Context, unit string, progress func(at, last uint64)) (*VerifyReport, error) {
	filter := SubjectWildcard
	if unit != "" {
		if events.UnitKind(unit) == "" || strings.ContainsAny(unit, ".*> ") {
			return nil, &events.FieldError{Field: "unit", Reason: fmt.Sprintf("%q is not a unit code", unit)}
		}
		filter = SubjectPrefix + ".*." + unit
	}
	info, err := l.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: stream info: %w", err)
	}
	rep := &VerifyReport{Unit: unit, Breaks: []ChainBreak{}}
	last := info.State.LastSeq
	if last == 0 {
		rep.OK = true
		return rep, nil
	}
	cons, err := l.js.OrderedConsumer(ctx, StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("verify: consumer: %w", err)
	}
	ci, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: consumer info: %w", err)
	}
	type chain struct {
		head   projector.Head
		brk    *ChainBreak
		events int
	}
	chains := map[string]*chain{}
	if ci.NumPending > 0 {
		msgs, err := cons.Messages(jetstream.PullMaxMessages(4096))
		if err != nil {
			return nil, fmt.Errorf("verify: read stream: %w", err)
		}
		defer msgs.Stop()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		chunks := decodeInOrder(ctx, msgs)
		for ch := range chunks {
			res := <-ch
			if res.err != nil {
				return nil, res.err
			}
			for i := range res.items {
				it := &res.items[i]
				c := chains[it.unit]
				if c == nil {
					c = &chain{}
					chains[it.unit] = c
				}
				rep.Events++
				cerr := it.cerr
				ev := it.ev
				if cerr == nil {
					if err := events.Link(ev, c.head.Version, c.head.Hash); err != nil {
						if !errors.As(err, &cerr) {
							return nil, err
						}
					} else if _, err := ev.ParsedData(); err != nil {
						cerr = &events.ChainError{Reason: events.ChainUndecodable, Detail: fmt.Sprintf("event %s: %v", ev.ID, err)}
					}
				}
				if cerr == nil {
					c.head = projector.Head{Version: ev.Version, Seq: it.seq, Hash: ev.Hash}
					c.events++
				} else if c.brk == nil {
					c.brk = &ChainBreak{
						Unit: it.unit, Subject: it.subject, Seq: it.seq, Version: c.head.Version + 1,
						Reason: cerr.Reason, Detail: cerr.Detail, LastGood: c.head.Seq, Bad: 1,
					}
					if ev != nil {
						c.brk.Claimed, c.brk.ID = ev.Version, ev.ID
					}
				} else {
					c.brk.Bad++
				}
				if progress != nil && (it.last || it.seq%10000 == 0) {
					progress(it.seq, last)
				}
				rep.ThroughSeq = max(rep.ThroughSeq, it.seq)
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
	}
	rep.Units = len(chains)
	for _, c := range chains {
		if c.brk != nil {
			rep.Breaks = append(rep.Breaks, *c.brk)
		}
	}
	slices.SortFunc(rep.Breaks, func(a, b ChainBreak) int { return strings.Compare(a.Unit, b.Unit) })
	rep.OK = len(rep.Breaks) == 0
	return rep, nil
}

// verifyItem is one message of the stream, decoded and hashed.
type verifyItem struct {
	seq     uint64
	subject string
	unit    string
	ev      *events.Event
	cerr    *events.ChainError // set when it did not decode or names another unit
	last    bool               // the last message pending when verify began reading
}

type verifyChunk struct {
	items []verifyItem
	err   error
}

// verifyChunkSize is how many messages a decoding worker takes at a time.
const verifyChunkSize = 512

// decodeInOrder reads the stream up to the last message pending and
// decodes and hashes it on every core, in chunks, handing the chunks back in
// stream order: the chains are then linked in one goroutine, cheaply. The
// channel closes after the last chunk or on the first error (which its
// chunk carries) or when ctx is done.
func decodeInOrder(ctx context.Context, msgs jetstream.MessagesContext) <-chan chan verifyChunk {
	workers := max(1, runtime.GOMAXPROCS(0))
	ordered := make(chan chan verifyChunk, 2*workers)
	type job struct {
		msgs []jetstream.Msg
		out  chan verifyChunk
	}
	jobs := make(chan job, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.out <- decodeChunk(j.msgs)
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer func() { close(jobs); wg.Wait() }()
		batch := make([]jetstream.Msg, 0, verifyChunkSize)
		send := func() bool {
			out := make(chan verifyChunk, 1)
			select {
			case ordered <- out:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- job{msgs: batch, out: out}:
			case <-ctx.Done():
				return false
			}
			batch = make([]jetstream.Msg, 0, verifyChunkSize)
			return true
		}
		fail := func(err error) {
			out := make(chan verifyChunk, 1)
			out <- verifyChunk{err: err}
			select {
			case ordered <- out:
			case <-ctx.Done():
			}
		}
		for {
			msg, err := msgs.Next()
			if err != nil {
				if ctx.Err() == nil {
					fail(fmt.Errorf("verify: read stream: %w", err))
				}
				return
			}
			md, err := msg.Metadata()
			if err != nil {
				fail(fmt.Errorf("verify: message metadata: %w", err))
				return
			}
			batch = append(batch, msg)
			done := md.NumPending == 0
			if (len(batch) == verifyChunkSize || done) && !send() {
				return
			}
			if done {
				return
			}
		}
	}()
	return ordered
}

// decodeChunk decodes and hashes a run of messages.
func decodeChunk(msgs []jetstream.Msg) verifyChunk {
	items := make([]verifyItem, len(msgs))
	for i, msg := range msgs {
		md, err := msg.Metadata()
		if err != nil {
			return verifyChunk{err: fmt.Errorf("verify: message metadata: %w", err)}
		}
		_, u := projector.SubjectUnit(msg.Subject())
		it := verifyItem{seq: md.Sequence.Stream, subject: msg.Subject(), unit: u, last: md.NumPending == 0}
		ev, err := events.Decode(msg.Data())
		switch {
		case err != nil:
			it.cerr = &events.ChainError{Reason: events.ChainUndecodable, Detail: err.Error()}
		case ev.Unit != u:
			it.cerr = &events.ChainError{Reason: events.ChainWrongSubject, Detail: fmt.Sprintf("event %s names unit %s but was published on %s", ev.ID, ev.Unit, msg.Subject())}
		default:
			ev.Precompute()
		}
		it.ev = ev
		items[i] = it
	}
	return verifyChunk{items: items}
}
