package projections

import (
	"fmt"
	"math"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/rules"
)

// Status is a unit's status as the contract (§4) shows it.
type Status struct {
	Unit          string                 `json:"unit"`
	Name          string                 `json:"name"`
	Kind          string                 `json:"kind"`
	Subkind       string                 `json:"subkind,omitempty"`
	Parent        string                 `json:"parent,omitempty"`
	Province      string                 `json:"province,omitempty"`
	Region        string                 `json:"region,omitempty"`
	Group         *int                   `json:"group,omitempty"`
	Flags         []string               `json:"flags,omitempty"`
	Tier          string                 `json:"tier"`
	Recognitions  []HeldRecognition      `json:"recognitions"`
	Revoked       []Recognition          `json:"revoked,omitempty"`
	Criteria      map[string]CriteriaSet `json:"criteria"`
	Satisfaction  *Survey                `json:"satisfaction"`
	Eligible      []string               `json:"eligible"`
	AtRisk        bool                   `json:"at_risk"`
	Risk          *Risk                  `json:"risk,omitempty"`
	Rulebook      string                 `json:"rulebook"`
	DissolvedInto []string               `json:"dissolved_into,omitempty"`
	Dissolved     *Dissolution           `json:"dissolved,omitempty"`
	FormedFrom    []string               `json:"formed_from,omitempty"`
	Version       uint64                 `json:"version"`
	AsOf          string                 `json:"as_of,omitempty"`
	KnownAt       string                 `json:"known_at,omitempty"`
	AsOfSeq       uint64                 `json:"as_of_seq"`

	// EvaluatedOn is the business date the rules were applied for: as_of,
	// or else the unit's latest business date (views never read the clock).
	EvaluatedOn string `json:"evaluated_on,omitempty"`
	// ThresholdColumn is the region or commune group whose thresholds apply,
	// and ThresholdBasis why ("region", "group", or an override flag such as
	// "especially_difficult").
	ThresholdColumn string `json:"threshold_column,omitempty"`
	ThresholdBasis  string `json:"threshold_basis,omitempty"`
	// Conditions are the recognition conditions of each tier of the unit's
	// kind, checked on EvaluatedOn.
	Conditions map[string][]rules.ConditionResult `json:"conditions,omitempty"`
	// Risks lists every revocation rule that applies (Risk is the first:
	// the lowest tier, whose revocation ends the higher ones too).
	Risks []Risk `json:"risks,omitempty"`
	// RisksOpenWhenDissolved are, for a dissolved unit, the rules that
	// applied on its last day: a dissolved unit can no longer be revoked,
	// so it is not at risk, but the case was open when it was dissolved.
	RisksOpenWhenDissolved []Risk `json:"risks_open_when_dissolved,omitempty"`
	// Children counts the unit's child units by kind (districts and
	// provinces), on EvaluatedOn.
	Children map[string]ChildShare `json:"children,omitempty"`
	// Unsourced names what the rules could not evaluate because no source
	// gives it.
	Unsourced []string `json:"unsourced,omitempty"`
}

// HeldRecognition is a tier held, with the decision that granted it.
type HeldRecognition struct {
	Tier     string           `json:"tier"`
	Decision *events.Document `json:"decision,omitempty"`
	Granted  string           `json:"granted_on"`
	Rulebook string           `json:"rulebook"`
	Event    string           `json:"event"`
}

// CriteriaSet is the standing of one tier's criteria.
type CriteriaSet struct {
	Met       int             `json:"met"`
	Total     int             `json:"total"`
	Unsourced bool            `json:"unsourced,omitempty"` // the set's criteria are not in the rulebook
	Items     map[string]Item `json:"items"`
	// Standing resolves each criterion of the set (indicator roll-up);
	// NotMet lists the criteria not maintained (basically_met included).
	Standing []rules.Standing `json:"standing,omitempty"`
	NotMet   []string         `json:"not_met"`
	// Thresholds says, for the unit's column, which of the set's measures
	// have a sourced threshold and which do not.
	Thresholds *ThresholdReport `json:"thresholds,omitempty"`
}

// ThresholdReport lists a set's criteria and indicators by whether their
// threshold is sourced.
type ThresholdReport struct {
	Column     string   `json:"column,omitempty"`
	Sourced    []string `json:"sourced"`
	Unsourced  []string `json:"unsourced"`
	Provincial []string `json:"provincial,omitempty"` // left to the province, not adapted
}

