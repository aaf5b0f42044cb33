package demo

import (
	"fmt"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/units"
)

// LaoCaiRecognized is the number of Lào Cai communes recognized NTM before
// plan 104/KH-BCĐ of 15/02/2024 (seed 001).
const LaoCaiRecognized = 62

// laoCaiPlanned are the 22 communes plan 104/KH-BCĐ names, by the half-year
// it plans them for, with their district codes. The plan spells two names
// differently from the catalogue: "Nậm Dạng" (catalogue: Nậm Rạng) and
// "Thẳm Dương" (catalogue: Thẩm Dương).
var laoCaiPlanned = []struct {
	when  string // "2024H1", "2024H2", "2025"
	names []string
	dist  string
}{
	{"2024H1", []string{"Mường Hoa"}, "088"},
	{"2024H1", []string{"Vĩnh Yên", "Cam Cọn"}, "087"},
	{"2024H1", []string{"Chiềng Ken"}, "089"},
	{"2024H2", []string{"Kim Sơn", "Điện Quan", "Bảo Hà"}, "087"},
	{"2024H2", []string{"Nậm Rạng"}, "089"},
	{"2024H2", []string{"Bản Liền"}, "085"},
	{"2024H2", []string{"Sán Chải"}, "084"},
	{"2025", []string{"Tân Tiến", "Thượng Hà", "Phúc Khánh", "Xuân Hoà"}, "087"},
	{"2025", []string{"Nậm Mả", "Thẩm Dương", "Minh Lương"}, "089"},
	{"2025", []string{"Nậm Lúc"}, "085"},
	{"2025", []string{"Thanh Bình", "Tả Van"}, "088"},
	{"2025", []string{"Nậm Chảy"}, "083"},
	{"2025", []string{"Nậm Pung"}, "082"},
}

// laoCai: 62 communes recognized, 252 criteria still to complete across
// them, communes under 13 criteria facing revocation under Decision
// 18/2022; 22 named communes to complete 19/19 (4 in the first half of 2024
// needing 11 criteria, 6 in the second needing 20, 12 in 2025 needing 103,
// 70 of them in 2024); 84/127 by 2025 (seed 001). Which 62 communes, which
// criteria, the dates after the plan and the decisions are synthetic.
func (f *facts) laoCai() error {
	a := provinceActor(LaoCai, "tỉnh Lào Cai")
	const issuer = "UBND tỉnh Lào Cai"
	plan := events.Document{Number: "104/KH-BCĐ", Date: "2024-02-15", Issuer: "Ban Chỉ đạo các Chương trình MTQG tỉnh Lào Cai"}
	groups := map[string][]string{}
	named := map[string]bool{}
	for _, p := range laoCaiPlanned {
		for _, n := range p.names {
			c, err := f.find(p.dist, n)
			if err != nil {
				return err
			}
			groups[p.when] = append(groups[p.when], c.Code)
			named[c.Code] = true
		}
	}
	if len(groups["2024H1"]) != 4 || len(groups["2024H2"]) != 6 || len(groups["2025"]) != 12 {
		return fmt.Errorf("demo: Lào Cai plan groups %d/%d/%d, want 4/6/12", len(groups["2024H1"]), len(groups["2024H2"]), len(groups["2025"]))
	}
	var others []units.Commune
	for _, c := range f.communes(LaoCai, true) {
		if !named[c.Code] {
			others = append(others, c)
		}
	}
	others = shuffled("laocai-ntm", others, func(c units.Commune) string { return c.Code })
	recognized, rest := codes(others[:LaoCaiRecognized]), codes(others[LaoCaiRecognized:])

	// The 62: recognized in the year-end rounds of 2013-2023.
	for i, code := range recognized {
		year := 2013 + i*11/len(recognized)
		date := fmt.Sprintf("%d-12-%d", year, 18+year%10)
		f.recognize(a, code, "commune", "ntm", date, decision(2000+year, "QĐ-UBND", date, issuer))
	}
	// The plan's review on 15/02/2024: 252 criteria to complete across the
	// 62; three communes under 13 criteria, failing Income and Environment
	// among others (at risk); the other 59 miss 3 or 4.
	misses := make([]int, len(recognized))
	for i := range misses {
		switch {
		case i < 3:
			misses[i] = 8
		case i < 3+51:
			misses[i] = 4
		default:
			misses[i] = 3
		}
	}
	for i, code := range recognized {
		nm := notMetExcept(code, misses[i], 10, 17, 19)
		if misses[i] >= 7 {
			nm = notMet(code, communeCriteria, misses[i], 10, 17)
		}
		f.b.Assess(a, code, plan.Date, "ntm", "district", communeCriteria, nm)
	}
	// Before August 2024, two of the three restore every criterion; the
	// third still misses seven, Income among them: at risk.
	for i, code := range recognized[:3] {
		var nm []int
		if i == 2 {
			nm = notMet(code+"/2024", communeCriteria, 7, 10)
		}
		f.b.Assess(a, code, "2024-07-31", "ntm", "province", communeCriteria, nm)
	}
	// The 22 planned communes at the plan's review.
	for _, g := range []struct {
		when   string
		misses []int
	}{
		{"2024H1", []int{3, 3, 3, 2}},                       // 11
		{"2024H2", []int{4, 4, 3, 3, 3, 3}},                 // 20
		{"2025", []int{9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8}}, // 103
	} {
		for i, code := range groups[g.when] {
			f.b.Assess(a, code, plan.Date, "ntm", "district", communeCriteria, notMet(code, communeCriteria, g.misses[i]))
		}
	}
	for _, code := range groups["2024H1"] {
		f.recognize(a, code, "commune", "ntm", "2024-09-27", decision(1800, "QĐ-UBND", "2024-09-27", issuer))
	}
	for _, code := range groups["2024H2"] {
		f.recognize(a, code, "commune", "ntm", "2024-12-30", decision(3350, "QĐ-UBND", "2024-12-30", issuer))
	}
	// The 2025 twelve complete 70 criteria in 2024 (33 left), the rest by
	// June 2025 — before the reform, with no recognition decision recorded.
	left := []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2} // 33
	for i, code := range groups["2025"] {
		before := notMet(code, communeCriteria, []int{9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8}[i])
		f.b.Assess(a, code, "2024-12-10", "ntm", "district", communeCriteria, before[:left[i]])
		f.b.Assess(a, code, "2025-06-16", "ntm", "district", communeCriteria, nil)
	}
	// The other communes: well short of 19.
	for _, code := range rest {
		f.b.Assess(a, code, plan.Date, "ntm", "district", communeCriteria, notMet(code, communeCriteria, 5+int(rank(code)%6)))
	}
	// The plan's targets: 10 more in 2024, 12 in 2025, 84/127 (66.1%).
	f.b.Target(a, LaoCai, plan, 2024, "commune", "ntm", 10, 0)
	f.b.Target(a, LaoCai, plan, 2025, "commune", "ntm", 12, 66.1)
	return nil
}
