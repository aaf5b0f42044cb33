package demo

import (
	"context"
	"fmt"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/units"
	"github.com/ntmledger/ntmledger/ledger"
)

// Set returns the whole demo data set in load order: the pre-reform units,
// the seed facts (in date order), then the 2025 reform.
func Set(d *units.Data) ([]*events.Input, error) {
	facts, err := Facts(d.Hierarchy)
	if err != nil {
		return nil, err
	}
	b := NewBuilder()
	RegisterInto(b, d.Hierarchy, nil)
	regs := b.Inputs()
	rb := NewBuilder()
	ReformInto(rb, d.Reform, nil)
	out := make([]*events.Input, 0, len(regs)+len(facts)+len(rb.Inputs()))
	out = append(out, regs...)
	out = append(out, facts...)
	return append(out, rb.Inputs()...), nil
}

// Appender stores a request atomically (ledger.Ledger.Append).
type Appender interface {
	Append(ctx context.Context, ins []*events.Input) ([]ledger.Result, error)
}

// Stats says what a load did.
type Stats struct {
	Events int // events in the set
	Stored int // new ones; the rest were already stored
}

// Load appends the demo set in atomic batches of ledger.MaxBatch and calls
// progress (if not nil) after each. Loading it again stores nothing.
func Load(ctx context.Context, app Appender, progress func(done, total int)) (Stats, error) {
	d, err := units.Load()
	if err != nil {
		return Stats{}, err
	}
	ins, err := Set(d)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Events: len(ins)}
	for i := 0; i < len(ins); i += ledger.MaxBatch {
		batch := ins[i:min(i+ledger.MaxBatch, len(ins))]
		res, err := app.Append(ctx, batch)
		if err != nil {
			return st, fmt.Errorf("demo: events %d–%d: %w", i, i+len(batch)-1, err)
		}
		for _, r := range res {
			if !r.Duplicate {
				st.Stored++
			}
		}
		if progress != nil {
			progress(i+len(batch), len(ins))
		}
	}
	return st, nil
}
