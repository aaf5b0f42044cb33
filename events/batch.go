package events

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// DecodeRequest decodes a request body holding one event object, a JSON
// array of them, or JSON Lines (one object per line; blank lines ignored).
// The form is told by the first non-blank byte and, for several objects on
// separate lines, by the lines themselves, so a client need not set the
// content type. Errors are *FieldError with the index of the event.
func DecodeRequest(b []byte) ([]*Input, error) {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return nil, &FieldError{Reason: "empty request body: send an event object, a JSON array of events, or JSON Lines"}
	}
	switch t[0] {
	case '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(t, &raws); err != nil {
			return nil, jsonFieldError("", err)
		}
		out := make([]*Input, 0, len(raws))
		for i, r := range raws {
			in, err := DecodeInput(r)
			if err != nil {
				err.(*FieldError).Index = i
				return nil, err
			}
			out = append(out, in)
		}
		return out, nil
	case '{':
		// One object, or JSON Lines.
		if in, err := DecodeInput(t); err == nil {
			return []*Input{in}, nil
		} else if !bytes.Contains(t, []byte("\n")) {
			return nil, err
		}
		return DecodeLines(t)
	}
	return nil, &FieldError{Reason: fmt.Sprintf("request body starts with %q: send an event object, a JSON array of events, or JSON Lines", t[0])}
}

// DecodeLines decodes JSON Lines: one event object per line, blank lines
// and lines starting with '#' ignored. The FieldError's Index is the event's
// position; its Reason names the line.
func DecodeLines(b []byte) ([]*Input, error) {
	var out []*Input
	line := 0
	for len(b) > 0 {
		var l []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			l, b = b, nil
		}
		line++
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		in, err := DecodeInput(l)
		if err != nil {
			fe := err.(*FieldError)
			fe.Index = len(out)
			fe.Reason = fmt.Sprintf("line %d: %s", line, fe.Reason)
			return nil, fe
		}
		out = append(out, in)
	}
	if len(out) == 0 {
		return nil, &FieldError{Reason: "no events in the JSON Lines body"}
	}
	return out, nil
}
