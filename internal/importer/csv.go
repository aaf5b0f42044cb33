package importer

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ntmledger/ntmledger/events"
)

// Columns are the CSV columns the importer understands, by canonical name,
// with the headers it accepts for each (compared after fold: case,
// diacritics and punctuation do not matter). docs/demo.md documents them.
var Columns = []struct {
	Name    string
	Aliases []string
}{
	{"id", []string{"ma_su_kien"}},
	{"type", []string{"loai", "loai_su_kien", "su_kien"}},
	{"unit", []string{"ma_don_vi", "ma_dvhc", "ma_xa", "ma", "don_vi"}},
	{"occurred_at", []string{"ngay", "ngay_danh_gia", "ngay_quyet_dinh", "date"}},
	{"tier", []string{"muc", "muc_dat_chuan", "hang", "danh_hieu"}},
	{"criterion", []string{"tieu_chi", "so_tieu_chi", "chi_tieu_thanh_phan"}},
	{"status", []string{"ket_qua", "danh_gia", "tinh_trang"}},
	{"stage", []string{"cap_danh_gia", "cap", "buoc"}},
	{"value", []string{"gia_tri"}},
	{"note", []string{"ghi_chu"}},
	{"document_number", []string{"so_van_ban", "so_quyet_dinh", "so_hieu_van_ban", "van_ban"}},
	{"document_date", []string{"ngay_van_ban", "ngay_ban_hanh"}},
	{"document_issuer", []string{"co_quan_ban_hanh", "noi_ban_hanh"}},
	{"rulebook", []string{"bo_tieu_chi"}},
	{"reason", []string{"ly_do"}},
	{"basis", []string{"can_cu", "can_cu_phap_ly"}},
	{"revokes", []string{"quyet_dinh_bi_thu_hoi"}},
	{"percent", []string{"ty_le_hai_long", "muc_do_hai_long"}},
	{"respondents", []string{"so_nguoi_tra_loi", "so_phieu"}},
	{"year", []string{"nam"}},
	{"level", []string{"cap_don_vi"}},
	{"count", []string{"so_luong", "so_don_vi"}},
	{"cumulative_percent", []string{"ty_le_luy_ke"}},
	{"actor_id", []string{"ma_nguoi_ghi"}},
	{"actor_role", []string{"vai_tro"}},
	{"actor_name", []string{"nguoi_ghi", "ten_nguoi_ghi"}},
}

// header maps a CSV header to column positions. Unknown headers are kept
// in Unknown (a spreadsheet often has a "Tên xã" column for people).
type header struct {
	pos     map[string]int
	Unknown []string
}

func parseHeader(row []string) (*header, error) {
	alias := map[string]string{}
	for _, c := range Columns {
		alias[fold(c.Name)] = c.Name
		for _, a := range c.Aliases {
			alias[a] = c.Name
		}
	}
	h := &header{pos: map[string]int{}}
	for i, cell := range row {
		name, ok := alias[fold(cell)]
		if !ok {
			if strings.TrimSpace(cell) != "" {
				h.Unknown = append(h.Unknown, cell)
			}
			continue
		}
		if j, dup := h.pos[name]; dup {
			return nil, fmt.Errorf("header: columns %d (%q) and %d (%q) both mean %s", j+1, row[j], i+1, cell, name)
		}
		h.pos[name] = i
	}
	for _, need := range []string{"type", "unit", "occurred_at"} {
		if _, ok := h.pos[need]; !ok {
			return nil, fmt.Errorf("header: no %s column (headers: %s; see docs/demo.md for the layout)", need, strings.Join(row, ", "))
		}
	}
	return h, nil
}

