package projections

import (
	"encoding/binary"
	"fmt"
)

// Key layout of the views database. Every key is built here.
var (
	statePrefix   = []byte("s/")
	historyPrefix = []byte("h/")
)

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

// historyValue is the stream seq followed by the stored body.
func historyValue(seq uint64, body []byte) []byte {
	v := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint64(v, seq)
	return append(v, body...)
}

func parseHistoryValue(v []byte) (uint64, []byte, error) {
	if len(v) < 8 {
		return 0, nil, fmt.Errorf("history record of %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v[:8]), v[8:], nil
}
