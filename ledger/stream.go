package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream layout. These names are part of the public contract: NATS users
// subscribe to them and scope permissions by them.
const (
	// StreamName is the JetStream stream holding every event.
	StreamName = "NTM_EVENTS"
	// SubjectPrefix starts every event subject: ntm.ev.<province>.<unit>.
	SubjectPrefix = "ntm.ev"
	// SubjectWildcard matches every event subject.
	SubjectWildcard = SubjectPrefix + ".>"

	// HeaderSchema carries the envelope's schema version, so an old event
	// shape read by new code can be upcast on read.
	HeaderSchema = "Ntm-Schema"
	// SchemaVersion is the envelope version this code writes.
	SchemaVersion = "1"

	// MaxBatch is the most events one request may hold: the server's limit
	// for an atomic batch.
	MaxBatch = 1000

	// DefaultDuplicateWindow is the stream's duplicate window unless
	// configured. The server keeps every id of the window in memory, about
	// 240 bytes each: at a bulk import's 20–25k events/s, JetStream's usual
	// 2 minutes held 500 MB. The window only has to outlast a publish and
	// its retries (AckTimeout); ids older than it are caught by the ledger's
	// index, which every request is checked against, and a retry that races
	// a stored copy of itself on the same unit is refused by the unit's
	// expected last subject sequence.
	DefaultDuplicateWindow = 30 * time.Second
)

// Subject is the subject of a unit's events. Province is the unit's
// province code ("VN" for the country and for provinces' own province is
// their code).
func Subject(province, unit string) string {
	return SubjectPrefix + "." + province + "." + unit
}

// StreamConfig is the stream as ntmledger creates it: file storage, deletes
// and purges denied, atomic batches allowed, nothing ever expires.
func StreamConfig(replicas int, duplicates time.Duration) jetstream.StreamConfig {
	if replicas <= 0 {
		replicas = 1
	}
	return jetstream.StreamConfig{
		Name:               StreamName,
		Description:        "ntmledger: New Rural Development events (immutable)",
		Subjects:           []string{SubjectWildcard},
		Storage:            jetstream.FileStorage,
		Retention:          jetstream.LimitsPolicy,
		MaxMsgs:            -1,
		MaxBytes:           -1,
		MaxAge:             0,
		MaxMsgsPerSubject:  -1,
		Discard:            jetstream.DiscardNew,
		Replicas:           replicas,
		Duplicates:         duplicates,
		DenyDelete:         true,
		DenyPurge:          true,
		AllowDirect:        true,
		AllowAtomicPublish: true,
	}
}

// EnsureStream creates the stream, or brings an existing one to the
// configuration, and returns it.
func EnsureStream(ctx context.Context, js jetstream.JetStream, replicas int, duplicates time.Duration) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, StreamConfig(replicas, duplicates))
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", StreamName, err)
	}
	return s, nil
}
