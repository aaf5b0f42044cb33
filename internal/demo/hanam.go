package demo

import (
	"fmt"
	"slices"
	"time"
)

// HaNamPhuong are the Hà Nam phường that stand in the demo for rural
// communes recognized before they became wards: the 2025 catalogue has 65 xã
// where Hà Nam had 83 in 2020 (mergers, and Duy Tiên and Kim Bảng becoming
// towns). The choice of these 18 is synthetic (docs/demo.md).
var HaNamPhuong = []string{
	// Kim Bảng (thị xã since 2025): former xã
	"13390", "13393", "13396", "13402", "13405", "13411", "13423", "13435",
	// Duy Tiên (thị xã since 2020): former xã
	"13330", "13333", "13336", "13342", "13348", "13354", "13357",
	// Phủ Lý: former xã of Duy Tiên and Thanh Liêm (their codes say so)
	"13366", "13444", "13459",
}

// HaNamModel are the four model communes recognized by 15/03/2021 (seed
// 004): Xuân Khê, Mộc Bắc (13327, now Xã Mộc Hoàn), An Đổ, Phù Vân.
var HaNamModel = []string{"13624", "13327", "13552", "13306"}

// HaNamAtRisk is Xã Đinh Xá, which a synthetic 2024 inspection finds
// slipping on six criteria including Income and Environment.
const HaNamAtRisk = "13507"

// haNam: 83/83 communes NTM, 6/6 district-level units NTM or completed
// (Duy Tiên and Kim Bảng as the huyện they were then), the province
// completed on 31/12/2020, four model communes by 15/03/2021 (seed 004).
// Which commune was recognized when, and the decision numbers, are
// synthetic.
func (f *facts) haNam() error {
	a := provinceActor(HaNam, "tỉnh Hà Nam")
	const issuer = "UBND tỉnh Hà Nam"
	var ntm []string
	for _, c := range f.communes(HaNam, true) {
		ntm = append(ntm, c.Code)
	}
	ntm = append(ntm, HaNamPhuong...)
	if len(ntm) != 83 {
		return fmt.Errorf("demo: Hà Nam has %d communes to recognize, want 83", len(ntm))
	}
	// Communes: recognized in the year-end rounds of 2011-2018, about ten
	// each year, one decision per year.
	byYear := map[int][]string{}
	for i, code := range shuffled("hanam-ntm", ntm, func(s string) string { return s }) {
		year := 2011 + i*8/len(ntm)
		byYear[year] = append(byYear[year], code)
	}
	for year := 2011; year <= 2018; year++ {
		date := fmt.Sprintf("%d-12-%d", year, 20+year%8)
		doc := decision(3000+year, "QĐ-UBND", date, issuer)
		for _, code := range byYear[year] {
			f.recognize(a, code, "commune", "ntm", date, doc)
		}
	}
	// Districts: 2019-2020, by the Prime Minister. The seed's 6/6 "huyện,
	// thành phố, thị xã ... đạt chuẩn và hoàn thành nhiệm vụ xây dựng NTM"
	// gives no dates: these are synthetic. A unit takes the tier of what it
	// was on the date: Phủ Lý, a provincial city, completed the NTM task;
	// Duy Tiên and Kim Bảng, huyện when recognized (thị xã since 2020 and
	// 2025), reached the NTM-district standard.
	pm := "Thủ tướng Chính phủ"
	districts := []struct {
		name, tier, date string
	}{
		{"Thành phố Phủ Lý", "completed", "2019-05-14"},
		{"Huyện Bình Lục", "ntm", "2019-06-12"},
		{"Huyện Lý Nhân", "ntm", "2019-09-24"},
		{"Thị xã Duy Tiên", "ntm", "2019-11-20"}, // a huyện until 2020
		{"Huyện Thanh Liêm", "ntm", "2020-03-18"},
		{"Thị xã Kim Bảng", "ntm", "2020-08-27"}, // a huyện until 2025
	}
	for i, d := range districts {
		dist, err := f.district(HaNam, d.name)
		if err != nil {
			return err
		}
		f.recognize(a, dist.Code, "district", d.tier, d.date, decision(500+i*101, "QĐ-TTg", d.date, pm))
	}
	// The province: completed on 31/12/2020 (published; number illustrative).
	f.b.Grant(a, HaNam, "2020-12-31", "completed", decision(2287, "QĐ-TTg", "2020-12-31", pm))
	// Model communes: advanced first (2019), model by 15/03/2021.
	modelDates := []string{"2020-11-26", "2020-12-18", "2021-01-22", "2021-03-15"}
	for i, code := range HaNamModel {
		if !slices.Contains(ntm, code) {
			return fmt.Errorf("demo: model commune %s is not among Hà Nam's NTM communes", code)
		}
		adv := fmt.Sprintf("2019-%02d-15", 6+i)
		f.recognize(a, code, "commune", "advanced", adv, decision(2100+i, "QĐ-UBND", adv, issuer))
		f.b.Grant(a, code, modelDates[i], "model", decision(400+i*37, "QĐ-UBND", modelDates[i], issuer))
	}
	// Đinh Xá: a 2024 inspection finds six criteria not maintained, among
	// them Income (10) and Environment & food safety (17): at risk under
	// Decision 18/2022.
	f.b.Assess(a, HaNamAtRisk, "2024-10-01", "ntm", "inspection", communeCriteria, []int{5, 6, 8, 10, 12, 17})
	return nil
}

func shiftDays(date string, days int) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		panic(fmt.Sprintf("demo: bad date %q", date))
	}
	return t.AddDate(0, 0, days).Format(time.DateOnly)
}
