package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ntmledger/ntmledger/events"
)

// Entry is one event of a unit's audit trail, with every envelope field.
type Entry struct {
	Seq         uint64           `json:"seq"`
	ID          string           `json:"id"`
	Type        events.Type      `json:"type"`
	Unit        string           `json:"unit"`
	OccurredAt  string           `json:"occurred_at"`
	RecordedAt  string           `json:"recorded_at"`
	Actor       events.Actor     `json:"actor"`
	Document    *events.Document `json:"document,omitempty"`
	Data        json.RawMessage  `json:"data,omitempty"`
	Version     uint64           `json:"version"`
	PrevHash    string           `json:"prev_hash"`
	Hash        string           `json:"hash"`
	Retracted   bool             `json:"retracted"`
	RetractedBy string           `json:"retracted_by,omitempty"`
}

// History is a unit's audit trail.
type History struct {
	Unit    string  `json:"unit"`
	Events  []Entry `json:"events"`
	AsOfSeq uint64  `json:"as_of_seq"`
	// More is set on a page (Limit) when more events match beyond it: after
	// its last event, or before its first when paging back (Before).
	More bool `json:"more,omitempty"`
}

// HistoryFilter narrows a history: business dates from/to (inclusive,
// YYYY-MM-DD), one event type, and predecessors' trails for a reorganized
// unit.
//
// Limit pages it: the first Limit events after version After, or — with
// Before and no After — the last Limit events before version Before (the
// newest first page of a long trail: Before = math.MaxUint64). Either way
// the page is in version order. After and Before page one unit's trail,
// not a lineage.
type HistoryFilter struct {
	From, To string
	Type     events.Type
	Lineage  bool

	Limit         int
	After, Before uint64
}

// History returns a unit's audit trail in version order. With Lineage, the
// trails of the units it was formed from come first, each in its own order.
func (v *Views) History(_ context.Context, unit string, f HistoryFilter) (*History, error) {
	h := &History{Unit: unit, Events: []Entry{}}
	// A page of one unfiltered trail reads one event more than it shows
	// (to tell whether there are more), not the whole trail.
	newest := f.Before > 0 && f.After == 0
	n := 0
	if f.Limit > 0 && f.From == "" && f.To == "" && f.Type == "" && !f.Lineage {
		n = f.Limit + 1
	}
	seq, err := v.snapshot(func(r pebble.Reader) error {
		s, err := loadState(r, unit)
		if err != nil {
			return err
		}
		if s == nil {
			return fmt.Errorf("unit %s: %w", unit, ErrNotFound)
		}
		units := []string{unit}
		if f.Lineage {
			units = append(lineage(r, s, map[string]bool{unit: true}), unit)
		}
		for _, u := range units {
			us, err := loadState(r, u)
			if err != nil || us == nil {
				continue
			}
			hist, err := readHistoryWith(r, nil, u, f.After, f.Before, n, newest)
			if err != nil {
				return err
			}
			for _, ev := range hist {
				d := ev.BusinessDate()
				if f.From != "" && d < f.From || f.To != "" && d > f.To || f.Type != "" && ev.Type != f.Type {
					continue
				}
				by := us.Retracted[ev.ID]
				h.Events = append(h.Events, Entry{
					Seq: ev.Seq, ID: ev.ID, Type: ev.Type, Unit: ev.Unit, OccurredAt: ev.OccurredAt,
					RecordedAt: ev.RecordedAt, Actor: ev.Actor, Document: ev.Document, Data: ev.Data,
					Version: ev.Version, PrevHash: ev.PrevHash, Hash: ev.Hash,
					Retracted: by != "", RetractedBy: by,
				})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.AsOfSeq = seq
	if f.Limit > 0 && len(h.Events) > f.Limit {
		h.More = true
		if f.Before > 0 && f.After == 0 {
			h.Events = h.Events[len(h.Events)-f.Limit:]
		} else {
			h.Events = h.Events[:f.Limit]
		}
	}
	return h, nil
}

// lineage lists the predecessors of a unit, oldest generation first.
func lineage(r pebble.Reader, s *State, seen map[string]bool) []string {
	var out []string
	for _, from := range s.FormedFrom {
		if seen[from] {
			continue
		}
		seen[from] = true
		fs, err := loadState(r, from)
		if err != nil || fs == nil {
			continue
		}
		out = append(out, lineage(r, fs, seen)...)
		out = append(out, from)
	}
	return out
}
