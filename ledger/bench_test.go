package ledger_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/natstest"
	"github.com/ntmledger/ntmledger/internal/scenario"
	"github.com/ntmledger/ntmledger/ledger"
)

// benchEvents returns at least n scenario events.
func benchEvents(n int) []*events.Input {
	communes := n/(19*3) + 1
	ins := scenario.Events(scenario.Config{Communes: communes, Years: 3})
	return ins[:min(n, len(ins))]
}

// BenchmarkAppend1000 appends requests of 1000 events through the ledger:
// validation, checks, hashing, atomic batch, index catch-up. Compare with
// BenchmarkRawAtomicBatch1000 in the same run (`make bench`).
func BenchmarkAppend1000(b *testing.B) {
	srv := natstest.Start(b, "")
	l := open(b, srv, b.TempDir(), 0)
	ins := benchEvents(200_000)
	batches := scenario.Batches(ins, ledger.MaxBatch)
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		if i >= len(batches) {
			b.Fatalf("more iterations than prepared batches (%d)", len(batches))
		}
		if _, err := l.Append(context.Background(), batches[i]); err != nil {
			b.Fatal(err)
		}
		n += len(batches[i])
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendSingle appends one event per request (a plain publish).
func BenchmarkAppendSingle(b *testing.B) {
	srv := natstest.Start(b, "")
	l := open(b, srv, b.TempDir(), 0)
	ins := benchEvents(200_000)
	// Registrations first, in batches, so single appends meet known units.
	reg := 0
	for reg < len(ins) && ins[reg].Type == events.UnitRegistered {
		reg++
	}
	for _, bt := range scenario.Batches(ins[:reg], ledger.MaxBatch) {
		if _, err := l.Append(context.Background(), bt); err != nil {
			b.Fatal(err)
		}
	}
	rest := ins[reg:]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Append(context.Background(), rest[i:i+1]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRawAtomicBatch1000 is the raw engine: the same stored bodies
// published to a bare stream in atomic batches of 1000, at the same fsync
// policy, without validation, hashing or index.
func BenchmarkRawAtomicBatch1000(b *testing.B) {
	srv := natstest.Start(b, "")
	ctx := context.Background()
	if _, err := srv.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage, AllowAtomicPublish: true}); err != nil {
		b.Fatal(err)
	}
	ins := benchEvents(200_000)
	bodies := make([][]byte, len(ins))
	for i, in := range ins {
		ev := &events.Event{ID: events.NewID(), Type: in.Type, Unit: in.Unit, OccurredAt: in.OccurredAt, RecordedAt: "2026-01-01T00:00:00Z", Actor: *in.Actor, Document: in.Document, Data: in.Data, Version: 1}
		body, err := events.Seal(ev)
		if err != nil {
			b.Fatal(err)
		}
		bodies[i] = body
	}
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		lo := i * ledger.MaxBatch
		if lo >= len(bodies) {
			b.Fatal("more iterations than prepared batches")
		}
		hi := min(lo+ledger.MaxBatch, len(bodies))
		bp, _ := jetstreamext.NewBatchPublisher(srv.JS)
		for j := lo; j < hi; j++ {
			m := nats.NewMsg(fmt.Sprintf("raw.%s", ins[j].Unit))
			m.Data = bodies[j]
			m.Header.Set(jetstream.MsgIDHeader, ins[j].ID)
			var err error
			if j == hi-1 {
				_, err = bp.CommitMsg(ctx, m)
			} else {
				err = bp.AddMsg(m)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		n += hi - lo
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
