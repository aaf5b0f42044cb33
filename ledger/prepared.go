package ledger

import (
	"bytes"
	"context"
	"fmt"

	"github.com/oklog/ulid/v2"

	"github.com/ntmledger/ntmledger/events"
)

// Prepared is one event checked on its own, as AppendAsync checks each
// event of a request before it takes the ledger's lock: validated
// (events.Validate, which puts its data in canonical form) and
// fingerprinted (events.ContentHash). PrepareEvent makes one in any
// goroutine, so that a bulk import validates its next rows while the
// ledger checks, and the stream stores, the rows before them;
// AppendPreparedAsync appends them, checking them against the units' state
// as AppendAsync does. A Prepared holds its own copy of the input:
// changing the Input it was made from afterwards changes nothing.
type Prepared struct {
	in      events.Input
	data    any
	content string
}

// PrepareEvent validates in and computes its content hash. Errors are
// *events.FieldError, with Index 0.
func PrepareEvent(in *events.Input) (*Prepared, error) {
	p := &Prepared{in: *in}
	if in.Actor != nil {
		a := *in.Actor
		p.in.Actor = &a
	}
	if in.Document != nil {
		d := *in.Document
		p.in.Document = &d
	}
	if in.ExpectedVersion != nil {
		v := *in.ExpectedVersion
		p.in.ExpectedVersion = &v
	}
	p.in.Data = bytes.Clone(in.Data)
	var err error
	if p.data, err = events.Validate(&p.in); err != nil {
		return nil, err
	}
	if p.content, err = events.ContentHash(p.in.Type, p.in.Unit, p.in.OccurredAt, p.in.Actor, p.in.Document, p.in.Data); err != nil {
		return nil, &events.FieldError{Field: "data", Reason: err.Error()}
	}
	return p, nil
}

// ID is the event's id; "" when it has none yet (the ledger gives it one
// when it is appended, unless WithID does first).
func (p *Prepared) ID() string { return p.in.ID }

// OccurredAt is the event's business date.
func (p *Prepared) OccurredAt() string { return p.in.OccurredAt }

// Content is the event's content hash (events.ContentHash of its
// canonical form): what tells a retry from a conflict.
func (p *Prepared) Content() string { return p.content }

// WithID returns the event with the id id, which must be a ULID; the event
// must have none (say, an id derived from its content).
func (p *Prepared) WithID(id string) (*Prepared, error) {
	if p.in.ID != "" {
		return nil, &events.FieldError{Field: "id", Reason: fmt.Sprintf("the event has the id %s already", p.in.ID)}
	}
	if _, err := ulid.ParseStrict(id); err != nil {
		return nil, &events.FieldError{Field: "id", Reason: fmt.Sprintf("%q is not a ULID", id)}
	}
	c := *p
	c.in.ID = id
	return &c, nil
}

// AppendPreparedAsync is AppendAsync for events prepared by PrepareEvent.
func (l *Ledger) AppendPreparedAsync(ctx context.Context, ps []*Prepared) (*Pending, error) {
	req, err := prepared(ps)
	if err != nil {
		return nil, err
	}
	return l.appendAsync(ctx, req)
}

// prepared is prepare for events prepared already.
func prepared(ps []*Prepared) (*request, error) {
	if err := checkSize(len(ps)); err != nil {
		return nil, err
	}
	r := &request{ins: make([]*events.Input, len(ps)), datas: make([]any, len(ps)), ids: make([]string, len(ps)), contents: make([]string, len(ps))}
	seen := make(map[string]int, len(ps))
	for i, p := range ps {
		r.ins[i], r.datas[i], r.contents[i] = &p.in, p.data, p.content
		if err := r.setID(i, seen); err != nil {
			return nil, err
		}
	}
	return r, nil
}
