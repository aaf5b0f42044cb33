package projector_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/internal/natstest"
	"github.com/ntmledger/ntmledger/internal/projector"
)

// ReadChunks hands over every message once, in stream order, in chunks no
// larger than asked; a stream gone quiet has its newest message handed over
// without waiting for more; and the channel closes when ctx is done.
func TestReadChunksInOrderAndNothingHeldBack(t *testing.T) {
	srv := natstest.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := srv.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatal(err)
	}
	publish := func(from, to int) {
		for i := from; i <= to; i++ {
			if _, err := srv.JS.Publish(ctx, fmt.Sprintf("t.%d", i%7), []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	const size = 16
	publish(1, 1000)
	cons, err := srv.JS.OrderedConsumer(ctx, "T", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	chunks, err := projector.ReadChunks(rctx, cons, size, func(err error) { t.Errorf("reading: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	decoded := projector.DecodeInOrder(rctx, chunks, func(r projector.Raw) int {
		if r.Err != nil {
			t.Errorf("metadata: %v", r.Err)
		}
		n, _ := strconv.Atoi(string(r.Msg.Data()))
		if uint64(n) != r.MD.Sequence.Stream {
			t.Errorf("message %d at seq %d", n, r.MD.Sequence.Stream)
		}
		return n
	})
	next := 1
	read := func(upTo int) {
		t.Helper()
		for next <= upTo {
			var slot chan []int
			select {
			case slot = <-decoded:
			case <-time.After(10 * time.Second):
				t.Fatalf("message %d not handed over", next)
			}
			chunk := <-slot
			if len(chunk) == 0 || len(chunk) > size {
				t.Fatalf("chunk of %d messages, want 1 to %d", len(chunk), size)
			}
			for _, n := range chunk {
				if n != next {
					t.Fatalf("message %d handed over, want %d", n, next)
				}
				next++
			}
		}
	}
	read(1000)
	// One more message, alone: handed over without company.
	publish(1001, 1001)
	read(1001)
	publish(1002, 1500)
	read(1500)
	stop()
	for slot := range decoded {
		// Whatever was in flight may still come; nothing after it.
		for _, n := range <-slot {
			if n != next {
				t.Fatalf("message %d after cancel, want %d", n, next)
			}
			next++
		}
	}
	if _, ok := <-chunks; ok {
		t.Fatal("chunks still open after ctx is done")
	}
}
