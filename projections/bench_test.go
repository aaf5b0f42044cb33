package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/internal/natstest"
	"github.com/ntmledger/ntmledger/internal/scenario"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

// BenchmarkRebuild rebuilds the views over a ledger of about 200,000
// scenario events, and reads the same stream with a bare ordered consumer
// in the same run: the ratio is what `make bench` holds to its target.
//
//	go test ./projections -run '^$' -bench Rebuild -benchtime 3x
func BenchmarkRebuild(b *testing.B) {
	srv := natstest.Start(b, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	l, err := ledger.Open(ctx, ledger.Config{JS: srv.JS, IndexDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	views, err := projections.Open(ctx, projections.Config{JS: srv.JS, Stream: ledger.StreamName, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer views.Close()
	var last uint64
	for _, bt := range scenario.Batches(scenario.Events(scenario.Config{Communes: 2200, Years: 5, WithNoise: true}), ledger.MaxBatch) {
		res, err := l.Append(ctx, bt)
		if err != nil {
			b.Fatal(err)
		}
		last = res[len(res)-1].Seq
	}
	if err := views.WaitApplied(ctx, last); err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	cons, err := srv.JS.OrderedConsumer(ctx, ledger.StreamName, jetstream.OrderedConsumerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	read := make(chan struct{})
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if md, _ := m.Metadata(); md != nil && md.Sequence.Stream == last {
			close(read)
		}
	}, jetstream.PullMaxMessages(4096))
	if err != nil {
		b.Fatal(err)
	}
	<-read
	cc.Stop()
	raw := float64(last) / time.Since(start).Seconds()

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := views.Rebuild(ctx, last, nil); err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(last) * float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(raw, "raw-read-events/s")
	b.ReportMetric(rate/raw, "ratio")
}
