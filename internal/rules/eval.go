package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ntmledger/ntmledger/events"
)

// Criterion statuses beyond the assessed ones (met, basically_met, not_met).
const (
	StatusMet        = "met"
	StatusIncomplete = "incomplete" // some indicators met, others not assessed
)

// Assessment is the standing assessment of one criterion or indicator.
type Assessment struct {
	Status string
	Stage  string
	Date   string
	Seq    uint64
	Value  *float64
}

// Newer reports whether a should replace b: a later business date wins; for
// the same date a later stage (self < district < province < inspection); for
// the same stage the later-recorded event.
func (a Assessment) Newer(b Assessment) bool {
	if a.Date != b.Date {
		return a.Date > b.Date
	}
	if ra, rb := events.StageRank(a.Stage), events.StageRank(b.Stage); ra != rb {
		return ra > rb
	}
	return a.Seq > b.Seq
}

// Failing reports whether a status counts as not maintained: basically_met
// counts as not met for recognition and revocation.
func Failing(status string) bool { return status == "not_met" || status == "basically_met" }

// Standing is how one criterion of a set stands.
type Standing struct {
	Code   string `json:"code"`
	Status string `json:"status"` // met, basically_met, not_met, incomplete, or "" (not assessed)
	Date   string `json:"date,omitempty"`
	Key    bool   `json:"key,omitempty"`
	// Derived: the status rolls up from indicators (From) rather than a
	// criterion-level assessment.
	Derived bool     `json:"derived,omitempty"`
	From    []string `json:"from,omitempty"`
	// Missing lists the set's indicators of the criterion not assessed.
	Missing []string `json:"missing,omitempty"`
}

// CompareCodes orders criterion and indicator codes numerically ("2" <
// "10", "17.2" < "17.10").
func CompareCodes(a, b string) int {
	ah, at, _ := strings.Cut(a, ".")
	bh, bt, _ := strings.Cut(b, ".")
	x, _ := strconv.Atoi(ah)
	y, _ := strconv.Atoi(bh)
	if x != y || ah != bh {
		return cmp.Or(cmp.Compare(x, y), strings.Compare(ah, bh))
	}
	x, _ = strconv.Atoi(at)
	y, _ = strconv.Atoi(bt)
	return cmp.Or(cmp.Compare(x, y), strings.Compare(at, bt))
}

// Standings resolves every criterion of the tier's set from the standing
// assessments (by code; criteria and indicators). For an open tier, the
// criteria are the ones assessed.
//
// Indicator roll-up: a criterion with indicators is met when all of them
// (those the rulebook lists, or where it lists none, those assessed) are
// met, and fails when one of them fails — unless a criterion-level
// assessment is newer. When some indicators are met and others not yet
// assessed, the criterion-level assessment stands; without one, the
// criterion is "incomplete" (not met for recognition, not failing for
// revocation).
func (t *Tier) Standings(items map[string]Assessment) []Standing {
	codes := t.Criteria
	if t.Open {
		seen := map[string]bool{}
		for code := range items {
			head, _, _ := strings.Cut(code, ".")
			if !seen[head] {
				seen[head] = true
				codes = append(codes, head)
			}
		}
		slices.SortFunc(codes, CompareCodes)
	}
	out := make([]Standing, 0, len(codes))
	for _, code := range codes {
		var listed []string
		key := false
		if c := t.Criterion(code); c != nil {
			key = c.Key
			for _, ind := range c.Indicators {
				if ind.Code != code {
					listed = append(listed, ind.Code)
				}
			}
		}
		if len(listed) == 0 {
			for ic := range items {
				if h, _, ok := strings.Cut(ic, "."); ok && h == code {
					listed = append(listed, ic)
				}
			}
			slices.SortFunc(listed, CompareCodes)
		}
		out = append(out, rollUp(code, key, listed, items))
	}
	return out
}

