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
	Unit              string   `json:"unit"`
	Name              string   `json:"name"`
	Tier              string   `json:"tier"`
	AtRisk            bool     `json:"at_risk"`
	EvaluatedOn       string   `json:"evaluated_on"`
	OpenWhenDissolved []any    `json:"risks_open_when_dissolved"`
	DissolvedInto     []string `json:"dissolved_into"`
	FormedFrom        []string `json:"formed_from"`
	Children          map[string]struct {
		Total     int            `json:"total"`
		Held      map[string]int `json:"held"`
		Dissolved int            `json:"dissolved"`
	} `json:"children"`
}

// progressRow is a row of GET /v1/progress/{code}.
type progressRow struct {
	Level      string    `json:"level"`
	Tier       string    `json:"tier"`
	Counts     []string  `json:"counts"`
	Target     *struct{} `json:"target"`
	Achieved   int       `json:"achieved"`
	Cumulative int       `json:"cumulative"`
	Units      int       `json:"units"`
	Percent    float64   `json:"percent"`
	OnTrack    *bool     `json:"on_track"`
}

// progress returns the rows of a unit's progress report by year, then
// level/tier.
func (a api) progress(code string) map[int]map[string]progressRow {
	var rep struct {
		Years []struct {
			Year  int           `json:"year"`
			Tiers []progressRow `json:"tiers"`
		} `json:"years"`
	}
	a.get("/v1/progress/"+code, &rep)
	out := map[int]map[string]progressRow{}
	for _, y := range rep.Years {
		out[y.Year] = map[string]progressRow{}
		for _, r := range y.Tiers {
			out[y.Year][r.Level+"/"+r.Tier] = r
		}
	}
	return out
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
	// 6/6 district-level units by 2020: Phủ Lý city completed the NTM
	// task; the five others, Duy Tiên among them, were huyện when
	// recognized and hold ntm (Duy Tiên became a thị xã in 2020).
	for _, d := range h.DistrictsOf(demo.HaNam) {
		want := "ntm"
		if d.Name == "Thành phố Phủ Lý" {
			want = "completed"
		}
		var s status
		a.get("/v1/units/"+d.Code+"?as_of=2020-12-31", &s)
		if s.Tier != want {
			t.Errorf("%s on 2020-12-31: tier %q, want %s", d.Name, s.Tier, want)
		}
	}
	// Đinh Xá: at risk from the 2024 inspection until it was dissolved by
	// the reform; then evaluated on its last day, not at risk (it can no
	// longer be revoked), with R1 listed as open when dissolved.
	var dx status
	a.get("/v1/units/"+demo.HaNamAtRisk+"?as_of=2025-06-30", &dx)
	if !dx.AtRisk {
		t.Errorf("Đinh Xá on 2025-06-30 is not at risk")
	}
	a.get("/v1/units/"+demo.HaNamAtRisk, &dx)
	if dx.AtRisk || dx.EvaluatedOn != "2025-06-30" || len(dx.OpenWhenDissolved) == 0 || dx.Tier != "ntm" {
		t.Errorf("Đinh Xá now: tier %q, at risk %v, evaluated on %s, open when dissolved %v; want ntm, not at risk, on 2025-06-30, R1 open",
			dx.Tier, dx.AtRisk, dx.EvaluatedOn, dx.OpenWhenDissolved)
	}
	var risky struct {
		Units []status `json:"units"`
	}
	a.get("/v1/units?at_risk=true", &risky)
	if len(risky.Units) != 0 {
		t.Errorf("%d units at risk now, want none (the at-risk communes were dissolved on 2025-07-01)", len(risky.Units))
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

	// Progress counts xã, as the plans do. Lào Cai: 62 of its xã NTM
	// before the 2024 round, 72 after it (the plan counts 127 xã; the 2025
	// catalogue has 126); the 2024 target of 10 more is met.
	lc := a.progress(demo.LaoCai)
	if r := lc[2023]["commune/ntm"]; r.Cumulative != demo.LaoCaiRecognized || r.Units != 126 {
		t.Errorf("Lào Cai progress 2023: %d of %d xã NTM, want %d of 126", r.Cumulative, r.Units, demo.LaoCaiRecognized)
	}
	if r := lc[2024]["commune/ntm"]; r.Cumulative != demo.LaoCaiRecognized+10 || r.Units != 126 || r.OnTrack == nil || !*r.OnTrack {
		t.Errorf("Lào Cai progress 2024: %+v, want %d of 126, on track", r, demo.LaoCaiRecognized+10)
	}
	// Long An (seed 000): the advanced targets of 2021-2023 met, count and
	// cumulative percent of its 160 xã; 2024 behind.
	la := a.progress(demo.LongAn)
	for year, want := range map[int]bool{2021: true, 2022: true, 2023: true, 2024: false} {
		r := la[year]["commune/advanced"]
		if r.Target == nil || r.OnTrack == nil || *r.OnTrack != want || r.Units != 160 {
			t.Errorf("Long An %d advanced: %d of %d (%v%%), on track %v, want %v of 160", year, r.Cumulative, r.Units, r.Percent, r.OnTrack, want)
		}
	}
	// Trà Vinh (seed 002): every target met through 2024; 9/9 district-level
	// units NTM or completed in 2023 (the city and the town hold
	// completed).
	tv := a.progress(demo.TraVinh)
	for year := 2022; year <= 2024; year++ {
		for key, r := range tv[year] {
			if r.Target != nil && (r.OnTrack == nil || !*r.OnTrack) {
				t.Errorf("Trà Vinh %d %s: %d of %d (%v%%), not on track", year, key, r.Cumulative, r.Units, r.Percent)
			}
		}
	}
	if r := tv[2023]["district/ntm"]; r.Cumulative != 9 || r.Units != 9 || fmt.Sprint(r.Counts) != "[ntm completed]" {
		t.Errorf("Trà Vinh 2023 district ntm: %+v, want 9 of 9 counting completed", r)
	}
	if r := tv[2023]["commune/advanced"]; r.Cumulative != 43 || r.Units != 85 {
		t.Errorf("Trà Vinh 2023 advanced: %d of %d, want 43 of 85", r.Cumulative, r.Units)
	}

	// Findings: every recognition the demo records meets its conditions
	// (district surveys included); what remains are the two risks the seeds
	// describe, Đinh Xá's and Tả Thàng's.
	var fl struct {
		Findings []struct {
			Kind    string `json:"kind"`
			Unit    string `json:"unit"`
			Message string `json:"message"`
			Audit   struct {
				Until   string `json:"until"`
				EndedBy string `json:"ended_by"`
			} `json:"audit"`
		} `json:"findings"`
	}
	var kinds []string
	for _, p := range []string{demo.HaNam, demo.LaoCai, demo.TraVinh, demo.LongAn} {
		a.get("/v1/findings?province="+p, &fl)
		for _, f := range fl.Findings {
			kinds = append(kinds, f.Kind+" "+f.Unit)
			if f.Kind != "revocation_overdue" {
				t.Errorf("finding %s %s: %s", f.Kind, f.Unit, f.Message)
			} else if f.Audit.Until != "2025-07-01" || f.Audit.EndedBy != "dissolution" {
				// A dissolved commune cannot be revoked: the case ends
				// with the reform, still open.
				t.Errorf("overdue %s until %q ended by %q, want 2025-07-01 by dissolution", f.Unit, f.Audit.Until, f.Audit.EndedBy)
			}
		}
	}
	if want := "[revocation_overdue " + demo.HaNamAtRisk + " revocation_overdue 02794]"; fmt.Sprint(kinds) != want {
		t.Errorf("findings %v, want %s", kinds, want)
	}

	// A pre-reform district (its communes dissolved by the reform, no event
	// on the district itself) counts its xã as they stood on its latest
	// date: Châu Thành (Trà Vinh), recognized ntm in 2021, all NTM.
	var ct status
	a.get("/v1/units/847", &ct)
	if c := ct.Children["commune"]; c.Total == 0 || c.Held["ntm"] != c.Total || ct.Tier != "ntm" {
		t.Errorf("847 %s now: tier %q, communes %+v; want ntm with all its xã ntm", ct.Name, ct.Tier, c)
	}
	a.get("/v1/units/847?as_of=2025-08-01", &ct)
	if c := ct.Children["commune"]; c.Total != 0 || c.Dissolved == 0 {
		t.Errorf("847 on 2025-08-01: communes %+v; want none, all dissolved", c)
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
	// Then every criterion at the province's appraisal on 2024-11-20, not
	// before, and advanced from 2024-12-20.
	for _, tc := range []struct {
		asOf string
		met  int
	}{{"2024-11-19", 15}, {"2024-11-20", 19}} {
		a.get("/v1/units/"+c.Code+"?as_of="+tc.asOf, &qmt)
		if got := qmt.Criteria["advanced"].Met; got != tc.met {
			t.Errorf("Quê Mỹ Thạnh on %s: %d advanced criteria met, want %d", tc.asOf, got, tc.met)
		}
	}
	var adv status
	a.get("/v1/units/"+c.Code+"?as_of=2024-12-20", &adv)
	if adv.Tier != "advanced" {
		t.Errorf("Quê Mỹ Thạnh on 2024-12-20: tier %q, want advanced", adv.Tier)
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
