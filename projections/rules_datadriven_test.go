package projections

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/pebble/v2"
	"github.com/oklog/ulid/v2"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/projector"
	"github.com/ntmledger/ntmledger/internal/rules"
)

// TestRulesDataDriven runs the files in testdata/rules: events in, status
// and findings out. The events go through the views' applier into a real
// Pebble database, in one batch per `events` block, with the seq, version,
// hash chain and recorded_at a ledger would stamp (recorded_at is given per
// event, or defaults to noon UTC of its business date), so as_of and
// known_at can be exercised exactly. Run with -rewrite to regenerate the
// expectations, then read the diff: the expectations are the spec.
//
//	events            JSON lines (id optional; recorded_at optional)
//	assess UNIT date=D [tier=ntm] [n=19] [stage=province] [recorded_at=T]
//	       [not_met=c,…] [basically_met=c,…] [only=c,…]
//	                  criteria 1…n (or only those listed) assessed met,
//	                  except those listed, as one batch
//	status UNIT [as_of=D] [known_at=T] [conditions] [full]
//	findings [province=P] today=D
func TestRulesDataDriven(t *testing.T) {
	datadriven.Walk(t, filepath.Join("..", "testdata", "rules"), func(t *testing.T, path string) {
		h := newHarness(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "events":
				if err := h.apply(d.Input); err != nil {
					return "error: " + err.Error()
				}
				return "ok"
			case "assess":
				if err := h.apply(h.assess(t, d)); err != nil {
					return "error: " + err.Error()
				}
				return "ok"
			case "status":
				return h.status(t, d)
			case "findings":
				return h.findings(t, d)
			}
			t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
			return ""
		})
	})
}

type harness struct {
	t     *testing.T
	db    *pebble.DB
	rs    *rules.Set
	app   *applier
	seq   uint64
	ver   map[string]uint64
	head  map[string]string
	count int
}

func newHarness(t *testing.T) *harness {
	db, err := projector.OpenDB(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rs := rules.BuiltIn()
	return &harness{t: t, db: db, rs: rs, app: newApplier(rs), ver: map[string]uint64{}, head: map[string]string{}}
}

type ddEvent struct {
	events.Input
	RecordedAt string `json:"recorded_at"`
}

var ddActor = &events.Actor{ID: "test", Role: "province", Name: "test"}

// apply stamps and applies one block of events as one batch.
func (h *harness) apply(input string) error {
	var evs []*events.Event
	for i, line := range strings.Split(strings.TrimSpace(input), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var in ddEvent
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return fmt.Errorf("line %d: %v", i+1, err)
		}
		if in.Actor == nil {
			in.Actor = ddActor
		}
		h.count++
		if in.ID == "" {
			sum := sha256.Sum256([]byte(fmt.Sprintf("event %d", h.count)))
			in.ID = ulid.MustNew(uint64(h.count), bytes.NewReader(sum[:])).String()
		}
		if _, err := events.Validate(&in.Input); err != nil {
			return fmt.Errorf("line %d: %v", i+1, err)
		}
		if in.RecordedAt == "" {
			in.RecordedAt = in.OccurredAt[:10] + "T12:00:00Z"
		}
		h.seq++
		h.ver[in.Unit]++
		ev := &events.Event{
			ID: in.ID, Type: in.Type, Unit: in.Unit, OccurredAt: in.OccurredAt, RecordedAt: in.RecordedAt,
			Actor: *in.Actor, Document: in.Document, Data: in.Data, Version: h.ver[in.Unit], PrevHash: h.head[in.Unit], Seq: h.seq,
		}
		raw, err := events.Seal(ev)
		if err != nil {
			return err
		}
		ev.Raw, h.head[in.Unit] = raw, ev.Hash
		evs = append(evs, ev)
	}
	b := h.db.NewBatch()
	if _, err := h.app.Apply(context.Background(), h.db, b, evs); err != nil {
		b.Close()
		return err
	}
	return b.Commit(pebble.Sync)
}

func (h *harness) status(t *testing.T, d *datadriven.TestData) string {
	var c cut
	var unit string
	full, conds := false, false
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "conditions":
			conds = true
		case "as_of":
			c.asOf = a.Vals[0]
		case "known_at":
			kt, err := time.Parse(time.RFC3339, a.Vals[0])
			if err != nil {
				t.Fatalf("%s: %v", d.Pos, err)
			}
			c.knownAt = kt
		case "full":
			full = true
		default:
			unit = a.Key
		}
	}
	snap := h.db.NewSnapshot()
	defer snap.Close()
	st, err := statusAt(snap, h.rs, unit, c)
	if err != nil {
		return "error: " + err.Error()
	}
	if full {
		b, _ := json.MarshalIndent(st, "", "  ")
		return string(b)
	}
	return describeStatus(st, conds)
}