func rollUp(code string, key bool, indicators []string, items map[string]Assessment) Standing {
	crit, hasCrit := items[code]
	st := Standing{Code: code, Key: key}
	if hasCrit {
		st.Status, st.Date = crit.Status, crit.Date
	}
	if len(indicators) == 0 {
		return st
	}
	var newest *Assessment
	var failing, met, missing []string
	worst := ""
	for _, ic := range indicators {
		a, ok := items[ic]
		if !ok {
			missing = append(missing, ic)
			continue
		}
		if newest == nil || a.Newer(*newest) {
			a := a
			newest = &a
		}
		if Failing(a.Status) {
			failing = append(failing, ic)
			if worst != "not_met" {
				worst = a.Status
			}
		} else {
			met = append(met, ic)
		}
	}
	if newest == nil {
		return st
	}
	derived := Standing{Code: code, Key: key, Date: newest.Date, Derived: true, Missing: missing}
	switch {
	case len(failing) > 0:
		derived.Status, derived.From = worst, failing
	case len(missing) == 0:
		derived.Status, derived.From = StatusMet, met
	default:
		// Incomplete: an older complete judgement still stands.
		if hasCrit {
			st.Missing = missing
			return st
		}
		derived.Status, derived.From = StatusIncomplete, met
		return derived
	}
	if hasCrit && crit.Newer(*newest) {
		return st
	}
	return derived
}

// Tally counts standings: met, failing (not maintained) and total.
func Tally(ss []Standing) (met int, failing []string) {
	for _, s := range ss {
		switch {
		case s.Status == StatusMet:
			met++
		case Failing(s.Status):
			failing = append(failing, s.Code)
		}
	}
	return met, failing
}

// ChildCounts counts a unit's child units of one kind on a date.
type ChildCounts struct {
	Total int            `json:"total"`
	Held  map[string]int `json:"held"` // tier → units holding it
	// Revoked counts units whose NTM recognition was revoked and which do
	// not hold NTM again.
	Revoked int `json:"revoked"`
	// Ungraded counts the units of the kind the programme does not grade
	// (phường and thị trấn among communes, quận among districts): they are
	// not in Total, Held or Revoked.
	Ungraded int `json:"ungraded,omitempty"`
	// Dissolved counts the graded units dissolved by the date (merged into
	// others): no longer among the unit's children.
	Dissolved int `json:"dissolved,omitempty"`
}

// Facts are what the recognition conditions of a tier are checked against.
type Facts struct {
	Standings    []Standing
	Satisfaction *float64               // percent of the standing survey; nil when none
	Children     map[string]ChildCounts // by child kind; nil when not loaded
}

// Condition states.
const (
	CondMet        = "met"
	CondNotMet     = "not_met"
	CondMissing    = "missing"     // checkable, but no evidence recorded
	CondUnsourced  = "unsourced"   // the rulebook does not know the value: not checked
	CondNotChecked = "not_checked" // no event type evidences it
)

// ConditionResult is one recognition condition checked.
type ConditionResult struct {
	ID         string   `json:"id"`
	State      string   `json:"state"`
	Detail     string   `json:"detail"`
	Failing    []string `json:"failing,omitempty"`
	Source     Source   `json:"source"`
	Confidence string   `json:"confidence,omitempty"`
}

// Blocks reports whether the result prevents recognition.
func (r ConditionResult) Blocks() bool { return r.State == CondNotMet || r.State == CondMissing }

