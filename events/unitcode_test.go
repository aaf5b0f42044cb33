package events_test

import (
	"testing"

	"github.com/ntmledger/ntmledger/events"
)

func TestUnitKindOfReorganizedCodes(t *testing.T) {
	cases := []struct{ code, kind string }{
		{"35", "province"}, {"37@2025", "province"},
		{"347", "district"}, {"347@2025", "district"},
		{"13306", "commune"}, {"00004@2025", "commune"},
		{"13306-2", "village"}, {"00004@2025-12", "village"},
		{"VN", "country"},
		{"00004@25", ""}, {"00004@", ""}, {"00004@2025@2026", ""}, {"00004-2@2025", ""},
		{"00004.2025", ""}, {"00004@2025 ", ""}, {"0004@2025", ""},
	}
	for _, tc := range cases {
		if got := events.UnitKind(tc.code); got != tc.kind {
			t.Errorf("UnitKind(%q) = %q, want %q", tc.code, got, tc.kind)
		}
	}
}
