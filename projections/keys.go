package projections

import (
	"encoding/binary"
	"fmt"
)

// Key layout of the views database. Every key is built here.
//
//	s/<unit>                         folded state (State)
//	h/<unit>/<version>               audit trail: the event's stream seq (8 bytes, big-endian)
//	e/<seq>                          stored body of the event at stream seq (8 bytes, big-endian)
//	l/<unit>                         status summary for lists, progress, exports (UnitSummary)
//	lp/<parent>/<unit>               children of a unit (empty value)
//	lv/<province>/<unit>             units of a province (empty value)
//	r/<date>/<unit>/<revocation id>  revocation timeline row (RevocationEntry)
//	ru/<unit>                        the r/ keys of a unit (JSON list), to replace them
//	t/<unit>                         targets set on a unit (JSON list of Target)
//
// The projector runtime keeps its own keys under m/ (checkpoint, chain
// heads, quarantine).
var (
	statePrefix      = []byte("s/")
	historyPrefix    = []byte("h/")
	bodyPrefix       = []byte("e/")
	summaryPrefix    = []byte("l/")
	childPrefix      = []byte("lp/")
	provincePrefix   = []byte("lv/")
	revocationPrefix = []byte("r/")
	revUnitPrefix    = []byte("ru/")
	targetPrefix     = []byte("t/")
)

// key joins a prefix and '/'-separated parts.
func key(prefix []byte, parts ...string) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += len(p) + 1
	}
	k := append(make([]byte, 0, n), prefix...)
	for i, p := range parts {
		if i > 0 {
			k = append(k, '/')
		}
		k = append(k, p...)
	}
	return k
}

func summaryKey(unit string) []byte                 { return key(summaryPrefix, unit) }
func childKey(parent, unit string) []byte           { return key(childPrefix, parent, unit) }
func childrenPrefix(parent string) []byte           { return key(childPrefix, parent, "") }
func provinceKey(province, unit string) []byte      { return key(provincePrefix, province, unit) }
func provinceUnitsPrefix(province string) []byte    { return key(provincePrefix, province, "") }
func revocationKey(date, unit, event string) []byte { return key(revocationPrefix, date, unit, event) }
func revUnitKey(unit string) []byte                 { return key(revUnitPrefix, unit) }
func targetKey(unit string) []byte                  { return key(targetPrefix, unit) }

func stateKey(unit string) []byte {
	return append(append(make([]byte, 0, len(statePrefix)+len(unit)), statePrefix...), unit...)
}

// historyUnitPrefix is the prefix of all of a unit's history records.
func historyUnitPrefix(unit string) []byte {
	k := make([]byte, 0, len(historyPrefix)+len(unit)+1)
	return append(append(append(k, historyPrefix...), unit...), '/')
}

func historyKey(unit string, version uint64) []byte {
	k := historyUnitPrefix(unit)
	return binary.BigEndian.AppendUint64(k, version)
}

// prefixEnd returns the first key after every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// Bodies are keyed by stream sequence, not under their unit: the views
// write them in stream order, so every flush of new bodies lies past all
// older ones and the LSM moves them down its levels without rewriting them
// (keyed by unit, every flush overlapped the whole trail and compactions
// rewrote the national history again and again). The h/ records are the
// per-unit index into them.

// bodyKey is the key of the stored body of the event at seq.
func bodyKey(seq uint64) []byte {
	k := make([]byte, 0, len(bodyPrefix)+8)
	return binary.BigEndian.AppendUint64(append(k, bodyPrefix...), seq)
}

// historyValue is the stream seq of a history record.
func historyValue(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

func parseHistoryValue(v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("history record of %d bytes, not 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
