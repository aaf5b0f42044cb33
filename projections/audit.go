package projections

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/rules"
)

// Audit findings the rulebook raises. They are computed when asked for, from
// the units' folded states and histories in one snapshot (no stream scan),
// against every fact known now about the dates involved — so a late-recorded
// assessment dated before a grant counts against it.
const (
	// FindingGrantNotMet: a recognition granted while a condition of the
	// tier was not met on the grant's date (criteria not met, satisfaction
	// below the minimum, children short).
	FindingGrantNotMet = "recognition_conditions_not_met"
	// FindingGrantUnevidenced: a recognition granted with conditions the
	// ledger holds no evidence for on that date (criteria not assessed, no
	// satisfaction survey).
	FindingGrantUnevidenced = "recognition_unevidenced"
	// FindingRevocationOverdue: a revocation rule applied, past any
	// transition and decision period, with no revocation decision.
	FindingRevocationOverdue = "revocation_overdue"
	// FindingRevocationCriteriaMet: a revocation for criteria not
	// maintained, while on its date no revocation rule applied.
	FindingRevocationCriteriaMet = "revocation_without_grounds"
	// FindingThresholdContradicted: a standing assessment says "met" while
	// its value misses the sourced threshold of the unit's column.
	FindingThresholdContradicted = "assessment_contradicts_threshold"
)

// RuleFinding is a finding the rulebook raises, citing the events involved.
type RuleFinding struct {
	Kind     string   `json:"kind"`
	Unit     string   `json:"unit"`
	Province string   `json:"province,omitempty"`
	Seq      uint64   `json:"seq"`
	Events   []string `json:"events"`
	Reason   string   `json:"reason"`
	Message  string   `json:"message"`
	Audit    *Audit   `json:"audit"`
}

// Audit is the rulebook detail of a finding.
type Audit struct {
	Severity   string                  `json:"severity"` // high, medium, low
	Tier       string                  `json:"tier"`
	Date       string                  `json:"date"` // of the grant or revocation, or since when the risk applied
	Rulebook   string                  `json:"rulebook"`
	Rule       string                  `json:"rule,omitempty"`
	Basis      string                  `json:"basis,omitempty"`
	Due        string                  `json:"due,omitempty"`
	Until      string                  `json:"until,omitempty"`    // the risk stopped applying (exclusive)
	EndedBy    string                  `json:"ended_by,omitempty"` // on Until: "revocation", "dissolution" (case still open), or "" (the rule stopped applying)
	Decision   string                  `json:"decision,omitempty"`
	Failing    []string                `json:"failing,omitempty"`
	Conditions []rules.ConditionResult `json:"conditions,omitempty"`
	// DecisionWithinDays is the rule's decision period; null when no source
	// gives it (then a decision is due from the day the rule applies).
	DecisionWithinDays *int   `json:"decision_within_days"`
	MessageVI          string `json:"message_vi"`
}

// auditFindings returns the rulebook findings of the units of a province
// (all units when ""), judged up to today (YYYY-MM-DD).
func auditFindings(r pebble.Reader, rs *rules.Set, province, today string) ([]RuleFinding, error) {
	var units []string
	if province != "" {
		units = append(units, province)
		p := provinceUnitsPrefix(province)
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
		if err != nil {
			return nil, err
		}
		for it.First(); it.Valid(); it.Next() {
			if u := string(it.Key()[len(p):]); u != province {
				units = append(units, u)
			}
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	} else {
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: statePrefix, UpperBound: prefixEnd(statePrefix)})
		if err != nil {
			return nil, err
		}
		for it.First(); it.Valid(); it.Next() {
			units = append(units, string(it.Key()[len(statePrefix):]))
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	}
	out := []RuleFinding{}
	for _, u := range units {
		s, err := loadState(r, u)
		if err != nil {
			return nil, err
		}
		if s == nil || !s.Registered {
			continue
		}
		fs, err := thresholdFindings(r, rs, s)
		if err != nil {
			return nil, fmt.Errorf("findings of %s: %w", u, err)
		}
		out = append(out, fs...)
		if len(s.Recognitions) == 0 {
			continue
		}
		fs, err = unitFindings(r, rs, s, today)
		if err != nil {
			return nil, fmt.Errorf("findings of %s: %w", u, err)
		}
		out = append(out, fs...)
	}
	slices.SortStableFunc(out, func(a, b RuleFinding) int {
		return cmp.Or(cmp.Compare(a.Audit.Date, b.Audit.Date), cmp.Compare(a.Unit, b.Unit), cmp.Compare(a.Kind, b.Kind))
	})
	return out, nil
}

