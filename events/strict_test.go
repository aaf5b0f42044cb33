package events

import (
	"reflect"
	"testing"
)

// FuzzStrictDecoders: the fast strict decoder never accepts what
// encoding/json rejects, and when both accept they decode the same values.
func FuzzStrictDecoders(f *testing.F) {
	f.Add([]byte(`{"type":"criterion.assessed","unit":"13306","occurred_at":"2024-10-01","actor":{"id":"u1","role":"district"},"data":{"tier":"ntm","criterion":"17.1","status":"met","stage":"district","value":92.5}}`))
	f.Add([]byte(`{"type":"x","type":"y"}`))
	f.Add([]byte(`{"unit":"\xff"} `))
	f.Add([]byte(`{"actor":{"id":"a","role":"system","extra":1}}`))
	f.Add([]byte(`{"expected_version":-1}`))
	f.Add([]byte(`{"expected_version":1e3}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, std Input
		ferr := fastStrict(b, &fast)
		serr := stdStrict(b, &std)
		if ferr == nil && serr != nil {
			t.Fatalf("fast decoder accepts what encoding/json rejects (%v): %q", serr, b)
		}
		if ferr == nil && !reflect.DeepEqual(fast, std) {
			t.Fatalf("decoders disagree on %q:\nfast %+v\nstd  %+v", b, fast, std)
		}
		for _, sp := range specs {
			fv, sv := sp.data(), sp.data()
			if fastStrict(b, fv) == nil {
				if err := stdStrict(b, sv); err != nil {
					t.Fatalf("fast decoder accepts data encoding/json rejects (%v): %q", err, b)
				}
				if !reflect.DeepEqual(fv, sv) {
					t.Fatalf("data decoders disagree on %q: %+v vs %+v", b, fv, sv)
				}
			}
		}
	})
}
