package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

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
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var readErr atomic.Pointer[error] // set by the reader's goroutine
		chunks, err := projector.ReadChunks(ctx, cons, projector.ChunkSize, func(err error) {
			err = fmt.Errorf("verify: read stream: %w", err)
			readErr.CompareAndSwap(nil, &err)
			cancel()
		})
		if err != nil {
			return nil, fmt.Errorf("verify: read stream: %w", err)
		}
		var done bool
		for slot := range projector.DecodeInOrder(ctx, chunks, decodeForVerify) {
			if done {
				continue
			}
			var chunk []verifyItem
			select {
			case chunk = <-slot:
			case <-ctx.Done():
				return nil, fmt.Errorf("verify: %w", ctx.Err())
			}
			for i := range chunk {
				it := &chunk[i]
				if it.err != nil {
					return nil, it.err
				}
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
				if it.last {
					done = true
					cancel() // read what was pending when verify began, no more
					break
				}
			}
		}
		switch {
		case done:
		case readErr.Load() != nil:
			return nil, *readErr.Load()
		case ctx.Err() != nil:
			return nil, fmt.Errorf("verify: %w", ctx.Err())
		default:
			return nil, errors.New("verify: the stream ended before the last message pending")
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
	last    bool               // nothing more was pending when it was read
	err     error              // its metadata could not be read
}

// decodeForVerify decodes and hashes one message (on a decoding worker).
func decodeForVerify(r projector.Raw) verifyItem {
	if r.Err != nil {
		return verifyItem{err: fmt.Errorf("verify: message metadata: %w", r.Err)}
	}
	msg := r.Msg
	_, u := projector.SubjectUnit(msg.Subject())
	it := verifyItem{seq: r.MD.Sequence.Stream, subject: msg.Subject(), unit: u, last: r.MD.NumPending == 0}
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
	return it
}
