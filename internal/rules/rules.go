// Package rules holds the programme's rulebooks: which tiers each kind of
// unit can hold, in what order and with what prerequisite, and which criteria
// make up each tier's set, per period.
//
// This is the minimal built-in rulebook the ledger needs for its structural
// checks; thresholds, recognition conditions and revocation rules are data
// still to come. Everything here cites its legal source.
package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Tier is one tier of one unit kind under one rulebook.
type Tier struct {
	Name     string   // "ntm", "advanced", "model", "completed", "modern"
	Rank     int      // higher is above; tiers of a kind are ordered by Rank
	Requires string   // the tier that must be held first, "" if none
	Criteria []string // criterion numbers of the tier's set; nil when not sourced
	Open     bool     // criteria are set by provincial rules: any well-formed code is accepted
	Source   string   // legal source
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

// Book is one rulebook: an id, an effective period and its tiers per kind.
type Book struct {
	ID            string
	EffectiveFrom string // YYYY-MM-DD, inclusive
	EffectiveTo   string // YYYY-MM-DD, inclusive; "" for open-ended
	Source        string
	Tiers         map[string][]Tier // by unit kind
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

// Set is the collection of rulebooks the ledger knows.
type Set struct {
	books []*Book // ordered by EffectiveFrom
}

// BuiltIn returns the rulebooks shipped in the binary.
func BuiltIn() *Set {
	return &Set{books: []*Book{book2016(), book2021(), book2026()}}
}

// ByID returns the rulebook with that id.
func (s *Set) ByID(id string) (*Book, bool) {
	for _, b := range s.books {
		if b.ID == id {
			return b, true
		}
	}
	return nil, false
}

// InForce returns the rulebook in force on a business date (YYYY-MM-DD).
// Dates before the first rulebook fall under the first.
func (s *Set) InForce(date string) *Book {
	in := s.books[0]
	for _, b := range s.books {
		if date >= b.EffectiveFrom {
			in = b
		}
	}
	return in
}

// Books lists all rulebooks, oldest first.
func (s *Set) Books() []*Book { return slices.Clone(s.books) }

// Resolve returns the rulebook for a fact: the one it names, or the one in
// force on its date.
func (s *Set) Resolve(named, date string) (*Book, error) {
	if named == "" {
		return s.InForce(date), nil
	}
	b, ok := s.ByID(named)
	if !ok {
		ids := make([]string, len(s.books))
		for i, b := range s.books {
			ids[i] = b.ID
		}
		return nil, fmt.Errorf("unknown rulebook %q (known: %s)", named, strings.Join(ids, ", "))
	}
	return b, nil
}

func numbered(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = strconv.Itoa(i + 1)
	}
	return s
}

func villageTiers() []Tier {
	return []Tier{
		{Name: "ntm", Rank: 1, Open: true, Source: "provincial rules (e.g. Yên Bái 1739/QĐ-UBND 2022)"},
		{Name: "model", Rank: 2, Requires: "ntm", Open: true, Source: "provincial rules"},
	}
}

func book2016() *Book {
	return &Book{
		ID: "vn-2016-2020", EffectiveFrom: "2016-01-01", EffectiveTo: "2022-03-07",
		Source: "1980/QĐ-TTg (2016); model-commune criteria 2018-2020",
		Tiers: map[string][]Tier{
			"commune": {
				{Name: "ntm", Rank: 1, Criteria: numbered(19), Source: "1980/QĐ-TTg"},
				{Name: "advanced", Rank: 2, Requires: "ntm", Criteria: numbered(19), Source: "1980/QĐ-TTg; provincial advanced sets 2018-2020"},
				{Name: "model", Rank: 3, Requires: "advanced", Open: true, Source: "model-commune criteria 2018-2020"},
			},
			"district": {
				{Name: "ntm", Rank: 1, Criteria: numbered(9), Source: "558/QĐ-TTg (2016)"},
				{Name: "advanced", Rank: 2, Requires: "ntm", Criteria: numbered(9), Source: "1560/QĐ-TTg (2021)"},
				{Name: "model", Rank: 3, Requires: "advanced", Open: true, Source: "unsourced"},
				{Name: "completed", Rank: 1, Open: true, Source: "558/QĐ-TTg (2016): towns and provincial cities"},
			},
			"province": {{Name: "completed", Rank: 1, Open: true, Source: "558/QĐ-TTg (2016)"}},
			"village":  villageTiers(),
		},
	}
}

func book2021() *Book {
	return &Book{
		ID: "vn-2021-2025", EffectiveFrom: "2022-03-08", EffectiveTo: "2026-02-14",
		Source: "318/QĐ-TTg, 319/QĐ-TTg, 320/QĐ-TTg, 321/QĐ-TTg (08/03/2022)",
		Tiers: map[string][]Tier{
			"commune": {
				{Name: "ntm", Rank: 1, Criteria: numbered(19), Source: "318/QĐ-TTg annex 1 (19 criteria, 57 indicators)"},
				{Name: "advanced", Rank: 2, Requires: "ntm", Criteria: numbered(19), Source: "318/QĐ-TTg annex 2 (19 criteria, 75 indicators)"},
				{Name: "model", Rank: 3, Requires: "advanced", Criteria: numbered(4), Source: "319/QĐ-TTg (4 conditions)"},
			},
			"district": {
				{Name: "ntm", Rank: 1, Criteria: numbered(9), Source: "320/QĐ-TTg (9 criteria)"},
				{Name: "advanced", Rank: 2, Requires: "ntm", Criteria: numbered(9), Source: "320/QĐ-TTg (9 criteria)"},
				{Name: "model", Rank: 3, Requires: "advanced", Open: true, Source: "unsourced"},
				{Name: "completed", Rank: 1, Open: true, Source: "320/QĐ-TTg: towns and provincial cities completing the NTM task"},
			},
			"province": {{Name: "completed", Rank: 1, Open: true, Source: "321/QĐ-TTg"}},
			"village":  villageTiers(),
		},
	}
}

func book2026() *Book {
	return &Book{
		ID: "vn-2026-2030", EffectiveFrom: "2026-02-15",
		Source: "51/2025/QĐ-TTg (29/12/2025, in force 15/02/2026)",
		Tiers: map[string][]Tier{
			"commune": {
				{Name: "ntm", Rank: 1, Criteria: numbered(10), Source: "51/2025/QĐ-TTg annex I (10 criteria, 47 indicators)"},
				{Name: "modern", Rank: 2, Requires: "ntm", Open: true, Source: "51/2025/QĐ-TTg annex II (pilot)"},
			},
			"province": {{Name: "completed", Rank: 1, Open: true, Source: "51/2025/QĐ-TTg annex III"}},
			"village":  villageTiers(),
		},
	}
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
