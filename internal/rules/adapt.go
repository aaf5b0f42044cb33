package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Adaptation is a province's adaptation of a national rulebook, as a
// rulebook.published event carries it (events.RulebookAdaptation).
//
// Thresholds maps tier → code → threshold, where a threshold is
//
//	{"op": ">=", "value": 45, "unit": "million VND"}            every column
//	{"op": ">=", "unit": "%", "columns": {"red_river_delta": 95}} per column
//
// and the reserved code "satisfaction" sets the tier's minimum satisfaction
// percent: {"satisfaction": {"value": 95}}.
//
// Criteria maps tier → extra indicators under existing criteria:
//
//	{"ntm": [{"code": "17.12", "en": "…", "vi": "…", "op": ">=", "value": 50, "unit": "%"}]}
//
// An adaptation can make rules stricter or add indicators; it cannot add or
// remove tiers or criteria, so the national book answers every structural
// check.
type Adaptation struct {
	ID            string
	Base          string
	Province      string // the unit that published it: a province code, or "VN"
	EffectiveFrom string
	EffectiveTo   string
	Thresholds    json.RawMessage
	Criteria      json.RawMessage
	Event         string // the rulebook.published event id
}

type thresholdOverride struct {
	Op      string             `json:"op"`
	Value   *float64           `json:"value"`
	Unit    string             `json:"unit"`
	Columns map[string]float64 `json:"columns"`
}

type indicatorOverride struct {
	Code  string   `json:"code"`
	EN    string   `json:"en"`
	VI    string   `json:"vi"`
	Op    string   `json:"op"`
	Value *float64 `json:"value"`
	Unit  string   `json:"unit"`
}

var ops = []string{">=", ">", "<=", "<", "="}

