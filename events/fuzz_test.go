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
			// Read from its stored bytes, it hashes as sealed.
			d.Raw = body
			d.Precompute()
			if err := events.Link(d, 0, ""); err != nil {
				t.Fatalf("chain check of a sealed body read from its bytes: %v\n%s", err, body)
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

const storedBody = `{"id":"014QKJWY00K0JT63D5GC5Q0SHP","type":"criterion.assessed","unit":"13306","occurred_at":"2024-10-01","recorded_at":"2026-01-01T00:00:00.000000000Z","actor":{"id":"pnn-347","role":"district","name":"Phòng Nông nghiệp thành phố Phủ Lý"},"data":{"criterion":"17.1","stage":"district","status":"met","tier":"ntm","value":92.5},"version":12,"prev_hash":"7f0c0d7d2f1b8c1e7a0d5b3b1c6f4e2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a","hash":"8f0c0d7d2f1b8c1e7a0d5b3b1c6f4e2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a"}`

// FuzzDecode: whatever stored body Decode accepts, encoding/json accepts
// too and reads the same event — the fast decoder of stored bodies never
// sees something else than the standard one would.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(storedBody))
	f.Add([]byte(`{"id":"a","type":"t","unit":"u","ID":"b"}`))
	f.Add([]byte(`{"id":"a","type":"t","unit":"u","id":"b"}`))
	f.Add([]byte(`{"id":"a","type":"t","unit":"\xff"}`))
	f.Add([]byte(`{"id":"a","type":"t","unit":"u","data":{"x":[1,2,{"y":null}]},"version":1e2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := events.Decode(b)
		if err != nil {
			return
		}
		var std events.Event
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatalf("Decode accepts what encoding/json rejects (%v): %q", err, b)
		}
		got, _ := json.Marshal(ev)
		want, _ := json.Marshal(&std)
		if string(got) != string(want) {
			t.Fatalf("decoders disagree on %q:\nDecode        %s\nencoding/json %s", b, got, want)
		}
	})
}

// BenchmarkDecode decodes a typical stored body: as sealed (the fast path,
// hash checked on the way), and one whose hash does not match (the general
// decoder, as for any body not laid out as Seal writes it).
//
//	go test ./events -run '^$' -bench Decode -benchmem
func BenchmarkDecode(b *testing.B) {
	general := []byte(storedBody)
	ev, err := events.Decode(general)
	if err != nil {
		b.Fatal(err)
	}
	ev.Hash = ""
	sealed, err := events.Seal(ev)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		body []byte
	}{{"sealed", sealed}, {"general", general}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ev, err := events.Decode(c.body)
				if err != nil {
					b.Fatal(err)
				}
				ev.Precompute()
			}
		})
	}
}

// BenchmarkValidate validates a typical request event whose data is
// canonical already (as exports write it), one whose keys are out of order
// and spaced (as most clients write it), which is reordered, and one that
// also holds escapes, which is decoded and written again.
//
//	go test ./events -run '^$' -bench Validate -benchmem
func BenchmarkValidate(b *testing.B) {
	for _, c := range []struct{ name, data string }{
		{"canonical", `{"criterion":"17.1","stage":"district","status":"basically_met","tier":"ntm","value":92.5}`},
		{"reordered", `{"tier": "ntm", "criterion": "17.1", "status": "basically_met", "stage": "district", "value": 92.5}`},
		{"rewritten", `{"tier": "ntm", "criterion": "17.1", "status": "basically_met", "stage": "district", "value": 92.5, "note": "\u0110\u1ea1t"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				in := &events.Input{Type: events.CriterionAssessed, Unit: "13306", OccurredAt: "2024-10-01",
					Actor: &events.Actor{ID: "u1", Role: "district"}, Data: json.RawMessage(c.data)}
				if _, err := events.Validate(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
