package projections

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/rules"
)

// Status is a unit's status as the contract (§4) shows it.
type Status struct {
	Unit          string                 `json:"unit"`
	Name          string                 `json:"name"`
	Kind          string                 `json:"kind"`
	Subkind       string                 `json:"subkind,omitempty"`
	Parent        string                 `json:"parent,omitempty"`
	Province      string                 `json:"province,omitempty"`
	Region        string                 `json:"region,omitempty"`
	Group         *int                   `json:"group,omitempty"`
	Flags         []string               `json:"flags,omitempty"`
	Tier          string                 `json:"tier"`
	Recognitions  []HeldRecognition      `json:"recognitions"`
	Revoked       []Recognition          `json:"revoked,omitempty"`
	Criteria      map[string]CriteriaSet `json:"criteria"`
	Satisfaction  *Survey                `json:"satisfaction"`
	Eligible      []string               `json:"eligible"`
	AtRisk        bool                   `json:"at_risk"`
	Risk          *Risk                  `json:"risk,omitempty"`
	Rulebook      string                 `json:"rulebook"`
	DissolvedInto []string               `json:"dissolved_into,omitempty"`
	Dissolved     *Dissolution           `json:"dissolved,omitempty"`
	FormedFrom    []string               `json:"formed_from,omitempty"`
	Version       uint64                 `json:"version"`
	AsOf          string                 `json:"as_of,omitempty"`
	KnownAt       string                 `json:"known_at,omitempty"`
	AsOfSeq       uint64                 `json:"as_of_seq"`
}

// HeldRecognition is a tier held, with the decision that granted it.
type HeldRecognition struct {
	Tier     string           `json:"tier"`
	Decision *events.Document `json:"decision,omitempty"`
	Granted  string           `json:"granted_on"`
	Rulebook string           `json:"rulebook"`
	Event    string           `json:"event"`
}

// CriteriaSet is the standing of one tier's criteria.
type CriteriaSet struct {
	Met       int             `json:"met"`
	Total     int             `json:"total"`
	Unsourced bool            `json:"unsourced,omitempty"` // the set's criteria are not in the rulebook yet
	Items     map[string]Item `json:"items"`
}

// Risk is the revocation rule that applies to a unit, with its basis.
type Risk struct {
	Rule      string   `json:"rule"`
	Basis     string   `json:"basis"`
	Tier      string   `json:"tier"`
	Failing   []string `json:"failing"`
	Total     int      `json:"total"`
	MessageVI string   `json:"message_vi"`
	MessageEN string   `json:"message"`
}

// render turns a folded state into a status. date is the business date the
// status is for ("" = everything recorded, no cutoff).
func render(rs *rules.Set, s *State, date string) *Status {
	st := &Status{
		Unit: s.Unit, Name: s.Name, Kind: s.Kind, Subkind: s.Subkind, Parent: s.Parent,
		Province: s.Province, Region: s.Region, Group: s.Group, Flags: s.Flags,
		Version: s.Version, FormedFrom: s.FormedFrom,
		Recognitions: []HeldRecognition{}, Criteria: map[string]CriteriaSet{}, Eligible: []string{},
		Satisfaction: s.Satisfaction,
	}
	if s.Dissolved != nil && (date == "" || s.Dissolved.Effective <= date) {
		st.Dissolved = s.Dissolved
		st.DissolvedInto = s.Dissolved.Into
	}
	on := date
	if on == "" {
		on = s.LastDate
	}
	book := rs.InForce(on)
	st.Rulebook = book.ID
	held := s.Held(date)
	heldTiers := map[string]bool{}
	for _, r := range held {
		st.Recognitions = append(st.Recognitions, HeldRecognition{Tier: r.Tier, Decision: r.Decision, Granted: r.Granted, Rulebook: r.Rulebook, Event: r.Event})
		heldTiers[r.Tier] = true
		st.Tier = r.Tier // held is sorted by rank: the last is the highest
	}
	for _, r := range s.Recognitions {
		if r.Revoked != "" && (date == "" || r.Revoked <= date) {
			st.Revoked = append(st.Revoked, r)
		}
	}
	// Criteria of every tier assessed, plus the tiers of the unit's kind.
	tiers := map[string]bool{}
	for t := range s.Criteria {
		tiers[t] = true
	}
	for _, t := range book.TierNames(s.Kind) {
		tiers[t] = true
	}
	for t := range tiers {
		cs := CriteriaSet{Items: map[string]Item{}}
		for code, it := range s.Criteria[t] {
			cs.Items[code] = it
		}
		if tier, ok := book.Tier(s.Kind, t); ok && tier.Criteria != nil {
			cs.Total = len(tier.Criteria)
			for _, c := range tier.Criteria {
				if it, ok := cs.Items[c]; ok && it.Status == "met" {
					cs.Met++
				}
			}
		} else {
			cs.Unsourced = true
			for code, it := range cs.Items {
				if !isIndicator(code) {
					cs.Total++
					if it.Status == "met" {
						cs.Met++
					}
				}
			}
		}
		st.Criteria[t] = cs
	}
	// Eligible: not yet held, prerequisite held, every criterion of a
	// sourced set met.
	for _, t := range book.Tiers[s.Kind] {
		if heldTiers[t.Name] || t.Criteria == nil {
			continue
		}
		if t.Requires != "" && !heldTiers[t.Requires] {
			continue
		}
		if cs := st.Criteria[t.Name]; cs.Total > 0 && cs.Met == cs.Total {
			st.Eligible = append(st.Eligible, t.Name)
		}
	}
	st.Risk = revocationRisk(book, s, st, heldTiers)
	st.AtRisk = st.Risk != nil
	return st
}

