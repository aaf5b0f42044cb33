package projector

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// Keys the projector keeps beside every projection (all under "m/"):
//
//	m/checkpoint      last applied stream sequence (8 bytes, big endian)
//	m/format          formatVersion, then "/" and the applier's Layout if any
//	m/chain/<unit>    the unit's chain head: last good version, seq and hash
//	m/q/<seq>         a quarantined message (JSON Quarantine), seq big endian
var (
	formatKey       = []byte("m/format")
	headPrefix      = []byte("m/chain/")
	quarantinePrefx = []byte("m/q/")
)

// formatVersion is written once in every projector database. "2": chain
// heads and quarantine are kept.
const formatVersion = "2"

func headKey(unit string) []byte {
	return append(append(make([]byte, 0, len(headPrefix)+len(unit)), headPrefix...), unit...)
}

func quarantineKey(seq uint64) []byte {
	k := append(make([]byte, 0, len(quarantinePrefx)+8), quarantinePrefx...)
	return binary.BigEndian.AppendUint64(k, seq)
}

// Head is the last good event of a unit's chain, as a projector has
// verified it.
type Head struct {
	Version uint64 `json:"version"`
	Seq     uint64 `json:"seq"`
	Hash    string `json:"hash"`
}

func (h *Head) encode() []byte {
	v := make([]byte, 16, 16+len(h.Hash))
	binary.BigEndian.PutUint64(v[:8], h.Version)
	binary.BigEndian.PutUint64(v[8:16], h.Seq)
	return append(v, h.Hash...)
}

// ReadHead returns a unit's chain head in db (the zero Head for a unit with
// no good event).
func ReadHead(db pebble.Reader, unit string) (Head, error) {
	v, closer, err := db.Get(headKey(unit))
	if errors.Is(err, pebble.ErrNotFound) {
		return Head{}, nil
	}
	if err != nil {
		return Head{}, fmt.Errorf("read chain head of %s: %w", unit, err)
	}
	defer closer.Close()
	if len(v) < 16 {
		return Head{}, fmt.Errorf("chain head of %s: %d bytes", unit, len(v))
	}
	return Head{Version: binary.BigEndian.Uint64(v[:8]), Seq: binary.BigEndian.Uint64(v[8:16]), Hash: string(v[16:])}, nil
}

// Quarantine is a message a projector refused to apply because it does not
// continue its unit's hash chain. The fields from ID on are what the body
// claims (empty when it did not decode).
type Quarantine struct {
	Seq      uint64 `json:"seq"`
	Subject  string `json:"subject"`
	Unit     string `json:"unit"`               // from the subject
	Province string `json:"province,omitempty"` // from the subject
	Reason   string `json:"reason"`             // events.Chain*
	Detail   string `json:"detail"`
	// AfterVersion and AfterSeq are the unit's last good event when the
	// message was met: its views stay there until the chain continues.
	AfterVersion uint64 `json:"after_version"`
	AfterSeq     uint64 `json:"after_seq"`

	ID         string `json:"id,omitempty"`
	Type       string `json:"type,omitempty"`
	Version    uint64 `json:"version,omitempty"`
	OccurredAt string `json:"occurred_at,omitempty"`
	RecordedAt string `json:"recorded_at,omitempty"`
	Hash       string `json:"hash,omitempty"`
	PrevHash   string `json:"prev_hash,omitempty"`
}

func (q *Quarantine) encode() []byte {
	b, _ := json.Marshal(q) // plain strings and numbers: cannot fail
	return b
}

// Quarantined calls fn with every quarantine record in db, in stream order,
// until fn returns an error.
func Quarantined(db pebble.Reader, fn func(Quarantine) error) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: quarantinePrefx, UpperBound: prefixEnd(quarantinePrefx)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		var q Quarantine
		if err := json.Unmarshal(it.Value(), &q); err != nil {
			return fmt.Errorf("decode quarantine record: %w", err)
		}
		if err := fn(q); err != nil {
			return err
		}
	}
	return it.Error()
}

func countQuarantined(db pebble.Reader) (uint64, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: quarantinePrefx, UpperBound: prefixEnd(quarantinePrefx)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var n uint64
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n, it.Error()
}

// SubjectUnit splits an event subject, ntm.ev.<province>.<unit>, into its
// province and unit: the last two tokens.
func SubjectUnit(subject string) (province, unit string) {
	i := strings.LastIndexByte(subject, '.')
	if i < 0 {
		return "", subject
	}
	unit, rest := subject[i+1:], subject[:i]
	if j := strings.LastIndexByte(rest, '.'); j >= 0 {
		province = rest[j+1:]
	}
	return province, unit
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
