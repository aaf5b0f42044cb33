package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/ntmledger/ntmledger/internal/node"
)

// A long trail reads a page at a time: forward after a version, or back
// from the newest; the pages together are the whole trail, in order.
func TestHistoryPages(t *testing.T) {
	ts, _ := startNode(t, node.Config{})
	lines := hierarchy(t)
	for i := 1; i <= 19; i++ {
		lines = append(lines, assess(t, "13306", fmt.Sprint(i), "met"))
	}
	res := post(t, ts.URL, lines...)
	last := res[len(res)-1].Seq
	type page struct {
		Events []struct {
			Version uint64 `json:"version"`
		} `json:"events"`
		More bool `json:"more"`
	}
	get := func(q string) page {
		t.Helper()
		var p page
		if code := getJSON(t, fmt.Sprintf("%s/v1/units/13306/history?min_seq=%d&%s", ts.URL, last, q), &p); code != http.StatusOK {
			t.Fatalf("history?%s: HTTP %d", q, code)
		}
		return p
	}
	versions := func(p page) []uint64 {
		var v []uint64
		for _, e := range p.Events {
			v = append(v, e.Version)
		}
		return v
	}
	all := versions(get(""))
	if len(all) != 20 { // registration + 19 assessments
		t.Fatalf("whole trail: %d events, want 20", len(all))
	}

	// Forward.
	var fwd []uint64
	after := uint64(0)
	for {
		p := get(fmt.Sprintf("limit=7&after=%d", after))
		fwd = append(fwd, versions(p)...)
		if !p.More {
			break
		}
		after = p.Events[len(p.Events)-1].Version
	}
	// Back from the newest.
	var back []uint64
	before := uint64(1<<64 - 1)
	for {
		p := get(fmt.Sprintf("limit=7&before=%d", before))
		back = append(versions(p), back...)
		if !p.More {
			break
		}
		before = p.Events[0].Version
	}
	for name, got := range map[string][]uint64{"forward": fwd, "backward": back} {
		if fmt.Sprint(got) != fmt.Sprint(all) {
			t.Errorf("%s pages: %v, want %v", name, got, all)
		}
	}
	if p := get("limit=3&before=18446744073709551615"); fmt.Sprint(versions(p)) != "[18 19 20]" || !p.More {
		t.Errorf("newest page: %v more=%v, want [18 19 20] and more", versions(p), p.More)
	}

	// Pages that end exactly at the trail's ends, and pages of a filtered
	// trail (which read past the events they skip).
	for q, want := range map[string]string{
		"limit=20":                        "[1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20] false",
		"limit=19&after=1":                "[2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20] false",
		"limit=19&before=21":              "[2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20] true",
		"limit=2&after=18":                "[19 20] false",
		"limit=1&before=2":                "[1] false",
		"type=unit.registered&limit=5":    "[1] false",
		"type=criterion.assessed&limit=3": "[2 3 4] true",
		"type=criterion.assessed&limit=3&before=18446744073709551615":  "[18 19 20] true",
		"type=criterion.assessed&limit=19&before=18446744073709551615": "[2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20] false",
	} {
		if p := get(q); fmt.Sprint(versions(p), " ", p.More) != want {
			t.Errorf("history?%s: %v more=%v, want %s", q, versions(p), p.More, want)
		}
	}

	for _, q := range []string{"limit=0", "limit=x", "after=-1", "before=0", "after=3&lineage=true"} {
		var e struct {
			Field string `json:"field"`
		}
		code := getJSON(t, ts.URL+"/v1/units/13306/history?"+q, &e)
		if code != http.StatusBadRequest || e.Field == "" {
			t.Errorf("history?%s: HTTP %d field %q, want 400 naming the parameter", q, code, e.Field)
		}
	}
}
