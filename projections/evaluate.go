package projections

import (
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/rules"
)

// Evaluation at read time. A stored state is a fold of the unit's own
// events; what a status needs beyond them is read from the same snapshot
// when the status is asked for:
//
//   - the rulebook adaptations published by the unit's province (and by
//     VN), kept in those units' states, filtered by known_at;
//   - for districts and provinces, their child units' states (through the
//     children and province indexes), counted on the status's date.
//
// Nothing here reads the clock or writes a byte, so views stay pure.

// cut is the business date and record time a status is for; zero values
// mean no cut-off.
type cut struct {
	asOf    string
	knownAt time.Time
}

func (c cut) skips(ev *events.Event) bool {
	if c.asOf != "" && ev.BusinessDate() > c.asOf {
		return true
	}
	return !c.knownAt.IsZero() && ev.RecordedTime().After(c.knownAt)
}

// statusAt renders a unit's status from a snapshot: current when the cut
// is zero, on business date asOf, as the ledger knew it at knownAt.
func statusAt(r pebble.Reader, rs *rules.Set, unit string, c cut) (*Status, error) {
	s, err := loadState(r, unit)
	if err != nil {
		return nil, err
	}
	if s == nil || !s.Registered {
		return nil, fmt.Errorf("unit %s: %w", unit, ErrNotFound)
	}
	if c.asOf != "" || !c.knownAt.IsZero() {
		hist, err := readHistory(r, unit)
		if err != nil {
			return nil, err
		}
		past := foldEvents(&folder{rules: rs}, unit, hist, c.skips)
		if !past.Registered {
			return nil, fmt.Errorf("unit %s on %s: %w", unit, describeCut(c.asOf, c.knownAt), ErrNotFound)
		}
		past.Province, past.Dissolved = s.Province, s.Dissolved
		s = past
	}
	rc, err := contextFor(r, rs, s, c)
	if err != nil {
		return nil, err
	}
	st := renderIn(rc, s, c.asOf)
	st.AsOf = c.asOf
	if !c.knownAt.IsZero() {
		st.KnownAt = c.knownAt.UTC().Format(time.RFC3339Nano)
	}
	return st, nil
}

// dissolvedBy reports whether s was dissolved on or before date ("" = now).
func (s *State) dissolvedBy(date string) bool {
	return s.Dissolved != nil && (date == "" || s.Dissolved.Effective <= date)
}

// lastDay is the day before s's dissolution took effect: the last day it
// existed, on which a dissolved unit is evaluated. A dissolved unit can be
// neither recognized nor revoked after it, and its children (dissolved with
// it) are counted as they were then.
func (s *State) lastDay() string {
	t, err := time.Parse(time.DateOnly, s.Dissolved.Effective)
	if err != nil {
		return s.Dissolved.Effective // the ledger validated the date
	}
	return t.AddDate(0, 0, -1).Format(time.DateOnly)
}

// contextFor loads what rendering s needs beyond its own events. For a
// current status of a district or province, s.LastDate (the date the rules
// are applied on, of a copy) moves up to its children's latest date. A unit
// dissolved by the cut has its children counted on its last day.
func contextFor(r pebble.Reader, rs *rules.Set, s *State, c cut) (renderContext, error) {
	adapted, err := adaptedRules(r, rs, s.Province, c.knownAt)
	if err != nil {
		return renderContext{}, err
	}
	rc := renderContext{rules: adapted}
	if s.Kind == "district" || s.Kind == "province" {
		kids, latest, err := children(r, s)
		if err != nil {
			return renderContext{}, err
		}
		date := c.asOf
		switch {
		case s.dissolvedBy(date):
			date = s.lastDay()
		case date == "":
			// The current status is evaluated on the latest business date
			// of the unit and its children, and the children are counted
			// on that date too: a district whose communes were all
			// dissolved later (by the 2025 reform, which recorded no event
			// on the district) shows them as they stood then, not none.
			if latest > s.LastDate {
				s.LastDate = latest
			}
			date = s.LastDate
		}
		rc.children = countChildren(kids, date)
	}
	return rc, nil
}

