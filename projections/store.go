package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"

	"github.com/ntmledger/ntmledger/internal/projector"
	"github.com/ntmledger/ntmledger/internal/rules"
)

// ErrNotFound is returned for a unit the views do not know.
var ErrNotFound = errors.New("not found")

// currentFile names the generation directory in use under the views dir.
const currentFile = "CURRENT"

// Config configures the views.
type Config struct {
	JS     jetstream.JetStream // required
	Stream string              // required
	Dir    string              // the views directory, e.g. data/views; required
	Rules  *rules.Set          // defaults to the built-in rulebooks
	Logger *slog.Logger
	// OnChanges receives the changes of every committed batch (live feed).
	// It must not block.
	OnChanges func([]projector.Change)
}

// Views runs the projector of the status and history views and answers
// queries from them. A rebuild (Rebuild) builds a new generation beside the
// current one and swaps it in; reads are served throughout.
type Views struct {
	cfg Config
	log *slog.Logger

	mu     sync.RWMutex // held for reading by queries, for writing by a swap
	db     *pebble.DB
	gen    string
	proj   *projector.Projector
	live   *applier // proj's applier
	cancel context.CancelFunc
	done   chan struct{}
	runErr atomic.Pointer[error]

	rebuilding atomic.Bool
	progress   atomic.Pointer[Progress]
}

// Progress of a rebuild.
type Progress struct {
	Applied uint64    `json:"applied"`
	Target  uint64    `json:"target"`
	Started time.Time `json:"started"`
	Done    bool      `json:"done"`
}

// Open opens the current generation of the views (creating the first) and
// starts its projector.
func Open(ctx context.Context, cfg Config) (*Views, error) {
	if cfg.JS == nil || cfg.Stream == "" || cfg.Dir == "" {
		return nil, errors.New("projections: JS, Stream and Dir are required")
	}
	if cfg.Rules == nil {
		cfg.Rules = rules.BuiltIn()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("views dir: %w", err)
	}
	v := &Views{cfg: cfg, log: cfg.Logger.With("component", "views")}
	gen, err := v.readCurrent()
	if err != nil {
		return nil, err
	}
	if gen == "" {
		gen = newGeneration()
		if err := v.writeCurrent(gen); err != nil {
			return nil, err
		}
	}
	db, err := projector.OpenDB(filepath.Join(cfg.Dir, gen), cfg.Logger)
	if err != nil {
		return nil, err
	}
	p, a, err := v.newProjector(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	v.db, v.gen = db, gen
	v.start(p, a)
	v.removeStale()
	return v, nil
}

func newGeneration() string { return "gen-" + ulid.Make().String() }

func (v *Views) readCurrent() (string, error) {
	b, err := os.ReadFile(filepath.Join(v.cfg.Dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", currentFile, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeCurrent points CURRENT at gen atomically (write, fsync, rename).
func (v *Views) writeCurrent(gen string) error {
	tmp := filepath.Join(v.cfg.Dir, currentFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write %s: %w", currentFile, err)
	}
	if _, err := f.WriteString(gen + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", currentFile, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", currentFile, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(v.cfg.Dir, currentFile)); err != nil {
		return fmt.Errorf("install %s: %w", currentFile, err)
	}
	return nil
}

// removeStale deletes generations other than the current one: leftovers of
// a rebuild that was interrupted, or of one that completed.
func (v *Views) removeStale() {
	entries, err := os.ReadDir(v.cfg.Dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "gen-") && e.Name() != v.gen {
			if err := os.RemoveAll(filepath.Join(v.cfg.Dir, e.Name())); err == nil {
				v.log.Info("removed stale views generation", "gen", e.Name())
			}
		}
	}
}

func (v *Views) newProjector(db *pebble.DB) (*projector.Projector, *applier, error) {
	a := newApplier(v.cfg.Rules)
	p, err := projector.New(projector.Config{
		Name: "views", JS: v.cfg.JS, Stream: v.cfg.Stream, DB: db,
		Applier: a, Logger: v.cfg.Logger, OnChanges: v.cfg.OnChanges,
		Layout: Layout,
	})
	return p, a, err
}

// newBuildProjector is the projector of a generation being built: its
// applier hands the stored bodies to files, and keeps the states and read
// views to write when the build is done (applier.writeBuilt).
func (v *Views) newBuildProjector(db *pebble.DB, files *bodyFiles) (*projector.Projector, *applier, error) {
	a := newApplier(v.cfg.Rules)
	a.bodies = files
	a.built = newBuiltViews()
	p, err := projector.New(projector.Config{
		Name: "views", JS: v.cfg.JS, Stream: v.cfg.Stream, DB: db,
		Applier: a, Logger: v.cfg.Logger, Layout: Layout, Build: true,
	})
	return p, a, err
}

// Layout is the version of the views' key layout (keys.go). "2": bodies
// keyed by stream sequence, history records hold the sequence.
const Layout = "views-2"

func (v *Views) start(p *projector.Projector, a *applier) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	v.proj, v.live, v.cancel, v.done = p, a, cancel, done
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			v.runErr.Store(&err)
		}
	}()
}