// unitAudit evaluates one unit's history.
type unitAudit struct {
	r     pebble.Reader
	rs    *rules.Set
	s     *State
	hist  []*events.Event
	seqOf map[string]uint64
}

// at renders the unit on date from every fact known now about dates up to
// it, leaving out the events in without.
func (ua *unitAudit) at(date, named string, without ...string) (*Status, *State, error) {
	past := foldEvents(&folder{rules: ua.rs}, ua.s.Unit, ua.hist, func(ev *events.Event) bool {
		return ev.BusinessDate() > date || slices.Contains(without, ev.ID)
	})
	past.Province, past.Dissolved = ua.s.Province, ua.s.Dissolved
	rc, err := contextFor(ua.r, ua.rs, past, cut{asOf: date})
	if err != nil {
		return nil, nil, err
	}
	rc.named = named
	return renderIn(rc, past, date), past, nil
}

func unitFindings(r pebble.Reader, rs *rules.Set, s *State, today string) ([]RuleFinding, error) {
	hist, err := readHistory(r, s.Unit)
	if err != nil {
		return nil, err
	}
	ua := &unitAudit{r: r, rs: rs, s: s, hist: hist, seqOf: map[string]uint64{}}
	for _, ev := range hist {
		ua.seqOf[ev.ID] = ev.Seq
	}
	var out []RuleFinding
	for _, g := range s.Recognitions {
		if g.Granted > today {
			continue
		}
		f, err := ua.grant(g)
		if err != nil {
			return nil, err
		}
		if f != nil {
			out = append(out, *f)
		}
		if g.RevokedBy != nil && g.RevokedBy.Tier == g.Tier && g.RevokedBy.Reason == "not_maintained" && g.Revoked <= today {
			f, err := ua.revocation(g)
			if err != nil {
				return nil, err
			}
			if f != nil {
				out = append(out, *f)
			}
		}
	}
	od, err := ua.overdue(today)
	if err != nil {
		return nil, err
	}
	return append(out, od...), nil
}

// cite returns the events behind the failing or unassessed criteria of a
// tier's set in a status, and the standing survey when it matters.
func cite(st *Status, past *State, tier string, conds []rules.ConditionResult) []string {
	var ids []string
	cs := st.Criteria[tier]
	for _, c := range conds {
		if c.ID == "satisfaction" && c.Blocks() && past.Satisfaction != nil && past.Satisfaction.Event != "" {
			ids = append(ids, past.Satisfaction.Event)
		}
	}
	for _, sd := range cs.Standing {
		if !rules.Failing(sd.Status) {
			continue
		}
		codes := sd.From
		if !sd.Derived {
			codes = []string{sd.Code}
		}
		for _, code := range codes {
			if it, ok := cs.Items[code]; ok && it.Event != "" {
				ids = append(ids, it.Event)
			}
		}
	}
	return ids
}

