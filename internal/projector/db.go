package projector

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// CacheSize is the block cache of each projection's database. The views'
// reads and the projectors' state lookups hit the same few hundred
// megabytes of a national history; the Pebble default (8 MiB) made them go
// to disk.
const CacheSize = 64 << 20

// OpenDB opens (creating if needed) a Pebble database with the options every
// projection uses, logging through log.
func OpenDB(dir string, log *slog.Logger) (*pebble.DB, error) {
	return openDB(dir, log, false)
}

// OpenBuildDB opens a database that is being built from scratch and is not
// read until it is complete (a rebuild's new generation): without a
// write-ahead log, which would only write every batch twice. Whatever a
// crash leaves of it is discarded, never read. Flush and close it when
// done, and open it again with OpenDB to use it.
func OpenBuildDB(dir string, log *slog.Logger) (*pebble.DB, error) {
	return openDB(dir, log, true)
}

func openDB(dir string, log *slog.Logger, build bool) (*pebble.DB, error) {
	if log == nil {
		log = slog.Default()
	}
	cache := pebble.NewCache(CacheSize)
	defer cache.Unref()
	opts := options(build)
	opts.Logger = pebbleLogger{log.With("component", "pebble", "dir", dir)}
	opts.Cache = cache
	db, err := pebble.Open(filepath.Clean(dir), opts)
	if err != nil {
		return nil, fmt.Errorf("open pebble %s: %w", dir, err)
	}
	return db, nil
}

// TableWriterOptions are the options of a table file written outside db,
// sorted, for db.Ingest into its last level (a rebuild's stored bodies):
// the compression and format db's own compactions would use, without
// filters (the file is only scanned and seeked, never probed by Get).
func TableWriterOptions(db *pebble.DB) sstable.WriterOptions {
	opts := options(false)
	opts.EnsureDefaults()
	w := opts.MakeWriterOptions(len(opts.Levels)-1, db.TableFormat())
	w.FilterPolicy = pebble.NoFilterPolicy
	return w
}

func options(build bool) *pebble.Options {
	opts := &pebble.Options{
		// Projectors rewrite the state and summary of every unit a batch
		// touches. A memtable keeps only the last of those rewrites, so the
		// bigger it is, the fewer of them are flushed and then compacted
		// again and again into the level below: each level-0 file of a live
		// projection spans its whole key space. During the bench's live
		// phase on a 9.3M-event national history, compactions took 7.5-7.8 s
		// of CPU with 16 MiB memtables, 3.0 s with 32 MiB and 1.4-1.9 s
		// with 64 MiB. 32 MiB keeps most of the gain for half the memory,
		// which a rebuild's budget needs: both live projections keep theirs
		// beside the build's. (Flushing the live views' memtable when a
		// rebuild starts frees it, but its level-0 file sets off a
		// compaction of the live generation beside the build; the one
		// national rebuild measured that way ran at 157k events/s, against
		// 177k in the run before without it.)
		MemTableSize:                32 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
		LBaseMaxBytes:               256 << 20,
		DisableWAL:                  build,
	}
	if build {
		// A build writes every unit's history records all over the key
		// space, so each level-0 file overlaps the whole of the level
		// below, and each compaction into it rewrote all of it: letting
		// level 0 gather 16 files before compacting makes those rewrites
		// four times fewer (a 10M-event rebuild: about 8% less CPU). The
		// generation is compacted as usual once it is opened live.
		opts.L0CompactionThreshold = 16
		opts.L0StopWritesThreshold = 48
		// A build writes each unit's state once, at the end: nothing for a
		// big memtable to absorb, and a rebuild's memory has a budget.
		opts.MemTableSize = 16 << 20
	}
	// Bloom filters on every level: lookups of units' states and of ids
	// (those the ledger's in-memory filter cannot rule out) mostly miss.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	return opts
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
