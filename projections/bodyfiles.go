package projections

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ntmledger/ntmledger/internal/projector"
)

// BodyTableSize is how many bytes of stored bodies a rebuild writes into one
// table file before it ingests the file.
const BodyTableSize = 32 << 20

// bodyFiles writes a rebuild's stored bodies (e/<seq>) straight into sorted
// table files and ingests them into the last level of the new generation.
// The bodies are most of what a rebuild writes, and they come in key order:
// through batches they would go through the memtable, a flush, and
// compactions that rewrite them; this way they are written once, by a
// goroutine of their own, off the apply path.
//
// Bodies handed over and not yet ingested are kept in memory, so the
// applier can read a unit's history while the rebuild runs (a retraction
// refolds the unit). A generation being built is discarded after a crash,
// never read, so it needs no log of them.
type bodyFiles struct {
	db   *pebble.DB
	dir  string
	opts sstable.WriterOptions
	in   chan []bodyRec
	done chan struct{}

	mu      sync.Mutex
	pending map[uint64][]byte // handed over, not yet ingested
	err     error             // the writer's first error

	// Owned by the writer goroutine.
	w     *sstable.Writer
	path  string
	size  int
	first uint64 // first seq in the open file
	last  uint64 // last seq written
	files int
}

type bodyRec struct {
	seq uint64
	raw []byte
}

// newBodyFiles starts a writer for db, with its files in dir (created, and
// removed by finish or abandon).
func newBodyFiles(db *pebble.DB, dir string) (*bodyFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bodies: %w", err)
	}
	f := &bodyFiles{
		db: db, dir: dir, opts: projector.TableWriterOptions(db),
		in: make(chan []bodyRec, 8), done: make(chan struct{}),
		pending: map[uint64][]byte{},
	}
	go f.run()
	return f, nil
}

// add hands over the bodies of a committed batch, in seq order. It blocks
// while the writer is behind.
func (f *bodyFiles) add(recs []bodyRec) {
	if len(recs) == 0 {
		return
	}
	f.mu.Lock()
	for _, r := range recs {
		f.pending[r.seq] = r.raw
	}
	f.mu.Unlock()
	f.in <- recs
}

// lookup returns a body handed over and not yet ingested. A body it does
// not return was ingested before lookup was called.
func (f *bodyFiles) lookup(seq uint64) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.pending[seq]
	return b, ok
}

// Err is the writer's first error.
func (f *bodyFiles) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *bodyFiles) fail(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *bodyFiles) run() {
	defer close(f.done)
	for recs := range f.in {
		if f.Err() != nil {
			continue // drain: the rebuild is abandoned
		}
		if err := f.write(recs); err != nil {
			f.fail(err)
			continue
		}
		if f.size >= BodyTableSize {
			if err := f.ingest(); err != nil {
				f.fail(err)
			}
		}
	}
	if f.Err() == nil {
		if err := f.ingest(); err != nil {
			f.fail(err)
		}
	}
}

func (f *bodyFiles) write(recs []bodyRec) error {
	for _, r := range recs {
		if r.seq <= f.last {
			continue // a batch applied again after an abort: same bodies
		}
		if f.w == nil {
			f.path = filepath.Join(f.dir, fmt.Sprintf("bodies-%06d.sst", f.files))
			file, err := vfs.Default.Create(f.path, vfs.WriteCategoryUnspecified)
			if err != nil {
				return fmt.Errorf("bodies: %w", err)
			}
			f.w = sstable.NewWriter(objstorageprovider.NewFileWritable(file), f.opts)
			f.first, f.size = r.seq, 0
		}
		if err := f.w.Set(bodyKey(r.seq), r.raw); err != nil {
			return fmt.Errorf("bodies: write seq %d: %w", r.seq, err)
		}
		f.last = r.seq
		f.size += len(r.raw) + 10
	}
	return nil
}

// ingest finishes the open file, ingests it and forgets its bodies.
func (f *bodyFiles) ingest() error {
	if f.w == nil {
		return nil
	}
	w := f.w
	f.w = nil
	if err := w.Close(); err != nil {
		return fmt.Errorf("bodies: finish %s: %w", f.path, err)
	}
	if err := f.db.Ingest(context.Background(), []string{f.path}); err != nil {
		return fmt.Errorf("bodies: ingest %s: %w", f.path, err)
	}
	f.files++
	f.mu.Lock()
	for seq := f.first; seq <= f.last; seq++ {
		delete(f.pending, seq)
	}
	f.mu.Unlock()
	return nil
}

// finish ingests what is left and removes the directory.
func (f *bodyFiles) finish() error {
	close(f.in)
	<-f.done
	err := f.Err()
	return errors.Join(err, os.RemoveAll(f.dir))
}

// abandon stops the writer and removes its files.
func (f *bodyFiles) abandon() {
	f.fail(errors.New("bodies: rebuild abandoned"))
	close(f.in)
	<-f.done
	if f.w != nil {
		_ = f.w.Close()
	}
	_ = os.RemoveAll(f.dir)
}
