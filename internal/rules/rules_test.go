package rules

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBuiltInLoads(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range s.Books() {
		ids = append(ids, b.ID)
	}
	if got := strings.Join(ids, " "); got != "vn-2016-2020 vn-2021-2025 vn-2026-2030" {
		t.Fatalf("books %q", got)
	}
	for _, tc := range []struct {
		book, kind, tier string
		criteria         int
		requires         string
		open             bool
	}{
		{"vn-2016-2020", "commune", "ntm", 19, "", false},
		{"vn-2016-2020", "commune", "model", 0, "advanced", true},
		{"vn-2021-2025", "commune", "ntm", 19, "", false},
		{"vn-2021-2025", "commune", "advanced", 19, "ntm", false},
		{"vn-2021-2025", "commune", "model", 4, "advanced", false},
		{"vn-2021-2025", "district", "ntm", 9, "", false},
		{"vn-2021-2025", "district", "advanced", 9, "ntm", false},
		{"vn-2021-2025", "district", "completed", 0, "", true},
		{"vn-2021-2025", "province", "completed", 0, "", true},
		{"vn-2026-2030", "commune", "ntm", 10, "", false},
		{"vn-2026-2030", "commune", "modern", 0, "ntm", true},
		{"vn-2026-2030", "village", "model", 0, "ntm", true},
	} {
		b, _ := s.ByID(tc.book)
		tr, ok := b.Tier(tc.kind, tc.tier)
		if !ok {
			t.Errorf("%s: no %s tier %s", tc.book, tc.kind, tc.tier)
			continue
		}
		if len(tr.Criteria) != tc.criteria || tr.Requires != tc.requires || tr.Open != tc.open {
			t.Errorf("%s %s %s: %d criteria, requires %q, open %v", tc.book, tc.kind, tc.tier, len(tr.Criteria), tr.Requires, tr.Open)
		}
	}
	b, _ := s.ByID("vn-2026-2030")
	if len(b.Tiers["district"]) != 0 {
		t.Error("vn-2026-2030 has district tiers; districts were abolished on 2025-07-01")
	}
	// Key criteria of Decision 18/2022.
	for _, tc := range []struct{ book, kind, tier, keys string }{
		{"vn-2021-2025", "commune", "ntm", "10 17 19"},
		{"vn-2021-2025", "commune", "advanced", "10 17 18 19"},
		{"vn-2021-2025", "district", "ntm", "6 7 8 9"},
		{"vn-2021-2025", "district", "advanced", "6 7 8 9"},
	} {
		b, _ := s.ByID(tc.book)
		tr, _ := b.Tier(tc.kind, tc.tier)
		var keys []string
		for _, c := range tr.Set {
			if c.Key {
				keys = append(keys, c.Code)
			}
		}
		if got := strings.Join(keys, " "); got != tc.keys {
			t.Errorf("%s %s %s: key criteria %q, want %q", tc.book, tc.kind, tc.tier, got, tc.keys)
		}
	}
}

func TestInForceAndResolve(t *testing.T) {
	s := BuiltIn()
	for _, tc := range []struct{ date, want string }{
		{"2010-01-01", "vn-2016-2020"},
		{"2022-03-07", "vn-2016-2020"},
		{"2022-03-08", "vn-2021-2025"},
		{"2026-02-14", "vn-2021-2025"},
		{"2026-02-15", "vn-2026-2030"},
	} {
		if got := s.InForce(tc.date).ID; got != tc.want {
			t.Errorf("InForce(%s) = %s, want %s", tc.date, got, tc.want)
		}
	}
	b, err := s.Resolve("vn-2021-2025/10", "2016-01-01")
	if err != nil || b.ID != "vn-2021-2025" {
		t.Errorf("an unknown adaptation resolves to its base: %v %v", b, err)
	}
	if _, err := s.Resolve("vn-1999", ""); err == nil || !strings.Contains(err.Error(), "known: vn-2016-2020") {
		t.Errorf("unknown rulebook: %v", err)
	}
	if _, err := s.Tier("commune", "modern", "", "2024-01-01"); err == nil {
		t.Error("modern is not a 2021-2025 tier")
	}
	if _, err := s.Tier("district", "ntm", "", "2026-03-01"); err == nil || !strings.Contains(err.Error(), "no tiers for a district") {
		t.Errorf("no districts in 2026-2030: %v", err)
	}
}

func group(g int) *int { return &g }

