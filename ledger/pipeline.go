package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/ntmledger/ntmledger/events"
)

// Pipelining.
//
// A request is checked against the index and the overlay, then sent; the
// stream's acknowledgement (the fsync) comes later. AppendAsync returns as
// soon as the request is sent, so the next request is checked and sealed
// while the server stores the one before: a bulk import keeps both the
// ledger and the server busy instead of taking turns.
//
// The next request is checked as if the one in flight were stored: the
// overlay records a request with the sequences it will get when nothing
// comes between. That is made true, not assumed: a request sent while
// another is in flight carries the stream's expected last sequence (the
// last one of the request before it), so the server stores it only if
// every request before it was stored exactly as predicted and nobody else
// wrote in between. When a request fails, the ones after it fail too;
// settle then waits for every flight, forgets the overlay, and checks and
// sends the failed requests again, one at a time and in order, as Append
// always did.

// MaxInFlight is how many requests a ledger has sent and not yet seen
// acknowledged.
const MaxInFlight = 2

// AckTimeout bounds the wait for the stream's acknowledgement of a request.
const AckTimeout = 30 * time.Second

// flight is a request sent and not yet settled.
type flight struct {
	req  *request
	res  []Result
	want uint64 // the last sequence predicted for it

	done chan struct{} // closed once ack or err is set
	once sync.Once
	ack  uint64 // the last sequence the stream acknowledged
	err  error

	final bool // res and err are the request's outcome (under Ledger.mu)
}

func (f *flight) finish(ack uint64, err error) {
	f.once.Do(func() {
		f.ack, f.err = ack, err
		close(f.done)
	})
}

func (f *flight) finished() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// asPredicted: stored at the sequences the overlay holds.
func (f *flight) asPredicted() bool {
	return f.finished() && f.err == nil && f.ack == f.want
}

// Pending is a request sent by AppendAsync.
type Pending struct {
	l   *Ledger
	f   *flight  // nil when nothing was sent
	res []Result // when nothing was sent: every event was already stored
}

// Wait returns the request's results once the stream has acknowledged it,
// with the errors of Append.
func (p *Pending) Wait(ctx context.Context) ([]Result, error) {
	if p.f == nil {
		return p.res, nil
	}
	select {
	case <-p.f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the stream to store the request: %w", ctx.Err())
	}
	if p.f.asPredicted() {
		return p.f.res, nil
	}
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	if !p.f.final {
		if err := p.l.settle(ctx); err != nil {
			return nil, err
		}
	}
	if p.f.err != nil {
		return nil, p.f.err
	}
	return p.f.res, nil
}

// AppendAsync checks a request and sends it, and returns before the stream
// has acknowledged it; Wait for the outcome. Requests are stored in the
// order AppendAsync is called, at most MaxInFlight at a time. Errors found
// while checking (the errors of Append) are returned at once, and nothing
// of the request is sent.
func (l *Ledger) AppendAsync(ctx context.Context, ins []*events.Input) (*Pending, error) {
	req, err := prepare(ins)
	if err != nil {
		return nil, err
	}
	return l.appendAsync(ctx, req)
}

