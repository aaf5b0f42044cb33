package export

import (
	"context"
	"slices"
	"strings"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/projections"
)

// Tables names what can be exported.
const (
	TableStatus      = "status"
	TableHistory     = "history"
	TableRevocations = "revocations"
)

func doc(d *events.Document) (number, date, issuer string) {
	if d == nil {
		return "", "", ""
	}
	return d.Number, d.Date, d.Issuer
}

// StatusTable is the status of every unit of a province ("" for all), one
// row per unit in code order.
func StatusTable(v *projections.Views, province string) *Table {
	return &Table{
		Sheet: "Trạng thái (status)",
		Columns: []string{"unit", "name", "kind", "subkind", "parent", "province", "tier", "decision_number", "decision_date",
			"decision_issuer", "granted_on", "criteria_met", "criteria_total", "eligible", "at_risk", "risk_rule", "risk_basis",
			"failing_criteria", "rulebook", "dissolved_on", "dissolved_into", "version", "seq"},
		Rows: func(ctx context.Context, emit func([]any) error) error {
			_, err := v.EachUnit(ctx, province, func(u *projections.UnitSummary) error {
				num, date, issuer := doc(u.Decision)
				var met, total any
				if c, ok := u.Criteria[u.Tier]; ok {
					met, total = c.Met, c.Total
				}
				var rule, basis, failing string
				if u.Risk != nil {
					rule, basis, failing = u.Risk.Rule, u.Risk.Basis, strings.Join(u.Risk.Failing, " ")
				}
				return emit([]any{u.Unit, u.Name, u.Kind, u.Subkind, u.Parent, u.Province, u.Tier, num, date, issuer, u.GrantedOn,
					met, total, strings.Join(u.Eligible, " "), u.AtRisk, rule, basis, failing, u.Rulebook, u.DissolvedOn,
					strings.Join(u.DissolvedInto, " "), u.Version, u.Seq})
			})
			return err
		},
	}
}

// HistoryTable is a unit's audit trail, one row per event in version order.
func HistoryTable(v *projections.Views, unit string, f projections.HistoryFilter) *Table {
	return &Table{
		Sheet: "Lịch sử (history)",
		Columns: []string{"unit", "version", "seq", "id", "type", "occurred_at", "recorded_at", "actor_id", "actor_role", "actor_name",
			"document_number", "document_date", "document_issuer", "data", "retracted", "retracted_by", "prev_hash", "hash"},
		Rows: func(ctx context.Context, emit func([]any) error) error {
			h, err := v.History(ctx, unit, f)
			if err != nil {
				return err
			}
			for _, e := range h.Events {
				num, date, issuer := doc(e.Document)
				if err := emit([]any{e.Unit, e.Version, e.Seq, e.ID, string(e.Type), e.OccurredAt, e.RecordedAt, e.Actor.ID, e.Actor.Role,
					e.Actor.Name, num, date, issuer, string(e.Data), e.Retracted, e.RetractedBy, e.PrevHash, e.Hash}); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// RevocationsTable is the revocation timeline, newest first.
func RevocationsTable(v *projections.Views, f projections.RevocationFilter) *Table {
	return &Table{
		Sheet: "Thu hồi (revocations)",
		Columns: []string{"revoked_on", "unit", "name", "kind", "province", "tier", "decision_number", "decision_date", "decision_issuer",
			"reason", "basis", "ended_decision_number", "ended_decision_date", "granted_on", "held_days", "held", "also_ended", "event"},
		Rows: func(ctx context.Context, emit func([]any) error) error {
			_, err := v.EachRevocation(ctx, f, func(e *projections.RevocationEntry) error {
				num, date, issuer := doc(e.Decision)
				var enum, edate, granted, held string
				var days any
				if e.Ended != nil {
					enum, edate, _ = doc(e.Ended.Decision)
					granted, days, held = e.Ended.GrantedOn, e.Ended.HeldDays, e.Ended.Held
				}
				also := make([]string, 0, len(e.AlsoEnded))
				for _, a := range e.AlsoEnded {
					also = append(also, a.Tier)
				}
				slices.Sort(also)
				return emit([]any{e.RevokedOn, e.Unit, e.Name, e.Kind, e.Province, e.Tier, num, date, issuer, e.Reason, e.Basis,
					enum, edate, granted, days, held, strings.Join(also, " "), e.Event})
			})
			return err
		},
	}
}
