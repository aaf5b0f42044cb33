package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/gen"
	"github.com/ntmledger/ntmledger/internal/importer"
	"github.com/ntmledger/ntmledger/internal/natsserver"
	"github.com/ntmledger/ntmledger/internal/node"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

type runner struct {
	cfg Config
	rep *Report
	log *slog.Logger

	eventsFile string   // JSON Lines of the history
	bodiesFile string   // length-prefixed stored bodies for the raw baseline
	count      int      // events generated
	units      []string // assessed units, for the query and live phases
	node       *node.Node
	stored     uint64 // the ledger's last sequence after import

	rawImportRate float64
	rawImportCPU  time.Duration // process CPU per event of the raw import
	rawReadRate   float64
	naiveRate     float64

	base    string       // HTTP API of the node, once served
	client  *http.Client // sized for the largest query load
	closers []func() error
}

func (r *runner) close() {
	for _, c := range r.closers {
		c()
	}
	r.closers, r.base = nil, ""
	if r.node != nil {
		r.node.Close()
		r.node = nil
	}
}

// generate writes the history as JSON Lines — a prefix of the synthetic
// national history of `ntmledger gen` (real units, chronological), with
// enough communes for the size asked — and the stored bodies the raw
// baseline publishes, so no phase measures generation.
func (r *runner) generate(ctx context.Context) error {
	r.eventsFile = filepath.Join(r.cfg.Dir, "history.jsonl")
	r.bodiesFile = filepath.Join(r.cfg.Dir, "bodies.bin")
	full := filepath.Join(r.cfg.Dir, "gen.jsonl")
	gf, err := os.Create(full)
	if err != nil {
		return err
	}
	defer os.Remove(full)
	// About 1,200 events per commune over 2016-2026; 0 is every commune.
	communes := r.cfg.Events/1100 + 1
	if communes >= 7692 {
		communes = 0
	}
	st, err := gen.Write(ctx, gf, gen.Config{Seed: 1, Communes: communes})
	if cerr := gf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	r.log.Info("generated", "communes", st.Communes, "events", st.Events)
	gf, err = os.Open(full)
	if err != nil {
		return err
	}
	defer gf.Close()
	ef, err := os.Create(r.eventsFile)
	if err != nil {
		return err
	}
	defer ef.Close()
	bf, err := os.Create(r.bodiesFile)
	if err != nil {
		return err
	}
	defer bf.Close()
	ew, bw := bufio.NewWriterSize(ef, 1<<20), bufio.NewWriterSize(bf, 1<<20)
	sc := bufio.NewScanner(gf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seen := map[string]bool{}
	for r.count < r.cfg.Events && sc.Scan() {
		in, err := events.DecodeInput(sc.Bytes())
		if err != nil {
			return fmt.Errorf("generated event %d: %w", r.count, err)
		}
		if _, err := events.Validate(in); err != nil {
			return fmt.Errorf("generated event %d: %w", r.count, err)
		}
		ew.Write(sc.Bytes())
		ew.WriteByte('\n')
		if in.Type == events.CriterionAssessed && !seen[in.Unit] {
			seen[in.Unit] = true
			r.units = append(r.units, in.Unit)
		}
		ev := &events.Event{ID: in.ID, Type: in.Type, Unit: in.Unit, OccurredAt: in.OccurredAt,
			RecordedAt: "2026-01-01T00:00:00.000000000Z", Actor: *in.Actor, Document: in.Document, Data: in.Data,
			Version: 1, PrevHash: strings.Repeat("0", 64)}
		body, err := events.Seal(ev)
		if err != nil {
			return err
		}
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
		bw.Write(hdr[:])
		bw.WriteString(in.Unit + "\n" + in.ID + "\n")
		bw.Write(body)
		r.count++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(r.units) == 0 {
		return fmt.Errorf("the first %d events assess no unit: ask for more events", r.count)
	}
	r.rep.Events = r.count // the whole national history is shorter than some sizes asked
	if err := ew.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// rawImport publishes the stored bodies to a bare stream in atomic batches
// of 1000, fsync on every write, no validation or hashing.
func (r *runner) rawImport(ctx context.Context) error {
	srv, err := natsserver.Start(ctx, natsserver.Config{StoreDir: filepath.Join(r.cfg.Dir, "raw"), Listen: "none"})
	if err != nil {
		return err
	}
	defer srv.Shutdown()
	nc, err := srv.Connect("bench-raw")
	if err != nil {
		return err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw.>"}, Storage: jetstream.FileStorage, AllowAtomicPublish: true}); err != nil {
		return err
	}
	f, err := os.Open(r.bodiesFile)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	type msg struct {
		unit, id string
		body     []byte
	}
	next := func() (*msg, error) {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return nil, err
		}
		unit, _ := br.ReadString('\n')
		id, _ := br.ReadString('\n')
		body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
		return &msg{strings.TrimSpace(unit), strings.TrimSpace(id), body}, nil
	}
	start, cpu := time.Now(), processCPU()
	n := 0
	for done := false; !done; {
		batch := make([]*nats.Msg, 0, ledger.MaxBatch)
		for len(batch) < ledger.MaxBatch {
			m, err := next()
			if errors.Is(err, io.EOF) {
				done = true
				break
			}
			if err != nil {
				return err
			}
			nm := nats.NewMsg("raw." + m.unit)
			nm.Data = m.body
			nm.Header.Set(jetstream.MsgIDHeader, m.id)
			batch = append(batch, nm)
		}
		if len(batch) == 0 {
			break
		}
		bp, err := jetstreamext.NewBatchPublisher(js)
		if err != nil {
			return err
		}
		for _, m := range batch[:len(batch)-1] {
			if err := bp.AddMsg(m); err != nil {
				return err
			}
		}
		if _, err := bp.CommitMsg(ctx, batch[len(batch)-1]); err != nil {
			return err
		}
		n += len(batch)
	}
	r.rawImportRate = float64(n) / time.Since(start).Seconds()
	r.rawImportCPU = (processCPU() - cpu) / time.Duration(n)
	r.log.Info("raw atomic-batch import", "events", n, "rate", int(r.rawImportRate))
	return nil
}

// importLedger imports the history as the import command does (requests of
// 1000, the next checked and sent while the stream stores the last),
// on a node that runs its projectors meanwhile, as a server does.
func (r *runner) importLedger(ctx context.Context) error {
	n, err := node.Start(ctx, node.Config{DataDir: filepath.Join(r.cfg.Dir, "node"), NATSListen: "none",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	r.node = n
	rss := startRSS()
	start, cpu := time.Now(), processCPU()
	sum, err := importer.Run(ctx, importer.Config{Appender: n.Ledger, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, []string{r.eventsFile})
	if err != nil {
		return err
	}
	if sum.Bad > 0 || sum.Duplicate > 0 {
		return fmt.Errorf("import: %d rows rejected, %d already stored, of %d", sum.Bad, sum.Duplicate, sum.Rows)
	}
	count := sum.Stored
	info, err := n.Ledger.Stream().Info(ctx)
	if err != nil {
		return err
	}
	r.stored = info.State.LastSeq
	el := time.Since(start)
	peak := rss.stop()
	rate := float64(count) / el.Seconds()
	m := Measure{Name: "import", Value: rate, Unit: "events/s", Baseline: "raw atomic batches of 1000", BaseVal: r.rawImportRate}
	m.Ratio = m.Value / m.BaseVal
	ratioTarget(&m, 0.8)
	r.rep.add(m)
	r.rep.add(Measure{Name: "peak RSS during import", Value: float64(peak.rss) / (1 << 20), Unit: "MiB", Note: peak.note("whole process: embedded server, ledger, projectors")})
	r.log.Info("ledger import", "events", count, "rate", int(rate), "peak_rss_mib", peak.rss>>20, "heap_objects_mib", peak.heapObjects>>20, "go_other_mib", peak.goOther>>20)
	if r.cfg.HeapProfile != "" {
		if err := writeHeapProfile(r.cfg.HeapProfile); err != nil {
			return err
		}
	}
	// Let the views catch up before the read phases.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	if err := n.Views.WaitApplied(wctx, r.stored); err != nil {
		return err
	}
	// What bounds the import on this machine: the CPU it takes per event,
	// the views' share included, against the raw baseline's.
	per := (processCPU() - cpu) / time.Duration(count)
	m = Measure{Name: "import CPU per event (whole process, until the views hold every event)", Value: float64(per.Nanoseconds()) / 1000, Unit: "µs",
		Baseline: "raw atomic batches of 1000", BaseVal: float64(r.rawImportCPU.Nanoseconds()) / 1000,
		Note: fmt.Sprintf("%d CPUs at this CPU per event allow at most %.0f events/s, %.2f× the raw import's rate", runtime.NumCPU(), float64(runtime.NumCPU())/per.Seconds(), float64(runtime.NumCPU())/per.Seconds()/r.rawImportRate)}
	m.Ratio = m.Value / m.BaseVal
	r.rep.add(m)
	r.log.Info("import CPU", "per_event_us", m.Value, "raw_per_event_us", m.BaseVal)
	return nil
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawRead reads the whole stream with an ordered consumer, doing nothing.
func (r *runner) rawRead(ctx context.Context) error {
	rate, err := r.readRate(ctx)
	r.rawReadRate = rate
	return err
}

// readRate reads the whole stream with an ordered consumer, doing nothing,
// and returns the rate. The phases compared with it measure it again just
// before they run: the machine's speed drifts over a long run.
func (r *runner) readRate(ctx context.Context) (float64, error) {
	start := time.Now()
	n, err := consume(ctx, r.node.JS, r.stored, func(jetstream.Msg) error { return nil })
	if err != nil {
		return 0, err
	}
	rate := float64(n) / time.Since(start).Seconds()
	r.log.Info("raw ordered-consumer read", "events", n, "rate", int(rate))
	return rate, nil
}

// naiveProjector reads, decodes each event with encoding/json and writes
// two keys per event into a Pebble batch, with a checkpoint per 1000.
func (r *runner) naiveProjector(ctx context.Context) error {
	db, err := pebble.Open(filepath.Join(r.cfg.Dir, "naive"), &pebble.Options{Logger: quiet{}})
	if err != nil {
		return err
	}
	defer db.Close()
	b := db.NewBatch()
	in := 0
	start := time.Now()
	n, err := consume(ctx, r.node.JS, r.stored, func(m jetstream.Msg) error {
		var ev events.Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			return err
		}
		md, _ := m.Metadata()
		var seq [8]byte
		binary.BigEndian.PutUint64(seq[:], md.Sequence.Stream)
		b.Set(append([]byte("h/"+ev.Unit+"/"), seq[:]...), m.Data(), nil)
		b.Set([]byte("s/"+ev.Unit), []byte(ev.Hash), nil)
		if in++; in == 1000 {
			b.Set([]byte("m/checkpoint"), seq[:], nil)
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b.Close()
			b, in = db.NewBatch(), 0
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	b.Close()
	r.naiveRate = float64(n) / time.Since(start).Seconds()
	r.log.Info("naive projector", "events", n, "rate", int(r.naiveRate))
	return nil
}

// consume reads the stream from seq 1 to last with an ordered consumer,
// calling fn on each message from the consumer's callback (Consume: the
// fastest way jetstream reads, and the one the projectors use).
func consume(ctx context.Context, js jetstream.JetStream, last uint64, fn func(jetstream.Msg) error) (int, error) {
	cons, err := js.OrderedConsumer(ctx, ledger.StreamName, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return 0, err
	}
	var (
		n       int
		stopped bool
		failed  error
	)
	done := make(chan struct{})
	stop := func(err error) {
		if !stopped {
			stopped, failed = true, err
			close(done)
		}
	}
	var mu sync.Mutex // the handler and the error callback
	cc, err := cons.Consume(func(m jetstream.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if err := fn(m); err != nil {
			stop(err)
			return
		}
		n++
		md, err := m.Metadata()
		if err != nil || md.Sequence.Stream >= last {
			stop(err)
		}
	}, jetstream.PullMaxMessages(4096), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		mu.Lock()
		defer mu.Unlock()
		stop(fmt.Errorf("read stream: %w", err))
	}))
	if err != nil {
		return 0, err
	}
	defer cc.Stop()
	select {
	case <-done:
	case <-ctx.Done():
		return n, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	return n, failed
}

// rebuild replays the views from seq 1 into a fresh generation.
func (r *runner) rebuild(ctx context.Context) error {
	base, err := r.readRate(ctx)
	if err != nil {
		return err
	}
	rss := startRSS()
	start := time.Now()
	var progress func(projections.Progress)
	if r.cfg.HeapProfile != "" {
		// Half way through, the heap holds what a rebuild keeps.
		var profErr error
		taken := false
		progress = func(p projections.Progress) {
			if !taken && p.Applied >= r.stored/2 {
				taken = true
				profErr = writeHeapProfile(r.cfg.HeapProfile + ".rebuild")
			}
		}
		defer func() {
			if profErr != nil {
				r.log.Error("heap profile of the rebuild", "err", profErr)
			}
		}()
	}
	if err := r.node.Views.Rebuild(ctx, r.stored, progress); err != nil {
		return err
	}
	el := time.Since(start)
	peak := rss.stop()
	rate := float64(r.stored) / el.Seconds()
	m := Measure{Name: "rebuild (replay)", Value: rate, Unit: "events/s", Baseline: "raw ordered-consumer read, just before", BaseVal: base}
	m.Ratio = m.Value / m.BaseVal
	ratioTarget(&m, 0.4)
	r.rep.add(m)
	r.rep.add(Measure{Name: "rebuild vs naive projector", Value: rate, Unit: "events/s", Baseline: "naive projector (encoding/json, 2 sets, checkpoint/1000)", BaseVal: r.naiveRate, Ratio: rate / r.naiveRate})
	took := Measure{Name: "rebuild time", Value: el.Seconds(), Unit: "s", Note: fmt.Sprintf("%d events", r.stored)}
	mem := Measure{Name: "peak RSS during rebuild", Value: float64(peak.rss) / (1 << 20), Unit: "MiB", Note: peak.note("whole process")}
	r.rep.add(took)
	if r.cfg.Events >= ScaleEvents {
		// The scale targets: ten million events rebuilt in under a minute,
		// in under 1 GiB. The whole generated national history is shorter
		// (about 9.3 million events), so the time is held at this rate.
		scaled := Measure{Name: fmt.Sprintf("rebuild time of %d events at this rate", ScaleEvents), Value: ScaleEvents / rate, Unit: "s"}
		maxTarget(&scaled, 60, "s")
		maxTarget(&mem, 1024, "MiB")
		r.rep.add(scaled)
	}
	r.rep.add(mem)
	r.log.Info("rebuild", "events", r.stored, "rate", int(rate), "peak_rss_mib", peak.rss>>20, "heap_objects_mib", peak.heapObjects>>20, "go_other_mib", peak.goOther>>20)
	return nil
}

type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(f string, a ...any) {
	panic(fmt.Sprintf(f, a...))
}

// rssSampler tracks the process's peak resident set during a phase, and
// how much of it the Go runtime held at that moment.
type rssSampler struct {
	mu    sync.Mutex
	peak  memSample
	stopc chan struct{}
	wg    sync.WaitGroup
}

// memSample is the resident set and the Go runtime's share of it: the
// heap's live and not yet collected objects, and memory the runtime holds
// but does not use (free heap spans not returned to the OS, stacks,
// metadata). The rest of the resident set is memory allocated outside the
// Go heap (Pebble's block caches and memtables).
type memSample struct {
	rss, heapObjects, goOther int64
}

var memMetrics = []string{"/memory/classes/total:bytes", "/memory/classes/heap/released:bytes", "/memory/classes/heap/objects:bytes"}

func sampleMem() memSample {
	s := memSample{rss: rss()}
	ms := make([]metrics.Sample, len(memMetrics))
	for i, name := range memMetrics {
		ms[i].Name = name
	}
	metrics.Read(ms)
	var v [3]int64
	for i := range ms {
		if ms[i].Value.Kind() == metrics.KindUint64 {
			v[i] = int64(ms[i].Value.Uint64())
		}
	}
	s.heapObjects = v[2]
	s.goOther = v[0] - v[1] - v[2]
	return s
}

// startRSS starts sampling. It first returns to the OS what earlier phases
// left garbage-collectable, so a phase's peak is its own.
func startRSS() *rssSampler {
	debug.FreeOSMemory()
	s := &rssSampler{stopc: make(chan struct{}), peak: sampleMem()}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stopc:
				return
			case <-t.C:
				s.observe()
			}
		}
	}()
	return s
}

func (s *rssSampler) observe() {
	m := sampleMem()
	s.mu.Lock()
	if m.rss > s.peak.rss {
		s.peak = m
	}
	s.mu.Unlock()
}

// stop ends sampling and returns the peak.
func (s *rssSampler) stop() memSample {
	close(s.stopc)
	s.wg.Wait()
	s.observe()
	return s.peak
}

// note says what the peak was made of.
func (m memSample) note(what string) string {
	mib := func(v int64) int64 { return v >> 20 }
	return fmt.Sprintf("%s; at the peak: Go heap objects %d MiB, other Go runtime memory %d MiB, outside the Go heap %d MiB",
		what, mib(m.heapObjects), mib(m.goOther), mib(m.rss-m.heapObjects-m.goOther))
}

// rss reads VmRSS of this process in bytes (0 where /proc is missing).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}
