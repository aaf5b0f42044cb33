package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/demo"
	"github.com/ntmledger/ntmledger/internal/httpapi"
	"github.com/ntmledger/ntmledger/internal/node"
	"github.com/ntmledger/ntmledger/internal/units"
)

// The set is well-formed without a ledger: every event validates, ids are
// unique and stable, and the counts add up.
func TestSetIsDeterministicAndValid(t *testing.T) {
	d := units.MustLoad()
	a, err := demo.Set(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := demo.Set(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("two builds differ in length: %d, %d", len(a), len(b))
	}
	ids := map[string]bool{}
	counts := map[events.Type]int{}
	for i, in := range a {
		if in.ID != b[i].ID || string(in.Data) != string(b[i].Data) {
			t.Fatalf("event %d differs between builds", i)
		}
		if ids[in.ID] {
			t.Fatalf("id %s twice", in.ID)
		}
		ids[in.ID] = true
		if _, err := events.Validate(in); err != nil {
			t.Fatalf("event %d (%s %s): %v", i, in.Type, in.Unit, err)
		}
		counts[in.Type]++
	}
	want := 63 + 696 + 10035 + 34 + 3321
	if got := counts[events.UnitRegistered]; got != want {
		t.Errorf("%d registrations, want %d", got, want)
	}
	if got := counts[events.UnitReorganized]; got != 34+3321 {
		t.Errorf("%d reorganizations, want %d", got, 34+3321)
	}
	t.Logf("demo set: %d events %v", len(a), counts)
}

type api struct {
	t    *testing.T
	base string
}

func (a api) get(path string, out any) {
	a.t.Helper()
	resp, err := http.Get(a.base + path)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
}

type status struct {
	Unit          string   `json:"unit"`
	Name          string   `json:"name"`
	Tier          string   `json:"tier"`
	AtRisk        bool     `json:"at_risk"`
	DissolvedInto []string `json:"dissolved_into"`
	FormedFrom    []string `json:"formed_from"`
}

// countAtLeastNTM counts units whose tier on asOf ("" = now) is ntm or
// above.
func (a api) countAtLeastNTM(codes []string, asOf string) int {
	n := 0
	for _, c := range codes {
		var st status
		q := ""
		if asOf != "" {
			q = "?as_of=" + asOf
		}
		a.get("/v1/units/"+c+q, &st)
		if slices.Contains([]string{"ntm", "advanced", "model"}, st.Tier) {
			n++
		}
	}
	return n
}

// Acceptance: the demo loader on a fresh data directory, checked through
// the HTTP API against the published figures.
func TestLoadShowsThePublishedFigures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n, err := node.Start(ctx, node.Config{DataDir: t.TempDir(), NATSListen: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	start := time.Now()
	st, err := demo.Load(ctx, n.Ledger, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d events (%d new) in %s", st.Events, st.Stored, time.Since(start).Round(time.Millisecond))
	if st.Stored != st.Events {
		t.Fatalf("fresh load stored %d of %d", st.Stored, st.Events)
	}
	if err := n.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("views caught up after %s", time.Since(start).Round(time.Millisecond))
	ts := httptest.NewServer(httpapi.New(n, nil))
	t.Cleanup(ts.Close)
	a := api{t: t, base: ts.URL}
	h := units.MustLoad().Hierarchy

	// Hà Nam (seed 004): 83 communes NTM or above, the province completed
	// on 31/12/2020, Phù Vân a model commune.
	var hanam []string
	for _, c := range h.CommunesOf(demo.HaNam) {
		hanam = append(hanam, c.Code)
	}
	if got := a.countAtLeastNTM(hanam, ""); got != 83 {
		t.Errorf("Hà Nam: %d communes at ntm or above, want 83", got)
	}
	var p status
	a.get("/v1/units/35?as_of=2020-12-31", &p)
	if p.Tier != "completed" {
		t.Errorf("Hà Nam on 2020-12-31: tier %q, want completed", p.Tier)
	}
	a.get("/v1/units/35?as_of=2020-12-30", &p)
	if p.Tier != "" {
		t.Errorf("Hà Nam on 2020-12-30: tier %q, want none", p.Tier)
	}
	for _, code := range demo.HaNamModel {
		var s status
		a.get("/v1/units/"+code+"?as_of=2021-03-15", &s)
		if s.Tier != "model" {
			t.Errorf("%s %s on 2021-03-15: tier %q, want model", code, s.Name, s.Tier)
		}
	}
	var dx status
	a.get("/v1/units/"+demo.HaNamAtRisk, &dx)
	if !dx.AtRisk {
		t.Errorf("Đinh Xá is not at risk")
	}

	// Lào Cai (seed 001): 62 recognized before the 2024 round, 72 after it.
	var laocai []string
	for _, c := range h.CommunesOf(demo.LaoCai) {
		laocai = append(laocai, c.Code)
	}
	for _, tc := range []struct {
		asOf string
		want int
	}{{"2024-02-15", demo.LaoCaiRecognized}, {"2024-12-31", demo.LaoCaiRecognized + 10}} {
		if got := a.countAtLeastNTM(laocai, tc.asOf); got != tc.want {
			t.Errorf("Lào Cai on %s: %d communes recognized, want %d", tc.asOf, got, tc.want)
		}
	}

	// Tân Trụ (seed 003): Quê Mỹ Thạnh at 15/19 advanced criteria on
	// 08/05/2024.
	var qmt struct {
		Criteria map[string]struct {
			Met int `json:"met"`
		} `json:"criteria"`
	}
	c, _ := h.FindCommune("805", "Quê Mỹ Thạnh")
	a.get("/v1/units/"+c.Code+"?as_of=2024-05-08", &qmt)
	if got := qmt.Criteria["advanced"].Met; got != 15 {
		t.Errorf("Quê Mỹ Thạnh on 2024-05-08: %d advanced criteria met, want 15", got)
	}

	// The reform: lineage both ways. Xã Mộc Hoàn (13327) went into Phường
	// Duy Tân (13330@2025).
	var old, nu status
	a.get("/v1/units/13327", &old)
	a.get("/v1/units/13330@2025", &nu)
	if !slices.Contains(old.DissolvedInto, "13330@2025") || !slices.Contains(nu.FormedFrom, "13327") {
		t.Errorf("13327 dissolved into %v; 13330@2025 formed from %v", old.DissolvedInto, nu.FormedFrom)
	}
	var prov status
	a.get("/v1/units/37@2025", &prov)
	if fmt.Sprint(prov.FormedFrom) != "[35 36 37]" {
		t.Errorf("new Ninh Bình formed from %v, want [35 36 37]", prov.FormedFrom)
	}

	// Loading again stores nothing.
	st, err = demo.Load(ctx, n.Ledger, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stored != 0 {
		t.Errorf("second load stored %d events", st.Stored)
	}
}
