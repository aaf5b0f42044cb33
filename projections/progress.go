package projections

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ntmledger/ntmledger/events"
)

// Target is the standing target of a unit for one year, level and tier: the
// newest target.set for them (by business date, then seq).
type Target struct {
	Year              int              `json:"year"`
	Level             string           `json:"level"`
	Tier              string           `json:"tier"`
	Count             *int             `json:"count,omitempty"`
	CumulativePercent *float64         `json:"cumulative_percent,omitempty"`
	Decision          *events.Document `json:"decision,omitempty"`
	SetOn             string           `json:"set_on"`
	Event             string           `json:"event"`
	Seq               uint64           `json:"seq"`
}

func (t *Target) same(o *Target) bool {
	return t.Year == o.Year && t.Level == o.Level && t.Tier == o.Tier
}

func (t *Target) newer(o *Target) bool {
	if t.SetOn != o.SetOn {
		return t.SetOn > o.SetOn
	}
	return t.Seq > o.Seq
}

func targetOf(ev *events.Event) (*Target, bool) {
	d, err := ev.ParsedData()
	if err != nil {
		return nil, false
	}
	ts, ok := d.(*events.Target)
	if !ok {
		return nil, false
	}
	return &Target{
		Year: ts.Year, Level: ts.Level, Tier: ts.Tier, Count: ts.Count, CumulativePercent: ts.CumulativePercent,
		Decision: ev.Document, SetOn: ev.BusinessDate(), Event: ev.ID, Seq: ev.Seq,
	}, true
}

// mergeTarget puts t in ts unless a newer target for the same year, level
// and tier is there.
func mergeTarget(ts []Target, t *Target) []Target {
	for i := range ts {
		if ts[i].same(t) {
			if t.newer(&ts[i]) {
				ts[i] = *t
			}
			return ts
		}
	}
	ts = append(ts, *t)
	slices.SortFunc(ts, func(a, b Target) int {
		return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.Level, b.Level), cmp.Compare(tierOrder(a.Tier), tierOrder(b.Tier)), cmp.Compare(a.Tier, b.Tier))
	})
	return ts
}

// writeTargets folds the batch's target.set events of a unit into its
// targets; after a retraction it recomputes them from the unit's history.
func (a *applier) writeTargets(bs *batchState, b *pebble.Batch, s *State, recompute bool) (bool, error) {
	old, err := loadTargets(bs.db, s.Unit)
	if err != nil {
		return false, err
	}
	var ts []Target
	evs := bs.fresh[s.Unit]
	if recompute {
		hist, err := bs.history(s.Unit)
		if err != nil {
			return false, err
		}
		evs = append(hist, evs...)
	} else {
		ts = slices.Clone(old)
	}
	for _, ev := range evs {
		if ev.Type != events.TargetSet || s.Retracted[ev.ID] != "" {
			continue
		}
		if t, ok := targetOf(ev); ok {
			ts = mergeTarget(ts, t)
		}
	}
	nv, err := json.Marshal(ts)
	if err != nil {
		return false, err
	}
	ov, _ := json.Marshal(old)
	if string(nv) == string(ov) {
		return false, nil
	}
	if len(ts) == 0 {
		return true, b.Delete(targetKey(s.Unit), nil)
	}
	return true, b.Set(targetKey(s.Unit), nv, nil)
}

func loadTargets(r pebble.Reader, unit string) ([]Target, error) {
	v, closer, err := r.Get(targetKey(unit))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read targets of %s: %w", unit, err)
	}
	defer closer.Close()
	var ts []Target
	if err := json.Unmarshal(v, &ts); err != nil {
		return nil, fmt.Errorf("decode targets of %s: %w", unit, err)
	}
	return ts, nil
}

// tierOrder orders tier names the way the programme ranks them; unknown
// names sort after, alphabetically (by the caller's tie-break).
func tierOrder(t string) int {
	if i := slices.Index([]string{"ntm", "advanced", "model", "modern", "completed"}, t); i >= 0 {
		return i
	}
	return 100
}