func isIndicator(code string) bool {
	for i := 0; i < len(code); i++ {
		if code[i] == '.' {
			return true
		}
	}
	return false
}

// keyCriteria are the criteria whose failure, with 30% to under 50% of the
// set failing, makes a commune's recognition revocable (Decision
// 18/2022/QĐ-TTg): Income, Environment & food safety, Defence & security for
// the NTM set; Income, Environment, Living-environment quality, Defence &
// security for the advanced set (criterion numbers of Decision 318/QĐ-TTg).
var keyCriteria = map[string][]string{
	"ntm":      {"10", "17", "19"},
	"advanced": {"10", "17", "18", "19"},
}

var keyNames = map[string]map[string][2]string{
	"ntm": {
		"10": {"Thu nhập", "Income"}, "17": {"Môi trường và an toàn thực phẩm", "Environment & food safety"},
		"19": {"Quốc phòng và An ninh", "Defence & security"},
	},
	"advanced": {
		"10": {"Thu nhập", "Income"}, "17": {"Môi trường", "Environment"},
		"18": {"Chất lượng môi trường sống", "Living-environment quality"}, "19": {"Quốc phòng và An ninh", "Defence & security"},
	},
}

// revocationRisk applies Decision 18/2022's criteria-based rules to the
// commune tiers held: R2 (50% or more of the set not maintained) and R1 (30%
// to under 50%, including a key criterion). A criterion counts as not
// maintained when its standing assessment is not "met" (basically_met counts
// as not met).
func revocationRisk(book *rules.Book, s *State, st *Status, held map[string]bool) *Risk {
	if s.Kind != "commune" {
		return nil
	}
	for _, tierName := range []string{"ntm", "advanced"} {
		if !held[tierName] {
			continue
		}
		tier, ok := book.Tier(s.Kind, tierName)
		if !ok || tier.Criteria == nil {
			continue
		}
		var failing []string
		for _, c := range tier.Criteria {
			if it, ok := s.Criteria[tierName][c]; ok && it.Status != "met" {
				failing = append(failing, c)
			}
		}
		total := len(tier.Criteria)
		share := float64(len(failing)) / float64(total)
		slices.SortFunc(failing, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
		switch {
		case share >= 0.5:
			return &Risk{
				Rule: "R2: 50% or more of the criteria not maintained", Basis: "18/2022/QĐ-TTg", Tier: tierName,
				Failing: failing, Total: total,
				MessageVI: fmt.Sprintf("%d/%d tiêu chí không duy trì đạt chuẩn (≥ 50%%): thuộc diện thu hồi quyết định công nhận theo Quyết định 18/2022/QĐ-TTg", len(failing), total),
				MessageEN: fmt.Sprintf("%d of %d criteria not maintained (50%% or more): recognition revocable under Decision 18/2022/QĐ-TTg", len(failing), total),
			}
		case share >= 0.3:
			var keys []string
			var keysVI, keysEN []string
			for _, c := range failing {
				if slices.Contains(keyCriteria[tierName], c) {
					keys = append(keys, c)
					keysVI = append(keysVI, keyNames[tierName][c][0])
					keysEN = append(keysEN, keyNames[tierName][c][1])
				}
			}
			if len(keys) == 0 {
				continue
			}
			return &Risk{
				Rule: "R1: 30% to under 50% of the criteria not maintained, including a key criterion", Basis: "18/2022/QĐ-TTg", Tier: tierName,
				Failing: failing, Total: total,
				MessageVI: fmt.Sprintf("%d/%d tiêu chí không duy trì đạt chuẩn, trong đó có %s: thuộc diện thu hồi quyết định công nhận theo Quyết định 18/2022/QĐ-TTg", len(failing), total, strings.Join(keysVI, ", ")),
				MessageEN: fmt.Sprintf("%d of %d criteria not maintained, including %s: recognition revocable under Decision 18/2022/QĐ-TTg", len(failing), total, strings.Join(keysEN, ", ")),
			}
		}
	}
	return nil
}
