package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/projector"
)

// The write-side index is a projection of the stream, never a second write:
// the ledger reads it to check requests and waits for it to catch up after
// each append. Keys:
//
//	i/<event id>  → idEntry   (idempotency forever, retraction targets)
//	u/<unit>      → unitState (registration, version, chain head, recognitions)
//	q/<unit>      → quarantinedSubjects (messages the projector refused)
//
// A message published onto a unit's subject by someone bypassing the ledger
// (forged, altered, without a hash) is quarantined by the projector runtime
// and never reaches applyToUnit: the unit's version and chain head stay at
// its last good event, and the ledger keeps appending from there — the next
// event links to the last good hash. The server still counts the refused
// message in the subject's sequence, so loadUnit raises LastSeq (what
// Nats-Expected-Last-Subject-Sequence is checked against) past it.
var (
	idPrefix         = []byte("i/")
	unitPrefix       = []byte("u/")
	quarantinePrefix = []byte("q/")
)

// quarantinedSubjects holds, per subject, the last stream sequence of a
// quarantined message on it.
type quarantinedSubjects struct {
	Subjects map[string]uint64 `json:"subjects"`
}

type idEntry struct {
	Seq       uint64      `json:"seq"`
	Unit      string      `json:"unit"`
	Version   uint64      `json:"version"`
	Type      events.Type `json:"type"`
	Content   string      `json:"content"` // events.ContentHash
	Retracted bool        `json:"retracted,omitempty"`
}

// recognition is one grant, possibly ended by a revocation.
type recognition struct {
	Tier     string `json:"tier"`
	Rank     int    `json:"rank"`
	Granted  string `json:"granted"` // business date
	Decision string `json:"decision"`
	GrantID  string `json:"grant_id"`
	Revoked  string `json:"revoked,omitempty"` // business date
	RevokeID string `json:"revoke_id,omitempty"`
}

func (r *recognition) heldOn(date string) bool {
	return r.Granted <= date && (r.Revoked == "" || date < r.Revoked)
}

// unitState is what the ledger knows of a unit when checking a request.
type unitState struct {
	Code       string        `json:"code"`
	Kind       string        `json:"kind"`
	Subkind    string        `json:"subkind,omitempty"`
	Parent     string        `json:"parent,omitempty"`
	Province   string        `json:"province"`
	Registered bool          `json:"registered"`
	Version    uint64        `json:"version"`  // number of events on the unit
	LastSeq    uint64        `json:"last_seq"` // stream sequence of the last message on the unit's subject
	LastHash   string        `json:"last_hash"`
	Recs       []recognition `json:"recs,omitempty"`
}

// held returns the recognitions of tier held on date.
func (u *unitState) held(tier, date string) *recognition {
	for i := range u.Recs {
		if u.Recs[i].Tier == tier && u.Recs[i].heldOn(date) {
			return &u.Recs[i]
		}
	}
	return nil
}

// indexApplier maintains the write-side index, and the filter of the ids
// it holds.
type indexApplier struct {
	rules Rulebook
	ids   *idFilter
}

