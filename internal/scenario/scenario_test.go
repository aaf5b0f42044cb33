package scenario

import (
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/ntmledger/ntmledger/events"
)

func TestEventsAreValidDeterministicAndUnique(t *testing.T) {
	a := Events(Config{Communes: 150, Years: 3, WithNoise: true})
	b := Events(Config{Communes: 150, Years: 3, WithNoise: true})
	if len(a) != len(b) || len(a) < 150*19*3 {
		t.Fatalf("lengths %d and %d", len(a), len(b))
	}
	seen := map[string]bool{}
	for i := range a {
		if a[i].ID != b[i].ID || string(a[i].Data) != string(b[i].Data) {
			t.Fatalf("event %d differs between runs", i)
		}
		if _, err := ulid.ParseStrict(a[i].ID); err != nil {
			t.Fatalf("event %d id %q: %v", i, a[i].ID, err)
		}
		if seen[a[i].ID] {
			t.Fatalf("id %s twice", a[i].ID)
		}
		seen[a[i].ID] = true
		if _, err := events.Validate(a[i]); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
}
