package units_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/units"
)

// The embedded files are byte-identical to ../shared/data (sha256 from its
// README).
func TestEmbeddedFilesAreTheReferenceData(t *testing.T) {
	for name, want := range map[string]string{
		"units-2024.csv":  "b3c7deabc5cbad7f76c0450e7514d8da6e01872dadab58ce98093f5a70664615",
		"reform-2025.csv": "33c7cfcdc8eb079760fedafdedd695581f5a9b4a5ddb41fd814be95c145f10bb",
	} {
		b, err := units.RawCSV(name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, want %s", name, got, want)
		}
	}
}

func TestCounts(t *testing.T) {
	d, err := units.Load()
	if err != nil {
		t.Fatal(err)
	}
	h, r := d.Hierarchy, d.Reform
	counts := func(f func(yield func(string) bool)) map[string]int {
		m := map[string]int{}
		f(func(s string) bool { m[s]++; return true })
		return m
	}
	cases := []struct {
		name      string
		got, want int
	}{
		{"provinces", len(h.Provinces), 63},
		{"districts (with the 5 island districts)", len(h.Districts), 696},
		{"communes", len(h.Communes), 10035},
		{"xã", counts(func(y func(string) bool) {
			for _, c := range h.Communes {
				y(c.Subkind)
			}
		})["xa"], 7692},
		{"new provinces", len(r.Provinces), 34},
		{"new communes", len(r.Communes), 3321},
		{"đặc khu", counts(func(y func(string) bool) {
			for _, c := range r.Communes {
				y(c.Subkind)
			}
		})["dac_khu"], 13},
		{"Hà Nam communes", len(h.CommunesOf("35")), 98},
		{"Lào Cai xã", func() int {
			n := 0
			for _, c := range h.CommunesOf("10") {
				if c.Rural() {
					n++
				}
			}
			return n
		}(), 126},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestReformLineage(t *testing.T) {
	d := units.MustLoad()
	h, r := d.Hierarchy, d.Reform
	// Every old unit went somewhere; every new unit came from somewhere; the
	// codes are valid ledger codes of the right kind.
	for _, c := range h.Communes {
		if len(r.Into(c.Code)) == 0 {
			t.Fatalf("%s went nowhere", c.Code)
		}
	}
	for _, p := range r.Provinces {
		if events.UnitKind(p.Code) != "province" || len(p.From) == 0 {
			t.Fatalf("bad new province %+v", p)
		}
	}
	pieces := 0
	for _, c := range r.Communes {
		if events.UnitKind(c.Code) != "commune" || len(c.From) == 0 {
			t.Fatalf("bad new commune %+v", c)
		}
		pieces += len(c.From)
	}
	if pieces != 10572 {
		t.Errorf("%d old→new pairs, want 10572", pieces)
	}
	// Hà Nam went into the new Ninh Bình with Nam Định and Ninh Bình.
	for _, p := range r.Provinces {
		if p.Code == "37@2025" {
			if got := p.From; len(got) != 3 || got[0] != "35" || got[1] != "36" || got[2] != "37" {
				t.Errorf("new Ninh Bình from %v, want [35 36 37]", got)
			}
		}
	}
	if got := r.Into("318"); len(got) != 1 || got[0] != "11948@2025" {
		t.Errorf("Bạch Long Vĩ went into %v, want [11948@2025]", got)
	}
	c, err := h.FindCommune("088", "Tả Van")
	if err != nil || c.Code != "03040" {
		t.Errorf("FindCommune(088, Tả Van) = %v, %v", c, err)
	}
	if _, err := h.FindCommune("10", "Thanh Bình"); err == nil {
		t.Error("FindCommune(10, Thanh Bình) found one of two")
	}
}

func TestLedgerCodes(t *testing.T) {
	if got := units.LedgerCode("00004"); got != "00004@2025" {
		t.Fatal(got)
	}
	if got := units.GSOCode("00004@2025"); got != "00004" {
		t.Fatal(got)
	}
}

func BenchmarkLoadParse(b *testing.B) {
	for b.Loop() {
		if _, err := units.RawCSV("reform-2025.csv"); err != nil {
			b.Fatal(err)
		}
	}
}