func strictDecode(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Adapt builds the adapted book. Its errors name the field at fault
// ("thresholds.ntm.17.1: …") so the ledger can reject the event.
func (s *Set) Adapt(a Adaptation) (*Book, error) {
	base, ok := s.ByID(a.Base)
	if !ok || base.Base != "" {
		return nil, fmt.Errorf("base: %q is not a national rulebook", a.Base)
	}
	if !strings.HasPrefix(a.ID, base.ID+"/") || len(a.ID) == len(base.ID)+1 {
		return nil, fmt.Errorf("id: %q must be <base>/<suffix>, e.g. %s/%s", a.ID, base.ID, a.Province)
	}
	if _, ok := s.ByID(a.ID); ok {
		return nil, fmt.Errorf("id: rulebook %q already exists", a.ID)
	}
	b, err := deepCopy(base)
	if err != nil {
		return nil, err
	}
	b.ID, b.Base, b.Province, b.Published = a.ID, base.ID, a.Province, a.Event
	b.EffectiveFrom, b.EffectiveTo = a.EffectiveFrom, a.EffectiveTo
	b.Source = Source{Ref: fmt.Sprintf("adaptation %s of %s published by %s", a.ID, base.ID, a.Province), Confidence: Confirmed}
	b.CountsAssessmentsFrom = append(b.CountsAssessmentsFrom, base.CountsAssessmentsFrom...)
	if len(a.Criteria) > 0 && string(a.Criteria) != "null" {
		var extra map[string][]indicatorOverride
		if err := strictDecode(a.Criteria, &extra); err != nil {
			return nil, fmt.Errorf("criteria: %v", err)
		}
		for _, tier := range sortedKeys(extra) {
			t, err := b.adaptedTier(a.Province, tier)
			if err != nil {
				return nil, fmt.Errorf("criteria.%s: %v", tier, err)
			}
			for i, in := range extra[tier] {
				where := fmt.Sprintf("criteria.%s[%d]", tier, i)
				head, _, isInd := strings.Cut(in.Code, ".")
				c := t.Criterion(head)
				if !isInd || c == nil {
					return nil, fmt.Errorf("%s.code: %q is not an indicator code under a criterion of the %s set", where, in.Code, tier)
				}
				if t.Measure(in.Code) != nil {
					return nil, fmt.Errorf("%s.code: %s already exists; set its threshold under thresholds", where, in.Code)
				}
				ind := Indicator{Code: in.Code, EN: in.EN, VI: in.VI}
				ind.Source = &Source{Ref: "adaptation " + a.ID, Confidence: Confirmed}
				if in.Value != nil {
					if !slices.Contains(ops, in.Op) {
						return nil, fmt.Errorf("%s.op: %q is not one of %v", where, in.Op, ops)
					}
					ind.Threshold = &Threshold{Op: in.Op, Value: in.Value, Unit: in.Unit}
				}
				c.Indicators = append(c.Indicators, ind)
			}
		}
	}
	if len(a.Thresholds) > 0 && string(a.Thresholds) != "null" {
		var th map[string]map[string]thresholdOverride
		if err := strictDecode(a.Thresholds, &th); err != nil {
			return nil, fmt.Errorf("thresholds: %v", err)
		}
		for _, tier := range sortedKeys(th) {
			t, err := b.adaptedTier(a.Province, tier)
			if err != nil {
				return nil, fmt.Errorf("thresholds.%s: %v", tier, err)
			}
			for _, code := range sortedKeys(th[tier]) {
				o := th[tier][code]
				where := fmt.Sprintf("thresholds.%s.%s", tier, code)
				if code == "satisfaction" {
					if o.Value == nil || *o.Value < 0 || *o.Value > 100 {
						return nil, fmt.Errorf("%s.value: a percent 0–100 is required", where)
					}
					found := false
					for i := range t.Conditions {
						if c := &t.Conditions[i]; c.Type == CondMinSatisfaction {
							c.Percent, c.Source, found = o.Value, Source{Ref: "adaptation " + a.ID, Confidence: Confirmed}, true
						}
					}
					if !found {
						t.Conditions = append(t.Conditions, Condition{ID: "satisfaction", Type: CondMinSatisfaction, Percent: o.Value, Source: Source{Ref: "adaptation " + a.ID, Confidence: Confirmed}})
					}
					continue
				}
				m := t.Measure(code)
				if m == nil {
					if t.Criterion(strings.SplitN(code, ".", 2)[0]) == nil {
						return nil, fmt.Errorf("%s: %q is not a criterion or indicator of the %s set", where, code, tier)
					}
					return nil, fmt.Errorf("%s: indicator %s is not in the national set; add it under criteria first", where, code)
				}
				if !slices.Contains(ops, o.Op) {
					return nil, fmt.Errorf("%s.op: %q is not one of %v", where, o.Op, ops)
				}
				if o.Value == nil && len(o.Columns) == 0 {
					return nil, fmt.Errorf("%s: give value and/or columns", where)
				}
				m.Source = &Source{Ref: "adaptation " + a.ID, Confidence: Confirmed}
				if o.Value != nil {
					m.Threshold = &Threshold{Op: o.Op, Value: o.Value, Unit: o.Unit}
				}
				for _, col := range sortedKeys(o.Columns) {
					if !slices.Contains(b.Columns, col) {
						return nil, fmt.Errorf("%s.columns: %q is not a column of %s (%s)", where, col, b.ID, strings.Join(b.Columns, ", "))
					}
					v := o.Columns[col]
					if m.Columns == nil {
						m.Columns = map[string]*Threshold{}
					}
					m.Columns[col] = &Threshold{Op: o.Op, Value: &v, Unit: o.Unit}
				}
			}
		}
	}
	return b, nil
}

// adaptedTier finds the tier an adaptation changes, in any kind (tier names
// are unique across the kinds a province adapts: commune sets, or a
// district's with the prefix "district:").
func (b *Book) adaptedTier(province, name string) (*Tier, error) {
	kind := "commune"
	if k, n, ok := strings.Cut(name, ":"); ok {
		kind, name = k, n
	}
	t, ok := b.Tier(kind, name)
	if !ok {
		return nil, fmt.Errorf("%q is not a %s tier of %s (tiers: %s)", name, kind, b.Base, strings.Join(b.TierNames(kind), ", "))
	}
	if t.Open {
		return nil, fmt.Errorf("the %s %s set is not in the rulebook; it cannot be adapted", kind, name)
	}
	return t, nil
}

// WithAdaptations returns a set that also holds the given adaptations
// (built by Adapt), in the given order; later ones win when several are in
// force for the same province on the same date.
func (s *Set) WithAdaptations(books ...*Book) *Set {
	if len(books) == 0 {
		return s
	}
	n := &Set{books: s.books, adapted: slices.Clone(s.adapted)}
	n.adapted = append(n.adapted, books...)
	return n
}

func deepCopy(b *Book) (*Book, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("copy rulebook %s: %w", b.ID, err)
	}
	var c Book
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("copy rulebook %s: %w", b.ID, err)
	}
	return &c, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CheckAdaptation reports whether an adaptation is well formed against its
// base: the ledger rejects a rulebook.published event that is not.
func (s *Set) CheckAdaptation(a Adaptation) error {
	_, err := s.Adapt(a)
	return err
}
