package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ntmledger/ntmledger/events"
)

// RevocationEntry is one row of the revocation timeline: a revocation
// decision, the recognition it ended and how long that was held.
type RevocationEntry struct {
	Unit      string           `json:"unit"`
	Name      string           `json:"name"`
	Kind      string           `json:"kind"`
	Parent    string           `json:"parent,omitempty"`
	Province  string           `json:"province"`
	Tier      string           `json:"tier"`       // the tier the decision revoked
	RevokedOn string           `json:"revoked_on"` // business date (occurred_at)
	Decision  *events.Document `json:"decision,omitempty"`
	Reason    string           `json:"reason"`
	Basis     string           `json:"basis,omitempty"`
	Event     string           `json:"event"` // id of the recognition.revoked event
	// Ended is the recognition of Tier the decision ended; AlsoEnded the
	// higher tiers that ended with it (revoking ntm ends advanced and model).
	Ended     *Ended  `json:"ended,omitempty"`
	AlsoEnded []Ended `json:"also_ended,omitempty"`
}

// Ended is a recognition a revocation ended.
type Ended struct {
	Tier      string           `json:"tier"`
	Decision  *events.Document `json:"decision,omitempty"`
	GrantedOn string           `json:"granted_on"`
	HeldDays  int              `json:"held_days"`
	Held      string           `json:"held"` // e.g. "3y 2m 5d"
}

// heldFor is the time between two business dates in days and as years,
// months and days.
func heldFor(from, to string) (int, string) {
	a, err1 := time.Parse(time.DateOnly, from)
	b, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil || b.Before(a) {
		return 0, ""
	}
	days := int(b.Sub(a).Hours() / 24)
	y, m, d := b.Year()-a.Year(), int(b.Month())-int(a.Month()), b.Day()-a.Day()
	if d < 0 {
		m--
		d += time.Date(b.Year(), b.Month(), 0, 0, 0, 0, 0, time.UTC).Day() // days in the month before b
	}
	if m < 0 {
		y--
		m += 12
	}
	return days, fmt.Sprintf("%dy %dm %dd", y, m, d)
}

// revocationRows derives a unit's timeline rows from its folded state: one
// per revocation decision that ended something. Retracted revocations and
// grants are already out of the fold.
func revocationRows(s *State) []RevocationEntry {
	var rows []RevocationEntry
	byEvent := map[string]int{}
	for _, r := range s.Recognitions {
		if r.RevokedBy == nil {
			continue
		}
		i, ok := byEvent[r.RevokedBy.Event]
		if !ok {
			rb := r.RevokedBy
			rows = append(rows, RevocationEntry{
				Unit: s.Unit, Name: s.Name, Kind: s.Kind, Parent: s.Parent, Province: s.Province,
				Tier: rb.Tier, RevokedOn: r.Revoked, Decision: rb.Decision, Reason: rb.Reason, Basis: rb.Basis, Event: rb.Event,
			})
			i = len(rows) - 1
			byEvent[rb.Event] = i
		}
		days, held := heldFor(r.Granted, r.Revoked)
		e := Ended{Tier: r.Tier, Decision: r.Decision, GrantedOn: r.Granted, HeldDays: days, Held: held}
		if r.Tier == rows[i].Tier && rows[i].Ended == nil {
			rows[i].Ended = &e
		} else {
			rows[i].AlsoEnded = append(rows[i].AlsoEnded, e)
		}
	}
	return rows
}

