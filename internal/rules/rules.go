// Package rules holds the programme's rulebooks as data, and the code that
// evaluates a unit against them.
//
// A rulebook (Book) is one period's national rules — vn-2016-2020 (Decision
// 1980/QĐ-TTg), vn-2021-2025 (Decisions 318–321/QĐ-TTg and the revocation
// rules of Decision 18/2022/QĐ-TTg), vn-2026-2030 (Decision 51/2025/QĐ-TTg)
// — or a province's adaptation of one, published as a rulebook.published
// event. The national books are YAML files embedded in the binary
// (data/*.yaml); each rule in them carries its legal source and a confidence
// (confirmed, likely, unverified) taken from the domain research.
//
// # Invariants
//
//   - Nothing here is invented: a threshold, share or period that no source
//     gives is null in the data, and evaluation reports it as "unsourced"
//     instead of guessing. Conditions no event can evidence are reported as
//     "not_checked".
//   - A Set is immutable once built; adapting it (WithAdaptations) returns a
//     new Set. Evaluation functions are pure: the same inputs give the same
//     results, so the views built from them stay pure functions of the event
//     sequence.
//   - Which book judges a fact is decided by Set.For: the book the fact
//     names, else the national book in force on its business date, replaced
//     by the unit's province's adaptation of it where one is in force; the
//     unit's classification (region, group, flags) then picks the threshold
//     column.
package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Confidence levels of a rule, from the domain research.
const (
	Confirmed  = "confirmed"
	Likely     = "likely"
	Unverified = "unverified"
)

// Source is the legal source of a rule and how sure we are of it.
type Source struct {
	Ref        string   `yaml:"ref" json:"ref,omitempty"`
	Keys       []string `yaml:"keys" json:"keys,omitempty"`
	Confidence string   `yaml:"confidence" json:"confidence,omitempty"`
}

// String renders a source for messages: "318/QĐ-TTg annex 1 (confirmed)".
func (s Source) String() string {
	ref := s.Ref
	if ref == "" {
		ref = strings.Join(s.Keys, ", ")
	}
	if ref == "" {
		ref = "unsourced"
	}
	if s.Confidence != "" {
		return ref + " (" + s.Confidence + ")"
	}
	return ref
}

// Threshold is the level an indicator's value must reach. Value is nil when
// no source gives it.
type Threshold struct {
	Op    string   `yaml:"op" json:"op"`
	Value *float64 `yaml:"value" json:"value"`
	Unit  string   `yaml:"unit" json:"unit,omitempty"`
}

// Meets reports whether v satisfies the threshold; ok is false when the
// threshold has no value or an unknown operator.
func (t *Threshold) Meets(v float64) (meets, ok bool) {
	if t == nil || t.Value == nil {
		return false, false
	}
	switch t.Op {
	case ">=":
		return v >= *t.Value, true
	case ">":
		return v > *t.Value, true
	case "<=":
		return v <= *t.Value, true
	case "<":
		return v < *t.Value, true
	case "=", "==":
		return v == *t.Value, true
	}
	return false, false
}

// Measure is what a criterion with a single indicator, or an indicator,
// measures against.
type Measure struct {
	// Threshold applies to every column; nil when not sourced.
	Threshold *Threshold `yaml:"threshold" json:"threshold,omitempty"`
	// ByColumn: the threshold differs by region or commune group. Columns
	// holds the sourced values (usually only from a province's adaptation).
	ByColumn bool                  `yaml:"by_column" json:"by_column,omitempty"`
	Columns  map[string]*Threshold `yaml:"columns" json:"columns,omitempty"`
	// Provincial: the national text leaves the level to the provincial
	// People's Committee.
	Provincial bool    `yaml:"provincial" json:"provincial,omitempty"`
	Source     *Source `yaml:"source" json:"source,omitempty"`
	Note       string  `yaml:"note" json:"note,omitempty"`
}

// Threshold states of Measure.For.
const (
	ThresholdSourced    = "sourced"
	ThresholdUnsourced  = "unsourced"
	ThresholdProvincial = "provincial" // left to the province, which has not adapted it
	ThresholdNoColumn   = "no_column"  // varies by region/group, and the unit has none
)

// For returns the threshold for a column and its state.
func (m *Measure) For(column string) (*Threshold, string) {
	if t, ok := m.Columns[column]; ok && column != "" && t != nil && t.Value != nil {
		return t, ThresholdSourced
	}
	if m.Threshold != nil && m.Threshold.Value != nil {
		return m.Threshold, ThresholdSourced
	}
	switch {
	case m.Provincial:
		return nil, ThresholdProvincial
	case m.ByColumn && column == "":
		return nil, ThresholdNoColumn
	}
	return nil, ThresholdUnsourced
}

