package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/natstest"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

var officer = &events.Actor{ID: "vpdp-35", Role: "province", Name: "Văn phòng Điều phối NTM tỉnh Hà Nam"}

func ev(t testing.TB, typ events.Type, unit, date string, doc *events.Document, data any) *events.Input {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return &events.Input{Type: typ, Unit: unit, OccurredAt: date, Actor: officer, Document: doc, Data: raw}
}

func decision(number, date string) *events.Document {
	return &events.Document{Number: number, Date: date, Issuer: "UBND tỉnh Hà Nam"}
}

// smallProvince is a province with four communes whose recognitions,
// revocations and targets have known answers:
//
//	13306 Xã Phù Vân    ntm 2019-12-20, advanced 2021-06-01, ntm revoked 2023-03-15 (ends both)
//	13309 Xã Liêm Chính ntm 2020-05-10
//	13312 Xã Đinh Xá    ntm 2021-02-01, revoked 2022-08-01 (violation), ntm again 2023-11-20
//	13315 Xã Trịnh Xá   nothing
//	targets of 35: 2021 commune ntm count 1; 2023 commune ntm 75%; 2022 count 5 (retracted)
func smallProvince(t testing.TB) (reg, rest []*events.Input) {
	reg = []*events.Input{
		ev(t, events.UnitRegistered, "35", "2015-01-01", nil, map[string]any{"name": "Tỉnh Hà Nam", "kind": "province", "region": "red_river_delta"}),
		ev(t, events.UnitRegistered, "347", "2015-01-01", nil, map[string]any{"name": "Thành phố Phủ Lý", "kind": "district", "parent": "35"}),
		ev(t, events.UnitRegistered, "13306", "2015-01-01", nil, map[string]any{"name": "Xã Phù Vân", "kind": "commune", "parent": "347"}),
		ev(t, events.UnitRegistered, "13309", "2015-01-01", nil, map[string]any{"name": "Xã Liêm Chính", "kind": "commune", "parent": "347"}),
		ev(t, events.UnitRegistered, "13312", "2015-01-01", nil, map[string]any{"name": "Xã Đinh Xá", "kind": "commune", "parent": "347"}),
		ev(t, events.UnitRegistered, "13315", "2015-01-01", nil, map[string]any{"name": "Xã Trịnh Xá", "kind": "commune", "parent": "347"}),
	}
	grant := func(unit, date, tier, number string) *events.Input {
		return ev(t, events.RecognitionGranted, unit, date, decision(number, date), map[string]any{"tier": tier})
	}
	revoke := func(unit, date, reason, number, revokes string) *events.Input {
		return ev(t, events.RecognitionRevoked, unit, date, decision(number, date),
			map[string]any{"tier": "ntm", "reason": reason, "basis": "18/2022/QĐ-TTg", "revokes": revokes})
	}
	target := func(year int, data map[string]any) *events.Input {
		data["year"], data["level"], data["tier"] = year, "commune", "ntm"
		return ev(t, events.TargetSet, "35", "2021-01-15", decision("12/KH-UBND", "2021-01-15"), data)
	}
	rest = []*events.Input{
		grant("13306", "2019-12-20", "ntm", "3000/QĐ-UBND"),
		grant("13309", "2020-05-10", "ntm", "1200/QĐ-UBND"),
		target(2021, map[string]any{"count": 1}),
		target(2023, map[string]any{"cumulative_percent": 75}),
		target(2022, map[string]any{"count": 5}),
		grant("13312", "2021-02-01", "ntm", "150/QĐ-UBND"),
		grant("13306", "2021-06-01", "advanced", "1100/QĐ-UBND"),
		revoke("13312", "2022-08-01", "violation", "900/QĐ-UBND", "150/QĐ-UBND"),
		revoke("13306", "2023-03-15", "not_maintained", "250/QĐ-UBND", "3000/QĐ-UBND"),
		grant("13312", "2023-11-20", "ntm", "2100/QĐ-UBND"),
	}
	return reg, rest
}

type env struct {
	srv   *natstest.Server
	l     *ledger.Ledger
	views *projections.Views
}

