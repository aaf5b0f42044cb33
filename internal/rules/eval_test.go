package rules

import (
	"strconv"
	"strings"
	"testing"
)

// assessed builds the standing assessments of a set of n criteria, with the
// given codes not met (or basically met when prefixed "~").
func assessed(n int, failing ...string) map[string]Assessment {
	items := map[string]Assessment{}
	for i := 1; i <= n; i++ {
		items[strconv.Itoa(i)] = Assessment{Status: "met", Stage: "province", Date: "2024-10-01"}
	}
	for _, c := range failing {
		status := "not_met"
		if strings.HasPrefix(c, "~") {
			c, status = c[1:], "basically_met"
		}
		items[c] = Assessment{Status: status, Stage: "province", Date: "2024-10-01"}
	}
	return items
}

func risks(t *testing.T, kind, tier, granted, date string, items map[string]Assessment, children map[string]ChildCounts) []Risk {
	t.Helper()
	s := BuiltIn()
	b := s.InForce(date)
	tr, ok := b.Tier(kind, tier)
	if !ok {
		t.Fatalf("no %s %s", kind, tier)
	}
	return b.Risks(kind, date, []Held{{Tier: tier, Granted: granted}}, func(string) []Standing { return tr.Standings(items) }, children)
}

func ruleIDs(rs []Risk) string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.Rule)
	}
	return strings.Join(ids, ",")
}

// Decision 18/2022/QĐ-TTg, communes: R1 = 30% to under 50% of the set not
// maintained including a key criterion; R2 = 50% or more.
func TestCommuneRevocationRisk(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tier    string
		failing []string
		want    string
	}{
		{"19 criteria all met", "ntm", nil, ""},
		{"5 not maintained incl. Income: 26% → not at risk", "ntm", []string{"10", "17", "19", "1", "2"}, ""},
		{"6 not maintained incl. Income: 31.6% → R1", "ntm", []string{"10", "1", "2", "3", "4", "5"}, "R1"},
		{"6 not maintained, none key → not at risk", "ntm", []string{"1", "2", "3", "4", "5", "6"}, ""},
		{"6 not maintained incl. Environment & food safety", "ntm", []string{"17", "1", "2", "3", "4", "5"}, "R1"},
		{"6 not maintained incl. Defence & security", "ntm", []string{"19", "1", "2", "3", "4", "5"}, "R1"},
		{"18 is not key in the NTM set", "ntm", []string{"18", "1", "2", "3", "4", "5"}, ""},
		{"basically_met counts as not met", "ntm", []string{"~10", "~1", "~2", "3", "4", "5"}, "R1"},
		{"9 not maintained incl. key: 47% → R1", "ntm", []string{"10", "1", "2", "3", "4", "5", "6", "7", "8"}, "R1"},
		{"9 not maintained, none key → not at risk", "ntm", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}, ""},
		{"10 not maintained: 52.6% → R2", "ntm", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "11"}, "R2"},
		{"19 not maintained → R2", "ntm", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19"}, "R2"},
		{"advanced: 18 Living-environment quality is key", "advanced", []string{"18", "1", "2", "3", "4", "5"}, "R1"},
		{"advanced: 5 not maintained → not at risk", "advanced", []string{"10", "17", "18", "19", "1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := risks(t, "commune", tc.tier, "2023-01-10", "2024-10-01", assessed(19, tc.failing...), nil)
			if got := ruleIDs(rs); got != tc.want {
				t.Fatalf("risk %q, want %q (%+v)", got, tc.want, rs)
			}
			if len(rs) == 1 {
				r := rs[0]
				if r.Total != 19 || len(r.Failing) != len(tc.failing) || r.Basis != "18/2022/QĐ-TTg" || r.MessageVI == "" || r.MessageEN == "" {
					t.Errorf("risk %+v", r)
				}
				if r.Rule == "R1" && len(r.Key) == 0 {
					t.Errorf("R1 without key criteria: %+v", r)
				}
			}
		})
	}
}