// Check checks the tier's recognition conditions. eligible is true when no
// condition blocks; an open tier (criteria not in the rulebook) is never
// eligible.
func (t *Tier) Check(f Facts) (eligible bool, results []ConditionResult) {
	if t.Open {
		return false, []ConditionResult{{ID: "criteria_set", State: CondUnsourced, Detail: "the criteria of this tier are not in the rulebook", Source: t.Source}}
	}
	eligible = true
	for _, c := range t.Conditions {
		r := ConditionResult{ID: c.ID, Source: c.Source, Confidence: c.Source.Confidence}
		switch c.Type {
		case CondAllCriteria:
			met, failing := Tally(f.Standings)
			var open []string
			for _, s := range f.Standings {
				if s.Status != StatusMet {
					open = append(open, s.Code)
				}
			}
			r.Failing = open
			switch {
			case met == len(t.Criteria):
				r.State = CondMet
			case len(failing) > 0:
				r.State = CondNotMet
			default:
				r.State = CondMissing
			}
			r.Detail = fmt.Sprintf("%d of %d criteria met", met, len(t.Criteria))
			if len(failing) > 0 {
				r.Detail += fmt.Sprintf("; not met: %s", strings.Join(failing, ", "))
			}
			if n := len(open) - len(failing); n > 0 {
				r.Detail += fmt.Sprintf("; %d not assessed or incomplete", n)
			}
		case CondMinSatisfaction:
			switch {
			case c.Percent == nil:
				r.State, r.Detail = CondUnsourced, "minimum satisfaction not sourced"
			case f.Satisfaction == nil:
				r.State, r.Detail = CondMissing, fmt.Sprintf("no satisfaction survey recorded (minimum %s%%)", pct(*c.Percent))
			case *f.Satisfaction >= *c.Percent:
				r.State, r.Detail = CondMet, fmt.Sprintf("satisfaction %s%% ≥ %s%%", pct(*f.Satisfaction), pct(*c.Percent))
			default:
				r.State, r.Detail = CondNotMet, fmt.Sprintf("satisfaction %s%% < %s%%", pct(*f.Satisfaction), pct(*c.Percent))
			}
		case CondChildren:
			cc, ok := f.Children[c.ChildKind]
			held := 0
			for _, tier := range c.ChildTier {
				held += cc.Held[tier]
			}
			what := fmt.Sprintf("%ss holding %s", c.ChildKind, strings.Join(c.ChildTier, " or "))
			switch {
			case f.Children == nil:
				r.State, r.Detail = CondNotChecked, "child units not loaded in this view"
			case c.Percent == nil:
				r.State, r.Detail = CondUnsourced, fmt.Sprintf("required share of %s not sourced (%d of %d)", what, held, cc.Total)
			case (!ok || cc.Total == 0) && cc.Dissolved > 0:
				r.State, r.Detail = CondMissing, fmt.Sprintf("no %ss under this unit: its %d %ss were dissolved", c.ChildKind, cc.Dissolved, c.ChildKind)
			case !ok || cc.Total == 0:
				r.State, r.Detail = CondMissing, fmt.Sprintf("no %ss registered under this unit", c.ChildKind)
			case float64(held)*100 >= *c.Percent*float64(cc.Total):
				r.State, r.Detail = CondMet, fmt.Sprintf("%d of %d %s (≥ %s%%)", held, cc.Total, what, pct(*c.Percent))
			default:
				r.State, r.Detail = CondNotMet, fmt.Sprintf("%d of %d %s (< %s%%)", held, cc.Total, what, pct(*c.Percent))
			}
			if f.Children != nil && cc.Ungraded > 0 {
				// Phường and thị trấn (or quận) are not graded.
				r.Detail += fmt.Sprintf("; urban %ss not counted: %d", c.ChildKind, cc.Ungraded)
			}
		case CondDeclared:
			r.State, r.Detail = CondNotChecked, c.TextEN
		}
		if r.Blocks() {
			eligible = false
		}
		results = append(results, r)
	}
	return eligible, results
}