func open(t *testing.T) *env {
	t.Helper()
	srv := natstest.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := ledger.Open(ctx, ledger.Config{JS: srv.JS, IndexDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	views, err := projections.Open(ctx, projections.Config{JS: srv.JS, Stream: ledger.StreamName, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { views.Close() })
	return &env{srv: srv, l: l, views: views}
}

func (e *env) append(t *testing.T, ins ...*events.Input) []ledger.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := e.l.Append(ctx, ins)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.views.WaitApplied(ctx, res[len(res)-1].Seq); err != nil {
		t.Fatal(err)
	}
	return res
}

func loadSmallProvince(t *testing.T, e *env) {
	reg, rest := smallProvince(t)
	e.append(t, reg...)
	var target2022 string
	for _, in := range rest {
		res := e.append(t, in)
		if in.Type == events.TargetSet && string(in.Data) == `{"count":5,"level":"commune","tier":"ntm","year":2022}` {
			target2022 = res[0].ID
		}
	}
	if target2022 == "" {
		t.Fatal("the 2022 target was not found")
	}
	e.append(t, ev(t, events.EntryRetracted, "35", "2021-02-01", nil, map[string]any{"target": target2022, "reason": "nhập nhầm"}))
}

func TestRevocationTimelineKnownAnswers(t *testing.T) {
	e := open(t)
	loadSmallProvince(t, e)
	ctx := context.Background()

	all, err := e.views.Revocations(ctx, projections.RevocationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Revocations) != 2 || all.Next != "" || all.AsOfSeq == 0 {
		t.Fatalf("timeline: %+v", all)
	}
	first, second := all.Revocations[0], all.Revocations[1]
	if first.Unit != "13306" || first.Name != "Xã Phù Vân" || first.Province != "35" || first.Tier != "ntm" || first.RevokedOn != "2023-03-15" ||
		first.Decision.Number != "250/QĐ-UBND" || first.Decision.Issuer != "UBND tỉnh Hà Nam" || first.Reason != "not_maintained" || first.Basis != "18/2022/QĐ-TTg" {
		t.Fatalf("newest row: %+v", first)
	}
	if first.Ended == nil || first.Ended.Decision.Number != "3000/QĐ-UBND" || first.Ended.GrantedOn != "2019-12-20" || first.Ended.HeldDays != 1181 || first.Ended.Held != "3y 2m 23d" {
		t.Fatalf("recognition ended: %+v", first.Ended)
	}
	if len(first.AlsoEnded) != 1 || first.AlsoEnded[0].Tier != "advanced" || first.AlsoEnded[0].HeldDays != 652 || first.AlsoEnded[0].Held != "1y 9m 14d" {
		t.Fatalf("also ended: %+v", first.AlsoEnded)
	}
	if second.Unit != "13312" || second.Name != "Xã Đinh Xá" || second.Reason != "violation" || second.Ended.HeldDays != 546 || second.Ended.Held != "1y 6m 0d" || len(second.AlsoEnded) != 0 {
		t.Fatalf("older row: %+v", second)
	}

	for _, tc := range []struct {
		name  string
		f     projections.RevocationFilter
		units []string
	}{
		{"reason", projections.RevocationFilter{Reason: "violation"}, []string{"13312"}},
		{"from", projections.RevocationFilter{From: "2023-01-01"}, []string{"13306"}},
		{"to", projections.RevocationFilter{To: "2022-12-31"}, []string{"13312"}},
		{"to inclusive", projections.RevocationFilter{To: "2023-03-15"}, []string{"13306", "13312"}},
		{"from and to", projections.RevocationFilter{From: "2022-08-01", To: "2022-08-01"}, []string{"13312"}},
		{"province", projections.RevocationFilter{Province: "35"}, []string{"13306", "13312"}},
		{"other province", projections.RevocationFilter{Province: "01"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.views.Revocations(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var units []string
			for _, r := range got.Revocations {
				units = append(units, r.Unit)
			}
			if len(units) != len(tc.units) || len(units) > 0 && units[0] != tc.units[0] || len(units) > 1 && units[1] != tc.units[1] {
				t.Fatalf("units %v, want %v", units, tc.units)
			}
		})
	}

	// Paging: one row a page, newest first, then nothing more.
	p1, err := e.views.Revocations(ctx, projections.RevocationFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Revocations) != 1 || p1.Revocations[0].Unit != "13306" || p1.Next == "" {
		t.Fatalf("page 1: %+v", p1)
	}
	p2, err := e.views.Revocations(ctx, projections.RevocationFilter{Limit: 1, After: p1.Next})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Revocations) != 1 || p2.Revocations[0].Unit != "13312" || p2.Next != "" {
		t.Fatalf("page 2: %+v", p2)
	}
}

func TestProgressKnownAnswers(t *testing.T) {
	e := open(t)
	loadSmallProvince(t, e)
	rep, err := e.views.Progress(context.Background(), "35", 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Name != "Tỉnh Hà Nam" || rep.Kind != "province" || len(rep.Years) != 5 || rep.Years[0].Year != 2019 || rep.Years[4].Year != 2023 {
		t.Fatalf("report: %+v", rep)
	}
	type want struct {
		year                                  int
		tier                                  string
		granted, revoked, achieved, cum, unit int
		percent                               float64
		target                                string // "", "count", "percent"
		onTrack                               string // "", "true", "false"
	}
	wants := []want{
		{2019, "ntm", 1, 0, 1, 1, 4, 25, "", ""},
		{2020, "ntm", 1, 0, 1, 2, 4, 50, "", ""},
		{2021, "ntm", 1, 0, 1, 3, 4, 75, "count", "true"},
		{2021, "advanced", 1, 0, 1, 1, 4, 25, "", ""},
		{2022, "ntm", 0, 1, -1, 2, 4, 50, "", ""}, // the 2022 target was retracted
		{2022, "advanced", 0, 0, 0, 1, 4, 25, "", ""},
		{2023, "ntm", 1, 1, 0, 2, 4, 50, "percent", "false"},
		{2023, "advanced", 0, 1, -1, 0, 4, 0, "", ""},
	}
	var got []want
	for _, y := range rep.Years {
		for _, r := range y.Tiers {
			if r.Level != "commune" {
				t.Fatalf("%d: unexpected level %q (no district has a recognition or a target)", y.Year, r.Level)
			}
			w := want{year: y.Year, tier: r.Tier, granted: r.Granted, revoked: r.Revoked, achieved: r.Achieved, cum: r.Cumulative, unit: r.Units, percent: r.Percent}
			if r.Target != nil {
				w.target = "count"
				if r.Target.CumulativePercent != nil {
					w.target = "percent"
				}
			}
			if r.OnTrack != nil {
				w.onTrack = "false"
				if *r.OnTrack {
					w.onTrack = "true"
				}
			}
			got = append(got, w)
		}
	}
	if len(got) != len(wants) {
		t.Fatalf("rows:\n got %+v\nwant %+v", got, wants)
	}
	for i := range wants {
		if got[i] != wants[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], wants[i])
		}
	}

	one, err := e.views.Progress(context.Background(), "35", 2021)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Years) != 1 || one.Years[0].Year != 2021 || len(one.Years[0].Tiers) != 2 || *one.Years[0].Tiers[0].Target.Count != 1 {
		t.Fatalf("year 2021: %+v", one)
	}
	district, err := e.views.Progress(context.Background(), "347", 2023)
	if err != nil {
		t.Fatal(err)
	}
	if r := district.Years[0].Tiers[0]; r.Tier != "ntm" || r.Cumulative != 2 || r.Units != 4 || r.Target != nil || r.OnTrack != nil {
		t.Fatalf("district 347 in 2023: %+v", district.Years[0])
	}
	if _, err := e.views.Progress(context.Background(), "13306", 0); !errors.Is(err, projections.ErrBadArgument) {
		t.Fatalf("progress of a commune: %v", err)
	}
	if _, err := e.views.Progress(context.Background(), "36", 0); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("progress of an unknown province: %v", err)
	}
}