func TestCommuneRiskTimeAndUnassessed(t *testing.T) {
	six := []string{"10", "1", "2", "3", "4", "5"}
	for _, tc := range []struct {
		name, granted, date, want, grace string
	}{
		{"before Decision 18/2022 took effect", "2022-04-01", "2022-08-01", "", ""},
		{"from its effect", "2022-04-01", "2022-08-02", "R1", "2024-08-02"},
		{"recognised after it: no transition", "2023-01-01", "2023-06-01", "R1", ""},
		{"transition ends 2024-08-02", "2019-12-20", "2024-08-02", "R1", ""},
		{"under vn-2026-2030 no revocation rule is sourced", "2023-01-01", "2026-03-01", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := BuiltIn()
			b := s.InForce(tc.date)
			tr, _ := s.books[1].Tier("commune", "ntm")
			rs := b.Risks("commune", tc.date, []Held{{Tier: "ntm", Granted: tc.granted}}, func(string) []Standing { return tr.Standings(assessed(19, six...)) }, nil)
			if got := ruleIDs(rs); got != tc.want {
				t.Fatalf("risk %q, want %q", got, tc.want)
			}
			if len(rs) == 1 && rs[0].GraceUntil != tc.grace {
				t.Errorf("grace %q, want %q", rs[0].GraceUntil, tc.grace)
			}
		})
	}
	// Criteria without an assessment are not counted as not maintained.
	items := assessed(19, "10", "1", "2", "3", "4", "5")
	delete(items, "5")
	if got := ruleIDs(risks(t, "commune", "ntm", "2023-01-01", "2024-10-01", items, nil)); got != "" {
		t.Errorf("unassessed counted as failing: %q", got)
	}
}

// Districts: D1 = 30% or more of its communes revoked; D2 = 30% to under
// 50% of the 9 criteria failing including a key one; D3 = 50% or more.
func TestDistrictRevocationRisk(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failing  []string
		communes ChildCounts
		want     string
	}{
		{"all met, no commune revoked", nil, ChildCounts{Total: 10}, ""},
		{"2 of 9 failing incl. Economy: 22% → not at risk", []string{"6", "1"}, ChildCounts{Total: 10}, ""},
		{"3 of 9 failing incl. Environment: 33% → D2", []string{"7", "1", "2"}, ChildCounts{Total: 10}, "D2"},
		{"3 of 9 failing, none key → not at risk", []string{"1", "2", "3"}, ChildCounts{Total: 10}, ""},
		{"4 of 9 failing incl. key → D2", []string{"9", "1", "2", "3"}, ChildCounts{Total: 10}, "D2"},
		{"4 of 9 failing, none key → not at risk", []string{"1", "2", "3", "4"}, ChildCounts{Total: 10}, ""},
		{"5 of 9 failing: 55.6% → D3", []string{"1", "2", "3", "4", "5"}, ChildCounts{Total: 10}, "D3"},
		{"2 of 10 communes revoked → not at risk", nil, ChildCounts{Total: 10, Revoked: 2}, ""},
		{"3 of 10 communes revoked: 30% → D1", nil, ChildCounts{Total: 10, Revoked: 3}, "D1"},
		{"2 of 7 communes revoked: 28.6% → not at risk", nil, ChildCounts{Total: 7, Revoked: 2}, ""},
		{"3 of 7 communes revoked and 5 criteria failing → D1 and D3", []string{"1", "2", "3", "4", "5"}, ChildCounts{Total: 7, Revoked: 3}, "D1,D3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, tier := range []string{"ntm", "advanced"} {
				rs := risks(t, "district", tier, "2023-01-10", "2024-10-01", assessed(9, tc.failing...), map[string]ChildCounts{"commune": tc.communes})
				if got := ruleIDs(rs); got != tc.want {
					t.Fatalf("%s: risk %q, want %q", tier, got, tc.want)
				}
			}
		})
	}
}

func TestStagePrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b Assessment
		want bool
	}{
		{"later date wins", Assessment{Date: "2024-01-02", Stage: "self"}, Assessment{Date: "2024-01-01", Stage: "inspection"}, true},
		{"same date: province beats district", Assessment{Date: "2024-01-01", Stage: "province"}, Assessment{Date: "2024-01-01", Stage: "district", Seq: 9}, true},
		{"same date: self loses to district", Assessment{Date: "2024-01-01", Stage: "self", Seq: 9}, Assessment{Date: "2024-01-01", Stage: "district"}, false},
		{"inspection is last", Assessment{Date: "2024-01-01", Stage: "inspection"}, Assessment{Date: "2024-01-01", Stage: "province"}, true},
		{"same stage: later recorded", Assessment{Date: "2024-01-01", Stage: "province", Seq: 5}, Assessment{Date: "2024-01-01", Stage: "province", Seq: 4}, true},
	} {
		if got := tc.a.Newer(tc.b); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}

func TestIndicatorRollUp(t *testing.T) {
	ntm, _ := BuiltIn().InForce("2024-01-01").Tier("commune", "ntm")
	a := func(status, date string) Assessment { return Assessment{Status: status, Stage: "province", Date: date} }
	all := func(date, status string, codes ...string) map[string]Assessment {
		m := map[string]Assessment{}
		for _, c := range codes {
			m[c] = a(status, date)
		}
		return m
	}
	with := func(m map[string]Assessment, code string, x Assessment) map[string]Assessment {
		m[code] = x
		return m
	}
	c19 := []string{"19.1", "19.2"}
	for _, tc := range []struct {
		name    string
		items   map[string]Assessment
		status  string
		derived bool
	}{
		{"all indicators met → met", all("2024-01-01", "met", c19...), "met", true},
		{"one indicator not met → not met", with(all("2024-01-01", "met", c19...), "19.2", a("not_met", "2024-01-01")), "not_met", true},
		{"basically met indicator → basically met", with(all("2024-01-01", "met", c19...), "19.2", a("basically_met", "2024-01-01")), "basically_met", true},
		{"one indicator not assessed → incomplete", all("2024-01-01", "met", "19.1"), "incomplete", true},
		{"newer criterion-level assessment wins over indicators", with(with(all("2024-01-01", "met", c19...), "19.2", a("not_met", "2024-01-01")), "19", a("met", "2024-06-01")), "met", false},
		{"newer indicators win over an older criterion-level", with(all("2024-06-01", "met", c19...), "19", a("not_met", "2024-01-01")), "met", true},
		{"incomplete newer indicators keep an older criterion met", with(all("2024-06-01", "met", "19.2"), "19", a("met", "2024-01-01")), "met", false},
		{"incomplete indicators keep the older criterion judgement", with(all("2024-06-01", "met", "19.1"), "19", a("not_met", "2024-01-01")), "not_met", false},
		{"no indicators: criterion-level", all("2024-01-01", "basically_met", "19"), "basically_met", false},
		{"nothing assessed", map[string]Assessment{}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Standing
			for _, s := range ntm.Standings(tc.items) {
				if s.Code == "19" {
					got = s
				}
			}
			if got.Status != tc.status || got.Derived != tc.derived {
				t.Fatalf("19: %+v, want %s derived=%v", got, tc.status, tc.derived)
			}
		})
	}
	// 17 has 11 listed indicators: all must be met.
	items := map[string]Assessment{}
	for i := 1; i <= 11; i++ {
		items["17."+strconv.Itoa(i)] = a("met", "2024-01-01")
	}
	if s := ntm.Standings(items)[16]; s.Code != "17" || s.Status != "met" || len(s.From) != 11 {
		t.Errorf("17 from 11 indicators: %+v", s)
	}
	delete(items, "17.10")
	if s := ntm.Standings(items)[16]; s.Status != "incomplete" || strings.Join(s.Missing, ",") != "17.10" {
		t.Errorf("17 without 17.10: %+v", s)
	}
	// A criterion the rulebook lists no indicators for rolls up from those assessed (2026-2030).
	t26, _ := BuiltIn().InForce("2026-03-01").Tier("commune", "ntm")
	if s := t26.Standings(map[string]Assessment{"3.1": a("met", "2026-03-01"), "3.2": a("not_met", "2026-03-02")})[2]; s.Status != "not_met" || s.Date != "2026-03-02" {
		t.Errorf("2026 3 from assessed indicators: %+v", s)
	}
}