// adaptedRules returns rs with the adaptations published by VN and by the
// province, as known at knownAt (zero: all).
func adaptedRules(r pebble.Reader, rs *rules.Set, province string, knownAt time.Time) (*rules.Set, error) {
	var books []*rules.Book
	for _, unit := range []string{events.Country, province} {
		if unit == "" {
			continue
		}
		ps, err := loadState(r, unit)
		if err != nil {
			return nil, err
		}
		if ps == nil {
			continue
		}
		for _, p := range ps.Rulebooks {
			if !knownAt.IsZero() {
				if t, err := time.Parse(time.RFC3339Nano, p.RecordedAt); err == nil && t.After(knownAt) {
					continue
				}
			}
			b, err := rs.Adapt(adaptationOf(unit, p))
			if err != nil {
				// The ledger checked it when it was appended; a rulebook
				// that no longer adapts (its base changed) is left out.
				continue
			}
			books = append(books, b)
		}
	}
	return rs.WithAdaptations(books...), nil
}

func adaptationOf(unit string, p Published) rules.Adaptation {
	return rules.Adaptation{
		ID: p.ID, Base: p.Base, Province: unit, EffectiveFrom: p.EffectiveFrom, EffectiveTo: p.EffectiveTo,
		Thresholds: p.Thresholds, Criteria: p.Criteria, Event: p.Event,
	}
}

// graded reports whether the programme counts a unit of this kind and
// subkind among the units it grades: a commune only when it is a rural
// commune (xã) — the NTM commune tiers are tiers of xã (docs/rules.md
// section 6), phường and thị trấn are urban, and the provinces' plans count
// xã (Lào Cai 104/KH-BCĐ: 127 communes) — and a district-level unit unless
// it is an urban district (quận). A unit registered without a subkind
// counts. The đặc khu (special zones) of the 2025 reform are not xã.
func graded(kind, subkind string) bool {
	switch kind {
	case "commune":
		return subkind == "" || subkind == "xa"
	case "district":
		return subkind != "quan"
	}
	return true
}

// children returns a district's child units, or a province's units, and
// the latest business date among them.
//
// NB: children are the ledger's states now; a known_at cut-off applies to
// the unit's own events and to adaptations, not to its children's.
func children(r pebble.Reader, s *State) ([]*State, string, error) {
	prefix := childrenPrefix(s.Unit)
	if s.Kind == "province" {
		prefix = provinceUnitsPrefix(s.Unit)
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, "", err
	}
	defer it.Close()
	var out []*State
	latest := ""
	for it.First(); it.Valid(); it.Next() {
		code := string(it.Key()[len(prefix):])
		if code == s.Unit {
			continue
		}
		c, err := loadState(r, code)
		if err != nil {
			return nil, "", err
		}
		if c == nil || !c.Registered {
			continue
		}
		if c.LastDate > latest {
			latest = c.LastDate
		}
		out = append(out, c)
	}
	if err := it.Error(); err != nil {
		return nil, "", errors.Join(fmt.Errorf("children of %s", s.Unit), err)
	}
	return out, latest, nil
}

// countChildren counts child units by kind on date ("" = now). A unit
// counts when registered by date, graded (a xã, not a phường or thị trấn;
// the others are counted apart as Ungraded) and not dissolved by then (the
// dissolved ones are counted apart as Dissolved). Revoked counts communes
// whose NTM recognition was revoked by date and which do not hold NTM on
// date.
func countChildren(kids []*State, date string) map[string]rules.ChildCounts {
	out := map[string]rules.ChildCounts{}
	for _, c := range kids {
		if date != "" && c.RegisteredOn > date {
			continue
		}
		cc := out[c.Kind]
		if cc.Held == nil {
			cc.Held = map[string]int{}
		}
		switch {
		case !graded(c.Kind, c.Subkind):
			cc.Ungraded++
		case c.dissolvedBy(date):
			cc.Dissolved++
		default:
			cc.Total++
			holdsNTM, lostNTM := false, false
			for _, h := range c.Held(date) {
				cc.Held[h.Tier]++
				holdsNTM = holdsNTM || h.Tier == "ntm"
			}
			for _, rec := range c.Recognitions {
				if rec.Tier == "ntm" && rec.Revoked != "" && (date == "" || rec.Revoked <= date) {
					lostNTM = true
				}
			}
			if lostNTM && !holdsNTM {
				cc.Revoked++
			}
		}
		out[c.Kind] = cc
	}
	return out
}