// Projector is the live projector (for health and metrics).
func (v *Views) Projector() *projector.Projector {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.proj
}

// Applied is the last stream sequence the views hold.
func (v *Views) Applied() uint64 { return v.Projector().Applied() }

// WaitApplied waits until the views hold seq.
func (v *Views) WaitApplied(ctx context.Context, seq uint64) error {
	return v.Projector().WaitApplied(ctx, seq)
}

// Rebuilding reports a rebuild in progress and its progress.
func (v *Views) Rebuilding() (bool, *Progress) { return v.rebuilding.Load(), v.progress.Load() }

// Close stops the projector and closes the database.
func (v *Views) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cancel()
	<-v.done
	return v.db.Close()
}

// Rebuild replays the stream from seq 1 into a fresh generation and swaps it
// in. Reads are served from the current generation until the swap. progress,
// if set, is called as the rebuild advances.
func (v *Views) Rebuild(ctx context.Context, target uint64, progress func(Progress)) error {
	if !v.rebuilding.CompareAndSwap(false, true) {
		return errors.New("a rebuild is already running")
	}
	defer v.rebuilding.Store(false)
	// The live applier's caches would hold every unit's state alongside
	// the build's own until the swap; the old generation does without.
	v.mu.RLock()
	current := v.live
	v.mu.RUnlock()
	current.dropCaches()
	gen := newGeneration()
	dir := filepath.Join(v.cfg.Dir, gen)
	db, err := projector.OpenBuildDB(dir, v.cfg.Logger)
	if err != nil {
		return err
	}
	files, err := newBodyFiles(db, dir+".bodies")
	if err != nil {
		db.Close()
		os.RemoveAll(dir)
		return err
	}
	p, built, err := v.newBuildProjector(db, files)
	if err != nil {
		files.abandon()
		db.Close()
		os.RemoveAll(dir)
		return err
	}
	pctx, pcancel := context.WithCancel(context.Background())
	pdone := make(chan struct{})
	var perr error
	go func() {
		defer close(pdone)
		perr = p.Run(pctx)
	}()
	abandon := func(err error) error {
		pcancel()
		<-pdone
		files.abandon()
		db.Close()
		os.RemoveAll(dir)
		return err
	}
	pr := Progress{Target: target, Started: time.Now()}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for p.Applied() < target {
		select {
		case <-ctx.Done():
			return abandon(fmt.Errorf("rebuild cancelled at seq %d of %d: %w", p.Applied(), target, ctx.Err()))
		case <-pdone:
			return abandon(fmt.Errorf("rebuild stopped at seq %d of %d: %w", p.Applied(), target, perr))
		case <-tick.C:
			if err := files.Err(); err != nil {
				return abandon(fmt.Errorf("rebuild stopped at seq %d of %d: %w", p.Applied(), target, err))
			}
			pr.Applied = p.Applied()
			v.progress.Store(&pr)
			if progress != nil {
				progress(pr)
			}
		}
	}
	// The new generation holds the stream up to target. Stop its builder,
	// make it durable (it was built without a write-ahead log) and open it
	// again as a live database: the live projector resumes after its
	// checkpoint, so no event falls between the two generations.
	pcancel()
	<-pdone
	discard := func(err error) error {
		os.RemoveAll(dir)
		return err
	}
	if err := files.finish(); err != nil {
		db.Close()
		return discard(fmt.Errorf("rebuild: %w", err))
	}
	if err := p.WriteHeads(); err != nil {
		db.Close()
		return discard(fmt.Errorf("rebuild: %w", err))
	}
	if err := built.writeBuilt(db); err != nil {
		db.Close()
		return discard(fmt.Errorf("rebuild: %w", err))
	}
	if err := db.Flush(); err != nil {
		db.Close()
		return discard(fmt.Errorf("flush the rebuilt generation: %w", err))
	}
	if err := db.Close(); err != nil {
		return discard(fmt.Errorf("close the rebuilt generation: %w", err))
	}
	if db, err = projector.OpenDB(dir, v.cfg.Logger); err != nil {
		return discard(fmt.Errorf("open the rebuilt generation: %w", err))
	}
	if err := v.writeCurrent(gen); err != nil {
		db.Close()
		return discard(err)
	}
	v.mu.Lock()
	v.cancel()
	<-v.done
	oldDB, oldGen := v.db, v.gen
	v.db, v.gen = db, gen
	live, a, err := v.newProjector(db)
	if err != nil {
		v.mu.Unlock()
		return fmt.Errorf("restart views on the rebuilt generation: %w", err)
	}
	v.start(live, a)
	v.mu.Unlock()
	if err := oldDB.Close(); err != nil {
		v.log.Warn("closing old views generation", "err", err)
	}
	if err := os.RemoveAll(filepath.Join(v.cfg.Dir, oldGen)); err != nil {
		v.log.Warn("removing old views generation", "err", err)
	}
	pr.Applied, pr.Done = p.Applied(), true
	v.progress.Store(&pr)
	if v.cfg.OnChanges != nil {
		// Every view may differ from what live clients were shown.
		v.cfg.OnChanges([]projector.Change{{View: projector.ViewResync, Seq: pr.Applied}})
	}
	if progress != nil {
		progress(pr)
	}
	return nil
}