// writeRevocations replaces a unit's timeline rows with those of its state
// and reports whether they changed.
func writeRevocations(db pebble.Reader, b *pebble.Batch, s *State) (bool, error) {
	var oldKeys []string
	v, closer, err := db.Get(revUnitKey(s.Unit))
	switch {
	case err == nil:
		err = json.Unmarshal(v, &oldKeys)
		closer.Close()
		if err != nil {
			return false, fmt.Errorf("decode revocation keys of %s: %w", s.Unit, err)
		}
	case !errors.Is(err, pebble.ErrNotFound):
		return false, fmt.Errorf("read revocation keys of %s: %w", s.Unit, err)
	}
	rows := revocationRows(s)
	newKeys := make([]string, 0, len(rows))
	for _, row := range rows {
		k := revocationKey(row.RevokedOn, row.Unit, row.Event)
		val, err := json.Marshal(row)
		if err != nil {
			return false, err
		}
		if err := b.Set(k, val, nil); err != nil {
			return false, err
		}
		newKeys = append(newKeys, string(k))
	}
	for _, k := range oldKeys {
		if !slices.Contains(newKeys, k) {
			if err := b.Delete([]byte(k), nil); err != nil {
				return false, err
			}
		}
	}
	if len(newKeys) == 0 {
		return len(oldKeys) > 0, b.Delete(revUnitKey(s.Unit), nil)
	}
	val, _ := json.Marshal(newKeys)
	return true, b.Set(revUnitKey(s.Unit), val, nil)
}

// RevocationFilter selects timeline rows. Dates are business dates,
// inclusive.
type RevocationFilter struct {
	Province string
	Unit     string
	From, To string
	Reason   string
	// Limit bounds the page (default 100, at most 1000); After is the
	// Next of the previous page.
	Limit int
	After string
}

// RevocationList is a page of the timeline, newest first.
type RevocationList struct {
	Revocations []RevocationEntry `json:"revocations"`
	Next        string            `json:"next,omitempty"`
	AsOfSeq     uint64            `json:"as_of_seq"`
}

// Revocations returns the revocation timeline, newest first (by the
// revocation's business date, then unit and event, descending), a page at
// a time. Names are the units' current names.
func (v *Views) Revocations(_ context.Context, f RevocationFilter) (*RevocationList, error) {
	limit := pageLimit(f.Limit)
	out := &RevocationList{Revocations: []RevocationEntry{}}
	seq, err := v.snapshot(func(r pebble.Reader) error {
		return eachRevocation(r, f, func(cursor string, e *RevocationEntry) (bool, error) {
			if len(out.Revocations) == limit {
				out.Next = cursor
				return false, nil
			}
			out.Revocations = append(out.Revocations, *e)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	// Next is the cursor of the last row returned, not of the one peeked.
	if out.Next != "" {
		last := out.Revocations[len(out.Revocations)-1]
		out.Next = string(revocationKey(last.RevokedOn, last.Unit, last.Event)[len(revocationPrefix):])
	}
	out.AsOfSeq = seq
	return out, nil
}

// EachRevocation calls fn with every timeline row the filter selects (no
// paging), newest first, and returns the sequence the views hold.
func (v *Views) EachRevocation(_ context.Context, f RevocationFilter, fn func(*RevocationEntry) error) (uint64, error) {
	f.Limit, f.After = 0, ""
	return v.snapshot(func(r pebble.Reader) error {
		return eachRevocation(r, f, func(_ string, e *RevocationEntry) (bool, error) { return true, fn(e) })
	})
}

func eachRevocation(r pebble.Reader, f RevocationFilter, fn func(cursor string, e *RevocationEntry) (bool, error)) error {
	lower, upper := revocationPrefix, prefixEnd(revocationPrefix)
	if f.From != "" {
		lower = key(revocationPrefix, f.From)
	}
	if f.To != "" {
		upper = prefixEnd(key(revocationPrefix, f.To, ""))
	}
	if f.After != "" {
		if c := key(revocationPrefix, f.After); bytes.Compare(c, upper) < 0 {
			upper = c
		}
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	names := map[string]string{}
	for ok := it.Last(); ok; ok = it.Prev() {
		var e RevocationEntry
		if err := unmarshalView(it.Value(), &e); err != nil {
			return fmt.Errorf("decode revocation %s: %w", it.Key(), err)
		}
		if f.Province != "" && e.Province != f.Province || f.Unit != "" && e.Unit != f.Unit || f.Reason != "" && e.Reason != f.Reason {
			continue
		}
		name, ok := names[e.Unit]
		if !ok {
			if n, err := loadName(r, e.Unit); err == nil && n != "" {
				name = n
			} else {
				name = e.Name
			}
			names[e.Unit] = name
		}
		e.Name = name
		more, err := fn(string(it.Key()[len(revocationPrefix):]), &e)
		if err != nil || !more {
			return err
		}
	}
	return it.Error()
}
