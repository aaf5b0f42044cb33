package projections

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// builtViews is what a rebuild writes once, when it is done, rather than
// after every batch: the units' folded states and their read views
// (summaries, revocation timelines, targets). A live projector writes them
// with every batch, because readers and the next start need them; a
// generation being built is read by nobody until it is complete, so each
// unit's are written once, from its final state. Rewriting them batch after
// batch was about a fifth of a rebuild's work.
//
// The views written are those the batches would have left: every one of
// them is a function of the unit's final state and of what its events
// meant (unitFresh, merged over the whole stream), which
// TestReplayIsByteIdenticalToIncrementalViews checks.
type builtViews struct {
	states map[string]*State // every unit the build folded, as it stands
	fresh  map[string]*unitFresh
	order  []string // units in first-touched order
	broken bool     // a batch failed after changing states in place
}

func newBuiltViews() *builtViews {
	return &builtViews{states: map[string]*State{}, fresh: map[string]*unitFresh{}}
}

// note takes in a committed batch.
func (bv *builtViews) note(bs *batchState) {
	for _, unit := range bs.order {
		bv.states[unit] = bs.states[unit]
		f, ok := bv.fresh[unit]
		if !ok {
			f = &unitFresh{}
			bv.fresh[unit] = f
			bv.order = append(bv.order, unit)
		}
		f.merge(freshOf(bs.fresh[unit]))
	}
}

// builtBatchUnits is how many units' views go into one batch of writeBuilt.
const builtBatchUnits = 512

// writeBuilt writes the states and read views the build kept, into db,
// whose stored bodies must all be readable (the body files ingested).
func (a *applier) writeBuilt(db *pebble.DB) error {
	bv := a.built
	if bv == nil {
		return nil
	}
	if bv.broken {
		return errors.New("a batch of the build failed; its states are not complete")
	}
	for start := 0; start < len(bv.order); start += builtBatchUnits {
		units := bv.order[start:min(start+builtBatchUnits, len(bv.order))]
		b := db.NewBatch()
		bs := a.newBatchState(db) // no body files: every body is ingested
		for _, unit := range units {
			s := bv.states[unit]
			if err := writeState(b, s); err != nil {
				b.Close()
				return fmt.Errorf("state of %s: %w", unit, err)
			}
			if _, err := a.unitViews(bs, b, s, *bv.fresh[unit], true); err != nil {
				b.Close()
				return fmt.Errorf("read views of %s: %w", unit, err)
			}
		}
		err := b.Commit(pebble.NoSync)
		b.Close()
		if err != nil {
			return fmt.Errorf("write the built views: %w", err)
		}
	}
	return nil
}
