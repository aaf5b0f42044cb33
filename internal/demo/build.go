// Package demo builds the demo data set that `ntmledger demo` loads: the
// real administrative units (package units) with the 2025 reform, and the
// published facts of the seed articles about Hà Nam, Lào Cai, Trà Vinh and
// Long An, filled in with synthetic assessments consistent with them.
// docs/demo.md says which fact comes from which article.
//
// Every event has a deterministic id (ID), so loading the set twice stores
// it once: the ledger's idempotency turns the second load into a no-op.
package demo

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/oklog/ulid/v2"

	"github.com/ntmledger/ntmledger/events"
)

// ID returns a deterministic ULID for a name: its time part is the given
// date, its entropy a hash of the name.
func ID(date, name string) string {
	t, err := events.ParseDate(date)
	if err != nil {
		panic(fmt.Sprintf("demo.ID: bad date %q", date)) // programming error in the data set
	}
	sum := sha256.Sum256([]byte(name))
	return ulid.MustNew(ulid.Timestamp(t), bytes.NewReader(sum[:10])).String()
}

// System is the actor of the demo's registrations and reform events.
var System = events.Actor{ID: "demo-loader", Role: "system", Name: "ntmledger demo"}

// Builder accumulates inputs with deterministic ids. The id of an event is
// ID(date, type|unit|date|data): the same fact always gets the same id, and
// adding it twice keeps one copy.
type Builder struct {
	out  []*events.Input
	seen map[string]bool
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder { return &Builder{seen: map[string]bool{}} }

// Inputs returns what was built, in the order added.
func (b *Builder) Inputs() []*events.Input { return b.out }

// Add adds one event. data must marshal to JSON.
func (b *Builder) Add(typ events.Type, unit, date string, actor *events.Actor, doc *events.Document, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(fmt.Sprintf("demo: marshal %s data: %v", typ, err))
	}
	id := ID(date, string(typ)+"|"+unit+"|"+date+"|"+string(raw))
	if b.seen[id] {
		return
	}
	b.seen[id] = true
	b.out = append(b.out, &events.Input{ID: id, Type: typ, Unit: unit, OccurredAt: date, Actor: actor, Document: doc, Data: raw})
}

// Assess records the assessment of criteria 1…n of a tier's set on a date,
// every one met except those listed.
func (b *Builder) Assess(actor *events.Actor, unit, date, tier, stage string, n int, notMet []int) {
	for c := 1; c <= n; c++ {
		status := "met"
		if slices.Contains(notMet, c) {
			status = "not_met"
		}
		b.Add(events.CriterionAssessed, unit, date, actor, nil, events.Assessment{
			Tier: tier, Criterion: strconv.Itoa(c), Status: status, Stage: stage,
		})
	}
}

// Grant records a recognition.
func (b *Builder) Grant(actor *events.Actor, unit, date, tier string, doc events.Document) {
	b.Add(events.RecognitionGranted, unit, date, actor, &doc, events.Grant{Tier: tier})
}

// Survey records a satisfaction survey.
func (b *Builder) Survey(actor *events.Actor, unit, date string, percent float64, respondents int) {
	b.Add(events.SatisfactionSurveyed, unit, date, actor, nil, events.Survey{Percent: percent, Respondents: &respondents})
}

// Target records a plan's target.
func (b *Builder) Target(actor *events.Actor, unit string, doc events.Document, year int, level, tier string, count int, cumulative float64) {
	t := events.Target{Year: year, Level: level, Tier: tier}
	if count > 0 {
		t.Count = &count
	}
	if cumulative > 0 {
		t.CumulativePercent = &cumulative
	}
	b.Add(events.TargetSet, unit, doc.Date, actor, &doc, t)
}

// SortByDate orders the inputs by business date, keeping the order of
// events on the same date. Each unit's facts were added in date order, so
// the prerequisites of a grant stay before it.
func (b *Builder) SortByDate() {
	slices.SortStableFunc(b.out, func(x, y *events.Input) int { return cmp.Compare(x.OccurredAt[:10], y.OccurredAt[:10]) })
}

// rank is a deterministic pseudo-random number for a name: the demo's
// "random" choices are stable across runs and machines.
func rank(name string) uint64 {
	sum := sha256.Sum256([]byte(name))
	return binary.BigEndian.Uint64(sum[:8])
}

// shuffled returns the items ordered by rank(salt|key(item)).
func shuffled[T any](salt string, items []T, key func(T) string) []T {
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b T) int { return cmp.Compare(rank(salt+"|"+key(a)), rank(salt+"|"+key(b))) })
	return out
}