// describeStatus is the compact, reviewable form of a status.
func describeStatus(st *Status, conditions bool) string {
	var b strings.Builder
	tier := st.Tier
	if tier == "" {
		tier = "—"
	}
	fmt.Fprintf(&b, "%s %s: tier %s on %s under %s", st.Kind, st.Unit, tier, st.EvaluatedOn, st.Rulebook)
	if st.ThresholdColumn != "" {
		fmt.Fprintf(&b, " (column %s by %s)", st.ThresholdColumn, st.ThresholdBasis)
	}
	b.WriteString("\n")
	if d := st.Dissolved; d != nil {
		fmt.Fprintf(&b, "dissolved on %s into %v (%s)\n", d.Effective, d.Into, d.Resolution)
	}
	for _, r := range st.Recognitions {
		fmt.Fprintf(&b, "held %s since %s (%s)\n", r.Tier, r.Granted, r.Rulebook)
	}
	for _, r := range st.Revoked {
		fmt.Fprintf(&b, "revoked %s on %s (granted %s)\n", r.Tier, r.Revoked, r.Granted)
	}
	tiers := make([]string, 0, len(st.Criteria))
	for t, cs := range st.Criteria {
		if len(cs.Items) > 0 {
			tiers = append(tiers, t)
		}
	}
	slices.Sort(tiers)
	for _, t := range tiers {
		cs := st.Criteria[t]
		fmt.Fprintf(&b, "criteria %s: %d/%d met", t, cs.Met, cs.Total)
		if len(cs.NotMet) > 0 {
			fmt.Fprintf(&b, ", not met %v", cs.NotMet)
		}
		if cs.Unsourced {
			b.WriteString(", set unsourced")
		}
		b.WriteString("\n")
		for _, s := range cs.Standing {
			if s.Derived {
				fmt.Fprintf(&b, "  %s %s from %v", s.Code, s.Status, s.From)
				if len(s.Missing) > 0 {
					fmt.Fprintf(&b, " missing %v", s.Missing)
				}
				b.WriteString("\n")
			}
		}
		codes := make([]string, 0, len(cs.Items))
		for code := range cs.Items {
			codes = append(codes, code)
		}
		slices.SortFunc(codes, rules.CompareCodes)
		for _, code := range codes {
			it := cs.Items[code]
			if it.Rulebook != "" {
				fmt.Fprintf(&b, "  %s assessed under %s: not counted\n", code, it.Rulebook)
			}
			if th := it.Threshold; th != nil && th.State == rules.ThresholdSourced {
				fmt.Fprintf(&b, "  %s threshold %s %v %s", code, th.Op, *th.Value, th.Unit)
				if th.Meets != nil {
					fmt.Fprintf(&b, ", value %v meets: %v", *it.Value, *th.Meets)
				}
				b.WriteString("\n")
			}
		}
		if cs.Thresholds != nil {
			fmt.Fprintf(&b, "  thresholds: %d sourced %v, %d unsourced, %d provincial\n", len(cs.Thresholds.Sourced), cs.Thresholds.Sourced, len(cs.Thresholds.Unsourced), len(cs.Thresholds.Provincial))
		}
	}
	if st.Satisfaction != nil {
		fmt.Fprintf(&b, "satisfaction %v%% on %s\n", st.Satisfaction.Percent, st.Satisfaction.Date)
	}
	kinds := make([]string, 0, len(st.Children))
	for k := range st.Children {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		c := st.Children[k]
		held := make([]string, 0, len(c.Held))
		for t, n := range c.Held {
			held = append(held, fmt.Sprintf("%s %d (%v%%)", t, n, c.Percent[t]))
		}
		slices.Sort(held)
		fmt.Fprintf(&b, "children %s: %d, held %s, revoked %d (%v%%)", k, c.Total, strings.Join(held, ", "), c.Revoked, c.RevokedPercent)
		if c.Ungraded > 0 {
			fmt.Fprintf(&b, ", ungraded %d", c.Ungraded)
		}
		if c.Dissolved > 0 {
			fmt.Fprintf(&b, ", dissolved %d", c.Dissolved)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "eligible %v\n", st.Eligible)
	if tier := nextTier(st); tier != "" && conditions {
		for _, c := range st.Conditions[tier] {
			fmt.Fprintf(&b, "  %s %s: %s: %s\n", tier, c.ID, c.State, c.Detail)
		}
	}
	if !st.AtRisk {
		b.WriteString("not at risk\n")
	}
	for _, r := range st.Risks {
		fmt.Fprintf(&b, "at risk: %s, %s, failing %v key %v", r.Name, r.Tier, r.Failing, r.Key)
		if r.GraceUntil != "" {
			fmt.Fprintf(&b, ", transition until %s", r.GraceUntil)
		}
		fmt.Fprintf(&b, "\n  vi: %s\n  en: %s\n", r.MessageVI, r.MessageEN)
	}
	for _, r := range st.RisksOpenWhenDissolved {
		fmt.Fprintf(&b, "open when dissolved: %s, %s, failing %v key %v\n", r.Name, r.Tier, r.Failing, r.Key)
	}
	for _, u := range st.Unsourced {
		fmt.Fprintf(&b, "unsourced: %s\n", u)
	}
	return b.String()
}

// nextTier is the lowest tier of the unit's kind it does not hold, whose
// conditions the compact form shows.
func nextTier(st *Status) string {
	held := map[string]bool{}
	for _, r := range st.Recognitions {
		held[r.Tier] = true
	}
	for _, t := range []string{"ntm", "advanced", "model", "modern", "completed"} {
		if _, ok := st.Conditions[t]; ok && !held[t] {
			return t
		}
	}
	return ""
}

func (h *harness) findings(t *testing.T, d *datadriven.TestData) string {
	var province, today string
	d.MaybeScanArgs(t, "province", &province)
	d.ScanArgs(t, "today", &today)
	snap := h.db.NewSnapshot()
	defer snap.Close()
	fs, err := auditFindings(snap, h.rs, province, today)
	if err != nil {
		return "error: " + err.Error()
	}
	if len(fs) == 0 {
		return "no findings\n"
	}
	var b strings.Builder
	for _, f := range fs {
		a := f.Audit
		fmt.Fprintf(&b, "%s %s %s on %s [%s] %d events", f.Kind, f.Unit, a.Tier, a.Date, a.Severity, len(f.Events))
		if a.Rule != "" {
			fmt.Fprintf(&b, " rule %s due %s", a.Rule, a.Due)
		}
		if a.Until != "" {
			fmt.Fprintf(&b, " until %s", a.Until)
		}
		if a.EndedBy != "" {
			fmt.Fprintf(&b, " ended by %s", a.EndedBy)
		}
		fmt.Fprintf(&b, "\n  %s\n", f.Message)
	}
	return b.String()
}

// assess builds the events of an assess command.
func (h *harness) assess(t *testing.T, d *datadriven.TestData) string {
	unit := d.CmdArgs[0].Key
	date, tier, stage, recorded := "", "ntm", "province", ""
	n := 19
	var notMet, basically, only []string
	d.ScanArgs(t, "date", &date)
	d.MaybeScanArgs(t, "tier", &tier)
	d.MaybeScanArgs(t, "stage", &stage)
	d.MaybeScanArgs(t, "recorded_at", &recorded)
	d.MaybeScanArgs(t, "n", &n)
	for _, a := range d.CmdArgs {
		var vals []string
		for _, v := range a.Vals {
			vals = append(vals, strings.Split(v, ",")...)
		}
		switch a.Key {
		case "not_met":
			notMet = vals
		case "basically_met":
			basically = vals
		case "only":
			only = vals
		}
	}
	codes := only
	if codes == nil {
		for i := 1; i <= n; i++ {
			codes = append(codes, fmt.Sprint(i))
		}
	}
	var lines []string
	for _, c := range codes {
		status := "met"
		switch {
		case slices.Contains(notMet, c):
			status = "not_met"
		case slices.Contains(basically, c):
			status = "basically_met"
		}
		ev := map[string]any{
			"type": "criterion.assessed", "unit": unit, "occurred_at": date,
			"data": map[string]any{"tier": tier, "criterion": c, "status": status, "stage": stage},
		}
		if recorded != "" {
			ev["recorded_at"] = recorded
		}
		b, _ := json.Marshal(ev)
		lines = append(lines, string(b))
	}
	return strings.Join(lines, "\n")
}