func (h *header) get(row []string, name string) string {
	i, ok := h.pos[name]
	if !ok || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// Vocabulary of cell values, after fold.
var (
	typeWords = map[string]events.Type{
		"danh_gia": events.CriterionAssessed, "danh_gia_tieu_chi": events.CriterionAssessed, "assessment": events.CriterionAssessed,
		"cong_nhan": events.RecognitionGranted, "grant": events.RecognitionGranted,
		"thu_hoi": events.RecognitionRevoked, "thu_hoi_cong_nhan": events.RecognitionRevoked, "revocation": events.RecognitionRevoked,
		"de_nghi": events.RecognitionRequested, "de_nghi_cong_nhan": events.RecognitionRequested, "request": events.RecognitionRequested,
		"khao_sat": events.SatisfactionSurveyed, "khao_sat_hai_long": events.SatisfactionSurveyed, "survey": events.SatisfactionSurveyed,
		"chi_tieu": events.TargetSet, "ke_hoach": events.TargetSet, "target": events.TargetSet,
	}
	statusWords = map[string]string{
		"met": "met", "dat": "met", "da_dat": "met", "x": "met",
		"basically_met": "basically_met", "co_ban_dat": "basically_met",
		"not_met": "not_met", "chua_dat": "not_met", "khong_dat": "not_met",
	}
	stageWords = map[string]string{
		"self": "self", "xa": "self", "tu_danh_gia": "self", "cap_xa": "self",
		"district": "district", "huyen": "district", "cap_huyen": "district",
		"province": "province", "tinh": "province", "cap_tinh": "province", "tham_dinh": "province",
		"inspection": "inspection", "kiem_tra": "inspection", "thanh_tra": "inspection", "phuc_tra": "inspection",
	}
	reasonWords = map[string]string{
		"not_maintained": "not_maintained", "khong_duy_tri": "not_maintained", "khong_duy_tri_dat_chuan": "not_maintained",
		"violation": "violation", "vi_pham": "violation",
		"false_dossier": "false_dossier", "ho_so_sai": "false_dossier", "gian_lan": "false_dossier", "ho_so_khong_trung_thuc": "false_dossier",
		"reorganization": "reorganization", "sap_xep": "reorganization", "sap_nhap": "reorganization",
		"other": "other", "khac": "other",
	}
	roleWords = map[string]string{
		"commune": "commune", "xa": "commune", "district": "district", "huyen": "district",
		"province": "province", "tinh": "province", "national": "national", "trung_uong": "national",
		"auditor": "auditor", "kiem_toan": "auditor", "system": "system", "he_thong": "system",
	}
	levelWords = map[string]string{"commune": "commune", "xa": "commune", "district": "district", "huyen": "district"}
)

// tierWord reads a tier: the contract's names or their Vietnamese words.
func tierWord(s string) string {
	f := fold(s)
	switch {
	case f == "":
		return ""
	case strings.Contains(f, "kieu_mau") || f == "model":
		return "model"
	case strings.Contains(f, "nang_cao") || f == "advanced":
		return "advanced"
	case strings.Contains(f, "hien_dai") || f == "modern":
		return "modern"
	case strings.Contains(f, "hoan_thanh") || f == "completed":
		return "completed"
	case f == "ntm" || strings.Contains(f, "nong_thon_moi") || f == "dat_chuan":
		return "ntm"
	}
	return s // the ledger names the tiers it knows
}

func word(field, s string, words map[string]string) (string, error) {
	if s == "" {
		return "", nil
	}
	if w, ok := words[fold(s)]; ok {
		return w, nil
	}
	return "", fmt.Errorf("%s: %q is not a known value", field, s)
}

var dmy = regexp.MustCompile(`^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$`)

// date reads YYYY-MM-DD, RFC 3339, or the DD/MM/YYYY of Vietnamese
// spreadsheets.
func date(field, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if m := dmy.FindStringSubmatch(s); m != nil {
		d, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		t := time.Date(atoi(m[3]), time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		if t.Day() != d || int(t.Month()) != mo {
			return "", fmt.Errorf("%s: %q is not a date", field, s)
		}
		return t.Format(time.DateOnly), nil
	}
	if _, err := events.ParseDate(s); err != nil {
		return "", fmt.Errorf("%s: %q is not a date (YYYY-MM-DD or DD/MM/YYYY)", field, s)
	}
	return s, nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// number reads a number, with a decimal comma if there is no point.
func number(field, s string) (*float64, error) {
	if s == "" {
		return nil, nil
	}
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	dot, comma := strings.LastIndexByte(t, '.'), strings.LastIndexByte(t, ',')
	switch {
	case comma >= 0 && dot > comma: // 1,234.5
		t = strings.ReplaceAll(t, ",", "")
	case dot >= 0 && comma > dot: // 1.234,5
		t = strings.ReplaceAll(t, ".", "")
		t = strings.Replace(t, ",", ".", 1)
	case comma >= 0: // 92,5
		t = strings.Replace(t, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a number", field, s)
	}
	return &f, nil
}

func integer(field, s string) (*int, error) {
	f, err := number(field, s)
	if err != nil || f == nil {
		return nil, err
	}
	if *f != float64(int(*f)) {
		return nil, fmt.Errorf("%s: %q is not a whole number", field, s)
	}
	n := int(*f)
	return &n, nil
}

var criterionPrefix = regexp.MustCompile(`^[^0-9]*`)

// unitCode trims a code and restores the leading zero a spreadsheet drops
// from a 5-digit commune code ("2974" → "02974"). Province and district
// codes must keep theirs: "1" could be either.
func unitCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 4 && strings.Trim(s, "0123456789") == "" {
		return "0" + s
	}
	return s
}

// rowInput turns one CSV row into an event input.
func rowInput(h *header, row []string, actor events.Actor) (*events.Input, error) {
	get := func(name string) string { return h.get(row, name) }
	typ := events.Type(get("type"))
	if t, ok := typeWords[fold(string(typ))]; ok {
		typ = t
	}
	if typ == "" {
		return nil, fmt.Errorf("type: missing")
	}
	occurred, err := date("occurred_at", get("occurred_at"))
	if err != nil {
		return nil, err
	}
	in := &events.Input{ID: get("id"), Type: typ, Unit: unitCode(get("unit")), OccurredAt: occurred}
	if v := get("actor_id"); v != "" {
		actor.ID, actor.Name = v, ""
	}
	if v := get("actor_role"); v != "" {
		r, err := word("actor_role", v, roleWords)
		if err != nil {
			return nil, err
		}
		actor.Role = r
	}
	if v := get("actor_name"); v != "" {
		actor.Name = v
	}
	in.Actor = &actor
	if num := get("document_number"); num != "" {
		dd, err := date("document_date", get("document_date"))
		if err != nil {
			return nil, err
		}
		in.Document = &events.Document{Number: num, Date: dd, Issuer: get("document_issuer")}
	}
	tier := tierWord(get("tier"))
	var data any
	switch typ {
	case events.CriterionAssessed:
		status, err := word("status", get("status"), statusWords)
		if err != nil {
			return nil, err
		}
		stage, err := word("stage", get("stage"), stageWords)
		if err != nil {
			return nil, err
		}
		value, err := number("value", get("value"))
		if err != nil {
			return nil, err
		}
		crit := criterionPrefix.ReplaceAllString(get("criterion"), "")
		data = events.Assessment{Tier: tier, Criterion: crit, Status: status, Stage: stage, Value: value, Note: get("note")}
	case events.RecognitionGranted:
		data = events.Grant{Tier: tier, Rulebook: get("rulebook")}
	case events.RecognitionRequested:
		data = events.Request{Tier: tier}
	case events.RecognitionRevoked:
		reason, err := word("reason", get("reason"), reasonWords)
		if err != nil {
			return nil, err
		}
		data = events.Revocation{Tier: tier, Reason: reason, Basis: get("basis"), Revokes: get("revokes"), Note: get("note")}
	case events.SatisfactionSurveyed:
		p, err := number("percent", get("percent"))
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, fmt.Errorf("percent: missing")
		}
		r, err := integer("respondents", get("respondents"))
		if err != nil {
			return nil, err
		}
		data = events.Survey{Percent: *p, Respondents: r}
	case events.TargetSet:
		y, err := integer("year", get("year"))
		if err != nil {
			return nil, err
		}
		if y == nil {
			return nil, fmt.Errorf("year: missing")
		}
		level, err := word("level", get("level"), levelWords)
		if err != nil {
			return nil, err
		}
		c, err := integer("count", get("count"))
		if err != nil {
			return nil, err
		}
		p, err := number("cumulative_percent", get("cumulative_percent"))
		if err != nil {
			return nil, err
		}
		data = events.Target{Year: *y, Level: level, Tier: tier, Count: c, CumulativePercent: p}
	default:
		return nil, fmt.Errorf("type: %q cannot be imported from CSV (assessments, requests, grants, revocations, surveys and targets can; use JSON Lines for the rest)", typ)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	in.Data = raw
	return in, nil
}
