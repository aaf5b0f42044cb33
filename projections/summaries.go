package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/projector"
)

// View names of the read views below, in change notifications.
const (
	ViewRevocations = "revocations"
	ViewTargets     = "targets"
)

// UnitSummary is a unit's current status in one line: what unit lists,
// progress and the auditors' status export read. It is rendered from the
// unit's folded state when the unit's events are applied — never per
// request — so it is a pure function of the event sequence like every view.
type UnitSummary struct {
	Unit          string                   `json:"unit"`
	Name          string                   `json:"name"`
	Kind          string                   `json:"kind"`
	Subkind       string                   `json:"subkind,omitempty"`
	Parent        string                   `json:"parent,omitempty"`
	Province      string                   `json:"province,omitempty"`
	Tier          string                   `json:"tier"`
	Decision      *events.Document         `json:"decision,omitempty"` // of the highest tier held
	GrantedOn     string                   `json:"granted_on,omitempty"`
	Criteria      map[string]CriteriaCount `json:"criteria,omitempty"`
	Eligible      []string                 `json:"eligible"`
	AtRisk        bool                     `json:"at_risk"`
	Risk          *Risk                    `json:"risk,omitempty"`
	Rulebook      string                   `json:"rulebook,omitempty"`
	RegisteredOn  string                   `json:"registered_on,omitempty"`
	DissolvedOn   string                   `json:"dissolved_on,omitempty"`
	DissolvedInto []string                 `json:"dissolved_into,omitempty"`
	// Recognitions are every grant of the unit with its end, oldest first:
	// what progress counts per year.
	Recognitions []Interval `json:"recognitions,omitempty"`
	Version      uint64     `json:"version"`
	Seq          uint64     `json:"seq"`
}

// CriteriaCount is how many criteria of a tier's set are met.
type CriteriaCount struct {
	Met   int `json:"met"`
	Total int `json:"total"`
}

// Interval is one recognition: the tier, when it was granted and, if it
// was, revoked (business dates), and the granting decision's number.
type Interval struct {
	Tier      string `json:"tier"`
	GrantedOn string `json:"granted_on"`
	RevokedOn string `json:"revoked_on,omitempty"`
	Decision  string `json:"decision,omitempty"`
}

// existsOn reports whether the unit existed on date: registered by then
// (when the registration date is known) and not yet dissolved.
func (u *UnitSummary) existsOn(date string) bool {
	return (u.RegisteredOn == "" || u.RegisteredOn <= date) && (u.DissolvedOn == "" || date < u.DissolvedOn)
}

// summarize renders a state into its summary. registeredOn is carried over
// from the previous summary (the state does not keep it).
func (a *applier) summarize(s *State, registeredOn string) *UnitSummary {
	st := renderIn(renderContext{rules: a.fold.rules, counts: true}, s, "")
	u := &UnitSummary{
		Unit: s.Unit, Name: s.Name, Kind: s.Kind, Subkind: s.Subkind, Parent: s.Parent, Province: s.Province,
		Tier: st.Tier, Eligible: st.Eligible, AtRisk: st.AtRisk, Risk: st.Risk, Rulebook: st.Rulebook,
		RegisteredOn: registeredOn, Version: s.Version, Seq: s.Seq,
	}
	for _, r := range st.Recognitions {
		if r.Tier == st.Tier {
			u.Decision, u.GrantedOn = r.Decision, r.Granted
		}
	}
	if len(st.Criteria) > 0 {
		u.Criteria = make(map[string]CriteriaCount, len(st.Criteria))
		for t, cs := range st.Criteria {
			if cs.Total > 0 {
				u.Criteria[t] = CriteriaCount{Met: cs.Met, Total: cs.Total}
			}
		}
	}
	if s.Dissolved != nil {
		u.DissolvedOn, u.DissolvedInto = s.Dissolved.Effective, s.Dissolved.Into
	}
	for _, r := range s.Recognitions {
		iv := Interval{Tier: r.Tier, GrantedOn: r.Granted, RevokedOn: r.Revoked}
		if r.Decision != nil {
			iv.Decision = r.Decision.Number
		}
		u.Recognitions = append(u.Recognitions, iv)
	}
	return u
}

// applyReadViews maintains the summaries, the revocation timeline and the
// targets of the units a batch touched. It runs after the states are final
// for the batch, so each unit is rendered once per batch.
func (a *applier) applyReadViews(bs *batchState, b *pebble.Batch) ([]projector.Change, error) {
	var changes []projector.Change
	for _, unit := range bs.order {
		more, err := a.unitViews(bs, b, bs.states[unit], freshOf(bs.fresh[unit]), false)
		if err != nil {
			return nil, err
		}
		changes = append(changes, more...)
	}
	return changes, nil
}

// unitFresh is what a unit's new events mean for its read views.
type unitFresh struct {
	registeredOn            string // business date of the last registration, if any
	revs, retracts, targets bool   // revocations, retractions, targets among them
	last                    uint64 // seq of the last of them
}

