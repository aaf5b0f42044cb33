package events

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched (errors.Is) by every validation failure.
var ErrInvalid = errors.New("invalid event")

// FieldError says which field of which event in a request is wrong, and why.
// It is what users read: Field uses the JSON path ("data.status",
// "document.number"), Reason says what was expected.
type FieldError struct {
	Index  int    // position of the event in its request, 0-based
	Field  string // JSON path of the offending field; "" for the whole event
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("event %d: %s", e.Index, e.Reason)
	}
	return fmt.Sprintf("event %d: %s: %s", e.Index, e.Field, e.Reason)
}

// Is makes every FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
