package demo

import (
	"fmt"
	"slices"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/units"
)

// The seed articles (../shared/seeds) the published facts come from.
const (
	SeedLongAn1416 = "000: Long An, Kế hoạch 1416/KH-UBND (11/05/2021)"
	SeedLaoCai104  = "001: Lào Cai, Kế hoạch 104/KH-BCĐ (15/02/2024)"
	SeedTraVinh69  = "002: Trà Vinh, Kế hoạch 69/KH-UBND (17/10/2022)"
	SeedTanTru     = "003: Long An, Tân Trụ tập trung xây dựng NTM nâng cao (08/05/2024)"
	SeedHaNam      = "004: Hà Nam, MTTQ tỉnh (12/10/2021)"
)

// Province codes of the demo's four provinces (pre-reform).
const (
	HaNam   = "35"
	LaoCai  = "10"
	TraVinh = "84"
	LongAn  = "80"
)

// Criteria counts of the sets the demo assesses.
const (
	communeCriteria  = 19 // 1980/QĐ-TTg and 318/QĐ-TTg
	districtCriteria = 9  // 558/QĐ-TTg and 320/QĐ-TTg
)

// facts builds the seed facts; each method adds one province.
type facts struct {
	b *Builder
	h *units.Hierarchy
}

// Facts returns the demo's facts (not the units) in date order.
func Facts(h *units.Hierarchy) ([]*events.Input, error) {
	f := &facts{b: NewBuilder(), h: h}
	for _, add := range []func() error{f.haNam, f.laoCai, f.traVinh, f.longAn} {
		if err := add(); err != nil {
			return nil, err
		}
	}
	f.b.SortByDate()
	return f.b.Inputs(), nil
}

func provinceActor(code, name string) *events.Actor {
	return &events.Actor{ID: "demo:" + code, Role: "province", Name: "Văn phòng Điều phối NTM " + name + " (demo)"}
}

// decision is an illustrative decision number: the demo knows the date and
// the issuer of many recognitions, rarely their numbers.
func decision(n int, kind, date, issuer string) events.Document {
	return events.Document{Number: fmt.Sprintf("%d/%s (demo)", n, kind), Date: date, Issuer: issuer}
}

// notMet picks k criteria of 1…n deterministically for a unit, always
// including the listed ones first.
func notMet(salt string, n, k int, first ...int) []int { return pick(salt, n, k, first, nil) }

// notMetExcept picks k of the 19 criteria, none of them a key criterion of
// Decision 18/2022, so a commune missing them is not at risk.
func notMetExcept(salt string, k int, keys ...int) []int {
	return pick(salt, communeCriteria, k, nil, keys)
}

func pick(salt string, n, k int, include, exclude []int) []int {
	out := slices.Clone(include)
	all := make([]int, n)
	for i := range all {
		all[i] = i + 1
	}
	for _, c := range shuffled(salt, all, func(c int) string { return fmt.Sprint(c) }) {
		if len(out) >= k {
			break
		}
		if !slices.Contains(out, c) && !slices.Contains(exclude, c) {
			out = append(out, c)
		}
	}
	out = out[:min(k, len(out))]
	slices.Sort(out)
	return out
}

// recognize records a commune's or district's way to a tier: the
// province's appraisal (every criterion met) a month before, a satisfaction
// survey on the appraisal's date when the decision falls under the
// 2021-2025 rules, and the decision.
func (f *facts) recognize(a *events.Actor, unit, kind, tier, date string, doc events.Document) {
	n := communeCriteria
	if kind == "district" {
		n = districtCriteria
	}
	appraisal := shiftDays(date, -30)
	if tier != "model" && tier != "completed" {
		f.b.Assess(a, unit, appraisal, tier, "province", n, nil)
	}
	// The 2021-2025 rules ask ≥ 90% satisfaction of communes and of NTM
	// districts; a town's completed is an open tier, without conditions.
	if date >= rules20212025 && tier != "completed" {
		f.b.Survey(a, unit, appraisal, 90+float64(rank(unit+tier)%9), 300+int(rank(unit)%200))
	}
	f.b.Grant(a, unit, date, tier, doc)
}

// rules20212025 is the first day of the 2021-2025 rulebook (318, 320/QĐ-TTg
// of 08/03/2022), which checks satisfaction.
const rules20212025 = "2022-03-08"

// eligible returns the next n of pref, in order, not used yet and
// recognized (held[code] is the date) before date; it marks them used.
func eligible(pref []string, used map[string]bool, held map[string]string, date string, n int) ([]string, error) {
	var out []string
	for _, code := range pref {
		if len(out) == n {
			break
		}
		if d, ok := held[code]; ok && d < date && !used[code] {
			out = append(out, code)
			used[code] = true
		}
	}
	if len(out) < n {
		return nil, fmt.Errorf("demo: only %d of %d communes eligible before %s", len(out), n, date)
	}
	return out, nil
}

func (f *facts) communes(parent string, rural bool) []units.Commune {
	var out []units.Commune
	for _, c := range f.h.CommunesOf(parent) {
		if !rural || c.Rural() {
			out = append(out, c)
		}
	}
	return out
}

func (f *facts) find(parent, name string) (units.Commune, error) {
	c, err := f.h.FindCommune(parent, name)
	if err != nil {
		return units.Commune{}, fmt.Errorf("demo: %w", err)
	}
	return *c, nil
}

func (f *facts) district(province, name string) (units.District, error) {
	for _, d := range f.h.DistrictsOf(province) {
		if d.Name == name {
			return d, nil
		}
	}
	return units.District{}, fmt.Errorf("demo: no district %q in province %s", name, province)
}

func codes(cs []units.Commune) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}