func pct(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Held is a recognition held, as risk evaluation needs it.
type Held struct {
	Tier    string
	Granted string // business date
}

// Risk is a revocation rule that applies to a unit.
type Risk struct {
	Rule      string   `json:"id"`
	Name      string   `json:"rule"`
	NameVI    string   `json:"rule_vi"`
	Basis     string   `json:"basis"`
	Tier      string   `json:"tier"`
	Failing   []string `json:"failing"`
	Key       []string `json:"key_failing,omitempty"`
	Total     int      `json:"total"`
	Revoked   int      `json:"revoked_communes,omitempty"`
	Communes  int      `json:"communes,omitempty"`
	MessageVI string   `json:"message_vi"`
	MessageEN string   `json:"message"`
	// GraceUntil: the recognition predates the rule, whose transition
	// defers revocation until this date.
	GraceUntil         string `json:"grace_until,omitempty"`
	DecisionWithinDays *int   `json:"decision_within_days"`
	Source             Source `json:"source"`
}

// Risks applies the book's revocation rules to the tiers a unit holds on
// date, lowest tier first. standings returns the standings of a tier's set
// (under this book); children the unit's child counts by kind.
func (b *Book) Risks(kind, date string, held []Held, standings func(tier string) []Standing, children map[string]ChildCounts) []Risk {
	var out []Risk
	for _, h := range held {
		t, ok := b.Tier(kind, h.Tier)
		if !ok {
			continue
		}
		var ss []Standing
		loaded := false
		for _, id := range t.Revocation {
			r := b.Rule(id)
			if r == nil || (r.EffectiveFrom != "" && date < r.EffectiveFrom) {
				continue
			}
			risk := Risk{Rule: r.ID, Name: r.ID + ": " + r.NameEN, NameVI: r.ID + ": " + r.NameVI, Basis: r.Basis, Tier: h.Tier, Failing: []string{}, DecisionWithinDays: r.DecisionWithinDays, Source: r.Source}
			if r.Grace != nil && h.Granted < r.Grace.RecognizedBefore && date < r.Grace.Until {
				risk.GraceUntil = r.Grace.Until
			}
			switch r.Measure {
			case MeasureCriteria:
				if !loaded {
					ss, loaded = standings(h.Tier), true
				}
				_, failing := Tally(ss)
				total := len(t.Criteria)
				if total == 0 || !inBand(len(failing), total, r) {
					continue
				}
				var keyVI, keyEN []string
				for _, s := range ss {
					if s.Key && Failing(s.Status) {
						risk.Key = append(risk.Key, s.Code)
						c := t.Criterion(s.Code)
						keyVI, keyEN = append(keyVI, c.VI), append(keyEN, c.EN)
					}
				}
				if r.RequireKey && len(risk.Key) == 0 {
					continue
				}
				risk.Failing, risk.Total = failing, total
				head := fmt.Sprintf("%d/%d tiêu chí không duy trì đạt chuẩn", len(failing), total)
				headEN := fmt.Sprintf("%d of %d criteria not maintained", len(failing), total)
				if len(keyVI) > 0 {
					head += ", trong đó có " + strings.Join(keyVI, ", ")
					headEN += ", including " + strings.Join(keyEN, ", ")
				}
				risk.MessageVI = fmt.Sprintf("%s (%s): thuộc diện thu hồi quyết định công nhận %s theo Quyết định %s", head, r.NameVI, h.Tier, r.Basis)
				risk.MessageEN = fmt.Sprintf("%s (%s): the %s recognition is revocable under Decision %s", headEN, r.NameEN, h.Tier, r.Basis)
			case MeasureRevoked:
				cc := children["commune"]
				if cc.Total == 0 || !inBand(cc.Revoked, cc.Total, r) {
					continue
				}
				risk.Revoked, risk.Communes = cc.Revoked, cc.Total
				risk.MessageVI = fmt.Sprintf("%d/%d xã bị thu hồi quyết định công nhận đạt chuẩn nông thôn mới (%s): thuộc diện thu hồi quyết định công nhận %s theo Quyết định %s", cc.Revoked, cc.Total, r.NameVI, h.Tier, r.Basis)
				risk.MessageEN = fmt.Sprintf("%d of %d communes had their NTM recognition revoked (%s): the %s recognition is revocable under Decision %s", cc.Revoked, cc.Total, r.NameEN, h.Tier, r.Basis)
			}
			if risk.GraceUntil != "" {
				risk.MessageVI += fmt.Sprintf("; được công nhận trước khi quy định có hiệu lực, hạn hoàn thiện đến %s", risk.GraceUntil)
				risk.MessageEN += fmt.Sprintf("; recognised before the rule, with a transition until %s", risk.GraceUntil)
			}
			out = append(out, risk)
		}
	}
	return out
}

// inBand reports whether n of total lies in the rule's band, in exact
// integer arithmetic: gte% ≤ n/total < lt%.
func inBand(n, total int, r *RevocationRule) bool {
	share := float64(n) * 100
	if share < *r.GTEPercent*float64(total) {
		return false
	}
	return r.LTPercent == nil || share < *r.LTPercent*float64(total)
}
