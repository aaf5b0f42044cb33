package events

import "bytes"

// canonicalAsIs reports whether raw is a JSON value that Canonical would
// write again byte for byte: no whitespace, object keys in strictly
// increasing order (so none twice), strings without escapes holding valid
// UTF-8 and none of the characters writeString escapes, numbers valid as
// JSON. It errs on the side of no: anything it is unsure of (escapes, deep
// nesting) goes through the full decode and rewrite.
func canonicalAsIs(raw []byte) bool {
	s := canonScan{b: raw}
	return len(raw) > 0 && s.value() && s.i == len(raw)
}

// maxAsIsDepth bounds the nesting canonicalAsIs follows.
const maxAsIsDepth = 256

type canonScan struct {
	b     []byte
	i     int
	depth int
}

func (s *canonScan) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		_, ok := s.str()
		return ok
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	default:
		return s.number()
	}
}

func (s *canonScan) object() bool {
	empty, ok := s.open('}')
	if empty || !ok {
		return ok
	}
	var prev []byte
	for first := true; ; first = false {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		k, ok := s.str()
		if !ok || !first && bytes.Compare(prev, k) >= 0 {
			return false
		}
		prev = k
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		if !s.value() {
			return false
		}
		if more, ok := s.sep('}'); !more {
			return ok
		}
	}
}

func (s *canonScan) array() bool {
	empty, ok := s.open(']')
	if empty || !ok {
		return ok
	}
	for {
		if !s.value() {
			return false
		}
		if more, ok := s.sep(']'); !more {
			return ok
		}
	}
}

// open enters the object or array at s.i; empty: it closes at once.
func (s *canonScan) open(close byte) (empty, ok bool) {
	if s.depth++; s.depth > maxAsIsDepth {
		return false, false
	}
	s.i++
	if s.i < len(s.b) && s.b[s.i] == close {
		s.i++
		s.depth--
		return true, true
	}
	return false, true
}

// sep reads what follows a member or an element: a comma (more follows) or
// the close.
func (s *canonScan) sep(close byte) (more, ok bool) {
	if s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case close:
		s.i++
		s.depth--
		return false, true
	case ',':
		s.i++
		return true, true
	}
	return false, false
}

// str reads a string at s.i and returns its content.
func (s *canonScan) str() ([]byte, bool) {
	start := s.i + 1
	i, ok := plainString(s.b, start)
	if !ok {
		return nil, false
	}
	s.i = i + 1
	return s.b[start:i], true
}

func (s *canonScan) lit(l string) bool {
	if len(s.b)-s.i >= len(l) && string(s.b[s.i:s.i+len(l)]) == l {
		s.i += len(l)
		return true
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *canonScan) number() bool {
	b, i := s.b, s.i
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		digits()
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	s.i = i
	return true
}