// Indicator is one measured item of a criterion ("17.1").
type Indicator struct {
	Code    string `yaml:"code" json:"code"`
	VI      string `yaml:"vi" json:"vi,omitempty"`
	EN      string `yaml:"en" json:"en,omitempty"`
	Measure `yaml:",inline"`
}

// Criterion is one criterion of a tier's set.
type Criterion struct {
	Code string `yaml:"code" json:"code"`
	VI   string `yaml:"vi" json:"vi,omitempty"`
	EN   string `yaml:"en" json:"en,omitempty"`
	// Key criteria are the ones Decision 18/2022 names: failing one of them
	// with 30% to under 50% of the set failing makes a unit revocable.
	Key        bool        `yaml:"key" json:"key,omitempty"`
	Indicators []Indicator `yaml:"indicators" json:"indicators,omitempty"`
	// Measure applies when the criterion is measured directly (criteria
	// with one indicator, e.g. 10 Income).
	Measure `yaml:",inline"`
}

// Condition types of a tier's recognition conditions.
const (
	CondAllCriteria     = "all_criteria"     // every criterion of the set met
	CondMinSatisfaction = "min_satisfaction" // satisfaction survey ≥ Percent
	CondChildren        = "children"         // ≥ Percent of child units of ChildKind hold ChildTier
	CondDeclared        = "declared"         // no event type evidences it: not checked
)

// Condition is one recognition condition of a tier.
type Condition struct {
	ID        string   `yaml:"id" json:"id"`
	Type      string   `yaml:"type" json:"type"`
	Percent   *float64 `yaml:"percent" json:"percent"`
	ChildKind string   `yaml:"child_kind" json:"child_kind,omitempty"`
	ChildTier Strings  `yaml:"child_tier" json:"child_tier,omitempty"`
	TextEN    string   `yaml:"text_en" json:"text,omitempty"`
	TextVI    string   `yaml:"text_vi" json:"text_vi,omitempty"`
	Source    Source   `yaml:"source" json:"source"`
}

// Tier is one tier of one unit kind under one rulebook.
type Tier struct {
	Name     string `yaml:"tier"` // "ntm", "advanced", "model", "completed", "modern"
	Rank     int    `yaml:"rank"` // higher is above; tiers of a kind are ordered by Rank
	Requires string `yaml:"requires"`
	VI       string `yaml:"vi"`
	EN       string `yaml:"en"`
	// Open: the tier's criteria are not in the rulebook (provincial rules,
	// or not sourced): any well-formed code is accepted, and eligibility is
	// not evaluated.
	Open           bool   `yaml:"open"`
	Source         Source `yaml:"source"`
	RequiresSource Source `yaml:"requires_source"`
	// Set is the tier's criteria set, in order.
	Set        []Criterion `yaml:"criteria"`
	Conditions []Condition `yaml:"conditions"`
	// Revocation lists the ids of the revocation rules that apply to
	// holders of the tier.
	Revocation     []string `yaml:"revocation"`
	RevocationNote string   `yaml:"revocation_note"`
	IndicatorNote  string   `yaml:"indicator_note"`
	// CriteriaNamesConfidence qualifies the names of Set when they are less
	// sure than the set itself.
	CriteriaNamesConfidence string `yaml:"criteria_names_confidence"`

	// Criteria are the codes of Set (nil for an open tier).
	Criteria []string `yaml:"-"`
}

// HasCriterion reports whether code names a criterion of the set, or an
// indicator ("17.1") of one of its criteria.
func (t *Tier) HasCriterion(code string) bool {
	if t.Open {
		return true
	}
	head, _, _ := strings.Cut(code, ".")
	return slices.Contains(t.Criteria, head)
}

// Criterion returns the criterion with that code.
func (t *Tier) Criterion(code string) *Criterion {
	for i := range t.Set {
		if t.Set[i].Code == code {
			return &t.Set[i]
		}
	}
	return nil
}

// Measure returns what a criterion or indicator code is measured against,
// or nil when the rulebook does not list it.
func (t *Tier) Measure(code string) *Measure {
	head, _, isInd := strings.Cut(code, ".")
	c := t.Criterion(head)
	if c == nil {
		return nil
	}
	if !isInd {
		return &c.Measure
	}
	for i := range c.Indicators {
		if c.Indicators[i].Code == code {
			return &c.Indicators[i].Measure
		}
	}
	return nil
}

