// Package units is Vietnam's administrative geography as the product ships
// it: the pre-reform hierarchy (63 provinces, 696 districts, 10,035
// communes, as it stood on 2025-06-30) and the reform of 2025-07-01 that
// merged them into 34 provinces and 3,321 communes without districts.
//
// The data are the two CSV files of ../shared/data (see their README for
// sources and known doubts), gzip-compressed and embedded in the binary, so
// nothing is read from outside at run time. The package only parses them;
// turning units into events is the demo's and the generator's business.
//
// # Ledger codes
//
// GSO codes are reused across the reform: a new commune takes the code of
// one of the communes merged into it, and a new province the code of one of
// its old provinces. Codes therefore need their period to be unique. The
// pre-reform units keep their bare GSO codes ("00004" is Phường Trúc Bạch,
// "01" the pre-reform Hà Nội); every unit created by the reform gets the
// suffix "@2025" ("00004@2025" is Phường Ba Đình, "01@2025" the post-reform
// Hà Nội). LedgerCode and GSOCode convert.
package units

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

//go:embed data/units-2024.csv.gz
var units2024 []byte

//go:embed data/reform-2025.csv.gz
var reform2025 []byte

// Reform facts that hold for every row of the reform file.
const (
	// ReformSuffix qualifies the codes of units created by the reform.
	ReformSuffix = "@2025"
	// ReformEffective is the day the reform took effect.
	ReformEffective = "2025-07-01"
	// CommuneResolutionDate is the date of the 34 Standing Committee
	// resolutions (1654–1687/NQ-UBTVQH15) that re-arranged the communes.
	CommuneResolutionDate = "2025-06-16"
	// CommuneResolutionIssuer issued them.
	CommuneResolutionIssuer = "Ủy ban Thường vụ Quốc hội"
	// ProvinceResolution merged the provinces (63 → 34).
	ProvinceResolution = "202/2025/QH15"
	// ProvinceResolutionDate is its date.
	ProvinceResolutionDate = "2025-06-12"
	// ProvinceResolutionIssuer issued it.
	ProvinceResolutionIssuer = "Quốc hội"
)

// LedgerCode is the ledger code of a unit created by the reform.
func LedgerCode(gso string) string { return gso + ReformSuffix }

// GSOCode strips the period suffix of a ledger code.
func GSOCode(code string) string { return strings.TrimSuffix(code, ReformSuffix) }

// Province is a pre-reform province.
type Province struct {
	Code    string // 2 digits
	Name    string // "Tỉnh Hà Nam"
	Subkind string // tinh, thanh_pho
	Region  string // one of events.Regions
}

// District is a pre-reform district-level unit.
type District struct {
	Code     string // 3 digits
	Name     string
	Subkind  string // huyen, quan, thi_xa, thanh_pho
	Province string
}

// Commune is a pre-reform commune-level unit.
type Commune struct {
	Code     string // 5 digits
	Name     string
	Subkind  string // xa, phuong, thi_tran
	District string
	Province string
}

// Rural reports whether the commune is a xã, the kind of commune the
// New Rural Development programme recognizes.
func (c *Commune) Rural() bool { return c.Subkind == "xa" }

// Hierarchy is the pre-reform hierarchy, each list sorted by code.
type Hierarchy struct {
	Provinces []Province
	Districts []District
	Communes  []Commune

	province map[string]int
	district map[string]int
	commune  map[string]int
}

// Province returns a province by code.
func (h *Hierarchy) Province(code string) (*Province, bool) {
	i, ok := h.province[code]
	if !ok {
		return nil, false
	}
	return &h.Provinces[i], true
}

// District returns a district by code.
func (h *Hierarchy) District(code string) (*District, bool) {
	i, ok := h.district[code]
	if !ok {
		return nil, false
	}
	return &h.Districts[i], true
}

// Commune returns a commune by code.
func (h *Hierarchy) Commune(code string) (*Commune, bool) {
	i, ok := h.commune[code]
	if !ok {
		return nil, false
	}
	return &h.Communes[i], true
}

// CommunesOf returns the communes of a province or district, in code order.
func (h *Hierarchy) CommunesOf(code string) []Commune {
	var out []Commune
	for _, c := range h.Communes {
		if c.Province == code || c.District == code {
			out = append(out, c)
		}
	}
	return out
}

// DistrictsOf returns the districts of a province, in code order.
func (h *Hierarchy) DistrictsOf(province string) []District {
	var out []District
	for _, d := range h.Districts {
		if d.Province == province {
			out = append(out, d)
		}
	}
	return out
}