// ProgressReport is a province's (or district's, or the country's) progress
// against its targets, per year and tier.
type ProgressReport struct {
	Unit    string         `json:"unit"`
	Name    string         `json:"name"`
	Kind    string         `json:"kind"`
	Years   []ProgressYear `json:"years"`
	AsOfSeq uint64         `json:"as_of_seq"`
}

// ProgressYear is one year of a progress report.
type ProgressYear struct {
	Year  int           `json:"year"`
	Tiers []ProgressRow `json:"tiers"`
}

// ProgressRow is the progress of one level (commune or district) and tier
// in one year.
//
//   - Units: the units of that level existing on 31 December of the year
//     that the programme grades — xã at commune level (phường and thị trấn
//     are urban; the plans count xã), every district-level unit but quận.
//   - Achieved: units newly reaching the tier that year (grants dated in the
//     year) net of revocations of it dated in the year.
//   - Cumulative: units holding the tier on 31 December of the year, of
//     Units; Percent = Cumulative / Units, to one decimal.
//   - Counts: the tiers the row counts, when more than its own. At district
//     level the ntm row counts a town's or provincial city's completed too:
//     "completed the NTM task" is the NTM goal of a thị xã or thành phố
//     thuộc tỉnh, and the plans count both ("09/09 đơn vị cấp huyện đạt
//     chuẩn và hoàn thành nhiệm vụ xây dựng nông thôn mới", Trà Vinh
//     69/KH-UBND). A grant or revocation of one of them does not count
//     while the unit holds another.
//   - OnTrack: the target is reached — Achieved ≥ target count and Percent ≥
//     target cumulative_percent, whichever the target sets; absent with no
//     target. For the year in progress it says whether the target is already
//     reached.
type ProgressRow struct {
	Level      string   `json:"level"`
	Tier       string   `json:"tier"`
	Counts     []string `json:"counts,omitempty"`
	Target     *Target  `json:"target,omitempty"`
	Granted    int      `json:"granted"`
	Revoked    int      `json:"revoked"`
	Achieved   int      `json:"achieved"`
	Cumulative int      `json:"cumulative"`
	Units      int      `json:"units"`
	Percent    float64  `json:"percent"`
	OnTrack    *bool    `json:"on_track,omitempty"`
}