// ColumnOverride replaces a unit's region column when it carries a flag.
type ColumnOverride struct {
	Flags  []string `yaml:"flags"`
	Column string   `yaml:"column"`
	TextEN string   `yaml:"text_en"`
	TextVI string   `yaml:"text_vi"`
	Source Source   `yaml:"source"`
}

// Grace is a transition: recognitions granted before RecognizedBefore are
// not revocable under the rule until Until.
type Grace struct {
	RecognizedBefore string `yaml:"recognized_before" json:"recognized_before"`
	Until            string `yaml:"until" json:"until"`
	Source           Source `yaml:"source" json:"source"`
}

// Measures of revocation rules.
const (
	MeasureCriteria = "criteria_not_maintained" // share of the tier's criteria not met
	MeasureRevoked  = "communes_revoked"        // share of the district's communes whose NTM was revoked
)

// RevocationRule is a rule under which a recognition becomes revocable.
type RevocationRule struct {
	ID            string   `yaml:"id"`
	Kind          string   `yaml:"kind"`
	Measure       string   `yaml:"measure"`
	GTEPercent    *float64 `yaml:"gte_percent"`
	LTPercent     *float64 `yaml:"lt_percent"`
	RequireKey    bool     `yaml:"require_key"`
	EffectiveFrom string   `yaml:"effective_from"`
	Basis         string   `yaml:"basis"`
	NameEN        string   `yaml:"name_en"`
	NameVI        string   `yaml:"name_vi"`
	TextEN        string   `yaml:"text_en"`
	TextVI        string   `yaml:"text_vi"`
	Grace         *Grace   `yaml:"grace"`
	// DecisionWithinDays is the period within which the competent
	// authority must decide once the rule applies; nil when not sourced.
	DecisionWithinDays *int   `yaml:"decision_within_days"`
	Source             Source `yaml:"source"`
	Caveat             string `yaml:"caveat"`
}

// Book is one rulebook: an id, an effective period, its tiers per kind,
// threshold columns and revocation rules.
type Book struct {
	ID            string `yaml:"id"`
	TitleVI       string `yaml:"title_vi"`
	TitleEN       string `yaml:"title_en"`
	EffectiveFrom string `yaml:"effective_from"` // YYYY-MM-DD, inclusive
	EffectiveTo   string `yaml:"effective_to"`   // YYYY-MM-DD, inclusive; "" for open-ended
	Source        Source `yaml:"source"`
	Note          string `yaml:"note"`
	// CountsAssessmentsFrom lists earlier books whose assessments still
	// count under this one (same criterion numbering).
	CountsAssessmentsFrom []string          `yaml:"counts_assessments_from"`
	ThresholdsBy          string            `yaml:"thresholds_by"` // "region" or "group"
	Columns               []string          `yaml:"columns"`
	ColumnOverrides       []ColumnOverride  `yaml:"column_overrides"`
	Tiers                 map[string][]Tier `yaml:"kinds"` // by unit kind
	RevocationRules       []RevocationRule  `yaml:"revocation_rules"`

	// Base and Province are set on a province's adaptation.
	Base     string `yaml:"-"`
	Province string `yaml:"-"`
	// Published is the id of the rulebook.published event of an adaptation.
	Published string `yaml:"-"`
}

// Tier returns the tier of a unit kind, or false.
func (b *Book) Tier(kind, name string) (*Tier, bool) {
	for i := range b.Tiers[kind] {
		if b.Tiers[kind][i].Name == name {
			return &b.Tiers[kind][i], true
		}
	}
	return nil, false
}

// TierNames lists the tiers of a kind, lowest first.
func (b *Book) TierNames(kind string) []string {
	var names []string
	for _, t := range b.Tiers[kind] {
		names = append(names, t.Name)
	}
	return names
}

// Rule returns the revocation rule with that id.
func (b *Book) Rule(id string) *RevocationRule {
	for i := range b.RevocationRules {
		if b.RevocationRules[i].ID == id {
			return &b.RevocationRules[i]
		}
	}
	return nil
}

// InForceOn reports whether date falls in the book's effective period.
func (b *Book) InForceOn(date string) bool {
	return date >= b.EffectiveFrom && (b.EffectiveTo == "" || date <= b.EffectiveTo)
}

// Counts reports whether assessments made under book id count under b.
func (b *Book) Counts(id string) bool {
	return id == b.ID || id == b.Base || slices.Contains(b.CountsAssessmentsFrom, id)
}

// Set is the collection of rulebooks the ledger knows: the national books
// and, after WithAdaptations, provinces' adaptations of them.
type Set struct {
	books   []*Book // national, ordered by EffectiveFrom
	adapted []*Book // provinces' adaptations, in publication order
}