// ChildShare is how a unit's child units of one kind stand.
type ChildShare struct {
	rules.ChildCounts
	Percent        map[string]float64 `json:"percent"` // tier → share held, in percent
	RevokedPercent float64            `json:"revoked_percent"`
}

// Risk is a revocation rule that applies to a unit, with its basis, the
// failing criteria and a message in Vietnamese (message_vi) and English
// (message).
type Risk = rules.Risk

// renderContext is what a status needs beyond the unit's own events.
type renderContext struct {
	rules *rules.Set // with the province's adaptations, when loaded
	// children by kind; nil when not loaded (district and province
	// conditions on their children are then "not_checked").
	children map[string]rules.ChildCounts
	// named is the rulebook a fact names (a grant's), instead of the one
	// in force.
	named string
	// counts renders criteria sets as counts and standings only, without
	// their items and thresholds: what unit summaries keep.
	counts bool
}

// render turns a folded state into a status, with the national rulebooks
// and no cross-unit context. date is the business date the status is for
// ("" = everything recorded, no cutoff).
func render(rs *rules.Set, s *State, date string) *Status {
	return renderIn(renderContext{rules: rs}, s, date)
}

// renderIn turns a folded state into a status.
func renderIn(rc renderContext, s *State, date string) *Status {
	st := &Status{
		Unit: s.Unit, Name: s.Name, Kind: s.Kind, Subkind: s.Subkind, Parent: s.Parent,
		Province: s.Province, Region: s.Region, Group: s.Group, Flags: s.Flags,
		Version: s.Version, FormedFrom: s.FormedFrom,
		Recognitions: []HeldRecognition{}, Criteria: map[string]CriteriaSet{}, Eligible: []string{},
		Satisfaction: s.Satisfaction,
	}
	dissolved := s.dissolvedBy(date)
	if dissolved {
		// A dissolved unit is evaluated on its last day: what it held and
		// how its children stood when it was dissolved, not an empty unit.
		st.Dissolved = s.Dissolved
		st.DissolvedInto = s.Dissolved.Into
		date = s.lastDay()
	}
	on := date
	if on == "" {
		on = s.LastDate
	}
	st.EvaluatedOn = on
	u := rules.Unit{Kind: s.Kind, Province: s.Province, Region: s.Region, Group: s.Group, Flags: s.Flags}
	ap, err := rc.rules.For(u, rc.named, on)
	if err != nil {
		// The ledger checked the name; judge by the book in force.
		ap, err = rc.rules.For(u, "", on)
	}
	if err != nil {
		// For without a named rulebook cannot fail.
		panic(fmt.Sprintf("projections: selecting the rulebook for %s: %v", s.Unit, err))
	}
	book := ap.Book
	st.Rulebook = book.ID
	st.ThresholdColumn, st.ThresholdBasis = ap.Column, ap.ColumnReason
	held := s.Held(date)
	heldTiers := map[string]bool{}
	var heldList []rules.Held
	for _, r := range held {
		st.Recognitions = append(st.Recognitions, HeldRecognition{Tier: r.Tier, Decision: r.Decision, Granted: r.Granted, Rulebook: r.Rulebook, Event: r.Event})
		heldTiers[r.Tier] = true
		heldList = append(heldList, rules.Held{Tier: r.Tier, Granted: r.Granted})
		st.Tier = r.Tier // held is sorted by rank: the last is the highest
	}
	for _, r := range s.Recognitions {
		if r.Revoked != "" && (date == "" || r.Revoked <= date) {
			st.Revoked = append(st.Revoked, r)
		}
	}
	// Criteria of every tier assessed, plus the tiers of the unit's kind.
	tiers := map[string]bool{}
	for t := range s.Criteria {
		tiers[t] = true
	}
	for _, t := range book.TierNames(s.Kind) {
		tiers[t] = true
	}
	standings := map[string][]rules.Standing{}
	for t := range tiers {
		cs, ss := criteriaSet(rc.rules, ap, s, t, rc.counts)
		st.Criteria[t] = cs
		standings[t] = ss
	}
	if rc.children != nil {
		st.Children = map[string]ChildShare{}
		for kind, cc := range rc.children {
			sh := ChildShare{ChildCounts: cc, Percent: map[string]float64{}}
			if cc.Total > 0 {
				for tier, n := range cc.Held {
					sh.Percent[tier] = percent(n, cc.Total)
				}
				sh.RevokedPercent = percent(cc.Revoked, cc.Total)
			}
			st.Children[kind] = sh
		}
	}
	// Eligible: not yet held, prerequisite held, and no recognition
	// condition blocks (every criterion met, satisfaction, children…).
	var satisfaction *float64
	if s.Satisfaction != nil {
		satisfaction = &s.Satisfaction.Percent
	}
	for i := range book.Tiers[s.Kind] {
		t := &book.Tiers[s.Kind][i]
		ok, results := t.Check(rules.Facts{Standings: standings[t.Name], Satisfaction: satisfaction, Children: rc.children})
		if st.Conditions == nil {
			st.Conditions = map[string][]rules.ConditionResult{}
		}
		st.Conditions[t.Name] = results
		if ok && !heldTiers[t.Name] && (t.Requires == "" || heldTiers[t.Requires]) {
			st.Eligible = append(st.Eligible, t.Name)
		}
	}
	st.Risks = book.Risks(s.Kind, on, heldList, func(tier string) []rules.Standing { return standings[tier] }, rc.children)
	if dissolved {
		st.RisksOpenWhenDissolved, st.Risks = st.Risks, nil
	}
	if len(st.Risks) > 0 {
		st.Risk = &st.Risks[0]
		st.AtRisk = true
	}
	for _, h := range heldList {
		if t, ok := book.Tier(s.Kind, h.Tier); ok && len(t.Revocation) == 0 {
			st.Unsourced = append(st.Unsourced, fmt.Sprintf("no revocation rule for a %s holding %s under %s", s.Kind, h.Tier, book.ID))
		} else if !ok {
			st.Unsourced = append(st.Unsourced, fmt.Sprintf("%s has no %s tier %s: its revocation rules are unknown", book.ID, s.Kind, h.Tier))
		}
	}
	return st
}