func (ua *unitAudit) grant(g Recognition) (*RuleFinding, error) {
	st, past, err := ua.at(g.Granted, g.Rulebook)
	if err != nil {
		return nil, err
	}
	conds, ok := st.Conditions[g.Tier]
	if !ok {
		return nil, nil
	}
	var notMet, missing []string
	for _, c := range conds {
		switch c.State {
		case rules.CondNotMet:
			notMet = append(notMet, c.ID+": "+c.Detail)
		case rules.CondMissing:
			missing = append(missing, c.ID+": "+c.Detail)
		}
	}
	if len(notMet) == 0 && len(missing) == 0 {
		return nil, nil
	}
	f := &RuleFinding{
		Unit: ua.s.Unit, Province: ua.s.Province, Seq: g.Seq,
		Events: append([]string{g.Event}, cite(st, past, g.Tier, conds)...),
		Audit:  &Audit{Tier: g.Tier, Date: g.Granted, Rulebook: st.Rulebook, Conditions: conds, Failing: st.Criteria[g.Tier].NotMet},
	}
	if g.Decision != nil {
		f.Audit.Decision = g.Decision.Number
	}
	if len(notMet) > 0 {
		f.Kind, f.Reason, f.Audit.Severity = FindingGrantNotMet, "conditions not met", "high"
		f.Message = fmt.Sprintf("%s granted on %s (decision %s) under %s while conditions were not met: %s", g.Tier, g.Granted, f.Audit.Decision, st.Rulebook, strings.Join(notMet, "; "))
		if len(missing) > 0 {
			f.Message += "; no evidence on record: " + strings.Join(missing, "; ")
		}
		f.Audit.MessageVI = fmt.Sprintf("Công nhận %s ngày %s (quyết định %s) khi chưa đạt điều kiện theo %s: %s", g.Tier, g.Granted, f.Audit.Decision, st.Rulebook, strings.Join(notMet, "; "))
	} else {
		f.Kind, f.Reason, f.Audit.Severity = FindingGrantUnevidenced, "no evidence on record", "low"
		f.Message = fmt.Sprintf("%s granted on %s (decision %s) under %s without evidence on record: %s", g.Tier, g.Granted, f.Audit.Decision, st.Rulebook, strings.Join(missing, "; "))
		f.Audit.MessageVI = fmt.Sprintf("Công nhận %s ngày %s (quyết định %s) nhưng sổ cái chưa có minh chứng: %s", g.Tier, g.Granted, f.Audit.Decision, strings.Join(missing, "; "))
	}
	return f, nil
}

// revocation checks a revocation for criteria not maintained against the
// rules on its date (the revocation itself left out).
func (ua *unitAudit) revocation(g Recognition) (*RuleFinding, error) {
	rv := g.RevokedBy
	st, past, err := ua.at(g.Revoked, "", rv.Event)
	if err != nil {
		return nil, err
	}
	t, ok := st.Conditions[g.Tier]
	_ = t
	book, _ := ua.rs.ByID(st.Rulebook)
	if !ok || book == nil {
		return nil, nil
	}
	tier, ok := book.Tier(ua.s.Kind, g.Tier)
	if !ok || len(tier.Revocation) == 0 {
		return nil, nil // no rule to judge it by
	}
	for _, rk := range st.Risks {
		if rk.Tier == g.Tier || slices.ContainsFunc(past.Held(g.Revoked), func(h Recognition) bool { return h.Tier == rk.Tier && h.Rank <= g.Rank }) {
			return nil, nil
		}
	}
	cs := st.Criteria[g.Tier]
	if len(cs.Items) == 0 {
		return nil, nil // nothing assessed: nothing to contradict it
	}
	number := ""
	if rv.Decision != nil {
		number = rv.Decision.Number
	}
	var ids []string
	for _, sd := range cs.Standing {
		if it, ok := cs.Items[sd.Code]; ok && it.Event != "" {
			ids = append(ids, it.Event)
		}
	}
	slices.Sort(ids)
	return &RuleFinding{
		Kind: FindingRevocationCriteriaMet, Unit: ua.s.Unit, Province: ua.s.Province, Seq: ua.seqOf[rv.Event],
		Events: append([]string{rv.Event}, ids...), Reason: "no revocation rule applied",
		Message: fmt.Sprintf("%s revoked on %s (decision %s) for criteria not maintained, while %d of %d criteria were met and no revocation rule of %s applied", g.Tier, g.Revoked, number, cs.Met, cs.Total, st.Rulebook),
		Audit: &Audit{
			Severity: "medium", Tier: g.Tier, Date: g.Revoked, Rulebook: st.Rulebook, Decision: number, Failing: cs.NotMet,
			MessageVI: fmt.Sprintf("Thu hồi %s ngày %s (quyết định %s) vì không duy trì tiêu chí, trong khi %d/%d tiêu chí đạt và không thuộc trường hợp thu hồi nào theo %s", g.Tier, g.Revoked, number, cs.Met, cs.Total, st.Rulebook),
		},
	}, nil
}

