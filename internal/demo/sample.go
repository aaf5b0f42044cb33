// Package demo builds the demo data set that `ntmledger demo` loads.
//
// Every event has a deterministic id, so loading the set twice stores it
// once: the ledger's idempotency turns the second load into a no-op.
package demo

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/oklog/ulid/v2"

	"github.com/ntmledger/ntmledger/events"
)

// ID returns a deterministic ULID for a name: its time part is the given
// date, its entropy a hash of the name.
func ID(date, name string) string {
	t, err := events.ParseDate(date)
	if err != nil {
		panic(fmt.Sprintf("demo.ID: bad date %q", date)) // programming error in the data set
	}
	sum := sha256.Sum256([]byte(name))
	return ulid.MustNew(ulid.Timestamp(t), bytes.NewReader(sum[:10])).String()
}

// builder accumulates inputs.
type builder struct {
	out []*events.Input
}

var system = &events.Actor{ID: "demo-loader", Role: "system", Name: "ntmledger demo"}

func (b *builder) add(typ events.Type, unit, date string, doc *events.Document, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	key := fmt.Sprintf("%s|%s|%s|%s", typ, unit, date, raw)
	b.out = append(b.out, &events.Input{
		ID: ID(date, key), Type: typ, Unit: unit, OccurredAt: date, Actor: system, Document: doc, Data: raw,
	})
}

func (b *builder) register(unit, date, name, kind, subkind, parent, region string) {
	b.add(events.UnitRegistered, unit, date, nil, map[string]any{
		"name": name, "kind": kind, "subkind": subkind, "parent": parent, "region": region,
	})
}

func (b *builder) assessAll(unit, date, tier string, n int, notMet ...int) {
	miss := map[int]bool{}
	for _, c := range notMet {
		miss[c] = true
	}
	for c := 1; c <= n; c++ {
		status := "met"
		if miss[c] {
			status = "not_met"
		}
		b.add(events.CriterionAssessed, unit, date, nil, map[string]any{
			"tier": tier, "criterion": strconv.Itoa(c), "status": status, "stage": "province",
		})
	}
}

// Sample is a small built-in data set from Hà Nam (seed article 004: all
// communes NTM, the province completed the NTM task on 31/12/2020, Phù Vân
// among the first model communes by 15/03/2021). Decision numbers marked
// "(demo)" are illustrative, not the real ones.
func Sample() []*events.Input {
	b := &builder{}
	const reg = "2015-01-01"
	b.register("35", reg, "Tỉnh Hà Nam", "province", "tinh", "", "red_river_delta")
	b.register("347", reg, "Thành phố Phủ Lý", "district", "thanh_pho", "35", "red_river_delta")
	communes := []struct{ code, name string }{
		{"13306", "Xã Phù Vân"}, {"13426", "Xã Kim Bình"}, {"13507", "Xã Đinh Xá"}, {"13513", "Xã Trịnh Xá"},
	}
	for i, c := range communes {
		b.register(c.code, reg, c.name, "commune", "xa", "347", "red_river_delta")
		year := 2016 + i
		date := fmt.Sprintf("%d-11-15", year)
		b.assessAll(c.code, date, "ntm", 19)
		b.add(events.RecognitionGranted, c.code, fmt.Sprintf("%d-12-20", year),
			&events.Document{Number: fmt.Sprintf("%d/QĐ-UBND (demo)", 3000+i), Date: fmt.Sprintf("%d-12-20", year), Issuer: "UBND tỉnh Hà Nam"},
			map[string]any{"tier": "ntm"})
	}
	b.assessAll("13306", "2020-06-10", "advanced", 19)
	b.add(events.RecognitionGranted, "13306", "2020-09-30",
		&events.Document{Number: "2050/QĐ-UBND (demo)", Date: "2020-09-30", Issuer: "UBND tỉnh Hà Nam"}, map[string]any{"tier": "advanced"})
	b.add(events.RecognitionGranted, "13306", "2021-03-15",
		&events.Document{Number: "450/QĐ-UBND (demo)", Date: "2021-03-15", Issuer: "UBND tỉnh Hà Nam"}, map[string]any{"tier": "model"})
	b.add(events.RecognitionGranted, "35", "2020-12-31",
		&events.Document{Number: "2287/QĐ-TTg (demo)", Date: "2020-12-31", Issuer: "Thủ tướng Chính phủ"}, map[string]any{"tier": "completed"})
	// A later inspection finds Đinh Xá slipping on income, environment and
	// four more criteria: at risk under Decision 18/2022.
	b.assessAll("13507", "2024-10-01", "ntm", 19, 10, 17, 5, 6, 8, 12)
	return b.out
}