// appendAsync checks a prepared request and sends it.
func (l *Ledger) appendAsync(ctx context.Context, req *request) (*Pending, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.settle(ctx); err != nil {
		return nil, err
	}
	for len(l.flights) >= MaxInFlight {
		select {
		case <-l.flights[0].done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if err := l.settle(ctx); err != nil {
			return nil, err
		}
	}
	res, pend, units, err := l.checkNow(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(pend) == 0 {
		return &Pending{res: res}, nil
	}
	if l.beforeSend != nil {
		units := make([]string, len(pend))
		for i, p := range pend {
			units[i] = res[p.index].Unit
		}
		l.beforeSend(units)
	}
	f, err := l.send(pend, res, len(l.flights) > 0)
	if err != nil {
		return nil, err
	}
	f.req = req
	l.recent.record(res, pend, units, req.contents, req.ins, f.want)
	l.flights = append(l.flights, f)
	return &Pending{l: l, f: f}, nil
}

// settle drops the flights at the front that were stored as predicted. If
// any flight went otherwise, it waits for all of them and settles each in
// order: stored ones keep their results (at the sequences acknowledged),
// failed ones that met another writer are checked and sent again, and once
// one fails for good, the ones after it fail too (they were checked against
// it). The overlay is forgotten, so the next request waits for the index.
// Called with l.mu held.
func (l *Ledger) settle(ctx context.Context) error {
	for len(l.flights) > 0 && l.flights[0].asPredicted() {
		l.flights[0].final = true
		l.flights[0] = nil
		l.flights = l.flights[1:]
	}
	trouble := false
	for _, f := range l.flights {
		trouble = trouble || f.finished() && !f.asPredicted()
	}
	if !trouble {
		if len(l.flights) == 0 {
			l.flights = nil
		}
		return nil
	}
	for _, f := range l.flights {
		select {
		case <-f.done:
		case <-ctx.Done():
			return fmt.Errorf("waiting for requests in flight: %w", ctx.Err())
		}
	}
	flights := l.flights
	l.flights = nil
	l.recent = overlay{} // stale: syncState waits for the index to reach the stream's end
	var failed error
	for _, f := range flights {
		switch {
		case f.err == nil:
			// Stored; at other sequences if another writer came first.
			n := uint64(0)
			for i := range f.res {
				if !f.res[i].Duplicate {
					n++
				}
			}
			seq := f.ack - n + 1
			for i := range f.res {
				if !f.res[i].Duplicate {
					f.res[i].Seq = seq
					seq++
				}
			}
		case failed != nil:
			f.err = fmt.Errorf("not stored: a request sent before it failed: %w", failed)
		case raced(f.err):
			l.log.Debug("request in flight met another writer; checking it again", "err", f.err)
			res, err := l.appendNow(ctx, f.req)
			f.res, f.err = res, err
			if err != nil {
				failed = err
			}
		default:
			failed = f.err
		}
		f.final = true
	}
	return nil
}

// send publishes the pending events and returns their flight, with the
// results' sequences predicted from the overlay. fenced requests carry the
// stream's expected last sequence.
func (l *Ledger) send(pend []pending, res []Result, fenced bool) (*flight, error) {
	first := l.recent.last + 1
	for i, p := range pend {
		res[p.index].Seq = first + uint64(i)
	}
	f := &flight{res: res, want: first + uint64(len(pend)) - 1, done: make(chan struct{})}
	msgs := messages(pend)
	if fenced {
		msgs[0].Header.Set(jetstream.ExpectedLastSeqHeader, strconv.FormatUint(l.recent.last, 10))
	}
	timer := time.AfterFunc(AckTimeout, func() {
		f.finish(0, fmt.Errorf("no acknowledgement from the stream within %s", AckTimeout))
	})
	if len(msgs) == 1 {
		fut, err := l.js.PublishMsgAsync(msgs[0])
		if err != nil {
			timer.Stop()
			return nil, fmt.Errorf("publish %s: %w", pend[0].id, err)
		}
		go func() {
			defer timer.Stop()
			select {
			case ack := <-fut.Ok():
				if ack.Duplicate {
					f.finish(0, fmt.Errorf("%w: id %s stored concurrently", errRaced, pend[0].id))
					return
				}
				f.finish(ack.Sequence, nil)
			case err := <-fut.Err():
				f.finish(0, fmt.Errorf("publish %s: %w", pend[0].id, err))
			case <-f.done:
			}
		}()
		return f, nil
	}
	bp, err := jetstreamext.NewBatchPublisher(l.js, jetstreamext.BatchFlowControl{AckTimeout: AckTimeout})
	if err != nil {
		timer.Stop()
		return nil, fmt.Errorf("batch publisher: %w", err)
	}
	for _, m := range msgs[:len(msgs)-1] {
		if err := bp.AddMsg(m); err != nil {
			timer.Stop()
			_ = bp.Discard()
			return nil, fmt.Errorf("atomic batch of %d: %w", len(msgs), err)
		}
	}
	// The commit is sent here, in order, and its acknowledgement read by the
	// subscription when it comes.
	commit := msgs[len(msgs)-1]
	commit.Header.Set(jetstreamext.BatchIDHeader, msgs[0].Header.Get(jetstreamext.BatchIDHeader))
	commit.Header.Set(jetstreamext.BatchSeqHeader, strconv.Itoa(len(msgs)))
	commit.Header.Set(jetstreamext.BatchCommitHeader, "1")
	nc := l.js.Conn()
	commit.Reply = nc.NewRespInbox()
	size := uint64(len(msgs))
	sub, err := nc.Subscribe(commit.Reply, func(m *nats.Msg) {
		timer.Stop()
		f.finish(parseBatchAck(m.Data, size))
	})
	if err != nil {
		timer.Stop()
		_ = bp.Discard()
		return nil, fmt.Errorf("atomic batch of %d: %w", len(msgs), err)
	}
	_ = sub.AutoUnsubscribe(1)
	if err := nc.PublishMsg(commit); err != nil {
		timer.Stop()
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("atomic batch of %d: commit: %w", len(msgs), err)
	}
	return f, nil
}

// parseBatchAck reads the acknowledgement of an atomic batch of size.
func parseBatchAck(data []byte, size uint64) (uint64, error) {
	var r struct {
		Error     *jetstream.APIError `json:"error"`
		Stream    string              `json:"stream"`
		Sequence  uint64              `json:"seq"`
		BatchSize uint64              `json:"count"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return 0, fmt.Errorf("atomic batch of %d: acknowledgement %q: %w", size, data, err)
	}
	if r.Error != nil {
		return 0, fmt.Errorf("atomic batch of %d: %w", size, r.Error)
	}
	if r.Stream == "" || r.BatchSize != size {
		return 0, fmt.Errorf("atomic batch of %d: unexpected acknowledgement %q", size, data)
	}
	return r.Sequence, nil
}
