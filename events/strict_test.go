package events

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzStrictDecoders: the fast strict decoder accepts nothing encoding/json
// rejects and reads the same values; the strict decoder accepts only valid
// JSON objects
// without unknown fields or trailing data, never panics, and what it
// accepts survives a round trip: its encoding decodes to a value with the
// same encoding — for the envelope and for every type's data.
func FuzzStrictDecoders(f *testing.F) {
	f.Add([]byte(`{"type":"criterion.assessed","unit":"13306","occurred_at":"2024-10-01","actor":{"id":"u1","role":"district"},"data":{"tier":"ntm","criterion":"17.1","status":"met","stage":"district","value":92.5}}`))
	f.Add([]byte(`{"type":"x","type":"y"}`))
	f.Add([]byte(`{"unit":"\xff"} `))
	f.Add([]byte(`{"actor":{"id":"a","role":"system","extra":1}}`))
	f.Add([]byte(`{"expected_version":-1}`))
	f.Add([]byte(`{"expected_version":1e3}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`{"name":"Xã Đinh Xá","kind":"commune","parent":"347"}`))
	roundTrip := func(t *testing.T, b []byte, v any, fresh func() any) {
		t.Helper()
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON: %q", b)
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("re-encode %q: %v", b, err)
		}
		again := fresh()
		if err := strictUnmarshal(enc, again); err != nil {
			t.Fatalf("decoding its own encoding %s (from %q): %v", enc, b, err)
		}
		enc2, err := json.Marshal(again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip of %q changed the value:\n%s\n%s (%v)", b, enc, enc2, err)
		}
	}
	// The fast decoder accepts nothing encoding/json rejects, and reads
	// the same values.
	agree := func(t *testing.T, b []byte, fresh func() any) {
		t.Helper()
		fast, std := fresh(), fresh()
		if fastStrict(b, fast) != nil {
			return
		}
		if err := stdStrict(b, std); err != nil {
			t.Fatalf("fast decoder accepts what encoding/json rejects (%v): %q", err, b)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("decoders disagree on %q:\nfast %+v\nstd  %+v", b, fast, std)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		agree(t, b, func() any { return new(Input) })
		var in Input
		if strictUnmarshal(b, &in) == nil {
			roundTrip(t, b, &in, func() any { return new(Input) })
		}
		for _, sp := range specs {
			agree(t, b, sp.data)
			if v := sp.data(); strictUnmarshal(b, v) == nil {
				roundTrip(t, b, v, sp.data)
			}
		}
	})
}
