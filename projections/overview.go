package projections

import (
	"cmp"
	"context"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// Overview is the national picture the dashboard opens with: units by
// highest tier held, per province and for the country, and the latest
// recognitions. It is read from the unit summaries (l/), one pass over
// them, never from the stream.
type Overview struct {
	AsOf      string                 `json:"as_of,omitempty"`
	Country   map[string]*TierCounts `json:"country"` // by unit kind: commune, district
	Provinces []ProvinceOverview     `json:"provinces"`
	// Recent are the newest recognitions by business date (then unit code),
	// at most RecentRecognitions of them.
	Recent  []RecentRecognition `json:"recent"`
	AsOfSeq uint64              `json:"as_of_seq"`
}

// TierCounts counts units of one kind by the highest tier they hold.
type TierCounts struct {
	Total int            `json:"total"`
	Tiers map[string]int `json:"tiers"` // tier → units; "none" for units holding none
	// AtRisk counts units at risk of revocation now; it is left out of an
	// overview as of a past date (risk is evaluated for the present).
	AtRisk int `json:"at_risk"`
}

// ProvinceOverview is one province's line of the overview.
type ProvinceOverview struct {
	Unit  string                 `json:"unit"`
	Name  string                 `json:"name"`
	Tier  string                 `json:"tier"`
	Units map[string]*TierCounts `json:"units"` // by unit kind: commune, district
}

// RecentRecognition is one grant in the overview's list of the latest.
type RecentRecognition struct {
	Unit      string `json:"unit"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Province  string `json:"province,omitempty"`
	Tier      string `json:"tier"`
	GrantedOn string `json:"granted_on"`
	RevokedOn string `json:"revoked_on,omitempty"`
	Decision  string `json:"decision,omitempty"`
}

// RecentRecognitions bounds Overview.Recent.
const RecentRecognitions = 20

// TierNone is the tier key of units holding no tier.
const TierNone = "none"

// Overview counts the units existing on asOf ("" = now: units not
// dissolved) by the highest tier they hold then. Provinces are those
// existing on asOf plus any a counted unit belongs to, in code order.
func (v *Views) Overview(_ context.Context, asOf string) (*Overview, error) {
	out := &Overview{AsOf: asOf, Country: map[string]*TierCounts{}, Provinces: []ProvinceOverview{}, Recent: []RecentRecognition{}}
	seq, err := v.snapshot(func(r pebble.Reader) error {
		provinces := map[string]*ProvinceOverview{}
		province := func(code string) *ProvinceOverview {
			p, ok := provinces[code]
			if !ok {
				p = &ProvinceOverview{Unit: code, Units: map[string]*TierCounts{}}
				provinces[code] = p
			}
			return p
		}
		var recent []RecentRecognition
		err := eachSummary(r, "", "", "", func(u *UnitSummary) (bool, error) {
			exists := u.DissolvedOn == ""
			if asOf != "" {
				exists = u.existsOn(asOf)
			}
			for _, iv := range u.Recognitions {
				if asOf == "" || iv.GrantedOn <= asOf {
					rr := RecentRecognition{Unit: u.Unit, Name: u.Name, Kind: u.Kind, Province: u.Province, Tier: iv.Tier, GrantedOn: iv.GrantedOn, Decision: iv.Decision}
					if asOf == "" || iv.RevokedOn <= asOf {
						rr.RevokedOn = iv.RevokedOn
					}
					recent = append(recent, rr)
				}
			}
			if !exists {
				return true, nil
			}
			tier := u.Tier
			if asOf != "" {
				tier = tierOn(u.Recognitions, asOf)
			}
			if u.Kind == "province" {
				p := province(u.Unit)
				p.Name, p.Tier = u.Name, tier
				return true, nil
			}
			if u.Kind != "commune" && u.Kind != "district" || u.Province == "" {
				return true, nil
			}
			atRisk := asOf == "" && u.AtRisk
			count(out.Country, u.Kind, tier, atRisk)
			count(province(u.Province).Units, u.Kind, tier, atRisk)
			return true, nil
		})
		if err != nil {
			return err
		}
		codes := make([]string, 0, len(provinces))
		for c := range provinces {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			p := provinces[c]
			if p.Name == "" {
				// A province dissolved by asOf whose units still exist then:
				// name it from its summary.
				if s, err := loadSummary(r, c); err != nil {
					return err
				} else if s != nil {
					p.Name = s.Name
				}
			}
			out.Provinces = append(out.Provinces, *p)
		}
		slices.SortFunc(recent, func(a, b RecentRecognition) int {
			return cmp.Or(cmp.Compare(b.GrantedOn, a.GrantedOn), cmp.Compare(a.Unit, b.Unit), cmp.Compare(tierOrder(b.Tier), tierOrder(a.Tier)))
		})
		out.Recent = append(out.Recent, recent[:min(len(recent), RecentRecognitions)]...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.AsOfSeq = seq
	return out, nil
}

func count(m map[string]*TierCounts, kind, tier string, atRisk bool) {
	c, ok := m[kind]
	if !ok {
		c = &TierCounts{Tiers: map[string]int{}}
		m[kind] = c
	}
	if tier == "" {
		tier = TierNone
	}
	c.Total++
	c.Tiers[tier]++
	if atRisk {
		c.AtRisk++
	}
}

// tierOn is the highest tier held on date by a unit's recognitions.
func tierOn(recs []Interval, date string) string {
	best := ""
	for _, r := range recs {
		if r.GrantedOn <= date && (r.RevokedOn == "" || date < r.RevokedOn) && (best == "" || tierOrder(r.Tier) > tierOrder(best)) {
			best = r.Tier
		}
	}
	return best
}