// Progress reports a unit's progress against its targets: for every year
// from the first with a target or a recognition to the last (or only year,
// when year is not 0).
func (v *Views) Progress(_ context.Context, code string, year int) (*ProgressReport, error) {
	rep := &ProgressReport{Unit: code, Years: []ProgressYear{}}
	seq, err := v.snapshot(func(r pebble.Reader) error {
		var units []*UnitSummary
		collect := func(u *UnitSummary) (bool, error) {
			if u.Kind == "commune" || u.Kind == "district" {
				units = append(units, u)
			}
			return true, nil
		}
		switch events.UnitKind(code) {
		case "country":
			rep.Name, rep.Kind = "Việt Nam", "country"
			if err := eachSummary(r, "", "", "", collect); err != nil {
				return err
			}
		case "province", "district":
			self, err := loadSummary(r, code)
			if err != nil {
				return err
			}
			if self == nil {
				return fmt.Errorf("unit %s: %w", code, ErrNotFound)
			}
			rep.Name, rep.Kind = self.Name, self.Kind
			if self.Kind == "province" {
				err = eachSummary(r, "", code, "", collect)
			} else {
				err = eachSummary(r, code, "", "", collect)
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: progress is reported for a province, a district or VN, not %q", ErrBadArgument, code)
		}
		targets, err := loadTargets(r, code)
		if err != nil {
			return err
		}
		rep.Years = progressYears(units, targets, year)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.AsOfSeq = seq
	return rep, nil
}

// ErrBadArgument is returned for a query the views cannot answer as asked.
var ErrBadArgument = errors.New("bad argument")

// progressYears computes the rows of a progress report. Units the
// programme does not grade (phường, thị trấn, quận) are left out.
func progressYears(all []*UnitSummary, targets []Target, only int) []ProgressYear {
	units := make([]*UnitSummary, 0, len(all))
	for _, u := range all {
		if graded(u.Kind, u.Subkind) {
			units = append(units, u)
		}
	}
	type lt struct{ level, tier string }
	seen := map[lt]bool{}
	var pairs []lt
	add := func(level, tier string) {
		if k := (lt{level, tier}); !seen[k] {
			seen[k] = true
			pairs = append(pairs, k)
		}
	}
	first, last := math.MaxInt, 0
	span := func(date string) {
		if y, err := strconv.Atoi(date[:min(4, len(date))]); err == nil {
			first, last = min(first, y), max(last, y)
		}
	}
	for _, t := range targets {
		add(t.Level, t.Tier)
		first, last = min(first, t.Year), max(last, t.Year)
	}
	for _, u := range units {
		for _, r := range u.Recognitions {
			add(u.Kind, r.Tier)
			span(r.GrantedOn)
			if r.RevokedOn != "" {
				span(r.RevokedOn)
			}
		}
	}
	if only != 0 {
		first, last = only, only
	}
	if first > last {
		return []ProgressYear{}
	}
	slices.SortFunc(pairs, func(a, b lt) int {
		return cmp.Or(cmp.Compare(a.level, b.level), cmp.Compare(tierOrder(a.tier), tierOrder(b.tier)), cmp.Compare(a.tier, b.tier))
	})
	years := make([]ProgressYear, 0, last-first+1)
	for y := first; y <= last; y++ {
		ys := strconv.Itoa(y)
		end := ys + "-12-31"
		py := ProgressYear{Year: y, Tiers: []ProgressRow{}}
		for _, p := range pairs {
			row := ProgressRow{Level: p.level, Tier: p.tier}
			tiers := []string{p.tier}
			if p.level == "district" && p.tier == "ntm" {
				tiers = append(tiers, "completed")
				row.Counts = tiers
			}
			for i := range targets {
				if t := &targets[i]; t.Year == y && t.Level == p.level && t.Tier == p.tier {
					row.Target = t
				}
			}
			for _, u := range units {
				if u.Kind != p.level {
					continue
				}
				if u.existsOn(end) {
					row.Units++
				}
				held := false
				for i, r := range u.Recognitions {
					if !slices.Contains(tiers, r.Tier) {
						continue
					}
					if r.GrantedOn[:4] == ys && !holdsOther(u, tiers, i, r.GrantedOn, false) {
						row.Granted++
					}
					if r.RevokedOn != "" && r.RevokedOn[:4] == ys && !holdsOther(u, tiers, i, r.RevokedOn, true) {
						row.Revoked++
					}
					if r.GrantedOn <= end && (r.RevokedOn == "" || end < r.RevokedOn) {
						held = true
					}
				}
				if held && u.existsOn(end) {
					row.Cumulative++
				}
			}
			row.Achieved = row.Granted - row.Revoked
			if row.Units > 0 {
				row.Percent = math.Round(float64(row.Cumulative)*1000/float64(row.Units)) / 10
			}
			if t := row.Target; t != nil && (t.Count != nil || t.CumulativePercent != nil) {
				ok := (t.Count == nil || row.Achieved >= *t.Count) && (t.CumulativePercent == nil || row.Percent >= *t.CumulativePercent)
				row.OnTrack = &ok
			}
			if row.Target == nil && row.Granted == 0 && row.Revoked == 0 && row.Cumulative == 0 {
				continue
			}
			py.Tiers = append(py.Tiers, row)
		}
		years = append(years, py)
	}
	return years
}

// holdsOther reports whether u holds one of tiers on date by a recognition
// other than its skip-th: granted before date (on date too, when inclusive)
// and not revoked by then.
func holdsOther(u *UnitSummary, tiers []string, skip int, date string, inclusive bool) bool {
	for j, r := range u.Recognitions {
		if j == skip || !slices.Contains(tiers, r.Tier) {
			continue
		}
		if (r.GrantedOn < date || inclusive && r.GrantedOn == date) && (r.RevokedOn == "" || date < r.RevokedOn) {
			return true
		}
	}
	return false
}
