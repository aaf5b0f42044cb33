package events

import (
	"errors"
	"fmt"
)

// ErrChain is matched (errors.Is) by every *ChainError.
var ErrChain = errors.New("hash chain broken")

// Reasons a message does not continue its unit's hash chain. They are part
// of what verify and findings report: never rename one.
const (
	ChainUndecodable  = "undecodable"        // not a stored event body, or its data does not parse for its type
	ChainWrongSubject = "wrong_subject"      // the body names another unit than the subject it was published on
	ChainHashMissing  = "hash_missing"       // no hash at all: not written by the ledger
	ChainHashMismatch = "hash_mismatch"      // the content does not hash to the stored hash: forged or altered
	ChainVersion      = "version_mismatch"   // not the next version of the unit
	ChainPrevHash     = "prev_hash_mismatch" // does not link to the hash of the unit's previous good event
)

// ChainError says why an event is not the next link of its unit's chain.
type ChainError struct {
	Reason string // one of the Chain* constants
	Detail string // what was expected and found, for people
}

func (e *ChainError) Error() string { return e.Reason + ": " + e.Detail }

// Is makes every ChainError match ErrChain.
func (e *ChainError) Is(target error) bool { return target == ErrChain }

// Link checks that ev is the next link of a chain whose last good event has
// version prevVersion and hash prevHash (0 and "" for a unit with no events
// yet): its hash is present and recomputes from its content, its version is
// prevVersion+1 and its prev_hash is prevHash. The error is a *ChainError.
//
// The checks run in that order, so a forged body is reported as forged
// (hash) before it is reported as misplaced (version, prev_hash).
func Link(ev *Event, prevVersion uint64, prevHash string) error {
	if ev.Hash == "" {
		return &ChainError{Reason: ChainHashMissing, Detail: fmt.Sprintf("event %s (version %d) carries no hash", ev.ID, ev.Version)}
	}
	h := ev.hashed
	if h == "" {
		var err error
		if h, err = Hash(ev); err != nil {
			return &ChainError{Reason: ChainUndecodable, Detail: fmt.Sprintf("event %s: %v", ev.ID, err)}
		}
	}
	if h != ev.Hash {
		return &ChainError{Reason: ChainHashMismatch, Detail: fmt.Sprintf("event %s (version %d): stored hash %s, content hashes to %s", ev.ID, ev.Version, ev.Hash, h)}
	}
	if ev.Version != prevVersion+1 {
		return &ChainError{Reason: ChainVersion, Detail: fmt.Sprintf("event %s claims version %d; the unit's next version is %d", ev.ID, ev.Version, prevVersion+1)}
	}
	if ev.PrevHash != prevHash {
		return &ChainError{Reason: ChainPrevHash, Detail: fmt.Sprintf("event %s (version %d): prev_hash %q, the previous event's hash is %q", ev.ID, ev.Version, ev.PrevHash, prevHash)}
	}
	return nil
}
