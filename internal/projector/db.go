package projector

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// OpenDB opens (creating if needed) a Pebble database with the options every
// projection uses, logging through log.
func OpenDB(dir string, log *slog.Logger) (*pebble.DB, error) {
	if log == nil {
		log = slog.Default()
	}
	opts := &pebble.Options{Logger: pebbleLogger{log.With("component", "pebble", "dir", dir)}}
	// Bloom filters on every level: the ledger's idempotency check looks up
	// every new event id, and almost all of those lookups miss.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(filepath.Clean(dir), opts)
	if err != nil {
		return nil, fmt.Errorf("open pebble %s: %w", dir, err)
	}
	return db, nil
}

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...))
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}
