package events_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/ntmledger/ntmledger/events"
)

// FuzzDecodeRequest: any body either decodes and validates to events whose
// canonical encoding round-trips, or fails with a FieldError — never a panic
// or another kind of error.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("[" + good + "]"))
	f.Add([]byte(good + "\n" + good))
	f.Add([]byte(`{"type":"unit.registered","unit":"35","occurred_at":"2020-01-01","actor":{"id":"a","role":"system"},"data":{"name":"Tỉnh","kind":"province"}}`))
	f.Add([]byte(`[{"type":null}]`))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ins, err := events.DecodeRequest(body)
		if err != nil {
			var fe *events.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("decode error is %T, not a FieldError: %v", err, err)
			}
			return
		}
		for _, in := range ins {
			if _, err := events.Validate(in); err != nil {
				var fe *events.FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("validate error is %T: %v", err, err)
				}
				continue
			}
			ev := &events.Event{ID: events.NewID(), Type: in.Type, Unit: in.Unit, OccurredAt: in.OccurredAt,
				RecordedAt: "2026-01-01T00:00:00Z", Actor: *in.Actor, Document: in.Document, Data: in.Data, Version: 1}
			body, err := events.Seal(ev)
			if err != nil {
				t.Fatalf("seal a valid event: %v", err)
			}
			d, err := events.Decode(body)
			if err != nil {
				t.Fatalf("decode a sealed body: %v\n%s", err, body)
			}
			if err := events.Verify(d, ""); err != nil {
				t.Fatalf("verify a sealed body: %v\n%s", err, body)
			}
		}
	})
}

// FuzzCanonical: canonical JSON is valid JSON, and canonicalizing it again
// changes nothing.
func FuzzCanonical(f *testing.F) {
	f.Add([]byte(`{"b":1,"a":[true,null,"x\u2028"],"c":{"z":1.50,"y":"Việt"}}`))
	f.Add([]byte(`"\u0000<>&"`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := events.Canonical(raw)
		if err != nil {
			return
		}
		if len(c) > 0 && !json.Valid(c) {
			t.Fatalf("canonical form is not JSON: %q", c)
		}
		c2, err := events.Canonical(c)
		if err != nil || string(c2) != string(c) {
			t.Fatalf("not idempotent: %q → %q (%v)", c, c2, err)
		}
	})
}