// overdue follows the unit's revocation risk through time: at each
// business date of its events (and the dates rules, transitions and
// rulebooks start), up to today. Each run of days a rule applied, past its
// transition and decision period, with no revocation of the tier, is a
// finding.
func (ua *unitAudit) overdue(today string) ([]RuleFinding, error) {
	first := ""
	for _, g := range ua.s.Recognitions {
		if first == "" || g.Granted < first {
			first = g.Granted
		}
	}
	dates := map[string]bool{}
	for _, ev := range ua.hist {
		if d := ev.BusinessDate(); d >= first && d <= today {
			dates[d] = true
		}
	}
	for _, b := range ua.rs.Books() {
		for _, d := range []string{b.EffectiveFrom} {
			if d >= first && d <= today {
				dates[d] = true
			}
		}
		for _, rr := range b.RevocationRules {
			for _, d := range []string{rr.EffectiveFrom, graceUntil(rr)} {
				if d != "" && d >= first && d <= today {
					dates[d] = true
				}
			}
		}
	}
	// A district's D1 follows its communes: the dates a commune that lost a
	// recognition had its recognitions granted or revoked, and the dates
	// communes were dissolved, are dates too. (Other grants do not move
	// D1; leaving them out keeps the dates few.)
	if ua.s.Kind == "district" {
		kids, _, err := children(ua.r, ua.s)
		if err != nil {
			return nil, err
		}
		for _, c := range kids {
			ds := []string{}
			if slices.ContainsFunc(c.Recognitions, func(g Recognition) bool { return g.Revoked != "" }) {
				for _, g := range c.Recognitions {
					ds = append(ds, g.Granted, g.Revoked)
				}
			}
			if c.Dissolved != nil {
				ds = append(ds, c.Dissolved.Effective)
			}
			for _, d := range ds {
				if d != "" && d >= first && d <= today {
					dates[d] = true
				}
			}
		}
	}
	// A dissolved unit can no longer be revoked: its risk stops on the
	// day the dissolution takes effect.
	dissolvedOn := ""
	if d := ua.s.Dissolved; d != nil {
		dissolvedOn = d.Effective
		if dissolvedOn >= first && dissolvedOn <= today {
			dates[dissolvedOn] = true
		}
		for d := range dates {
			if d > dissolvedOn {
				delete(dates, d)
			}
		}
	}
	if first == "" || first > today {
		return nil, nil
	}
	order := make([]string, 0, len(dates))
	for d := range dates {
		order = append(order, d)
	}
	slices.Sort(order)

	type run struct {
		risk  Risk
		since string
		book  string
		ids   []string
		seq   uint64
	}
	var out []RuleFinding
	var cur *run
	closeRun := func(until string) {
		if cur == nil {
			return
		}
		revoked := false
		for _, g := range ua.s.Recognitions {
			if g.Revoked != "" && g.Revoked == until && g.Tier == cur.risk.Tier {
				revoked = true
			}
		}
		due := cur.since
		if cur.risk.GraceUntil != "" && cur.risk.GraceUntil > due {
			due = cur.risk.GraceUntil
		}
		if n := cur.risk.DecisionWithinDays; n != nil {
			if t, err := time.Parse(time.DateOnly, due); err == nil {
				due = t.AddDate(0, 0, *n).Format(time.DateOnly)
			}
		}
		end := today
		if until != "" {
			end = until
		}
		late := due < end
		if revoked {
			// Decided: late only against a sourced decision period.
			late = cur.risk.DecisionWithinDays != nil && due < until
		}
		if late {
			severity := "medium"
			if cur.risk.DecisionWithinDays != nil {
				severity = "high"
			}
			period := "no decision period is sourced, so a decision was due from the day the rule applied"
			if cur.risk.DecisionWithinDays != nil {
				period = fmt.Sprintf("decision period %d days", *cur.risk.DecisionWithinDays)
			}
			stop, stopVI, endedBy := "and still applies", "", ""
			switch {
			case revoked:
				stop, endedBy = "until its revocation on "+until, "revocation"
			case until != "" && until == dissolvedOn:
				endedBy = "dissolution"
				stop = "until the unit was dissolved on " + until + " (the case was still open then; a dissolved unit cannot be revoked)"
				stopVI = "; đơn vị giải thể ngày " + until + " khi chưa có quyết định thu hồi"
			case until != "":
				stop = "until " + until
			}
			out = append(out, RuleFinding{
				Kind: FindingRevocationOverdue, Unit: ua.s.Unit, Province: ua.s.Province, Seq: cur.seq,
				Events: cur.ids, Reason: cur.risk.Name,
				Message: fmt.Sprintf("%s: %s applied to the %s recognition from %s %s, with no revocation decision (due %s; %s)", cur.risk.MessageEN, cur.risk.Rule, cur.risk.Tier, cur.since, stop, due, period),
				Audit: &Audit{
					Severity: severity, Tier: cur.risk.Tier, Date: cur.since, Until: until, EndedBy: endedBy, Rulebook: cur.book, Rule: cur.risk.Rule,
					Basis: cur.risk.Basis, Due: due, Failing: cur.risk.Failing, DecisionWithinDays: cur.risk.DecisionWithinDays,
					MessageVI: fmt.Sprintf("%s: áp dụng từ %s, chưa có quyết định thu hồi (hạn %s)%s", cur.risk.MessageVI, cur.since, due, stopVI),
				},
			})
		}
		cur = nil
	}
	for _, d := range order {
		st, past, err := ua.at(d, "")
		if err != nil {
			return nil, err
		}
		if st.Risk == nil {
			closeRun(d)
			continue
		}
		rk := *st.Risk
		if cur != nil && (cur.risk.Tier != rk.Tier || cur.book != st.Rulebook) {
			closeRun(d)
		}
		if cur == nil {
			var seq uint64
			ids := cite(st, past, rk.Tier, nil)
			for _, id := range ids {
				seq = max(seq, ua.seqOf[id])
			}
			cur = &run{risk: rk, since: d, book: st.Rulebook, ids: ids, seq: seq}
		}
	}
	closeRun("")
	return out, nil
}

