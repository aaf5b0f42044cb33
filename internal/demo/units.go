package demo

import (
	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/units"
)

// RegisteredOn is the business date of the pre-reform units' registration:
// the year the programme started (Decision 800/QĐ-TTg, 2010). The units are
// registered with their mid-2025 names and boundaries (see docs/demo.md).
const RegisteredOn = "2010-01-01"

// Registrations returns the unit.registered events of the pre-reform
// hierarchy: provinces, then districts, then communes, so that every parent
// comes before its children. keep, when not nil, limits the communes to
// those it accepts, and the districts and provinces to their parents.
func Registrations(h *units.Hierarchy, keep func(*units.Commune) bool) []*events.Input {
	b := NewBuilder()
	RegisterInto(b, h, keep)
	return b.Inputs()
}

// RegisterInto adds the registrations of Registrations to b.
func RegisterInto(b *Builder, h *units.Hierarchy, keep func(*units.Commune) bool) {
	provinces, districts := map[string]bool{}, map[string]bool{}
	var communes []*units.Commune
	for i := range h.Communes {
		c := &h.Communes[i]
		if keep == nil || keep(c) {
			communes = append(communes, c)
			provinces[c.Province], districts[c.District] = true, true
		}
	}
	for _, p := range h.Provinces {
		if provinces[p.Code] {
			b.Add(events.UnitRegistered, p.Code, RegisteredOn, &System, nil, events.Registration{
				Name: p.Name, Kind: "province", Subkind: p.Subkind, Region: p.Region,
			})
		}
	}
	for _, d := range h.Districts {
		if districts[d.Code] || keep == nil {
			p, _ := h.Province(d.Province)
			b.Add(events.UnitRegistered, d.Code, RegisteredOn, &System, nil, events.Registration{
				Name: d.Name, Kind: "district", Subkind: d.Subkind, Parent: d.Province, Region: p.Region,
			})
		}
	}
	for _, c := range communes {
		p, _ := h.Province(c.Province)
		b.Add(events.UnitRegistered, c.Code, RegisteredOn, &System, nil, events.Registration{
			Name: c.Name, Kind: "commune", Subkind: c.Subkind, Parent: c.District, Region: p.Region,
		})
	}
}

// ReformInto adds the 2025 reform to b: each new province and commune is
// registered (on the day the reform took effect) and then reorganized from
// its predecessors, citing the resolution. Predecessors not registered
// (filtered out by keep) are left out of `from`; a new unit none of whose
// predecessors is kept is left out altogether.
func ReformInto(b *Builder, r *units.Reform, keep func(old string) bool) {
	if keep == nil {
		keep = func(string) bool { return true }
	}
	provinceDoc := events.Document{Number: units.ProvinceResolution, Date: units.ProvinceResolutionDate, Issuer: units.ProvinceResolutionIssuer}
	communes := map[string][]string{} // new commune → kept predecessors
	provinces := map[string]bool{}
	for _, c := range r.Communes {
		for _, p := range c.From {
			if keep(p.Code) {
				communes[c.Code] = append(communes[c.Code], p.Code)
			}
		}
		if len(communes[c.Code]) > 0 {
			provinces[c.Province] = true
		}
	}
	for _, p := range r.Provinces {
		if !provinces[p.Code] {
			continue
		}
		var from []string
		for _, old := range p.From {
			if keep(old) {
				from = append(from, old)
			}
		}
		b.Add(events.UnitRegistered, p.Code, units.ReformEffective, &System, nil, events.Registration{
			Name: p.Name, Kind: "province", Subkind: p.Subkind, Region: p.Region,
		})
		if len(from) > 0 {
			b.Add(events.UnitReorganized, p.Code, units.ReformEffective, &System, &provinceDoc, events.Reorganization{
				From: from, Resolution: units.ProvinceResolution, Effective: units.ReformEffective,
			})
		}
	}
	for _, c := range r.Communes {
		from := communes[c.Code]
		if len(from) == 0 {
			continue
		}
		b.Add(events.UnitRegistered, c.Code, units.ReformEffective, &System, nil, events.Registration{
			Name: c.Name, Kind: "commune", Subkind: c.Subkind, Parent: c.Province, Region: c.Region,
		})
		doc := events.Document{Number: c.Resolution, Date: units.CommuneResolutionDate, Issuer: units.CommuneResolutionIssuer}
		b.Add(events.UnitReorganized, c.Code, units.ReformEffective, &System, &doc, events.Reorganization{
			From: from, Resolution: c.Resolution, Effective: units.ReformEffective,
		})
	}
}
