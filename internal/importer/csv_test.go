package importer

import (
	"strings"
	"testing"

	"github.com/ntmledger/ntmledger/events"
)

func TestFold(t *testing.T) {
	cases := map[string]string{
		"Mã đơn vị":             "ma_don_vi",
		"  Cơ bản đạt ":         "co_ban_dat",
		"NGÀY VĂN BẢN":          "ngay_van_ban",
		"Ma\u0303 đơn vi\u0323": "ma_don_vi", // decomposed (NFD)
		"tỷ lệ hài lòng (%)":    "ty_le_hai_long",
		"document_number":       "document_number",
		"Số quyết định/văn bản": "so_quyet_dinh_van_ban",
	}
	for in, want := range cases {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCellValues(t *testing.T) {
	cases := []struct {
		name, got, want string
	}{
		{"tier ntm", tierWord("Nông thôn mới"), "ntm"},
		{"tier advanced", tierWord("NTM nâng cao"), "advanced"},
		{"tier model", tierWord("xã NTM kiểu mẫu"), "model"},
		{"tier completed", tierWord("Hoàn thành nhiệm vụ"), "completed"},
		{"tier as given", tierWord("modern"), "modern"},
		{"unit pad", unitCode("2974"), "02974"},
		{"unit keep", unitCode(" 13306 "), "13306"},
		{"unit reorganized", unitCode("00004@2025"), "00004@2025"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	dates := []struct{ in, want, err string }{
		{"15/11/2019", "2019-11-15", ""},
		{"5/1/2020", "2020-01-05", ""},
		{"2020-01-05", "2020-01-05", ""},
		{"31/02/2019", "", "not a date"},
		{"tomorrow", "", "not a date"},
	}
	for _, d := range dates {
		got, err := date("occurred_at", d.in)
		if got != d.want || (d.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), d.err) {
			t.Errorf("date(%q) = %q, %v", d.in, got, err)
		}
	}
	for in, want := range map[string]float64{"92,5": 92.5, "1,234.5": 1234.5, "1.234,5": 1234.5, "87%": 87, "17": 17} {
		got, err := number("value", in)
		if err != nil || *got != want {
			t.Errorf("number(%q) = %v, %v", in, got, err)
		}
	}
}

func TestRowErrorsNameTheColumn(t *testing.T) {
	h, err := parseHeader([]string{"loai", "ma_don_vi", "ngay", "muc", "tieu_chi", "ket_qua", "cap_danh_gia", "ty_le_hai_long"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		row  []string
		want string
	}{
		{[]string{"", "13306", "2020-01-01"}, "type: missing"},
		{[]string{"đánh giá", "13306", "2020-13-01"}, "occurred_at"},
		{[]string{"đánh giá", "13306", "2020-01-01", "ntm", "1", "đạt", "xóm"}, "stage"},
		{[]string{"khảo sát", "13306", "2020-01-01", "", "", "", "", "nhiều"}, "percent"},
		{[]string{"đăng ký", "13306", "2020-01-01"}, "cannot be imported from CSV"},
	}
	for _, tc := range cases {
		_, err := rowInput(h, tc.row, events.Actor{ID: "a", Role: "system"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("row %v: err %v, want one naming %q", tc.row, err, tc.want)
		}
	}
	if _, err := parseHeader([]string{"Tên xã", "Ngày"}); err == nil || !strings.Contains(err.Error(), "no type column") {
		t.Errorf("header without type: %v", err)
	}
}
