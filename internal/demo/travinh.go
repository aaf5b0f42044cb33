package demo

import (
	"fmt"
	"slices"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/units"
)

// traVinh: plan 69/KH-UBND of 17/10/2022 and its yearly targets (seed 002):
// 2022 three more NTM communes, ten more advanced, two more NTM districts;
// 2023 one more NTM district (9/9), Cầu Kè advanced, 50% of communes
// advanced; 2024 Tiểu Cần advanced, 60%; 2025 Càng Long advanced, 70%, one
// model district. The targets are published; the achievements (met through
// 2024, behind in the first half of 2025, cut short by the reform) are
// synthetic.
func (f *facts) traVinh() error {
	a := provinceActor(TraVinh, "tỉnh Trà Vinh")
	const issuer = "UBND tỉnh Trà Vinh"
	pm := "Thủ tướng Chính phủ"
	plan := events.Document{Number: "69/KH-UBND", Date: "2022-10-17", Issuer: issuer}
	d := map[string]units.District{}
	for _, name := range []string{"Huyện Càng Long", "Huyện Châu Thành", "Huyện Cầu Kè", "Huyện Cầu Ngang", "Huyện Duyên Hải", "Huyện Tiểu Cần", "Huyện Trà Cú", "Thành phố Trà Vinh", "Thị xã Duyên Hải"} {
		dist, err := f.district(TraVinh, name)
		if err != nil {
			return err
		}
		d[name] = dist
	}
	all := f.communes(TraVinh, true)
	// The three communes of 2022 are in Trà Cú, the last district to finish.
	traCu := shuffled("travinh-2022", f.communes(d["Huyện Trà Cú"].Code, true), func(c units.Commune) string { return c.Code })
	late := codes(traCu[:3])
	var early []string
	for _, c := range shuffled("travinh-ntm", all, func(c units.Commune) string { return c.Code }) {
		if !slices.Contains(late, c.Code) {
			early = append(early, c.Code)
		}
	}
	held := map[string]string{}
	for i, code := range early {
		year := 2012 + i*10/len(early)
		date := fmt.Sprintf("%d-12-%d", year, 16+year%12)
		f.recognize(a, code, "commune", "ntm", date, decision(2500+year, "QĐ-UBND", date, issuer))
		held[code] = date
	}
	for _, code := range late {
		f.recognize(a, code, "commune", "ntm", "2022-12-28", decision(2890, "QĐ-UBND", "2022-12-28", issuer))
	}
	// Advanced communes: Cầu Kè's and Tiểu Cần's first.
	first := func(c string) int {
		cm, _ := f.h.Commune(c)
		switch cm.District {
		case d["Huyện Cầu Kè"].Code:
			return 0
		case d["Huyện Tiểu Cần"].Code:
			return 1
		case d["Huyện Càng Long"].Code:
			return 2
		}
		return 3
	}
	adv := slices.Clone(early)
	slices.SortStableFunc(adv, func(x, y string) int { return first(x) - first(y) })
	rounds := []struct {
		date string
		n    int
	}{
		{"2019-12-20", 6}, {"2020-12-22", 8}, {"2021-12-24", 8}, // 22 before the plan
		{"2022-12-28", 10}, // target: 10
		{"2023-12-27", 11}, // target: 50% → 43/85
		{"2024-12-26", 8},  // target: 60% → 51/85
		{"2025-06-20", 5},  // target: 70% → 60/85; 56 before the reform
	}
	used := map[string]bool{}
	for i, r := range rounds {
		picked, err := eligible(adv, used, held, r.date, r.n)
		if err != nil {
			return err
		}
		for _, code := range picked {
			f.recognize(a, code, "commune", "advanced", r.date, decision(1600+i*211, "QĐ-UBND", r.date, issuer))
		}
	}
	// Districts.
	for i, r := range []struct{ name, tier, date string }{
		{"Huyện Cầu Kè", "ntm", "2018-04-19"},
		{"Huyện Tiểu Cần", "ntm", "2019-03-28"},
		{"Thành phố Trà Vinh", "completed", "2020-01-15"},
		{"Huyện Càng Long", "ntm", "2020-11-05"},
		{"Huyện Châu Thành", "ntm", "2021-05-31"},
		{"Thị xã Duyên Hải", "completed", "2021-10-08"},
		{"Huyện Cầu Ngang", "ntm", "2022-07-22"},
		{"Huyện Duyên Hải", "ntm", "2022-12-16"},
		{"Huyện Trà Cú", "ntm", "2023-09-29"},
		{"Huyện Cầu Kè", "advanced", "2023-12-20"},
		{"Huyện Tiểu Cần", "advanced", "2024-11-28"},
	} {
		f.recognize(a, d[r.name].Code, "district", r.tier, r.date, decision(700+i*53, "QĐ-TTg", r.date, pm))
	}
	// Càng Long works towards advanced: seven of nine criteria in May 2025.
	f.b.Assess(a, d["Huyện Càng Long"].Code, "2025-05-15", "advanced", "province", districtCriteria, []int{2, 6})
	// The plan's targets.
	f.b.Target(a, TraVinh, plan, 2022, "commune", "ntm", 3, 0)
	f.b.Target(a, TraVinh, plan, 2022, "commune", "advanced", 10, 0)
	f.b.Target(a, TraVinh, plan, 2022, "district", "ntm", 2, 0)
	f.b.Target(a, TraVinh, plan, 2023, "district", "ntm", 1, 100)
	f.b.Target(a, TraVinh, plan, 2023, "district", "advanced", 1, 0)
	f.b.Target(a, TraVinh, plan, 2023, "commune", "advanced", 0, 50)
	f.b.Target(a, TraVinh, plan, 2024, "district", "advanced", 1, 0)
	f.b.Target(a, TraVinh, plan, 2024, "commune", "advanced", 0, 60)
	f.b.Target(a, TraVinh, plan, 2025, "district", "advanced", 1, 0)
	f.b.Target(a, TraVinh, plan, 2025, "commune", "advanced", 0, 70)
	f.b.Target(a, TraVinh, plan, 2025, "district", "model", 1, 0)
	return nil
}
