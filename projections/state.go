package projections

import (
	"cmp"
	"slices"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/rules"
)

// Item is the standing assessment of one criterion or indicator.
type Item struct {
	Status string   `json:"status"`
	Stage  string   `json:"stage"`
	Date   string   `json:"date"`
	Value  *float64 `json:"value,omitempty"`
	Note   string   `json:"note,omitempty"`
	Seq    uint64   `json:"seq"`
	Event  string   `json:"event"`

	// Set when a status is rendered, never stored: the threshold the item
	// is measured against under the unit's column, and the rulebook it was
	// assessed under when that one's assessments do not count now.
	Threshold *ItemThreshold `json:"threshold,omitempty"`
	Rulebook  string         `json:"assessed_under,omitempty"`
}

// ItemThreshold is the threshold of an item for the unit's column, or why
// there is none ("unsourced", "provincial", "no_column").
type ItemThreshold struct {
	State string `json:"state"`
	*rules.Threshold
	Column string `json:"column,omitempty"`
	// Meets compares the item's value with a sourced threshold.
	Meets *bool `json:"meets,omitempty"`
}

func (a Item) assessment() rules.Assessment {
	return rules.Assessment{Status: a.Status, Stage: a.Stage, Date: a.Date, Seq: a.Seq, Value: a.Value}
}

// newer reports whether a should replace b: a later business date wins; for
// the same date a later stage (self < district < province < inspection); for
// the same stage the later-recorded event.
func (a Item) newer(b Item) bool { return a.assessment().Newer(b.assessment()) }

// Recognition is one grant of a tier, possibly ended by a revocation.
type Recognition struct {
	Tier      string           `json:"tier"`
	Rank      int              `json:"rank"`
	Granted   string           `json:"granted_on"`
	Decision  *events.Document `json:"decision,omitempty"`
	Rulebook  string           `json:"rulebook"`
	Event     string           `json:"event"`
	Seq       uint64           `json:"seq"`
	Revoked   string           `json:"revoked_on,omitempty"`
	RevokedBy *Revoked         `json:"revoked_by,omitempty"`
}

// Revoked describes the revocation that ended a recognition.
type Revoked struct {
	Decision *events.Document `json:"decision,omitempty"`
	Reason   string           `json:"reason"`
	Basis    string           `json:"basis,omitempty"`
	Tier     string           `json:"tier"` // the tier the decision revoked (may be lower)
	Event    string           `json:"event"`
}

func (r *Recognition) heldOn(date string) bool {
	return r.Granted <= date && (r.Revoked == "" || date < r.Revoked)
}

// Survey is the standing satisfaction survey.
type Survey struct {
	Percent     float64 `json:"percent"`
	Respondents *int    `json:"respondents,omitempty"`
	Date        string  `json:"date"`
	Seq         uint64  `json:"seq"`
	Event       string  `json:"event,omitempty"`
}

// Published is a rulebook adaptation a province (or the country) published.
type Published struct {
	events.RulebookAdaptation
	Event      string `json:"event"`
	Seq        uint64 `json:"seq"`
	RecordedAt string `json:"recorded_at"`
}

// State is the fold of a unit's events.
type State struct {
	Unit       string   `json:"unit"`
	Registered bool     `json:"registered"`
	Name       string   `json:"name,omitempty"`
	Kind       string   `json:"kind"`
	Subkind    string   `json:"subkind,omitempty"`
	Parent     string   `json:"parent,omitempty"`
	Province   string   `json:"province,omitempty"`
	Region     string   `json:"region,omitempty"`
	Group      *int     `json:"group,omitempty"`
	Flags      []string `json:"flags,omitempty"`

	Version      uint64 `json:"version"`
	Seq          uint64 `json:"seq"`       // stream seq of the unit's last event
	LastDate     string `json:"last_date"` // latest business date among its events
	RegisteredOn string `json:"registered_on,omitempty"`
	// ClassifiedOn is the business date of the classification each
	// attribute (name, region, group, flags) last took.
	ClassifiedOn map[string]string `json:"classified_on,omitempty"`

	Recognitions []Recognition              `json:"recognitions,omitempty"`
	Criteria     map[string]map[string]Item `json:"criteria,omitempty"` // tier → code → item
	Satisfaction *Survey                    `json:"satisfaction,omitempty"`
	Requested    map[string]string          `json:"requested,omitempty"` // tier → date
	Retracted    map[string]string          `json:"retracted,omitempty"` // event id → retraction id
	FormedFrom   []string                   `json:"formed_from,omitempty"`
	Dissolved    *Dissolution               `json:"dissolved,omitempty"`
	Reorganized  *events.Reorganization     `json:"reorganized,omitempty"`
	// Rulebooks are the adaptations published on this unit (a province, or
	// VN), in stream order.
	Rulebooks []Published `json:"rulebooks,omitempty"`
}

// Dissolution records that a unit was merged or split into others.
type Dissolution struct {
	Into       []string `json:"into"`
	Effective  string   `json:"effective"`
	Resolution string   `json:"resolution"`
}

// folder folds events into states. Events of other units reach a state only
// through reorganizations (the old units are marked dissolved).
type folder struct {
	rules *rules.Set
}

