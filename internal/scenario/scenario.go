// Package scenario generates small, valid, deterministic event histories for
// tests and benchmarks: a province, its districts and communes, yearly
// assessment rounds, recognitions, revocations and retractions, in the order
// a ledger accepts them.
package scenario

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/ntmledger/ntmledger/events"
)

// Config sizes a scenario.
type Config struct {
	Communes  int    // communes, spread over districts of 100; default 100
	Years     int    // yearly rounds from 2016; default 5
	Seed      uint64 // default 1
	Province  string // default "35"
	WithNoise bool   // add retractions and late corrections
	// Offset numbers this scenario's districts and communes after those of
	// another (so several provinces can share one ledger): district codes
	// start at 100+Offset/100, commune codes at 10000+Offset. At most 89,900.
	Offset int
}

var actor = &events.Actor{ID: "scenario", Role: "province", Name: "Văn phòng điều phối NTM tỉnh"}

// Events returns the scenario's events in an order the ledger accepts. Ids
// are deterministic, so appending the same scenario twice stores it once.
func Events(cfg Config) []*events.Input {
	if cfg.Communes <= 0 {
		cfg.Communes = 100
	}
	if cfg.Years <= 0 {
		cfg.Years = 5
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Province == "" {
		cfg.Province = "35"
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6e746d))
	var out []*events.Input
	n := 0
	add := func(typ events.Type, unit, date string, doc *events.Document, data any) *events.Input {
		raw, _ := json.Marshal(data)
		n++
		in := &events.Input{ID: id(cfg.Seed+uint64(cfg.Offset)<<20, n, date), Type: typ, Unit: unit, OccurredAt: date, Actor: actor, Document: doc, Data: raw}
		out = append(out, in)
		return in
	}
	add(events.UnitRegistered, cfg.Province, "2015-01-01", nil, map[string]any{"name": "Tỉnh Thử Nghiệm", "kind": "province", "region": "red_river_delta"})
	districts := (cfg.Communes + 99) / 100
	communes := make([]string, 0, cfg.Communes)
	for d := 0; d < districts; d++ {
		dc := fmt.Sprintf("%03d", 100+cfg.Offset/100+d)
		add(events.UnitRegistered, dc, "2015-01-01", nil, map[string]any{"name": fmt.Sprintf("Huyện Số %d", d+1), "kind": "district", "parent": cfg.Province})
		for c := 0; c < 100 && len(communes) < cfg.Communes; c++ {
			cc := fmt.Sprintf("%05d", 10000+cfg.Offset+d*100+c)
			communes = append(communes, cc)
			add(events.UnitRegistered, cc, "2015-01-01", nil, map[string]any{"name": fmt.Sprintf("Xã Số %d-%d", d+1, c+1), "kind": "commune", "parent": dc})
		}
	}
	held := map[string]int{} // 0 none, 1 ntm, 2 advanced
	for y := 0; y < cfg.Years; y++ {
		year := 2016 + y
		for _, cc := range communes {
			date := fmt.Sprintf("%d-10-%02d", year, 1+rng.IntN(28))
			tier := "ntm"
			if held[cc] >= 1 {
				tier = "advanced"
			}
			allMet := true
			for c := 1; c <= 19; c++ {
				status := "met"
				switch r := rng.IntN(100); {
				case r < 8:
					status = "not_met"
				case r < 12:
					status = "basically_met"
				}
				if status != "met" {
					allMet = false
				}
				a := add(events.CriterionAssessed, cc, date, nil, map[string]any{"tier": tier, "criterion": fmt.Sprint(c), "status": status, "stage": []string{"self", "district", "province"}[rng.IntN(3)]})
				if cfg.WithNoise && rng.IntN(200) == 0 {
					add(events.EntryRetracted, cc, date, nil, map[string]any{"target": a.ID, "reason": "nhập trùng"})
				}
			}
			if allMet && held[cc] < 2 {
				dd := fmt.Sprintf("%d-12-%02d", year, 10+rng.IntN(15))
				add(events.RecognitionGranted, cc, dd, &events.Document{Number: fmt.Sprintf("%d/QĐ-UBND", 1000+n%9000), Date: dd, Issuer: "UBND tỉnh"}, map[string]any{"tier": tier})
				held[cc]++
			} else if held[cc] >= 1 && rng.IntN(40) == 0 {
				dd := fmt.Sprintf("%d-12-28", year)
				add(events.RecognitionRevoked, cc, dd, &events.Document{Number: fmt.Sprintf("%d/QĐ-UBND", 1000+n%9000), Date: dd, Issuer: "UBND tỉnh"},
					map[string]any{"tier": "ntm", "reason": "not_maintained", "basis": "18/2022/QĐ-TTg"})
				held[cc] = 0
			}
		}
	}
	return out
}

// id is a deterministic ULID.
func id(seed uint64, n int, date string) string {
	t, _ := events.ParseDate(date)
	ms := uint64(t.UnixMilli()) + uint64(n)
	var b [16]byte
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	x := seed*0x9e3779b97f4a7c15 + uint64(n)*0xbf58476d1ce4e5b9
	for i := 6; i < 16; i++ {
		x ^= x >> 31
		x *= 0x94d049bb133111eb
		b[i] = byte(x)
	}
	return encodeULID(b)
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func encodeULID(b [16]byte) string {
	// 128 bits → 26 base32 characters, most significant first.
	var out [26]byte
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// Batches splits events into requests of at most size.
func Batches(ins []*events.Input, size int) [][]*events.Input {
	var out [][]*events.Input
	for i := 0; i < len(ins); i += size {
		out = append(out, ins[i:min(i+size, len(ins))])
	}
	return out
}
