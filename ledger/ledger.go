package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/projector"
	"github.com/ntmledger/ntmledger/internal/rules"
)

// Sentinel errors callers branch on.
var (
	// ErrConflict: an expected_version mismatch, or an id reused with other
	// content (HTTP 409).
	ErrConflict = errors.New("conflict")
	// ErrTooLarge: a request holds more events than one atomic batch.
	ErrTooLarge = errors.New("request too large")
)

// ConflictError says which event of a request conflicts and why.
type ConflictError struct {
	Index  int
	Field  string
	Reason string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("event %d: %s: %s", e.Index, e.Field, e.Reason)
}

// Is makes a ConflictError match ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Rulebook is what the ledger asks of the rules: the tier of a unit kind
// under the named rulebook, or the one in force on a date.
type Rulebook interface {
	Tier(kind, tier, rulebook, date string) (*rules.Tier, error)
	// CheckAdaptation reports what is wrong with a province's adaptation
	// (rulebook.published); its error starts with the data field at fault.
	CheckAdaptation(a rules.Adaptation) error
}

// Config configures a Ledger.
type Config struct {
	// JS is the JetStream context. Required.
	JS jetstream.JetStream
	// IndexDir holds the write-side index (Pebble). Required.
	IndexDir string
	// Rules defaults to the built-in rulebooks.
	Rules Rulebook
	// Replicas of the stream: 1 embedded, 3 in a cluster. Default 1.
	Replicas int
	// DuplicateWindow of the stream. Default DefaultDuplicateWindow. Ids
	// older than the window are still caught by the index.
	DuplicateWindow time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now; tests set it.
	Now func() time.Time
}

