package ledger_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ntmledger/ntmledger/events"
)

// A province's adaptation (rulebook.published) is checked against its base
// rulebook; grants may name it.
func TestRulebookAdaptations(t *testing.T) {
	e := setup(t)
	mustAppend(t, e.l, hierarchy(t)...)
	doc := &events.Document{Number: "1000/QĐ-UBND", Date: "2023-05-15", Issuer: "UBND tỉnh Hà Nam"}
	publish := func(unit string, data map[string]any) *events.Input {
		return input(t, events.RulebookPublished, unit, "2023-05-15", doc, data)
	}
	valid := map[string]any{
		"id": "vn-2021-2025/35", "base": "vn-2021-2025", "effective_from": "2023-06-01",
		"thresholds": map[string]any{"ntm": map[string]any{"10": map[string]any{"op": ">=", "value": 70, "unit": "million VND"}}},
		"criteria":   map[string]any{"ntm": []any{map[string]any{"code": "17.12", "en": "Village sanitation team"}}},
	}
	for _, tc := range []struct {
		name  string
		in    *events.Input
		field string
	}{
		{"unknown base", publish("35", map[string]any{"id": "vn-1999/35", "base": "vn-1999", "effective_from": "2023-06-01"}), "data.base"},
		{"id not under its base", publish("35", map[string]any{"id": "ha-nam-2023", "base": "vn-2021-2025", "effective_from": "2023-06-01"}), "data.id"},
		{"criterion not in the set", publish("35", map[string]any{"id": "vn-2021-2025/35", "base": "vn-2021-2025", "effective_from": "2023-06-01",
			"thresholds": map[string]any{"ntm": map[string]any{"25": map[string]any{"op": ">=", "value": 1}}}}), "data.thresholds.ntm.25"},
		{"unknown column", publish("35", map[string]any{"id": "vn-2021-2025/35", "base": "vn-2021-2025", "effective_from": "2023-06-01",
			"thresholds": map[string]any{"ntm": map[string]any{"10": map[string]any{"op": ">=", "columns": map[string]any{"mars": 1}}}}}), "data.thresholds.ntm.10.columns"},
		{"published by a commune", publish("13306", valid), "unit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.l.Append(context.Background(), []*events.Input{tc.in})
			var fe *events.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("error %v, want a field error on %s", err, tc.field)
			}
		})
	}
	mustAppend(t, e.l, publish("35", valid))
	// The new indicator is a criterion code of the set (17 exists), and a
	// grant may name the adaptation.
	mustAppend(t, e.l,
		input(t, events.CriterionAssessed, "13306", "2023-07-01", nil, map[string]any{"tier": "ntm", "criterion": "17.12", "status": "met", "stage": "province"}),
		input(t, events.RecognitionGranted, "13306", "2023-12-01", &events.Document{Number: "50/QĐ-UBND"}, map[string]any{"tier": "ntm", "rulebook": "vn-2021-2025/35"}),
	)
	_, err := e.l.Append(context.Background(), []*events.Input{
		input(t, events.RecognitionGranted, "13426", "2023-12-01", &events.Document{Number: "51/QĐ-UBND"}, map[string]any{"tier": "ntm", "rulebook": "vn-1999/35"}),
	})
	if err == nil || !strings.Contains(err.Error(), "unknown rulebook") {
		t.Fatalf("a grant naming an unknown rulebook: %v", err)
	}
}
