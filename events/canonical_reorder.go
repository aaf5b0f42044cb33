package events

import (
	"bytes"
	"slices"
)

// canonicalReorder writes raw in canonical form without a general decoder,
// when what stands between raw and its canonical form is only the order of
// object members and whitespace between tokens: clients and spreadsheets
// seldom sort their keys (a struct's field order, a CSV's column order), so
// most data that is not canonical as is differs in nothing else. It copies
// strings, numbers and literals as they are, so it answers only for strings
// without escapes holding valid UTF-8 and none of the characters
// writeString escapes; anything else (escapes, a key twice, deep nesting,
// malformed JSON) reports false and goes through canonicalSlow, which
// decodes and writes it again. FuzzCanonicalReorder holds it to
// canonicalSlow.
func canonicalReorder(raw []byte) ([]byte, bool) {
	w := reorderer{b: raw, out: make([]byte, 0, len(raw))}
	w.space()
	if !w.value() {
		return nil, false
	}
	if w.space(); w.i != len(raw) {
		return nil, false
	}
	return w.out, true
}

type reorderer struct {
	b     []byte
	i     int
	depth int
	out   []byte
	tmp   []byte // scratch for reordering an object's members
}

// member is one "key":value written to out, at out[start:end].
type member struct {
	key        []byte
	start, end int
}

func (w *reorderer) space() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

func (w *reorderer) value() bool {
	if w.i >= len(w.b) {
		return false
	}
	switch c := w.b[w.i]; {
	case c == '{':
		return w.object()
	case c == '[':
		return w.array()
	case c == '"':
		_, ok := w.str()
		return ok
	}
	// Literals and numbers are copied as written; canonicalSlow writes a
	// number's literal too (json.Number).
	s := canonScan{b: w.b, i: w.i}
	var ok bool
	switch w.b[w.i] {
	case 't':
		ok = s.lit("true")
	case 'f':
		ok = s.lit("false")
	case 'n':
		ok = s.lit("null")
	default:
		ok = s.number()
	}
	if ok {
		w.out = append(w.out, w.b[w.i:s.i]...)
		w.i = s.i
	}
	return ok
}

// str copies the plain string at w.i and returns its content.
func (w *reorderer) str() ([]byte, bool) {
	start := w.i + 1
	end, ok := plainString(w.b, start)
	if !ok {
		return nil, false
	}
	w.out = append(w.out, w.b[w.i:end+1]...)
	w.i = end + 1
	return w.b[start:end], true
}

// enter steps into an object or array; empty: it closes at once.
func (w *reorderer) enter(open, close byte) (empty, ok bool) {
	if w.depth++; w.depth > maxAsIsDepth {
		return false, false
	}
	w.i++
	w.out = append(w.out, open)
	w.space()
	if w.i < len(w.b) && w.b[w.i] == close {
		w.i++
		w.depth--
		w.out = append(w.out, close)
		return true, true
	}
	return false, true
}

// next reads what follows a member or an element: a comma (more follows)
// or the close.
func (w *reorderer) next(close byte) (more, ok bool) {
	w.space()
	if w.i >= len(w.b) {
		return false, false
	}
	switch w.b[w.i] {
	case close:
		w.i++
		w.depth--
		return false, true
	case ',':
		w.i++
		w.space()
		return true, true
	}
	return false, false
}

func (w *reorderer) array() bool {
	empty, ok := w.enter('[', ']')
	if empty || !ok {
		return ok
	}
	for {
		if !w.value() {
			return false
		}
		more, ok := w.next(']')
		if !more {
			w.out = append(w.out, ']')
			return ok
		}
		w.out = append(w.out, ',')
	}
}

func (w *reorderer) object() bool {
	empty, ok := w.enter('{', '}')
	if empty || !ok {
		return ok
	}
	first := len(w.out)
	var buf [16]member
	ms := buf[:0]
	sorted := true
	for {
		if w.i >= len(w.b) || w.b[w.i] != '"' {
			return false
		}
		start := len(w.out)
		k, ok := w.str()
		if !ok {
			return false
		}
		w.space()
		if w.i >= len(w.b) || w.b[w.i] != ':' {
			return false
		}
		w.i++
		w.out = append(w.out, ':')
		w.space()
		if !w.value() {
			return false
		}
		if n := len(ms); n > 0 && bytes.Compare(ms[n-1].key, k) >= 0 {
			sorted = false
		}
		ms = append(ms, member{key: k, start: start, end: len(w.out)})
		more, ok := w.next('}')
		if !more {
			if !ok {
				return false
			}
			break
		}
		w.out = append(w.out, ',')
	}
	if !sorted {
		slices.SortFunc(ms, func(a, b member) int { return bytes.Compare(a.key, b.key) })
		for j := 1; j < len(ms); j++ {
			if bytes.Equal(ms[j-1].key, ms[j].key) {
				// A key twice: canonicalSlow keeps the last value.
				return false
			}
		}
		w.tmp = append(w.tmp[:0], w.out[first:]...)
		w.out = w.out[:first]
		for j, m := range ms {
			if j > 0 {
				w.out = append(w.out, ',')
			}
			w.out = append(w.out, w.tmp[m.start-first:m.end-first]...)
		}
	}
	w.out = append(w.out, '}')
	return true
}
