package events

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// decodeSealed decodes a stored body laid out exactly as Seal writes it and
// checks its hash, without a general JSON decoder: projectors, verify and
// history reads decode every stored body, and nearly all of them were
// written by Seal.
//
// It accepts only bodies whose envelope is byte for byte what body writes
// for the fields it reads — field order, no whitespace, strings without
// escapes, valid UTF-8 and none of the characters writeString escapes,
// optional fields present only when not empty, the version in canonical
// digits — so that the bytes before `,"hash":"…"}` are exactly the pre-image
// Hash would encode again from the decoded fields; its data must be valid
// JSON, as the general decoder requires. Then hashing those bytes is
// hashing the pre-image, and the body is accepted only if that gives its
// hash: the event comes back with its hash already checked (Link does not
// hash it again). It returns nil for anything else — other layouts,
// escapes, a hash that does not match — and Decode reads those with the
// general decoder, whose result the chain check then judges as before.
func decodeSealed(b []byte) *Event {
	const (
		hashKey = `,"hash":"`
		prevKey = `,"prev_hash":"`
		verKey  = `,"version":`
		hexLen  = sha256.Size * 2
	)
	n := len(b)
	// The tail, read backwards: ,"version":N,"prev_hash":"P","hash":"H"}
	hEnd := n - 2
	hStart := hEnd - hexLen
	k := hStart - len(hashKey)
	if k < 1 || b[n-1] != '}' || b[n-2] != '"' || !isLowerHex(b[hStart:hEnd]) || string(b[k:hStart]) != hashKey || b[k-1] != '"' {
		return nil
	}
	pEnd := k - 1 // the closing quote of prev_hash
	var pStart int
	switch {
	case pEnd-hexLen-len(prevKey) >= 0 && isLowerHex(b[pEnd-hexLen:pEnd]) && string(b[pEnd-hexLen-len(prevKey):pEnd-hexLen]) == prevKey:
		pStart = pEnd - hexLen
	case pEnd-len(prevKey) >= 0 && string(b[pEnd-len(prevKey):pEnd]) == prevKey:
		pStart = pEnd // a unit's first event
	default:
		return nil
	}
	q := pStart - len(prevKey) // end of the version's digits
	d := q
	for d > 0 && b[d-1] >= '0' && b[d-1] <= '9' {
		d--
	}
	if d == q || q-d > 20 || q-d > 1 && b[d] == '0' {
		return nil
	}
	var version uint64
	for _, c := range b[d:q] {
		if version > (math.MaxUint64-uint64(c-'0'))/10 {
			return nil // beyond uint64
		}
		version = version*10 + uint64(c-'0')
	}
	end := d - len(verKey) // where the version field starts: data or the envelope ends here
	if end < 0 || string(b[end:d]) != verKey {
		return nil
	}

	// Each string is its own copy: a state that keeps one field of an event
	// (its id, a date) must not keep the whole body alive.
	p := 0
	lit := func(l string) bool {
		if end-p >= len(l) && string(b[p:p+len(l)]) == l {
			p += len(l)
			return true
		}
		return false
	}
	ok := true
	raw := func() []byte { // after its opening quote; consumes the closing one
		i, plain := plainString(b[:end], p)
		if !plain {
			ok = false
			return nil
		}
		v := b[p:i]
		p = i + 1
		return v
	}
	str := func() string { return string(raw()) }
	ev := &Event{Version: version, PrevHash: string(b[pStart:pEnd]), Hash: string(b[hStart:hEnd])}
	if !lit(`{"id":"`) {
		return nil
	}
	ev.ID = str()
	if !ok || !lit(`,"type":"`) {
		return nil
	}
	ev.Type = typeOf(raw())
	if !ok || !lit(`,"unit":"`) {
		return nil
	}
	ev.Unit = str()
	if !ok || !lit(`,"occurred_at":"`) {
		return nil
	}
	ev.OccurredAt = str()
	if !ok || !lit(`,"recorded_at":"`) {
		return nil
	}
	ev.RecordedAt = str()
	if !ok || !lit(`,"actor":{"id":"`) {
		return nil
	}
	ev.Actor.ID = str()
	if ok && lit(`,"name":"`) {
		if ev.Actor.Name = str(); ev.Actor.Name == "" {
			return nil
		}
	}
	if !ok || !lit(`,"role":"`) {
		return nil
	}
	ev.Actor.Role = roleOf(raw())
	if !ok || !lit(`}`) {
		return nil
	}
	if lit(`,"document":{`) {
		doc := &Document{}
		sep := ""
		if lit(`"date":"`) {
			if doc.Date = str(); doc.Date == "" {
				return nil
			}
			sep = ","
		}
		if ok && lit(sep+`"issuer":"`) {
			if doc.Issuer = str(); doc.Issuer == "" {
				return nil
			}
			sep = ","
		}
		if !ok || !lit(sep+`"number":"`) {
			return nil
		}
		doc.Number = str()
		if !ok || !lit(`}`) {
			return nil
		}
		ev.Document = doc
	}
	if lit(`,"data":`) {
		if p == end || !jsontext.Value(b[p:end]).IsValid() {
			return nil
		}
		ev.Data = append([]byte(nil), b[p:end]...)
		p = end
	}
	if !ok || p != end || ev.ID == "" || ev.Type == "" || ev.Unit == "" {
		return nil
	}
	h := sha256.New()
	h.Write(b[:k])
	h.Write([]byte{'}'})
	var sum [sha256.Size]byte
	if hex.EncodeToString(h.Sum(sum[:0])) != ev.Hash {
		return nil
	}
	ev.hashed = ev.Hash
	return ev
}

// plainString finds the closing quote of the JSON string whose content
// starts at b[start] and reports whether the content is what writeString
// writes as it is: no escapes, no control characters, canonical text.
func plainString(b []byte, start int) (int, bool) {
	i := start
	for i < len(b) && b[i] != '"' {
		if b[i] == '\\' || b[i] < 0x20 {
			return 0, false
		}
		i++
	}
	if i == len(b) || !canonicalText(b[start:i]) {
		return 0, false
	}
	return i, true
}

// canonicalText reports whether writeString writes v as it is: valid UTF-8
// without U+2028 and U+2029 (the caller has ruled out quotes, backslashes
// and control characters).
func canonicalText(v []byte) bool {
	for i := 0; i < len(v); {
		if v[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(v[i:])
		if r == utf8.RuneError && size == 1 || r == 0x2028 || r == 0x2029 {
			return false
		}
		i += size
	}
	return true
}

// typeOf returns the type named by b, sharing the constant's string for the
// types of the contract.
func typeOf(b []byte) Type {
	for _, t := range Types {
		if string(t) == string(b) {
			return t
		}
	}
	return Type(b)
}

// roleOf returns the actor role named by b, sharing the string of a role
// of the contract.
func roleOf(b []byte) string {
	for _, r := range Roles {
		if r == string(b) {
			return r
		}
	}
	return string(b)
}

func isLowerHex(b []byte) bool {
	// Without a branch per character: the characters of a hash are random,
	// and a branch on each was mispredicted about every other time.
	ok := byte(1)
	for _, c := range b {
		ok &= lowerHex[c]
	}
	return ok == 1
}

// lowerHex is 1 for the characters of a lowercase hex string.
var lowerHex = [256]byte{
	'0': 1, '1': 1, '2': 1, '3': 1, '4': 1, '5': 1, '6': 1, '7': 1, '8': 1, '9': 1,
	'a': 1, 'b': 1, 'c': 1, 'd': 1, 'e': 1, 'f': 1,
}