func TestForSelectsColumnAndAdaptation(t *testing.T) {
	s := BuiltIn()
	for _, tc := range []struct {
		name   string
		u      Unit
		date   string
		book   string
		column string
		reason string
	}{
		{"region", Unit{Kind: "commune", Region: "red_river_delta"}, "2023-01-01", "vn-2021-2025", "red_river_delta", "region"},
		{"especially difficult uses the northern mountains column", Unit{Kind: "commune", Region: "mekong_delta", Flags: []string{"especially_difficult"}}, "2023-01-01", "vn-2021-2025", "northern_midlands_mountains", "especially_difficult"},
		{"safe zone likewise", Unit{Kind: "commune", Region: "north_central", Flags: []string{"border", "safe_zone"}}, "2023-01-01", "vn-2021-2025", "northern_midlands_mountains", "safe_zone"},
		{"no override before 2021-2025", Unit{Kind: "commune", Region: "mekong_delta", Flags: []string{"especially_difficult"}}, "2019-01-01", "vn-2016-2020", "mekong_delta", "region"},
		{"group from 2026", Unit{Kind: "commune", Region: "mekong_delta", Group: group(3)}, "2026-03-01", "vn-2026-2030", "3", "group"},
		{"no group, no column", Unit{Kind: "commune", Region: "mekong_delta"}, "2026-03-01", "vn-2026-2030", "", ""},
	} {
		ap, err := s.For(tc.u, "", tc.date)
		if err != nil {
			t.Fatal(err)
		}
		if ap.ID != tc.book || ap.Column != tc.column || ap.ColumnReason != tc.reason {
			t.Errorf("%s: %s column %q (%s), want %s %q (%s)", tc.name, ap.ID, ap.Column, ap.ColumnReason, tc.book, tc.column, tc.reason)
		}
	}

	laoCai, err := s.Adapt(Adaptation{
		ID: "vn-2021-2025/10", Base: "vn-2021-2025", Province: "10", EffectiveFrom: "2022-06-01", EffectiveTo: "2025-12-31",
		Thresholds: json.RawMessage(`{"ntm": {"10": {"op": ">=", "unit": "million VND", "columns": {"northern_midlands_mountains": 39}}, "satisfaction": {"value": 95}}}`),
		Criteria:   json.RawMessage(`{"ntm": [{"code": "17.12", "en": "Village sanitation teams", "op": ">=", "value": 1}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	as := s.WithAdaptations(laoCai)
	inLaoCai := Unit{Kind: "commune", Province: "10", Region: "northern_midlands_mountains"}
	for _, tc := range []struct {
		u    Unit
		date string
		want string
	}{
		{inLaoCai, "2022-05-31", "vn-2021-2025"},
		{inLaoCai, "2022-06-01", "vn-2021-2025/10"},
		{inLaoCai, "2025-12-31", "vn-2021-2025/10"},
		{inLaoCai, "2026-01-01", "vn-2021-2025"},
		{Unit{Kind: "commune", Province: "35"}, "2023-01-01", "vn-2021-2025"},
	} {
		ap, _ := as.For(tc.u, "", tc.date)
		if ap.ID != tc.want {
			t.Errorf("province %s on %s: %s, want %s", tc.u.Province, tc.date, ap.ID, tc.want)
		}
	}
	ap, _ := as.For(inLaoCai, "", "2023-01-01")
	tr, _ := ap.Tier("commune", "ntm")
	th, state := tr.Measure("10").For(ap.Column)
	if state != ThresholdSourced || *th.Value != 39 {
		t.Errorf("income threshold %v %s", th, state)
	}
	if _, state := tr.Measure("10").For("red_river_delta"); state != ThresholdUnsourced {
		t.Errorf("other columns stay unsourced: %s", state)
	}
	if tr.Measure("17.12") == nil || !tr.HasCriterion("17.12") {
		t.Error("extra indicator missing")
	}
	if tr.Conditions[1].Type != CondMinSatisfaction || *tr.Conditions[1].Percent != 95 {
		t.Errorf("satisfaction %+v", tr.Conditions[1])
	}
	base, _ := s.ByID("vn-2021-2025")
	bt, _ := base.Tier("commune", "ntm")
	if bt.Measure("17.12") != nil || *bt.Conditions[1].Percent != 90 {
		t.Error("adapting changed the national book")
	}
	named, err := as.For(Unit{Kind: "commune", Province: "35"}, "vn-2021-2025/10", "2019-01-01")
	if err != nil || named.ID != "vn-2021-2025/10" {
		t.Errorf("a named rulebook wins: %v %v", named, err)
	}
}

func TestAdaptRejects(t *testing.T) {
	s := BuiltIn()
	for _, tc := range []struct {
		a    Adaptation
		want string
	}{
		{Adaptation{ID: "x/10", Base: "vn-1999"}, "base:"},
		{Adaptation{ID: "lao-cai", Base: "vn-2021-2025"}, "id:"},
		{Adaptation{ID: "vn-2021-2025/10", Base: "vn-2021-2025", Thresholds: json.RawMessage(`{"ntm": {"25": {"op": ">=", "value": 1}}}`)}, "thresholds.ntm.25"},
		{Adaptation{ID: "vn-2021-2025/10", Base: "vn-2021-2025", Thresholds: json.RawMessage(`{"ntm": {"10": {"op": "~", "value": 1}}}`)}, "thresholds.ntm.10.op"},
		{Adaptation{ID: "vn-2021-2025/10", Base: "vn-2021-2025", Thresholds: json.RawMessage(`{"ntm": {"10": {"op": ">=", "columns": {"mars": 1}}}}`)}, "thresholds.ntm.10.columns"},
		{Adaptation{ID: "vn-2021-2025/10", Base: "vn-2021-2025", Thresholds: json.RawMessage(`{"modern": {}}`)}, "thresholds.modern"},
		{Adaptation{ID: "vn-2021-2025/10", Base: "vn-2021-2025", Criteria: json.RawMessage(`{"ntm": [{"code": "17.1"}]}`)}, "already exists"},
		{Adaptation{ID: "vn-2021-2025/10", Base: "vn-2021-2025", Criteria: json.RawMessage(`{"ntm": [{"code": "20.1"}]}`)}, "criteria.ntm[0].code"},
	} {
		_, err := s.Adapt(tc.a)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.a, err, tc.want)
		}
	}
}
