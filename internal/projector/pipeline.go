package projector

import (
	"context"
	"runtime"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// Raw is a message read from the stream, with its metadata (or the error
// reading that).
type Raw struct {
	Msg jetstream.Msg
	MD  *jetstream.MsgMetadata
	Err error
}

// ChunkSize is how many messages a decoding worker takes at a time.
const ChunkSize = 256

// inline is the largest chunk the reader decodes itself.
const inline = 8

// ReadChunks reads cons with Consume and hands its messages over, with
// their metadata, in chunks of up to size, in stream order. A chunk is
// handed over when it is full, or when its last message says nothing more
// is pending, so a quiet stream's newest message is never held back
// waiting for company. Reading in chunks spares each message the
// iterator's hand-off and timer (jetstream.MessagesContext.Next).
//
// Errors the consumer reports go to onErr (if set); it keeps reading.
// The channel closes when ctx is done or the consumer stops (its
// connection closed): after the last chunk, whose messages are all
// handed over unless ctx is done.
func ReadChunks(ctx context.Context, cons jetstream.Consumer, size int, onErr func(error)) (<-chan []Raw, error) {
	out := make(chan []Raw, 1)
	var (
		mu     sync.Mutex // held by the handler; the closer takes it to close out
		closed bool
		chunk  = make([]Raw, 0, size)
	)
	send := func() {
		select {
		case out <- chunk:
		case <-ctx.Done():
		}
		chunk = make([]Raw, 0, size)
	}
	handler := func(msg jetstream.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return
		}
		md, err := msg.Metadata()
		chunk = append(chunk, Raw{Msg: msg, MD: md, Err: err})
		if len(chunk) == size || md == nil || md.NumPending == 0 {
			send()
		}
	}
	opts := []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(4096)}
	if onErr != nil {
		opts = append(opts, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) { onErr(err) }))
	}
	cc, err := cons.Consume(handler, opts...)
	if err != nil {
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-cc.Closed():
		}
		cc.Stop()
		mu.Lock()
		defer mu.Unlock()
		closed = true
		if len(chunk) > 0 && ctx.Err() == nil {
			send()
		}
		close(out)
	}()
	return out, nil
}

// DecodeInOrder decodes the chunks read (ReadChunks) on every core with
// decode, and hands them back in the order read: each value received is
// the slot of the next chunk, which delivers it once decoded.
//
// Decoding — JSON, hashes — is most of a reader's work; linking chains and
// applying stay with the caller, in order, in one goroutine. The channel
// closes after the last chunk, or when ctx is done; a caller that stops
// receiving must cancel ctx.
func DecodeInOrder[T any](ctx context.Context, chunks <-chan []Raw, decode func(Raw) T) <-chan chan []T {
	workers := max(1, runtime.GOMAXPROCS(0))
	type job struct {
		raws []Raw
		slot chan []T
	}
	jobs := make(chan job, workers)
	slots := make(chan chan []T, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				res := make([]T, len(j.raws))
				for i, r := range j.raws {
					res[i] = decode(r)
				}
				j.slot <- res // buffered: never blocks
			}
		}()
	}
	go func() {
		defer close(slots)
		defer func() { close(jobs); wg.Wait() }()
		for {
			var batch []Raw
			var ok bool
			select {
			case batch, ok = <-chunks:
				if !ok {
					return
				}
			case <-ctx.Done():
				return
			}
			slot := make(chan []T, 1)
			select {
			case slots <- slot:
			case <-ctx.Done():
				return
			}
			if len(batch) <= inline {
				// A few messages of a stream caught up: decode them here,
				// sparing the hand-off to a worker its latency.
				res := make([]T, len(batch))
				for i, r := range batch {
					res[i] = decode(r)
				}
				slot <- res
				continue
			}
			select {
			case jobs <- job{raws: batch, slot: slot}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return slots
}
