package events

import (
	"encoding/json"
	"time"

	"github.com/oklog/ulid/v2"
)

// Type names an event type of the contract (§2). Names are a promise to
// users: never rename one, add new ones.
type Type string

// The v1 event types.
const (
	UnitRegistered       Type = "unit.registered"
	UnitClassified       Type = "unit.classified"
	UnitReorganized      Type = "unit.reorganized"
	RulebookPublished    Type = "rulebook.published"
	TargetSet            Type = "target.set"
	CriterionAssessed    Type = "criterion.assessed"
	SatisfactionSurveyed Type = "satisfaction.surveyed"
	RecognitionRequested Type = "recognition.requested"
	RecognitionGranted   Type = "recognition.granted"
	RecognitionRevoked   Type = "recognition.revoked"
	EntryRetracted       Type = "entry.retracted"
)

// Types lists every v1 type in contract order.
var Types = []Type{
	UnitRegistered, UnitClassified, UnitReorganized, RulebookPublished,
	TargetSet, CriterionAssessed, SatisfactionSurveyed, RecognitionRequested,
	RecognitionGranted, RecognitionRevoked, EntryRetracted,
}

// Known reports whether t is a v1 type.
func (t Type) Known() bool {
	_, ok := specs[t]
	return ok
}

// NeedsDocument reports whether events of type t must cite a legal document.
func (t Type) NeedsDocument() bool {
	s, ok := specs[t]
	return ok && s.document
}

// Actor is who records a fact.
type Actor struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	Name string `json:"name,omitempty"`
}

// Roles an actor may hold.
var Roles = []string{"commune", "district", "province", "national", "auditor", "system"}

// Document is the legal document behind a fact.
type Document struct {
	Number string `json:"number"`
	Date   string `json:"date,omitempty"`
	Issuer string `json:"issuer,omitempty"`
}

// Input is an event as a client submits it: the envelope without the fields
// the ledger stamps.
type Input struct {
	ID              string          `json:"id,omitempty"`
	Type            Type            `json:"type"`
	Unit            string          `json:"unit"`
	OccurredAt      string          `json:"occurred_at"`
	Actor           *Actor          `json:"actor"`
	Document        *Document       `json:"document,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
	ExpectedVersion *uint64         `json:"expected_version,omitempty"`
}

// Event is a stored event: the client's fact plus what the ledger stamped.
type Event struct {
	ID         string          `json:"id"`
	Type       Type            `json:"type"`
	Unit       string          `json:"unit"`
	OccurredAt string          `json:"occurred_at"`
	RecordedAt string          `json:"recorded_at"`
	Actor      Actor           `json:"actor"`
	Document   *Document       `json:"document,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Version    uint64          `json:"version"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`

	// Seq is the global stream sequence. It is not part of the stored body;
	// readers fill it from the stream's metadata.
	Seq uint64 `json:"seq,omitempty"`
	// Raw is the stored body as read from the stream, when read from it.
	Raw []byte `json:"-"`

	parsed any    // Data decoded by ParsedData, kept for the next reader
	hashed string // the content hash computed by Precompute
}

// Precompute decodes the data and hashes the content of an event read from
// the stream, ahead of the chain checks and the fold that need them: a
// projector's reader does it while the previous batch is being applied.
// Errors are left for those checks to find and report.
func (ev *Event) Precompute() {
	_, _ = ev.ParsedData()
	if ev.hashed != "" {
		return // checked by Decode (decodeSealed)
	}
	if h, err := Hash(ev); err == nil {
		ev.hashed = h
	}
}

// ParsedData is ParseData of the event's type and data, decoded once per
// Event value: a projector checks the data and then folds it. The result is
// shared; callers must not modify it.
func (ev *Event) ParsedData() (any, error) {
	if ev.parsed != nil {
		return ev.parsed, nil
	}
	d, err := ParseData(ev.Type, ev.Data)
	if err != nil {
		return nil, err
	}
	ev.parsed = d
	return d, nil
}

// BusinessDate is the event's occurred_at reduced to a calendar date
// (YYYY-MM-DD). It is the key of the business timeline.
func (e *Event) BusinessDate() string { return businessDate(e.OccurredAt) }

// RecordedTime parses recorded_at. A stored event always has a valid one.
func (e *Event) RecordedTime() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.RecordedAt)
	return t
}

// businessDate returns the YYYY-MM-DD part of a validated date or timestamp.
// RFC 3339 timestamps keep the calendar date of their own offset: a decision
// signed on the evening of the 31st in Hanoi is dated the 31st.
func businessDate(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}

// NewID returns a new ULID, the form of every event id.
func NewID() string { return ulid.Make().String() }