func TestUnitListsFilterAndPage(t *testing.T) {
	e := open(t)
	loadSmallProvince(t, e)
	ctx := context.Background()
	yes := true
	for _, tc := range []struct {
		name  string
		f     projections.UnitFilter
		units []string
	}{
		{"children", projections.UnitFilter{Parent: "347"}, []string{"13306", "13309", "13312", "13315"}},
		{"province communes", projections.UnitFilter{Province: "35", Kind: "commune"}, []string{"13306", "13309", "13312", "13315"}},
		{"all districts", projections.UnitFilter{Kind: "district"}, []string{"347"}},
		{"tier", projections.UnitFilter{Parent: "347", Tier: "ntm"}, []string{"13309", "13312"}},
		{"no tier", projections.UnitFilter{Parent: "347", Tier: "none"}, []string{"13306", "13315"}},
		{"at risk", projections.UnitFilter{AtRisk: &yes}, nil},
		{"page", projections.UnitFilter{Parent: "347", Limit: 2, After: "13306"}, []string{"13309", "13312"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.views.Units(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var units []string
			for _, u := range got.Units {
				units = append(units, u.Unit)
			}
			if len(units) != len(tc.units) {
				t.Fatalf("units %v, want %v", units, tc.units)
			}
			for i := range units {
				if units[i] != tc.units[i] {
					t.Fatalf("units %v, want %v", units, tc.units)
				}
			}
		})
	}
	page, err := e.views.Units(ctx, projections.UnitFilter{Parent: "347", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if page.Next != "13312" {
		t.Fatalf("next of a full page: %q", page.Next)
	}
	u := page.Units[2]
	if u.Name != "Xã Đinh Xá" || u.Tier != "ntm" || u.GrantedOn != "2023-11-20" || u.Decision.Number != "2100/QĐ-UBND" || u.RegisteredOn != "2015-01-01" || len(u.Recognitions) != 2 {
		t.Fatalf("summary of 13312: %+v", u)
	}
}
