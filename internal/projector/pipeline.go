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

// DecodeInOrder reads messages with next until it reports no more, decodes
// them on every core with decode, a chunk of up to size at a time, and
// hands the chunks back in the order read: each value received is the slot
// of the next chunk, which delivers it once decoded. A chunk is handed over
// early when its last message says nothing more is pending, so a quiet
// stream's newest message is never held back waiting for company.
//
// Decoding — JSON, hashes — is most of a reader's work; linking chains and
// applying stay with the caller, in order, in one goroutine. The channel
// closes after the last chunk, or when ctx is done; a caller that stops
// receiving must cancel ctx.
func DecodeInOrder[T any](ctx context.Context, size int, next func() (Raw, bool), decode func(Raw) T) <-chan chan []T {
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
		batch := make([]Raw, 0, size)
		send := func() bool {
			slot := make(chan []T, 1)
			if len(batch) <= inline {
				// A few messages of a stream caught up: decode them here,
				// sparing the hand-off to a worker its latency.
				res := make([]T, len(batch))
				for i, r := range batch {
					res[i] = decode(r)
				}
				slot <- res
				select {
				case slots <- slot:
				case <-ctx.Done():
					return false
				}
				batch = batch[:0]
				return true
			}
			select {
			case slots <- slot:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- job{raws: batch, slot: slot}:
			case <-ctx.Done():
				return false
			}
			batch = make([]Raw, 0, size)
			return true
		}
		for {
			r, ok := next()
			if !ok {
				if len(batch) > 0 {
					send()
				}
				return
			}
			batch = append(batch, r)
			quiet := r.MD == nil || r.MD.NumPending == 0
			if (len(batch) == size || quiet) && !send() {
				return
			}
		}
	}()
	return slots
}

// ReadRaw reads the next message of msgs with its metadata.
func ReadRaw(msgs jetstream.MessagesContext) (Raw, error) {
	msg, err := msgs.Next()
	if err != nil {
		return Raw{}, err
	}
	md, err := msg.Metadata()
	return Raw{Msg: msg, MD: md, Err: err}, nil
}