func (a indexApplier) Apply(_ context.Context, db *pebble.DB, b *pebble.Batch, evs []*events.Event) ([]projector.Change, error) {
	units := map[string]*unitState{}
	ids := map[string]*idEntry{}
	getUnit := func(code string) (*unitState, error) {
		if u, ok := units[code]; ok {
			return u, nil
		}
		u, err := loadUnit(db, code)
		if err != nil {
			return nil, err
		}
		if u == nil {
			u = &unitState{Code: code, Kind: events.UnitKind(code)}
		}
		units[code] = u
		return u, nil
	}
	getID := func(id string) (*idEntry, error) {
		if e, ok := ids[id]; ok {
			return e, nil
		}
		e, err := loadID(db, id)
		if err != nil || e == nil {
			return e, err
		}
		ids[id] = e
		return e, nil
	}
	for _, ev := range evs {
		u, err := getUnit(ev.Unit)
		if err != nil {
			return nil, err
		}
		if err := applyToUnit(a.rules, u, ev, nil, getUnit, getID); err != nil {
			return nil, fmt.Errorf("index: event %s (seq %d): %w", ev.ID, ev.Seq, err)
		}
		ch, err := events.ContentHashOf(ev)
		if err != nil {
			return nil, fmt.Errorf("index: event %s: %w", ev.ID, err)
		}
		ids[ev.ID] = &idEntry{Seq: ev.Seq, Unit: ev.Unit, Version: ev.Version, Type: ev.Type, Content: ch}
		// Before the batch commits: whoever can find the id in the index
		// finds it in the filter.
		a.ids.add(ev.ID)
	}
	for code, u := range units {
		v, _ := json.Marshal(u)
		if err := b.Set(append(unitPrefix[:len(unitPrefix):len(unitPrefix)], code...), v, nil); err != nil {
			return nil, err
		}
	}
	for id, e := range ids {
		v, _ := json.Marshal(e)
		if err := b.Set(append(idPrefix[:len(idPrefix):len(idPrefix)], id...), v, nil); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// applyToUnit folds one event into a unit's write-side state. The same
// function checks requests (on a copy) and maintains the index, so what was
// accepted is exactly what the index then holds.
//
// data is ev's decoded data when the caller has it already, or nil.
func applyToUnit(rb Rulebook, u *unitState, ev *events.Event, data any, getUnit func(string) (*unitState, error), getID func(string) (*idEntry, error)) error {
	u.Version++
	u.LastSeq = ev.Seq
	u.LastHash = ev.Hash
	if data == nil {
		var err error
		if data, err = ev.ParsedData(); err != nil {
			return err
		}
	}
	date := ev.BusinessDate()
	switch d := data.(type) {
	case *events.Registration:
		u.Registered = true
		u.Kind, u.Subkind, u.Parent = d.Kind, d.Subkind, d.Parent
		u.Province = ev.Unit
		if d.Kind != "province" {
			p, err := getUnit(d.Parent)
			if err != nil {
				return err
			}
			u.Province = p.Province
		}
	case *events.Grant:
		num := ""
		if ev.Document != nil {
			num = ev.Document.Number
		}
		rank := 0
		if t, err := rb.Tier(u.Kind, d.Tier, d.Rulebook, date); err == nil {
			rank = t.Rank
		}
		u.Recs = append(u.Recs, recognition{Tier: d.Tier, Rank: rank, Granted: date, Decision: num, GrantID: ev.ID})
	case *events.Revocation:
		// Revoking a tier ends it and every higher tier held on that date.
		if r := u.held(d.Tier, date); r != nil {
			for i := range u.Recs {
				h := &u.Recs[i]
				if h.heldOn(date) && (h == r || h.Rank > r.Rank) {
					h.Revoked, h.RevokeID = date, ev.ID
				}
			}
		}
	case *events.Retraction:
		t, err := getID(d.Target)
		if err != nil {
			return err
		}
		if t != nil {
			t.Retracted = true
		}
		for i := range u.Recs {
			r := &u.Recs[i]
			if r.GrantID == d.Target {
				u.Recs = append(u.Recs[:i], u.Recs[i+1:]...)
				break
			}
		}
		for i := range u.Recs {
			r := &u.Recs[i]
			if r.RevokeID == d.Target {
				r.Revoked, r.RevokeID = "", ""
			}
		}
	}
	return nil
}

// ApplyQuarantined records the subjects of messages the projector refused
// (projector.QuarantineApplier).
func (a indexApplier) ApplyQuarantined(_ context.Context, db *pebble.DB, b *pebble.Batch, qs []projector.Quarantine) error {
	byUnit := map[string]*quarantinedSubjects{}
	var order []string
	for _, q := range qs {
		r, ok := byUnit[q.Unit]
		if !ok {
			var err error
			if r, err = loadQuarantined(db, q.Unit); err != nil {
				return err
			}
			if r == nil {
				r = &quarantinedSubjects{Subjects: map[string]uint64{}}
			}
			byUnit[q.Unit] = r
			order = append(order, q.Unit)
		}
		r.Subjects[q.Subject] = max(r.Subjects[q.Subject], q.Seq)
	}
	for _, unit := range order {
		v, _ := json.Marshal(byUnit[unit])
		if err := b.Set(append(quarantinePrefix[:len(quarantinePrefix):len(quarantinePrefix)], unit...), v, nil); err != nil {
			return err
		}
	}
	return nil
}

func loadQuarantined(db pebble.Reader, code string) (*quarantinedSubjects, error) {
	v, closer, err := db.Get(append(quarantinePrefix[:len(quarantinePrefix):len(quarantinePrefix)], code...))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("index: read quarantine of %s: %w", code, err)
	}
	defer closer.Close()
	var r quarantinedSubjects
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("index: decode quarantine of %s: %w", code, err)
	}
	return &r, nil
}

// loadUnit reads a unit's write-side state. When messages on its subject
// were quarantined, LastSeq is raised past them: the server's expected
// last-subject-sequence check counts every stored message. For a unit not
// yet registered the subject it will be written on is not known here; the
// last quarantined sequence on any of its subjects is taken.
func loadUnit(db *pebble.DB, code string) (*unitState, error) {
	u, err := loadUnitState(db, code)
	if err != nil {
		return nil, err
	}
	q, err := loadQuarantined(db, code)
	if err != nil || q == nil {
		return u, err
	}
	if u == nil {
		u = &unitState{Code: code, Kind: events.UnitKind(code)}
		if u.Kind == "country" {
			u.Registered, u.Province = true, events.Country
		}
	}
	if u.Registered {
		u.LastSeq = max(u.LastSeq, q.Subjects[Subject(u.Province, code)])
	} else {
		for _, seq := range q.Subjects {
			u.LastSeq = max(u.LastSeq, seq)
		}
	}
	return u, nil
}

func loadUnitState(db *pebble.DB, code string) (*unitState, error) {
	v, closer, err := db.Get(append(unitPrefix[:len(unitPrefix):len(unitPrefix)], code...))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("index: read unit %s: %w", code, err)
	}
	defer closer.Close()
	var u unitState
	if err := json.Unmarshal(v, &u); err != nil {
		return nil, fmt.Errorf("index: decode unit %s: %w", code, err)
	}
	return &u, nil
}

func loadID(db *pebble.DB, id string) (*idEntry, error) {
	v, closer, err := db.Get(append(idPrefix[:len(idPrefix):len(idPrefix)], id...))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("index: read id %s: %w", id, err)
	}
	defer closer.Close()
	var e idEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, fmt.Errorf("index: decode id %s: %w", id, err)
	}
	return &e, nil
}