func percent(n, total int) float64 {
	return math.Round(float64(n)*10000/float64(total)) / 100 // two decimals
}

// criteriaSet renders one tier's criteria under the applied rulebook. Only
// assessments made under a rulebook whose assessments count under it
// (rules.Book.Counts) are part of the standing; the others are shown,
// marked with the rulebook they were made under.
//
// With counts, the items and the threshold report are left out: a summary
// needs the tally only.
func criteriaSet(rs *rules.Set, ap *rules.Applied, s *State, tierName string, counts bool) (CriteriaSet, []rules.Standing) {
	cs := CriteriaSet{Items: map[string]Item{}, NotMet: []string{}}
	counted := make(map[string]rules.Assessment, len(s.Criteria[tierName]))
	tier, known := ap.Tier(s.Kind, tierName)
	for code, it := range s.Criteria[tierName] {
		if under := rs.InForce(it.Date).ID; !ap.Counts(under) {
			it.Rulebook = under
		} else {
			counted[code] = it.assessment()
			if known && !counts {
				if m := tier.Measure(code); m != nil {
					th, state := m.For(ap.Column)
					it.Threshold = &ItemThreshold{State: state, Threshold: th, Column: ap.Column}
					if th != nil && it.Value != nil {
						if meets, ok := th.Meets(*it.Value); ok {
							it.Threshold.Meets = &meets
						}
					}
				}
			}
		}
		if !counts {
			cs.Items[code] = it
		}
	}
	if !known {
		// A tier of another kind or period: count what was assessed.
		tier = &rules.Tier{Name: tierName, Open: true}
	}
	ss := tier.Standings(counted)
	met, failing := rules.Tally(ss)
	cs.Met, cs.NotMet, cs.Standing = met, append(cs.NotMet, failing...), ss
	if tier.Open {
		cs.Unsourced = true
		cs.Total = len(ss)
		return cs, ss
	}
	cs.Total = len(tier.Criteria)
	if counts {
		return cs, ss
	}
	rep := &ThresholdReport{Column: ap.Column, Sourced: []string{}, Unsourced: []string{}}
	add := func(code string, m *rules.Measure) {
		_, state := m.For(ap.Column)
		switch state {
		case rules.ThresholdSourced:
			rep.Sourced = append(rep.Sourced, code)
		case rules.ThresholdProvincial:
			rep.Provincial = append(rep.Provincial, code)
		default:
			rep.Unsourced = append(rep.Unsourced, code)
		}
	}
	for i := range tier.Set {
		c := &tier.Set[i]
		if len(c.Indicators) == 0 {
			add(c.Code, &c.Measure)
		}
		for j := range c.Indicators {
			add(c.Indicators[j].Code, &c.Indicators[j].Measure)
		}
	}
	cs.Thresholds = rep
	return cs, ss
}