// apply folds one event into s. It never fails on a stored event: the ledger
// validated it. A data decode error means the stream holds something the
// ledger did not write, and is returned so the projector halts.
func (f *folder) apply(s *State, ev *events.Event) error {
	s.Version = ev.Version
	s.Seq = ev.Seq
	date := ev.BusinessDate()
	if date > s.LastDate {
		s.LastDate = date
	}
	if s.Kind == "" {
		s.Kind = events.UnitKind(ev.Unit)
	}
	data, err := ev.ParsedData()
	if err != nil {
		return err
	}
	switch d := data.(type) {
	case *events.Registration:
		s.Registered, s.RegisteredOn = true, date
		s.Name, s.Kind, s.Subkind, s.Parent = d.Name, d.Kind, d.Subkind, d.Parent
		s.Region, s.Group, s.Flags = d.Region, d.Group, d.Flags
	case *events.Classification:
		// Each attribute takes the classification with the latest business
		// date, whatever the order they were recorded in.
		newer := func(attr string) bool {
			if s.ClassifiedOn[attr] > date {
				return false
			}
			if s.ClassifiedOn == nil {
				s.ClassifiedOn = map[string]string{}
			}
			s.ClassifiedOn[attr] = date
			return true
		}
		if d.Name != nil && newer("name") {
			s.Name = *d.Name
		}
		if d.Region != nil && newer("region") {
			s.Region = *d.Region
		}
		if d.Group != nil && newer("group") {
			s.Group = d.Group
		}
		if d.Flags != nil && newer("flags") {
			s.Flags = *d.Flags
		}
	case *events.Reorganization:
		s.FormedFrom = slices.Clone(d.From)
		s.Reorganized = d
	case *events.Assessment:
		it := Item{Status: d.Status, Stage: d.Stage, Date: date, Value: d.Value, Note: d.Note, Seq: ev.Seq, Event: ev.ID}
		if s.Criteria == nil {
			s.Criteria = map[string]map[string]Item{}
		}
		m := s.Criteria[d.Tier]
		if m == nil {
			m = map[string]Item{}
			s.Criteria[d.Tier] = m
		}
		if old, ok := m[d.Criterion]; !ok || it.newer(old) {
			m[d.Criterion] = it
		}
	case *events.Survey:
		sv := &Survey{Percent: d.Percent, Respondents: d.Respondents, Date: date, Seq: ev.Seq, Event: ev.ID}
		if s.Satisfaction == nil || sv.Date > s.Satisfaction.Date || (sv.Date == s.Satisfaction.Date && sv.Seq > s.Satisfaction.Seq) {
			s.Satisfaction = sv
		}
	case *events.Request:
		if s.Requested == nil {
			s.Requested = map[string]string{}
		}
		s.Requested[d.Tier] = date
	case *events.Grant:
		book, err := f.rules.Resolve(d.Rulebook, date)
		if err != nil {
			book = f.rules.InForce(date) // the ledger checked the name; keep folding
		}
		rank := 0
		if t, ok := book.Tier(s.Kind, d.Tier); ok {
			rank = t.Rank
		}
		named := book.ID
		if d.Rulebook != "" {
			named = d.Rulebook // a province's adaptation resolves to its base here
		}
		s.Recognitions = append(s.Recognitions, Recognition{
			Tier: d.Tier, Rank: rank, Granted: date, Decision: ev.Document,
			Rulebook: named, Event: ev.ID, Seq: ev.Seq,
		})
		slices.SortStableFunc(s.Recognitions, func(a, b Recognition) int {
			return cmp.Or(cmp.Compare(a.Granted, b.Granted), cmp.Compare(a.Seq, b.Seq))
		})
	case *events.Revocation:
		var target *Recognition
		for i := range s.Recognitions {
			if r := &s.Recognitions[i]; r.Tier == d.Tier && r.heldOn(date) {
				target = r
			}
		}
		if target != nil {
			rv := &Revoked{Decision: ev.Document, Reason: d.Reason, Basis: d.Basis, Tier: d.Tier, Event: ev.ID}
			for i := range s.Recognitions {
				if r := &s.Recognitions[i]; r.heldOn(date) && (r == target || r.Rank > target.Rank) {
					r.Revoked, r.RevokedBy = date, rv
				}
			}
		}
	case *events.RulebookAdaptation:
		s.Rulebooks = append(s.Rulebooks, Published{RulebookAdaptation: *d, Event: ev.ID, Seq: ev.Seq, RecordedAt: ev.RecordedAt})
	case *events.Retraction:
		if s.Retracted == nil {
			s.Retracted = map[string]string{}
		}
		s.Retracted[d.Target] = ev.ID
	}
	return nil
}

// Held returns the recognitions held on date ("" for no cutoff: those never
// revoked), lowest tier first.
func (s *State) Held(date string) []Recognition {
	var out []Recognition
	for _, r := range s.Recognitions {
		if date == "" && r.Revoked == "" || date != "" && r.heldOn(date) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b Recognition) int { return cmp.Compare(a.Rank, b.Rank) })
	return out
}