// Result is what an append returns for each event.
type Result struct {
	ID      string `json:"id"`
	Seq     uint64 `json:"seq"`
	Unit    string `json:"unit"`
	Version uint64 `json:"version"`
	// Duplicate is true when the event was already stored (an idempotent
	// retry): the result is the original one.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Ledger appends events to the stream.
type Ledger struct {
	cfg    Config
	log    *slog.Logger
	js     jetstream.JetStream
	stream jetstream.Stream
	db     *pebble.DB
	ids    *idFilter // the ids db holds, and perhaps a few more
	index  *projector.Projector
	cancel context.CancelFunc
	done   chan struct{}

	// mu serialises appends of this process: each request is checked against
	// the index as of the stream's end, and the next waits until the index
	// holds it. Writers in other processes are fenced by the server's
	// expected-subject-sequence check.
	mu sync.Mutex
	// recent holds, under mu, what this ledger appended that the index may
	// not hold yet (see overlay), including requests still in flight.
	recent overlay
	// flights are the requests sent and not yet settled, in send order
	// (under mu; see AppendAsync).
	flights []*flight
	// beforeSend, set by tests, runs after a request is checked and before
	// it is sent.
	beforeSend func(units []string)

	closeOnce sync.Once
	closeErr  error
}

// Open ensures the stream exists, opens the write-side index and waits until
// it has caught up with the stream.
func Open(ctx context.Context, cfg Config) (*Ledger, error) {
	if cfg.JS == nil || cfg.IndexDir == "" {
		return nil, errors.New("ledger: JS and IndexDir are required")
	}
	if cfg.Rules == nil {
		cfg.Rules = rules.BuiltIn()
	}
	if cfg.DuplicateWindow <= 0 {
		cfg.DuplicateWindow = DefaultDuplicateWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	stream, err := EnsureStream(ctx, cfg.JS, cfg.Replicas, cfg.DuplicateWindow)
	if err != nil {
		return nil, err
	}
	db, err := projector.OpenDB(cfg.IndexDir, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("ledger index: %w", err)
	}
	ids := newIDFilter()
	idx, err := projector.New(projector.Config{
		Name: "ledger-index", JS: cfg.JS, Stream: StreamName, DB: db,
		Applier: indexApplier{rules: cfg.Rules, ids: ids}, Logger: cfg.Logger,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	l := &Ledger{cfg: cfg, log: cfg.Logger, js: cfg.JS, stream: stream, db: db, ids: ids, index: idx, cancel: cancel, done: make(chan struct{})}
	// The filter reads the ids the index holds now (New emptied it if it
	// was written under another layout) beside the projector, which adds
	// the rest: a national index takes seconds to read, and until it is
	// read every id is looked up in the index as before.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		start := time.Now()
		n, err := ids.fill(rctx, db)
		if err != nil {
			if rctx.Err() == nil {
				l.log.Error("ledger index: reading ids into the filter", "err", err)
			}
			return
		}
		l.log.Debug("ledger index: ids read into the filter", "ids", n, "took", time.Since(start))
	}()
	go func() {
		defer wg.Done()
		if err := idx.Run(rctx); err != nil {
			l.log.Error("ledger index stopped", "err", err)
		}
	}()
	go func() {
		wg.Wait()
		close(l.done)
	}()
	if err := l.catchUp(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Close stops the index and closes its database. It is safe to call more
// than once.
func (l *Ledger) Close() error {
	l.closeOnce.Do(func() {
		l.cancel()
		<-l.done
		l.closeErr = l.db.Close()
	})
	return l.closeErr
}

// Index is the write-side index projector (for health and metrics).
func (l *Ledger) Index() *projector.Projector { return l.index }

// Stream is the event stream.
func (l *Ledger) Stream() jetstream.Stream { return l.stream }

// catchUp waits until the index holds every event in the stream.
func (l *Ledger) catchUp(ctx context.Context) error {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("ledger: stream info: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := l.index.WaitApplied(wctx, info.State.LastSeq); err != nil {
		return fmt.Errorf("ledger: index catching up: %w", err)
	}
	return nil
}

// pending is an event checked and sealed, ready to publish.
type pending struct {
	index   int // position in the request
	subject string
	body    []byte
	id      string
	expect  uint64 // expected last subject sequence
	check   bool   // carries the expected-sequence header (first of its unit)
}

// Append stores a request's events atomically and returns one result per
// event, in order. Errors: *events.FieldError (bad input, nothing written),
// *ConflictError (409), ErrTooLarge, or an I/O error.
func (l *Ledger) Append(ctx context.Context, ins []*events.Input) ([]Result, error) {
	p, err := l.AppendAsync(ctx, ins)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// request is a validated request: its events, their parsed data, ids and
// content hashes.
type request struct {
	ins      []*events.Input
	datas    []any
	ids      []string
	contents []string
}

// prepare validates a request and fills in what checking it needs.
func prepare(ins []*events.Input) (*request, error) {
	if err := checkSize(len(ins)); err != nil {
		return nil, err
	}
	r := &request{ins: ins, datas: make([]any, len(ins)), ids: make([]string, len(ins)), contents: make([]string, len(ins))}
	seen := make(map[string]int, len(ins))
	for i, in := range ins {
		d, err := events.Validate(in)
		if err != nil {
			var fe *events.FieldError
			if errors.As(err, &fe) {
				fe.Index = i
			}
			return nil, err
		}
		r.datas[i] = d
		ch, err := events.ContentHash(in.Type, in.Unit, in.OccurredAt, in.Actor, in.Document, in.Data)
		if err != nil {
			return nil, &events.FieldError{Index: i, Field: "data", Reason: err.Error()}
		}
		r.contents[i] = ch
		if err := r.setID(i, seen); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// checkSize refuses an empty request, and one too large for an atomic
// batch.
func checkSize(n int) error {
	if n == 0 {
		return &events.FieldError{Index: 0, Reason: "the request holds no events"}
	}
	if n > MaxBatch {
		return fmt.Errorf("%w: %d events; at most %d are stored atomically in one request (use import for bulk loads)", ErrTooLarge, n, MaxBatch)
	}
	return nil
}

// setID gives event i its id (a new ULID when it has none) and refuses an
// id another event of the request has.
func (r *request) setID(i int, seen map[string]int) error {
	r.ids[i] = r.ins[i].ID
	if r.ids[i] == "" {
		r.ids[i] = ulid.Make().String()
	}
	if j, dup := seen[r.ids[i]]; dup {
		return &events.FieldError{Index: i, Field: "id", Reason: fmt.Sprintf("%s is also the id of event %d of this request", r.ids[i], j)}
	}
	seen[r.ids[i]] = i
	return nil
}

// checkNow brings the index and overlay up to date and checks and seals
// req against them. Called with l.mu held.
func (l *Ledger) checkNow(ctx context.Context, req *request) ([]Result, []pending, map[string]*unitState, error) {
	if err := l.index.Halted(); err != nil {
		return nil, nil, nil, fmt.Errorf("ledger: cannot check requests: %w", err)
	}
	if err := l.syncState(ctx); err != nil {
		return nil, nil, nil, err
	}
	return l.plan(req.ins, req.datas, req.ids, req.contents)
}

// appendNow checks and stores a request and waits for the stream's
// acknowledgement, checking it again if another writer came first. Called
// with l.mu held and nothing in flight.
func (l *Ledger) appendNow(ctx context.Context, req *request) ([]Result, error) {
	for attempt := 0; ; attempt++ {
		res, pend, units, err := l.checkNow(ctx, req)
		if err != nil {
			return nil, err
		}
		if len(pend) == 0 {
			return res, nil
		}
		last, err := l.publish(ctx, pend, res)
		if err != nil {
			if raced(err) && attempt < 3 {
				// Another writer appended to one of these units (or stored one
				// of these ids) since the index was read: check again against
				// the new state.
				l.log.Debug("append raced another writer; rechecking", "err", err)
				continue
			}
			if raced(err) {
				return nil, &ConflictError{Index: pend[0].index, Field: "unit", Reason: "another writer keeps appending to this unit; retry"}
			}
			return nil, err
		}
		l.recent.record(res, pend, units, req.contents, req.ins, last)
		return res, nil
	}
}

var errRaced = errors.New("raced another writer")

func raced(err error) bool {
	if errors.Is(err, errRaced) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jetstream.JSErrCodeStreamWrongLastSequence, jetstream.JSErrCodeStreamWrongLastSequenceConstant, 10201:
			return true
		}
	}
	return false
}

// plan checks the request against the index (and what this ledger appended
// that the index does not hold yet) and seals the events that are not yet
// stored. It returns the units' states after the request.
func (l *Ledger) plan(ins []*events.Input, datas []any, ids, contents []string) ([]Result, []pending, map[string]*unitState, error) {
	units := map[string]*unitState{}
	firstSeen := map[string]bool{}
	local := map[string]*idEntry{}
	var loadErr error
	getUnit := func(code string) (*unitState, error) {
		if u, ok := units[code]; ok {
			return u, nil
		}
		u, err := l.recent.unit(code)
		if u == nil && err == nil {
			u, err = loadUnit(l.db, code)
		}
		if err != nil {
			return nil, err
		}
		if u == nil {
			u = &unitState{Code: code, Kind: events.UnitKind(code)}
			if u.Kind == "country" {
				u.Registered, u.Province = true, events.Country
			}
		}
		units[code] = u
		return u, nil
	}
	getID := func(id string) (*idEntry, error) {
		if e, ok := local[id]; ok {
			return e, nil
		}
		return l.loadID(id)
	}
	recordedAt := l.cfg.Now().UTC().Format(time.RFC3339Nano)
	res := make([]Result, len(ins))
	var pend []pending
	for i, in := range ins {
		stored, err := l.loadID(ids[i])
		if err != nil {
			return nil, nil, nil, err
		}
		if stored != nil {
			if stored.Content != contents[i] {
				return nil, nil, nil, &ConflictError{Index: i, Field: "id", Reason: fmt.Sprintf("%s was already used for other content (seq %d, unit %s)", ids[i], stored.Seq, stored.Unit)}
			}
			res[i] = Result{ID: ids[i], Seq: stored.Seq, Unit: stored.Unit, Version: stored.Version, Duplicate: true}
			continue
		}
		u, err := getUnit(in.Unit)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := l.check(u, in, datas[i], getUnit, getID); err != nil {
			err.Index = i
			return nil, nil, nil, err
		}
		if in.ExpectedVersion != nil && *in.ExpectedVersion != u.Version {
			return nil, nil, nil, &ConflictError{Index: i, Field: "expected_version", Reason: fmt.Sprintf("unit %s is at version %d, not %d", in.Unit, u.Version, *in.ExpectedVersion)}
		}
		ev := &events.Event{
			ID: ids[i], Type: in.Type, Unit: in.Unit, OccurredAt: in.OccurredAt, RecordedAt: recordedAt,
			Actor: *in.Actor, Document: in.Document, Data: in.Data,
			Version: u.Version + 1, PrevHash: u.LastHash,
		}
		body, err := events.Seal(ev)
		if err != nil {
			return nil, nil, nil, &events.FieldError{Index: i, Field: "data", Reason: err.Error()}
		}
		expect, check := u.LastSeq, !firstSeen[in.Unit]
		firstSeen[in.Unit] = true
		if err := applyToUnit(l.cfg.Rules, u, ev, datas[i], getUnit, getID); err != nil {
			loadErr = err
			break
		}
		local[ids[i]] = &idEntry{Unit: in.Unit, Version: ev.Version, Type: in.Type, Content: contents[i]}
		res[i] = Result{ID: ids[i], Unit: in.Unit, Version: ev.Version}
		pend = append(pend, pending{index: i, subject: Subject(u.Province, u.Code), body: body, id: ids[i], expect: expect, check: check})
	}
	if loadErr != nil {
		return nil, nil, nil, loadErr
	}
	return res, pend, units, nil
}

// check applies the contract's structural rules that need the unit's state.
func (l *Ledger) check(u *unitState, in *events.Input, data any, getUnit func(string) (*unitState, error), getID func(string) (*idEntry, error)) *events.FieldError {
	fe := func(field, format string, args ...any) *events.FieldError {
		return &events.FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	date := in.OccurredAt[:min(10, len(in.OccurredAt))]
	if u.Kind == "country" && in.Type != events.TargetSet && in.Type != events.RulebookPublished {
		return fe("unit", "%s (the country) takes only target.set and rulebook.published", in.Unit)
	}
	if in.Type != events.UnitRegistered && !u.Registered {
		return fe("unit", "unknown unit %q: register it first with unit.registered", in.Unit)
	}
	switch d := data.(type) {
	case *events.Registration:
		if u.Registered {
			return fe("unit", "%s is already registered (version %d)", in.Unit, u.Version)
		}
		if d.Kind == "province" {
			return nil
		}
		p, err := getUnit(d.Parent)
		if err != nil {
			return fe("data.parent", "%v", err)
		}
		if !p.Registered || p.Kind == "country" {
			return fe("data.parent", "unknown unit %q: register the parent first", d.Parent)
		}
		allowed := map[string][]string{"district": {"province"}, "commune": {"district", "province"}, "village": {"commune"}}[d.Kind]
		ok := false
		for _, k := range allowed {
			ok = ok || p.Kind == k
		}
		if !ok {
			return fe("data.parent", "a %s cannot belong to %s, a %s", d.Kind, d.Parent, p.Kind)
		}
	case *events.Assessment:
		t, err := l.cfg.Rules.Tier(u.Kind, d.Tier, "", date)
		if err != nil {
			return fe("data.tier", "%v", err)
		}
		if !t.HasCriterion(d.Criterion) {
			return fe("data.criterion", "%q is not a criterion of the %s set for a %s (criteria 1–%d, %s)", d.Criterion, d.Tier, u.Kind, len(t.Criteria), t.Source)
		}
	case *events.Request:
		if _, err := l.cfg.Rules.Tier(u.Kind, d.Tier, "", date); err != nil {
			return fe("data.tier", "%v", err)
		}
	case *events.Grant:
		t, err := l.cfg.Rules.Tier(u.Kind, d.Tier, d.Rulebook, date)
		if err != nil {
			field := "data.tier"
			if d.Rulebook != "" {
				if _, rerr := l.cfg.Rules.Tier(u.Kind, d.Tier, "", date); rerr == nil {
					field = "data.rulebook"
				}
			}
			return fe(field, "%v", err)
		}
		if t.Requires != "" && u.held(t.Requires, date) == nil {
			return fe("data.tier", "granting %s requires %s, which %s does not hold on %s", d.Tier, t.Requires, in.Unit, date)
		}
		if r := u.held(d.Tier, date); r != nil {
			return fe("data.tier", "%s already holds %s on %s (since %s, decision %s)", in.Unit, d.Tier, date, r.Granted, r.Decision)
		}
	case *events.Revocation:
		r := u.held(d.Tier, date)
		if r == nil {
			return fe("data.tier", "%s does not hold %s on %s: nothing to revoke", in.Unit, d.Tier, date)
		}
		if d.Revokes != "" && d.Revokes != r.Decision {
			return fe("data.revokes", "the %s recognition %s holds is decision %q, not %q", d.Tier, in.Unit, r.Decision, d.Revokes)
		}
	case *events.Retraction:
		t, err := getID(d.Target)
		if err != nil {
			return fe("data.target", "%v", err)
		}
		switch {
		case t == nil:
			return fe("data.target", "no event with id %s", d.Target)
		case t.Unit != in.Unit:
			return fe("data.target", "event %s belongs to unit %s, not %s", d.Target, t.Unit, in.Unit)
		case t.Type == events.EntryRetracted:
			return fe("data.target", "event %s is itself a retraction", d.Target)
		case t.Retracted:
			return fe("data.target", "event %s is already retracted", d.Target)
		}
	case *events.Reorganization:
		for i, from := range d.From {
			f, err := getUnit(from)
			if err != nil {
				return fe(fmt.Sprintf("data.from[%d]", i), "%v", err)
			}
			if !f.Registered {
				return fe(fmt.Sprintf("data.from[%d]", i), "unknown unit %q", from)
			}
		}
	case *events.Target:
		if _, err := l.cfg.Rules.Tier(d.Level, d.Tier, "", fmt.Sprintf("%d-12-31", d.Year)); err != nil {
			return fe("data.tier", "%v", err)
		}
	case *events.RulebookAdaptation:
		if u.Kind != "province" && u.Kind != "country" {
			return fe("unit", "a rulebook adaptation is published by a province (or %s), not by a %s", events.Country, u.Kind)
		}
		err := l.cfg.Rules.CheckAdaptation(rules.Adaptation{
			ID: d.ID, Base: d.Base, Province: in.Unit, EffectiveFrom: d.EffectiveFrom, EffectiveTo: d.EffectiveTo,
			Thresholds: d.Thresholds, Criteria: d.Criteria,
		})
		if err != nil {
			field, reason, ok := strings.Cut(err.Error(), ": ")
			if !ok || strings.Contains(field, " ") {
				field, reason = "", err.Error()
			}
			if field != "" {
				field = "data." + field
			} else {
				field = "data"
			}
			return fe(field, "%s", reason)
		}
	}
	return nil
}

// messages are the stream messages of the pending events: id, schema
// version, and the unit's expected subject sequence on the first of each.
func messages(pend []pending) []*nats.Msg {
	msgs := make([]*nats.Msg, len(pend))
	for i, p := range pend {
		m := nats.NewMsg(p.subject)
		m.Data = p.body
		m.Header.Set(jetstream.MsgIDHeader, p.id)
		m.Header.Set(HeaderSchema, SchemaVersion)
		if p.check {
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(p.expect, 10))
		}
		msgs[i] = m
	}
	return msgs
}

// publish stores the pending events and fills in their sequences. It
// returns the last sequence.
func (l *Ledger) publish(ctx context.Context, pend []pending, res []Result) (uint64, error) {
	msgs := messages(pend)
	if len(msgs) == 1 {
		ack, err := l.js.PublishMsg(ctx, msgs[0])
		if err != nil {
			return 0, fmt.Errorf("publish %s: %w", pend[0].id, err)
		}
		if ack.Duplicate {
			return 0, fmt.Errorf("%w: id %s stored concurrently", errRaced, pend[0].id)
		}
		res[pend[0].index].Seq = ack.Sequence
		return ack.Sequence, nil
	}
	bp, err := jetstreamext.NewBatchPublisher(l.js)
	if err != nil {
		return 0, fmt.Errorf("batch publisher: %w", err)
	}
	for _, m := range msgs[:len(msgs)-1] {
		if err := bp.AddMsg(m); err != nil {
			_ = bp.Discard()
			return 0, fmt.Errorf("atomic batch of %d: %w", len(msgs), err)
		}
	}
	ack, err := bp.CommitMsg(ctx, msgs[len(msgs)-1])
	if err != nil {
		return 0, fmt.Errorf("atomic batch of %d: %w", len(msgs), err)
	}
	first := ack.Sequence - ack.BatchSize + 1
	for i, p := range pend {
		res[p.index].Seq = first + uint64(i)
	}
	return ack.Sequence, nil
}