func graceUntil(r rules.RevocationRule) string {
	if r.Grace == nil {
		return ""
	}
	return r.Grace.Until
}

// appendRuleFindings adds the rulebook's findings, judged up to today's
// date (read time only: nothing is stored), to a findings list.
func appendRuleFindings(r pebble.Reader, rs *rules.Set, province string, out *FindingList) error {
	fs, err := auditFindings(r, rs, province, time.Now().UTC().Format(time.DateOnly))
	if err != nil {
		return err
	}
	for _, f := range fs {
		out.Findings = append(out.Findings, Finding{
			Kind: f.Kind, Unit: f.Unit, Province: f.Province, Seq: f.Seq, Events: f.Events,
			Reason: f.Reason, Message: f.Message, Audit: f.Audit,
		})
	}
	return nil
}

// thresholdFindings checks the unit's standing assessments against the
// sourced thresholds of its current rulebook and column.
func thresholdFindings(r pebble.Reader, rs *rules.Set, s *State) ([]RuleFinding, error) {
	if len(s.Criteria) == 0 {
		return nil, nil
	}
	c := *s
	rc, err := contextFor(r, rs, &c, cut{})
	if err != nil {
		return nil, err
	}
	st := renderIn(rc, &c, "")
	var out []RuleFinding
	for _, tier := range sortedTiers(st.Criteria) {
		cs := st.Criteria[tier]
		codes := make([]string, 0, len(cs.Items))
		for code := range cs.Items {
			codes = append(codes, code)
		}
		slices.SortFunc(codes, rules.CompareCodes)
		for _, code := range codes {
			it := cs.Items[code]
			th := it.Threshold
			if th == nil || th.Meets == nil || *th.Meets || it.Status != rules.StatusMet {
				continue
			}
			out = append(out, RuleFinding{
				Kind: FindingThresholdContradicted, Unit: s.Unit, Province: s.Province, Seq: it.Seq, Events: []string{it.Event},
				Reason: "value below the threshold",
				Message: fmt.Sprintf("%s %s assessed met on %s with value %v, which does not meet %s %v %s (%s, column %s)",
					tier, code, it.Date, *it.Value, th.Op, *th.Value, th.Unit, st.Rulebook, th.Column),
				Audit: &Audit{
					Severity: "medium", Tier: tier, Date: it.Date, Rulebook: st.Rulebook,
					MessageVI: fmt.Sprintf("Chỉ tiêu %s (%s) được đánh giá đạt ngày %s với giá trị %v, không đạt mức %s %v %s theo %s",
						code, tier, it.Date, *it.Value, th.Op, *th.Value, th.Unit, st.Rulebook),
				},
			})
		}
	}
	return out, nil
}

func sortedTiers[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