// FindCommune returns the commune of a district (or province) with that
// name, with or without its type prefix ("Xã Tả Van" or "Tả Van").
func (h *Hierarchy) FindCommune(parent, name string) (*Commune, error) {
	var found []int
	for i, c := range h.Communes {
		if (c.District == parent || c.Province == parent) && (c.Name == name || strings.HasSuffix(c.Name, " "+name)) {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("units: no commune named %q in %s", name, parent)
	case 1:
		return &h.Communes[found[0]], nil
	}
	return nil, fmt.Errorf("units: %d communes named %q in %s", len(found), name, parent)
}

// NewProvince is a province as the reform made it.
type NewProvince struct {
	Code    string   // ledger code, "37@2025"
	Name    string   // "Tỉnh Ninh Bình"
	Subkind string   // tinh, thanh_pho
	Region  string   // the region of the old province whose code it took
	From    []string // old province codes, sorted
}

// NewCommune is a commune-level unit as the reform made it.
type NewCommune struct {
	Code       string  // ledger code, "13327@2025"
	Name       string  // "Xã Mộc Hoàn"
	Subkind    string  // xa, phuong, dac_khu
	Province   string  // ledger code of its new province
	Region     string  // region of its first old unit's province
	Resolution string  // "1673/NQ-UBTVQH15"
	From       []Piece // old units, sorted by code
}

// Piece is one old unit (or part of one) that went into a new unit.
type Piece struct {
	Code string // a pre-reform commune code, or a district code for the 5 commune-less island districts
	// Partial is true when the old unit was split between several new units.
	Partial bool
}

// Reform is the 2025 reform: new provinces and communes, each with its
// predecessors, and the reverse index.
type Reform struct {
	Provinces []NewProvince
	Communes  []NewCommune

	into map[string][]string // old code → new ledger codes
}

// Into returns the ledger codes of the new units an old unit went into.
func (r *Reform) Into(old string) []string { return r.into[old] }

// IslandDistricts are the five pre-reform districts without communes; they
// are not in the hierarchy file, and became special zones (đặc khu).
var IslandDistricts = []District{
	{Code: "318", Name: "Huyện Bạch Long Vĩ", Subkind: "huyen", Province: "31"},
	{Code: "471", Name: "Huyện Cồn Cỏ", Subkind: "huyen", Province: "45"},
	{Code: "498", Name: "Huyện Hoàng Sa", Subkind: "huyen", Province: "48"},
	{Code: "536", Name: "Huyện Lý Sơn", Subkind: "huyen", Province: "51"},
	{Code: "755", Name: "Huyện Côn Đảo", Subkind: "huyen", Province: "77"},
}

// Data is the whole embedded geography.
type Data struct {
	Hierarchy *Hierarchy
	Reform    *Reform
}

// Load parses the embedded data. The result is shared and must not be
// modified; parsing happens once per process.
var Load = sync.OnceValues(func() (*Data, error) {
	h, err := parseHierarchy(units2024)
	if err != nil {
		return nil, fmt.Errorf("units: embedded units-2024.csv: %w", err)
	}
	r, err := parseReform(reform2025, h)
	if err != nil {
		return nil, fmt.Errorf("units: embedded reform-2025.csv: %w", err)
	}
	return &Data{Hierarchy: h, Reform: r}, nil
})

// MustLoad is Load for callers that ship with the data: the embedded files
// are checked by the package's tests, so a failure is a broken build.
func MustLoad() *Data {
	d, err := Load()
	if err != nil {
		panic(err)
	}
	return d
}

// RawCSV returns the embedded files decompressed: "units-2024.csv" or
// "reform-2025.csv".
func RawCSV(name string) ([]byte, error) {
	var gz []byte
	switch name {
	case "units-2024.csv":
		gz = units2024
	case "reform-2025.csv":
		gz = reform2025
	default:
		return nil, fmt.Errorf("units: no embedded file %q", name)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("units: %s: %w", name, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("units: %s: %w", name, err)
	}
	return b, nil
}

// readCSV decompresses and reads a file, checking its header.
func readCSV(gz []byte, header []string) ([][]string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(zr)
	r.FieldsPerRecord = len(header)
	r.ReuseRecord = false
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || !slices.Equal(rows[0], header) {
		return nil, errors.New("unexpected header")
	}
	return rows[1:], nil
}

var subkinds = map[string]string{
	"xã": "xa", "phường": "phuong", "thị trấn": "thi_tran", "đặc khu": "dac_khu",
	"huyện": "huyen", "quận": "quan", "thị xã": "thi_xa", "thành phố": "thanh_pho",
}

func subkind(typ string) (string, error) {
	s, ok := subkinds[typ]
	if !ok {
		return "", fmt.Errorf("unknown unit type %q", typ)
	}
	return s, nil
}

func provinceSubkind(name string) string {
	if strings.HasPrefix(name, "Thành phố ") {
		return "thanh_pho"
	}
	return "tinh"
}

func parseHierarchy(gz []byte) (*Hierarchy, error) {
	rows, err := readCSV(gz, []string{"province_code", "province_name", "district_code", "district_name", "district_type", "commune_code", "commune_name", "commune_type"})
	if err != nil {
		return nil, err
	}
	h := &Hierarchy{province: map[string]int{}, district: map[string]int{}, commune: map[string]int{}}
	for i, row := range rows {
		line := i + 2
		pc, pn, dc, dn, dt, cc, cn, ct := row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]
		if len(pc) != 2 || len(dc) != 3 || len(cc) != 5 {
			return nil, fmt.Errorf("line %d: malformed codes %q, %q, %q", line, pc, dc, cc)
		}
		if _, ok := h.province[pc]; !ok {
			region, ok := Regions[pc]
			if !ok {
				return nil, fmt.Errorf("line %d: province %s has no region", line, pc)
			}
			h.province[pc] = len(h.Provinces)
			h.Provinces = append(h.Provinces, Province{Code: pc, Name: pn, Subkind: provinceSubkind(pn), Region: region})
		}
		if _, ok := h.district[dc]; !ok {
			sk, err := subkind(dt)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			h.district[dc] = len(h.Districts)
			h.Districts = append(h.Districts, District{Code: dc, Name: dn, Subkind: sk, Province: pc})
		}
		if _, dup := h.commune[cc]; dup {
			return nil, fmt.Errorf("line %d: commune %s twice", line, cc)
		}
		sk, err := subkind(ct)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		h.commune[cc] = len(h.Communes)
		h.Communes = append(h.Communes, Commune{Code: cc, Name: cn, Subkind: sk, District: dc, Province: pc})
	}
	for _, d := range IslandDistricts {
		if _, dup := h.district[d.Code]; dup {
			return nil, fmt.Errorf("island district %s is also in the file", d.Code)
		}
		h.Districts = append(h.Districts, d)
	}
	slices.SortFunc(h.Districts, func(a, b District) int { return strings.Compare(a.Code, b.Code) })
	for i, d := range h.Districts {
		h.district[d.Code] = i
	}
	return h, nil
}

func parseReform(gz []byte, h *Hierarchy) (*Reform, error) {
	rows, err := readCSV(gz, []string{"new_province_code", "new_province_name", "new_commune_code", "new_commune_name", "new_commune_type", "old_commune_code", "old_commune_name", "resolution", "old_commune_share"})
	if err != nil {
		return nil, err
	}
	r := &Reform{into: map[string][]string{}}
	provinces := map[string]int{}
	communes := map[string]int{}
	oldProvinces := map[string]map[string]bool{}
	for i, row := range rows {
		line := i + 2
		pc, pn, cc, cn, ct, oc, res, share := row[0], row[1], row[2], row[3], row[4], row[5], row[7], row[8]
		if len(pc) != 2 || len(cc) != 5 {
			return nil, fmt.Errorf("line %d: malformed codes %q, %q", line, pc, cc)
		}
		oldProvince := ""
		if c, ok := h.Commune(oc); ok {
			oldProvince = c.Province
		} else if d, ok := h.District(oc); ok && len(oc) == 3 {
			oldProvince = d.Province
		} else {
			return nil, fmt.Errorf("line %d: old unit %s is not in the hierarchy", line, oc)
		}
		np := LedgerCode(pc)
		if _, ok := provinces[np]; !ok {
			region, ok := Regions[pc]
			if !ok {
				return nil, fmt.Errorf("line %d: new province %s has no region", line, pc)
			}
			provinces[np] = len(r.Provinces)
			r.Provinces = append(r.Provinces, NewProvince{Code: np, Name: pn, Subkind: provinceSubkind(pn), Region: region})
			oldProvinces[np] = map[string]bool{}
		}
		oldProvinces[np][oldProvince] = true
		nc := LedgerCode(cc)
		idx, ok := communes[nc]
		if !ok {
			sk, err := subkind(ct)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			idx = len(r.Communes)
			communes[nc] = idx
			op, _ := h.Province(oldProvince)
			r.Communes = append(r.Communes, NewCommune{Code: nc, Name: cn, Subkind: sk, Province: np, Region: op.Region, Resolution: res})
		}
		c := &r.Communes[idx]
		if c.Province != np || c.Resolution != res {
			return nil, fmt.Errorf("line %d: new unit %s has two provinces or resolutions", line, cc)
		}
		if share != "full" && share != "partial" {
			return nil, fmt.Errorf("line %d: old_commune_share %q is neither full nor partial", line, share)
		}
		c.From = append(c.From, Piece{Code: oc, Partial: share == "partial"})
		r.into[oc] = append(r.into[oc], nc)
	}
	for i := range r.Provinces {
		p := &r.Provinces[i]
		for old := range oldProvinces[p.Code] {
			p.From = append(p.From, old)
		}
		slices.Sort(p.From)
	}
	for _, c := range h.Communes {
		if len(r.into[c.Code]) == 0 {
			return nil, fmt.Errorf("pre-reform commune %s %s has no new unit", c.Code, c.Name)
		}
	}
	return r, nil
}