func freshOf(evs []*events.Event) unitFresh {
	var f unitFresh
	for _, ev := range evs {
		switch ev.Type {
		case events.RecognitionRevoked:
			f.revs = true
		case events.EntryRetracted:
			f.retracts = true
		case events.TargetSet:
			f.targets = true
		case events.UnitRegistered:
			f.registeredOn = ev.BusinessDate()
		}
		f.last = ev.Seq
	}
	return f
}

// merge adds the meaning of later events.
func (f *unitFresh) merge(g unitFresh) {
	if g.registeredOn != "" {
		f.registeredOn = g.registeredOn
	}
	f.revs = f.revs || g.revs
	f.retracts = f.retracts || g.retracts
	f.targets = f.targets || g.targets
	f.last = max(f.last, g.last)
}

// unitViews writes the read views of one unit whose new events are f. built:
// f is every event of the unit, and nothing of it is written yet, so its
// targets are derived from its whole history, if it has any. A unit that is
// not registered (its registration retracted) has no read views: what it
// had is removed.
func (a *applier) unitViews(bs *batchState, b *pebble.Batch, s *State, f unitFresh, built bool) ([]projector.Change, error) {
	unit := s.Unit
	if !s.Registered && s.Kind != "country" {
		if !f.retracts {
			return nil, nil
		}
		return nil, a.removeUnitViews(bs, b, s)
	}
	var changes []projector.Change
	if s.Registered {
		old, ok := a.summaries.Get(unit)
		if !ok {
			var err error
			if old, err = loadSummary(bs.db, unit); err != nil {
				return nil, err
			}
		}
		registeredOn := f.registeredOn
		if registeredOn == "" && old != nil {
			registeredOn = old.RegisteredOn
		}
		sum := a.summarize(s, registeredOn)
		if err := writeSummary(b, old, sum); err != nil {
			return nil, err
		}
		bs.sums[unit] = sum
	}
	if f.revs || f.retracts {
		n, err := writeRevocations(bs.db, b, s)
		if err != nil {
			return nil, err
		}
		if n && f.last > 0 {
			changes = append(changes, projector.Change{View: ViewRevocations, Unit: unit, Province: s.Province, Seq: f.last, Type: string(events.RecognitionRevoked)})
		}
	}
	if built && f.targets || !built && (f.targets || f.retracts) {
		changed, err := a.writeTargets(bs, b, s, built || f.retracts)
		if err != nil {
			return nil, err
		}
		if changed && f.last > 0 {
			changes = append(changes, projector.Change{View: ViewTargets, Unit: unit, Province: s.Province, Seq: f.last, Type: string(events.TargetSet)})
		}
	}
	return changes, nil
}

// removeUnitViews removes the summary, revocation rows and targets of a
// unit that is no longer registered.
func (a *applier) removeUnitViews(bs *batchState, b *pebble.Batch, s *State) error {
	old, ok := a.summaries.Get(s.Unit)
	if !ok {
		var err error
		if old, err = loadSummary(bs.db, s.Unit); err != nil {
			return err
		}
	}
	if old != nil {
		keys := [][]byte{summaryKey(s.Unit)}
		if old.Parent != "" {
			keys = append(keys, childKey(old.Parent, s.Unit))
		}
		if old.Province != "" {
			keys = append(keys, provinceKey(old.Province, s.Unit))
		}
		for _, k := range keys {
			if err := b.Delete(k, nil); err != nil {
				return err
			}
		}
		bs.gone = append(bs.gone, s.Unit)
	}
	if _, err := writeRevocations(bs.db, b, &State{Unit: s.Unit}); err != nil {
		return err
	}
	return b.Delete(targetKey(s.Unit), nil)
}

func writeSummary(b *pebble.Batch, old, sum *UnitSummary) error {
	v, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	if err := b.Set(summaryKey(sum.Unit), v, nil); err != nil {
		return err
	}
	if old != nil && old.Parent != "" && old.Parent != sum.Parent {
		if err := b.Delete(childKey(old.Parent, sum.Unit), nil); err != nil {
			return err
		}
	}
	if old != nil && old.Province != "" && old.Province != sum.Province {
		if err := b.Delete(provinceKey(old.Province, sum.Unit), nil); err != nil {
			return err
		}
	}
	if sum.Parent != "" {
		if err := b.Set(childKey(sum.Parent, sum.Unit), nil, nil); err != nil {
			return err
		}
	}
	if sum.Province != "" {
		if err := b.Set(provinceKey(sum.Province, sum.Unit), nil, nil); err != nil {
			return err
		}
	}
	return nil
}

func loadSummary(r pebble.Reader, unit string) (*UnitSummary, error) {
	v, closer, err := r.Get(summaryKey(unit))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read summary of %s: %w", unit, err)
	}
	defer closer.Close()
	var u UnitSummary
	if err := unmarshalView(v, &u); err != nil {
		return nil, fmt.Errorf("decode summary of %s: %w", unit, err)
	}
	return &u, nil
}