// snapshot runs fn on a consistent snapshot of the views and returns the
// sequence the snapshot holds.
func (v *Views) snapshot(fn func(r pebble.Reader) error) (uint64, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	snap := v.db.NewSnapshot()
	defer snap.Close()
	seq, err := readCheckpoint(snap)
	if err != nil {
		return 0, err
	}
	return seq, fn(snap)
}

func readCheckpoint(r pebble.Reader) (uint64, error) {
	v, closer, err := r.Get(projector.CheckpointKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("checkpoint of %d bytes", len(v))
	}
	return uint64(v[0])<<56 | uint64(v[1])<<48 | uint64(v[2])<<40 | uint64(v[3])<<32 | uint64(v[4])<<24 | uint64(v[5])<<16 | uint64(v[6])<<8 | uint64(v[7]), nil
}

// Dump writes every key and value of the current generation (for tests and
// audits: two dumps are equal iff the views are byte-identical).
func (v *Views) Dump(fn func(key, value []byte) error) (uint64, error) {
	return v.snapshot(func(r pebble.Reader) error {
		it, err := r.NewIter(nil)
		if err != nil {
			return err
		}
		defer it.Close()
		for it.First(); it.Valid(); it.Next() {
			if err := fn(it.Key(), it.Value()); err != nil {
				return err
			}
		}
		return it.Error()
	})
}

// Status returns a unit's status: current when asOf and knownAt are empty;
// on business date asOf; as the ledger knew it at knownAt.
func (v *Views) Status(ctx context.Context, unit, asOf string, knownAt time.Time) (*Status, error) {
	var st *Status
	seq, err := v.snapshot(func(r pebble.Reader) error {
		var err error
		st, err = statusAt(r, v.cfg.Rules, unit, cut{asOf: asOf, knownAt: knownAt}) // evaluate.go
		return err
	})
	if err != nil {
		return nil, err
	}
	st.AsOfSeq = seq
	return st, nil
}

func describeCut(asOf string, knownAt time.Time) string {
	switch {
	case asOf != "" && !knownAt.IsZero():
		return asOf + " as known at " + knownAt.Format(time.RFC3339)
	case asOf != "":
		return asOf
	}
	return "as known at " + knownAt.Format(time.RFC3339)
}
