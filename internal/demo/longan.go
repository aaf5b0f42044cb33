package demo

import (
	"fmt"
	"slices"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/units"
)

// TanTru are Tân Trụ's four communes working towards advanced in 2024 (seed
// 003), with the advanced criteria met as reported on 08/05/2024: Quê Mỹ
// Thạnh 15/19 and Bình Trinh Đông 13/19 are published; Bình Lãng and Bình
// Tịnh are synthetic.
var TanTru = []struct {
	Name string
	Met  int
}{
	{"Quê Mỹ Thạnh", 15}, {"Bình Trinh Đông", 13}, {"Bình Lãng", 16}, {"Bình Tịnh", 14},
}

// longAn: plan 1416/KH-UBND of 11/05/2021 and its yearly targets for
// advanced communes (seed 000), and Tân Trụ's four communes (seed 003).
// The plan's other title, "xã đạt tiêu chí văn hóa, nông thôn mới", is a
// provincial cultural title, not an NTM tier, and is not modelled. Which
// communes reached which tier when is synthetic (advanced: targets met in
// 2021-2023, both the counts and the cumulative percentages of the
// province's 160 xã; 10 of 13 in 2024, 3 of 6 before the reform).
func (f *facts) longAn() error {
	a := provinceActor(LongAn, "tỉnh Long An")
	const issuer = "UBND tỉnh Long An"
	plan := events.Document{Number: "1416/KH-UBND", Date: "2021-05-11", Issuer: issuer}
	tanTru, err := f.district(LongAn, "Huyện Tân Trụ")
	if err != nil {
		return err
	}
	var four []string
	for _, t := range TanTru {
		c, err := f.find(tanTru.Code, t.Name)
		if err != nil {
			return err
		}
		four = append(four, c.Code)
	}
	// NTM: Tân Trụ's communes first, the Đồng Tháp Mười districts last.
	order := func(c units.Commune) int {
		if c.District == tanTru.Code {
			return 0
		}
		d, _ := f.h.District(c.District)
		for _, dtm := range []string{"Huyện Tân Hưng", "Huyện Vĩnh Hưng", "Huyện Mộc Hóa", "Huyện Tân Thạnh", "Huyện Thạnh Hóa", "Thị xã Kiến Tường"} {
			if d.Name == dtm {
				return 2
			}
		}
		return 1
	}
	all := shuffled("longan-ntm", f.communes(LongAn, true), func(c units.Commune) string { return c.Code })
	slices.SortStableFunc(all, func(x, y units.Commune) int { return order(x) - order(y) })
	ntm := codes(all)
	next := 0
	held := map[string]string{}
	for _, r := range []struct{ year, n int }{
		{2012, 4}, {2013, 9}, {2014, 12}, {2015, 15}, {2016, 16}, {2017, 16}, {2018, 14}, {2019, 14}, {2020, 12}, // 112
		{2021, 8}, {2022, 6}, {2023, 5}, {2024, 4}, // 135 of 160
	} {
		date := fmt.Sprintf("%d-12-%d", r.year, 15+r.year%11)
		for _, code := range ntm[next : next+r.n] {
			f.recognize(a, code, "commune", "ntm", date, decision(4000+r.year, "QĐ-UBND", date, issuer))
			held[code] = date
		}
		next += r.n
	}
	// Advanced, among those NTM by 2020 (the four of Tân Trụ aside).
	var adv []string
	for _, code := range shuffled("longan-adv", ntm[:112], func(s string) string { return s }) {
		if !slices.Contains(four, code) {
			adv = append(adv, code)
		}
	}
	used := map[string]bool{}
	for i, r := range []struct {
		date string
		n    int
	}{
		{"2018-12-21", 4}, {"2019-12-20", 5}, {"2020-12-23", 5}, // 14 before the plan
		// Targets met: 12 (16.3%), 8 (21.7%), 13 (30.6%) of 160 xã.
		{"2021-12-22", 13}, {"2022-12-21", 9}, {"2023-12-20", 14}, // 27, 36, 50: 16.9%, 22.5%, 31.3%
		{"2024-12-20", 6}, // with Tân Trụ's four: 10 of 13, 60 (37.5% of 38.6%)
		{"2025-06-18", 3}, // 3 of 6 before the reform, 63
	} {
		picked, err := eligible(adv, used, held, r.date, r.n)
		if err != nil {
			return err
		}
		for _, code := range picked {
			f.recognize(a, code, "commune", "advanced", r.date, decision(5100+i*97, "QĐ-UBND", r.date, issuer))
		}
	}
	// Tân Trụ's four: the district's check of 08/05/2024, then (synthetic)
	// every criterion met at the province's appraisal on 2024-11-20 (a
	// month before the decision, see recognize) and recognition on
	// 2024-12-20.
	for i, code := range four {
		f.b.Assess(a, code, "2024-05-08", "advanced", "district", communeCriteria, notMet(code, communeCriteria, communeCriteria-TanTru[i].Met))
		f.recognize(a, code, "commune", "advanced", "2024-12-20", decision(5100+6*97, "QĐ-UBND", "2024-12-20", issuer))
	}
	// The plan's targets for advanced communes.
	for _, t := range []struct {
		year, n int
		pct     float64
	}{{2021, 12, 16.3}, {2022, 8, 21.7}, {2023, 13, 30.6}, {2024, 13, 38.6}, {2025, 6, 40.1}} {
		f.b.Target(a, LongAn, plan, t.year, "commune", "advanced", t.n, t.pct)
	}
	return nil
}
