package events

import "encoding/json"

// The data of each v1 type. Optional numbers are pointers so that "absent"
// and "zero" stay distinct.

// Registration is the data of unit.registered.
type Registration struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Subkind string   `json:"subkind,omitempty"`
	Parent  string   `json:"parent,omitempty"`
	Region  string   `json:"region,omitempty"`
	Group   *int     `json:"group,omitempty"`
	Flags   []string `json:"flags,omitempty"`
}

// Classification is the data of unit.classified.
type Classification struct {
	Name   *string   `json:"name,omitempty"`
	Region *string   `json:"region,omitempty"`
	Group  *int      `json:"group,omitempty"`
	Flags  *[]string `json:"flags,omitempty"`
}

// Reorganization is the data of unit.reorganized.
type Reorganization struct {
	From       []string `json:"from"`
	Resolution string   `json:"resolution"`
	Effective  string   `json:"effective"`
}

// RulebookAdaptation is the data of rulebook.published. Overrides are kept
// as given; the rulebook package interprets them.
type RulebookAdaptation struct {
	ID            string          `json:"id"`
	Base          string          `json:"base"`
	EffectiveFrom string          `json:"effective_from"`
	EffectiveTo   string          `json:"effective_to,omitempty"`
	Thresholds    json.RawMessage `json:"thresholds,omitempty"`
	Criteria      json.RawMessage `json:"criteria,omitempty"`
	Note          string          `json:"note,omitempty"`
}

// Target is the data of target.set.
type Target struct {
	Year              int      `json:"year"`
	Level             string   `json:"level"`
	Tier              string   `json:"tier"`
	Count             *int     `json:"count,omitempty"`
	CumulativePercent *float64 `json:"cumulative_percent,omitempty"`
}

// Assessment is the data of criterion.assessed.
type Assessment struct {
	Tier      string   `json:"tier"`
	Criterion string   `json:"criterion"`
	Status    string   `json:"status"`
	Value     *float64 `json:"value,omitempty"`
	Stage     string   `json:"stage"`
	Note      string   `json:"note,omitempty"`
}

// Survey is the data of satisfaction.surveyed.
type Survey struct {
	Percent     float64 `json:"percent"`
	Respondents *int    `json:"respondents,omitempty"`
}

// Request is the data of recognition.requested.
type Request struct {
	Tier string `json:"tier"`
}

// Grant is the data of recognition.granted.
type Grant struct {
	Tier     string `json:"tier"`
	Rulebook string `json:"rulebook,omitempty"`
}

// Revocation is the data of recognition.revoked.
type Revocation struct {
	Tier    string `json:"tier"`
	Reason  string `json:"reason"`
	Basis   string `json:"basis,omitempty"`
	Revokes string `json:"revokes,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Retraction is the data of entry.retracted.
type Retraction struct {
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// Closed vocabularies of the contract.
var (
	Kinds    = []string{"province", "district", "commune", "village"}
	Regions  = []string{"northern_midlands_mountains", "red_river_delta", "north_central", "south_central_coast", "central_highlands", "southeast", "mekong_delta"}
	Flags    = []string{"mountainous", "ethnic_minority", "border", "island", "especially_difficult", "safe_zone"}
	Statuses = []string{"met", "basically_met", "not_met"}
	Stages   = []string{"self", "district", "province", "inspection"}
	Reasons  = []string{"not_maintained", "violation", "false_dossier", "reorganization", "other"}
	Levels   = []string{"commune", "district"}
)

// StageRank orders assessment stages: for the same date a later stage wins.
func StageRank(stage string) int {
	for i, s := range Stages {
		if s == stage {
			return i
		}
	}
	return -1
}
