package projections

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ntmledger/ntmledger/internal/projector"
)

// Kinds of findings.
const (
	// FindingQuarantined: a message on a unit's subject that does not
	// continue its hash chain (forged, altered, without a hash, or not an
	// event) was refused by the projector.
	FindingQuarantined = "quarantined_event"
)

// Finding is one audit finding, citing the events involved.
type Finding struct {
	Kind     string   `json:"kind"`
	Unit     string   `json:"unit"`
	Province string   `json:"province,omitempty"`
	Seq      uint64   `json:"seq"`
	Events   []string `json:"events,omitempty"` // ids involved, where known
	Reason   string   `json:"reason"`
	Message  string   `json:"message"`
	// Quarantine is the refused message as the projector recorded it.
	Quarantine *projector.Quarantine `json:"quarantine,omitempty"`
	// Audit is the rulebook's detail of a rule finding (audit.go).
	Audit *Audit `json:"audit,omitempty"`
}

// FindingList is the findings of the views, oldest first.
type FindingList struct {
	Findings []Finding `json:"findings"`
	AsOfSeq  uint64    `json:"as_of_seq"`
}

// Findings lists audit findings, for one province or all ("").
func (v *Views) Findings(_ context.Context, province string) (*FindingList, error) {
	out := &FindingList{Findings: []Finding{}}
	seq, err := v.snapshot(func(r pebble.Reader) error {
		err := projector.Quarantined(r, func(q projector.Quarantine) error {
			if province != "" && q.Province != province {
				return nil
			}
			f := Finding{
				Kind: FindingQuarantined, Unit: q.Unit, Province: q.Province, Seq: q.Seq, Reason: q.Reason,
				Message: fmt.Sprintf("seq %d on %s was not applied (%s): %s; the unit's views stay at version %d (seq %d) until its chain continues",
					q.Seq, q.Subject, q.Reason, q.Detail, q.AfterVersion, q.AfterSeq),
				Quarantine: &q,
			}
			if q.ID != "" {
				f.Events = []string{q.ID}
			}
			out.Findings = append(out.Findings, f)
			return nil
		})
		if err != nil {
			return err
		}
		return appendRuleFindings(r, v.cfg.Rules, province, out) // audit.go
	})
	if err != nil {
		return nil, err
	}
	out.AsOfSeq = seq
	return out, nil
}
