package projections

import (
	"fmt"
	"strings"
	"testing"
)

// Progress counts what the plans count: xã at commune level (not phường or
// thị trấn), and at district level a town's or city's completed as
// reaching the NTM goal (Trà Vinh 69/KH-UBND: "09/09 đơn vị cấp huyện đạt
// chuẩn và hoàn thành nhiệm vụ xây dựng nông thôn mới").
func TestProgressCountsWhatThePlansCount(t *testing.T) {
	unit := func(code, kind, subkind string, ivs ...Interval) *UnitSummary {
		return &UnitSummary{Unit: code, Kind: kind, Subkind: subkind, RegisteredOn: "2010-01-01", Recognitions: ivs}
	}
	grant := func(tier, on string) Interval { return Interval{Tier: tier, GrantedOn: on} }
	n := func(v int) *int { return &v }
	pc := func(v float64) *float64 { return &v }
	units := []*UnitSummary{
		unit("1", "commune", "xa", grant("ntm", "2021-12-20"), grant("advanced", "2023-12-20")),
		unit("2", "commune", "xa", grant("ntm", "2021-12-20")),
		unit("3", "commune", "xa"),
		unit("4", "commune", "xa"),
		unit("5", "commune", "phuong", grant("ntm", "2021-12-20"), grant("advanced", "2023-12-20")),
		unit("6", "commune", "thi_tran"),
		unit("7", "commune", ""), // no subkind: counted
		unit("d1", "district", "huyen", grant("ntm", "2022-07-22")),
		unit("d2", "district", "huyen", grant("ntm", "2023-09-29")),
		unit("d3", "district", "thanh_pho", grant("completed", "2020-01-15")),
		unit("d4", "district", "thi_xa", grant("completed", "2023-03-01")),
		unit("d5", "district", "thi_xa", grant("ntm", "2019-11-20"), grant("completed", "2023-06-01")), // a huyện recognised NTM, then a town
		unit("q1", "district", "quan"),
	}
	targets := []Target{
		{Year: 2023, Level: "commune", Tier: "advanced", CumulativePercent: pc(20)},
		{Year: 2023, Level: "district", Tier: "ntm", Count: n(2), CumulativePercent: pc(100)},
	}
	var got []string
	for _, y := range progressYears(units, targets, 2023) {
		for _, r := range y.Tiers {
			on := "-"
			if r.OnTrack != nil {
				on = fmt.Sprint(*r.OnTrack)
			}
			got = append(got, fmt.Sprintf("%d %s %s %v: granted %d, %d of %d (%v%%), on track %s", y.Year, r.Level, r.Tier, r.Counts, r.Granted, r.Cumulative, r.Units, r.Percent, on))
		}
	}
	want := []string{
		"2023 commune ntm []: granted 0, 2 of 5 (40%), on track -",
		"2023 commune advanced []: granted 1, 1 of 5 (20%), on track true",
		"2023 district ntm [ntm completed]: granted 2, 5 of 5 (100%), on track true",
		"2023 district completed []: granted 2, 3 of 5 (60%), on track -",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