func TestRecognitionConditions(t *testing.T) {
	b := BuiltIn().InForce("2024-01-01")
	ntm, _ := b.Tier("commune", "ntm")
	dist, _ := b.Tier("district", "ntm")
	adv, _ := b.Tier("district", "advanced")
	p := func(v float64) *float64 { return &v }
	states := func(rs []ConditionResult) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.ID+"="+r.State)
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		name     string
		tier     *Tier
		facts    Facts
		eligible bool
		states   string
	}{
		{"all met, satisfaction 92%", ntm, Facts{Standings: ntm.Standings(assessed(19)), Satisfaction: p(92)}, true,
			"all_criteria_met=met satisfaction=met no_construction_debt=not_checked"},
		{"satisfaction exactly 90%", ntm, Facts{Standings: ntm.Standings(assessed(19)), Satisfaction: p(90)}, true,
			"all_criteria_met=met satisfaction=met no_construction_debt=not_checked"},
		{"satisfaction 89.9%", ntm, Facts{Standings: ntm.Standings(assessed(19)), Satisfaction: p(89.9)}, false,
			"all_criteria_met=met satisfaction=not_met no_construction_debt=not_checked"},
		{"no survey", ntm, Facts{Standings: ntm.Standings(assessed(19))}, false,
			"all_criteria_met=met satisfaction=missing no_construction_debt=not_checked"},
		{"18/19 met, 1 basically met", ntm, Facts{Standings: ntm.Standings(assessed(19, "~4")), Satisfaction: p(95)}, false,
			"all_criteria_met=not_met satisfaction=met no_construction_debt=not_checked"},
		{"district: all communes NTM", dist, Facts{Standings: dist.Standings(assessed(9)), Satisfaction: p(95), Children: map[string]ChildCounts{"commune": {Total: 4, Held: map[string]int{"ntm": 4}}}}, true,
			"all_criteria_met=met all_communes_ntm=met satisfaction=met"},
		{"district: 3 of 4 communes NTM", dist, Facts{Standings: dist.Standings(assessed(9)), Satisfaction: p(95), Children: map[string]ChildCounts{"commune": {Total: 4, Held: map[string]int{"ntm": 3}}}}, false,
			"all_criteria_met=met all_communes_ntm=not_met satisfaction=met"},
		{"district: all xã NTM, its phường and thị trấn not graded", dist, Facts{Standings: dist.Standings(assessed(9)), Satisfaction: p(95), Children: map[string]ChildCounts{"commune": {Total: 4, Held: map[string]int{"ntm": 4}, Ungraded: 2}}}, true,
			"all_criteria_met=met all_communes_ntm=met satisfaction=met"},
		{"advanced district: share of advanced communes unsourced", adv, Facts{Standings: adv.Standings(assessed(9)), Children: map[string]ChildCounts{"commune": {Total: 4, Held: map[string]int{"advanced": 1}}}}, true,
			"all_criteria_met=met share_communes_advanced=unsourced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, rs := tc.tier.Check(tc.facts)
			if ok != tc.eligible || states(rs) != tc.states {
				t.Fatalf("eligible %v, %s", ok, states(rs))
			}
		})
	}
}