// loadName reads a unit's current name from its summary ("" when it has
// none), without decoding the rest.
func loadName(r pebble.Reader, unit string) (string, error) {
	v, closer, err := r.Get(summaryKey(unit))
	if errors.Is(err, pebble.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read summary of %s: %w", unit, err)
	}
	defer closer.Close()
	// The name is the summary's second member: read up to it, not the
	// criteria and risk after it.
	d := jsontext.NewDecoder(bytes.NewReader(v))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return "", fmt.Errorf("decode summary of %s: not an object", unit)
	}
	for d.PeekKind() == '"' {
		k, err := d.ReadToken()
		if err != nil {
			return "", fmt.Errorf("decode summary of %s: %w", unit, err)
		}
		if k.String() != "name" {
			if err := d.SkipValue(); err != nil {
				return "", fmt.Errorf("decode summary of %s: %w", unit, err)
			}
			continue
		}
		val, err := d.ReadToken()
		if err != nil || val.Kind() != '"' {
			return "", fmt.Errorf("decode summary of %s: name is not a string", unit)
		}
		return val.String(), nil
	}
	return "", nil
}

// unmarshalView decodes what the views wrote with encoding/json, with
// github.com/go-json-experiment/json: about 2.5 times faster, and strict
// where the writer never strays (exact names, valid UTF-8, no name twice).
// Members it does not know are skipped.
func unmarshalView(b []byte, v any) error {
	return jsonv2.Unmarshal(b, v)
}

// UnitFilter selects units for a list. Empty fields do not filter.
type UnitFilter struct {
	Parent   string // direct children of this unit
	Province string // units of this province
	Kind     string
	Tier     string // the highest tier held; "none" for units holding none
	AtRisk   *bool
	// Limit bounds the page (default 100, at most 1000); After is the last
	// unit code of the previous page.
	Limit int
	After string
}

// Default and largest page sizes of lists.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

func (f *UnitFilter) match(u *UnitSummary) bool {
	if f.Kind != "" && u.Kind != f.Kind {
		return false
	}
	if f.Province != "" && u.Province != f.Province {
		return false
	}
	if f.Parent != "" && u.Parent != f.Parent {
		return false
	}
	switch {
	case f.Tier == "none" && u.Tier != "":
		return false
	case f.Tier != "" && f.Tier != "none" && u.Tier != f.Tier:
		return false
	}
	return f.AtRisk == nil || *f.AtRisk == u.AtRisk
}

// UnitList is a page of units in code order. Next, when set, is the After
// of the next page.
type UnitList struct {
	Units   []UnitSummary `json:"units"`
	Next    string        `json:"next,omitempty"`
	AsOfSeq uint64        `json:"as_of_seq"`
}

// Units lists units with their status summaries, in code order, a page at a
// time.
func (v *Views) Units(_ context.Context, f UnitFilter) (*UnitList, error) {
	limit := pageLimit(f.Limit)
	out := &UnitList{Units: []UnitSummary{}}
	seq, err := v.snapshot(func(r pebble.Reader) error {
		return eachSummary(r, f.Parent, f.Province, f.After, func(u *UnitSummary) (bool, error) {
			if !f.match(u) {
				return true, nil
			}
			if len(out.Units) == limit {
				out.Next = out.Units[limit-1].Unit
				return false, nil
			}
			out.Units = append(out.Units, *u)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	out.AsOfSeq = seq
	return out, nil
}

// EachUnit calls fn with the summary of every unit of a province (all units
// when province is ""), in code order, and returns the sequence the views
// hold.
func (v *Views) EachUnit(_ context.Context, province string, fn func(*UnitSummary) error) (uint64, error) {
	return v.snapshot(func(r pebble.Reader) error {
		return eachSummary(r, "", province, "", func(u *UnitSummary) (bool, error) {
			return true, fn(u)
		})
	})
}

// eachSummary walks summaries in unit code order after a cursor: the
// children of parent, the units of province, or all of them. fn returns
// false to stop.
func eachSummary(r pebble.Reader, parent, province, after string, fn func(*UnitSummary) (bool, error)) error {
	var prefix []byte
	switch {
	case parent != "":
		prefix = childrenPrefix(parent)
	case province != "":
		prefix = provinceUnitsPrefix(province)
	default:
		prefix = summaryPrefix
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	ok := it.First()
	if after != "" {
		ok = it.SeekGE(append(append(bytes.Clone(prefix), after...), 0))
	}
	for ; ok; ok = it.Next() {
		unit := string(it.Key()[len(prefix):])
		var u *UnitSummary
		if bytes.Equal(prefix, summaryPrefix) {
			u = new(UnitSummary)
			if err := unmarshalView(it.Value(), u); err != nil {
				return fmt.Errorf("decode summary of %s: %w", unit, err)
			}
		} else if u, err = loadSummary(r, unit); err != nil {
			return err
		} else if u == nil {
			continue
		}
		more, err := fn(u)
		if err != nil || !more {
			return err
		}
	}
	return it.Error()
}