// BuiltIn returns the rulebooks shipped in the binary. The embedded data is
// checked by the package's tests, so a failure here is a build defect.
func BuiltIn() *Set {
	s, err := Load()
	if err != nil {
		panic(fmt.Sprintf("rules: embedded rulebooks are invalid: %v", err))
	}
	return s
}

// ByID returns the rulebook with that id: a national book or an adaptation.
func (s *Set) ByID(id string) (*Book, bool) {
	for _, b := range s.adapted {
		if b.ID == id {
			return b, true
		}
	}
	for _, b := range s.books {
		if b.ID == id {
			return b, true
		}
	}
	return nil, false
}

// InForce returns the national rulebook in force on a business date
// (YYYY-MM-DD). Dates before the first rulebook fall under the first.
func (s *Set) InForce(date string) *Book {
	in := s.books[0]
	for _, b := range s.books {
		if date >= b.EffectiveFrom {
			in = b
		}
	}
	return in
}

// Books lists the national rulebooks, oldest first.
func (s *Set) Books() []*Book { return slices.Clone(s.books) }

// Adaptations lists the provinces' adaptations the set holds.
func (s *Set) Adaptations() []*Book { return slices.Clone(s.adapted) }

// Resolve returns the rulebook for a fact: the one it names, or the
// national one in force on its date. A named adaptation the set does not
// hold ("vn-2021-2025/10") resolves to its base: adaptations change
// thresholds and indicators, never tiers or criteria, so the base answers
// every structural question.
func (s *Set) Resolve(named, date string) (*Book, error) {
	if named == "" {
		return s.InForce(date), nil
	}
	if b, ok := s.ByID(named); ok {
		return b, nil
	}
	if base, _, ok := strings.Cut(named, "/"); ok {
		if b, ok := s.ByID(base); ok && b.Base == "" {
			return b, nil
		}
	}
	ids := make([]string, len(s.books))
	for i, b := range s.books {
		ids[i] = b.ID
	}
	return nil, fmt.Errorf("unknown rulebook %q (known: %s, or a province's adaptation <base>/<province>)", named, strings.Join(ids, ", "))
}

// Tier returns the tier of a unit kind under the named rulebook, or under the
// one in force on date when none is named. Its errors name what is wrong in
// words a user can act on.
func (s *Set) Tier(kind, tier, named, date string) (*Tier, error) {
	b, err := s.Resolve(named, date)
	if err != nil {
		return nil, err
	}
	t, ok := b.Tier(kind, tier)
	if !ok {
		names := b.TierNames(kind)
		if len(names) == 0 {
			return nil, fmt.Errorf("rulebook %s has no tiers for a %s", b.ID, kind)
		}
		return nil, fmt.Errorf("%q is not a %s tier under rulebook %s (tiers: %s)", tier, kind, b.ID, strings.Join(names, ", "))
	}
	return t, nil
}

// Unit is what selecting a rulebook needs to know of a unit.
type Unit struct {
	Kind     string
	Province string
	Region   string
	Group    *int
	Flags    []string
}

// Applied is the rulebook that judges a unit on a date, and the threshold
// column its classification selects.
type Applied struct {
	*Book
	// Column is the region (2016-2030) or commune group ("1"…"3", 2026-2030)
	// whose thresholds apply; "" when the unit has none.
	Column string
	// ColumnReason says why: "region", "group", or the override flag
	// ("especially_difficult").
	ColumnReason string
}

// For selects the rulebook for a fact about unit u on date: the book it
// names, else the national book in force, replaced by the unit's
// province's adaptation of it when one is in force on date.
func (s *Set) For(u Unit, named, date string) (*Applied, error) {
	var b *Book
	if named != "" {
		var err error
		if b, err = s.Resolve(named, date); err != nil {
			return nil, err
		}
	} else {
		b = s.InForce(date)
		for _, a := range s.adapted {
			// The latest-published adaptation in force wins.
			if a.Base == b.ID && (a.Province == u.Province || a.Province == "VN") && a.InForceOn(date) {
				b = a
			}
		}
	}
	ap := &Applied{Book: b}
	switch b.ThresholdsBy {
	case "region":
		ap.Column, ap.ColumnReason = u.Region, "region"
		for _, o := range b.ColumnOverrides {
			for _, f := range o.Flags {
				if slices.Contains(u.Flags, f) {
					ap.Column, ap.ColumnReason = o.Column, f
				}
			}
		}
	case "group":
		if u.Group != nil {
			ap.Column, ap.ColumnReason = strconv.Itoa(*u.Group), "group"
		}
	}
	if ap.Column == "" {
		ap.ColumnReason = ""
	}
	return ap, nil
}
