// Package importer imports events in bulk from JSON Lines and CSV files:
// the `ntmledger import` command.
//
// Rows are validated one by one and appended in atomic batches of up to
// ledger.MaxBatch. A row the ledger rejects is written to the report with
// its file, line and reason, taken out of its batch, and the rest of the
// batch is appended again; a bad row never stops an import. Every event has
// an id — its own, or one derived from its content (DeriveID) — and ids are
// idempotency keys, so an import killed at any point and run again stores
// exactly what was missing: rows already stored come back as duplicates.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/ledger"
)

// Appender stores a request atomically (ledger.Ledger.Append, or a server
// over HTTP).
type Appender interface {
	Append(ctx context.Context, ins []*events.Input) ([]ledger.Result, error)
}

// Config configures an import.
type Config struct {
	// Appender receives the batches. Required.
	Appender Appender
	// BatchSize is the number of events per atomic append. Default and
	// maximum ledger.MaxBatch.
	BatchSize int
	// Actor records CSV rows that have no actor columns. Default
	// {id: "ntmledger-import", role: "system"}.
	Actor events.Actor
	// Report receives one line per bad row: "FILE:LINE: reason". Nil
	// discards them (they are still counted).
	Report io.Writer
	// Progress, if set, is called after every batch and at the end.
	Progress func(Progress)
	// Rejection tells which event of a batch an Append error names, and
	// why. Nil recognizes the ledger's *events.FieldError and
	// *ledger.ConflictError. An error it does not recognize stops the
	// import (an I/O error: run it again to resume).
	Rejection func(error) (index int, reason string, ok bool)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Progress is the state of an import.
type Progress struct {
	File      string // the file being read
	Rows      int    // rows read (events and bad rows)
	Stored    int    // events newly stored
	Duplicate int    // events that were already stored
	Bad       int    // rows rejected
	Read      int64  // bytes read of all files
	Size      int64  // bytes of all files
	Elapsed   time.Duration
	Done      bool
}

// Summary is what an import did.
type Summary = Progress

// row is one event read from a file, with where it came from: validated
// by the importer (in), or prepared by the ledger itself (p) when the
// appender takes prepared events.
type row struct {
	in   *events.Input
	p    *ledger.Prepared
	file string
	line int
}

func (r *row) id() string {
	if r.p != nil {
		return r.p.ID()
	}
	return r.in.ID
}

// content is the row's content hash.
func (r *row) content() string {
	if r.p != nil {
		return r.p.Content()
	}
	ch, _ := events.ContentHash(r.in.Type, r.in.Unit, r.in.OccurredAt, r.in.Actor, r.in.Document, r.in.Data)
	return ch
}

type importer struct {
	cfg   Config
	log   *slog.Logger
	p     Progress
	start time.Time
	batch []row
	ids   map[string]int // id → index in batch

	inflight *sent // the batch sent and not yet acknowledged (AsyncAppender)
}

// Run imports the files in order and returns the summary. It stops early
// only on an I/O error or when ctx is done; the summary says how far it
// got.
//
// One goroutine reads, decodes and validates the rows while this one
// batches them and appends: an import's rows are checked while the ledger
// checks and the stream stores the batches before them.
func Run(ctx context.Context, cfg Config, files []string) (Summary, error) {
	if cfg.Appender == nil {
		return Summary{}, errors.New("importer: Appender is required")
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > ledger.MaxBatch {
		cfg.BatchSize = ledger.MaxBatch
	}
	if cfg.Actor.ID == "" {
		cfg.Actor = events.Actor{ID: "ntmledger-import", Role: "system"}
	}
	if cfg.Rejection == nil {
		cfg.Rejection = LedgerRejection
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	im := &importer{cfg: cfg, log: cfg.Logger, start: time.Now(), ids: map[string]int{}}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return im.p, fmt.Errorf("import: %w", err)
		}
		im.p.Size += fi.Size()
	}
	rctx, cancel := context.WithCancel(ctx)
	items := make(chan []item, 4)
	go func() {
		defer close(items)
		_, prep := cfg.Appender.(PreparedAppender)
		rd := &reader{ctx: rctx, out: items, actor: cfg.Actor, log: cfg.Logger, prepare: prep}
		rd.files(files)
	}()
	err := im.take(ctx, items)
	cancel()
	for range items { // the reader has stopped when Run returns
	}
	if err != nil {
		// What was sent before the error is counted, even when the error is
		// that ctx is done: a batch in flight may be stored all the same.
		wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		werr := im.wait(wctx)
		wcancel()
		if werr != nil {
			err = errors.Join(err, werr)
		}
		im.p.Elapsed = time.Since(im.start)
		return im.p, err
	}
	if err := im.wait(ctx); err != nil {
		im.p.Elapsed = time.Since(im.start)
		return im.p, err
	}
	im.p.Elapsed, im.p.Done = time.Since(im.start), true
	if cfg.Progress != nil {
		cfg.Progress(im.p)
	}
	return im.p, nil
}

// take batches and appends what the reader hands over, in file order, and
// appends the last batch when the reader is done.
func (im *importer) take(ctx context.Context, items <-chan []item) error {
	for chunk := range items {
		for _, it := range chunk {
			im.p.File, im.p.Read = it.row.file, it.read
			switch {
			case it.err != nil:
				// The rows read before the error are stored.
				if ferr := im.flush(ctx); ferr != nil {
					return errors.Join(it.err, ferr)
				}
				return it.err
			case it.reason != "":
				im.badReason(it.row.file, it.row.line, it.reason)
			default:
				if err := im.add(ctx, it.row); err != nil {
					return err
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return im.flush(ctx)
}

// LedgerRejection recognizes the ledger's rejections of one event.
func LedgerRejection(err error) (int, string, bool) {
	var fe *events.FieldError
	var ce *ledger.ConflictError
	switch {
	case errors.As(err, &fe):
		return fe.Index, fieldReason(fe), true
	case errors.As(err, &ce):
		return ce.Index, ce.Field + ": " + ce.Reason, true
	}
	return 0, "", false
}

// item is what the reader hands the importer, in file order: a row
// decoded and validated, with its id; or a bad row (row.file and row.line)
// and why; or the error that ends the reading.
type item struct {
	row    row
	reason string
	read   int64 // bytes read of all files when the row was read
	err    error
}

// itemChunk is how many items the reader hands over at a time.
const itemChunk = 256

// reader reads the files, decodes each row into an event, validates it and
// gives it its id (DeriveID) when it has none.
type reader struct {
	ctx     context.Context
	out     chan<- []item
	actor   events.Actor
	log     *slog.Logger
	prepare bool // the ledger prepares the events (ledger.PrepareEvent)
	read    int64
	chunk   []item
}

// files reads the files in order until one fails or ctx is done.
func (rd *reader) files(names []string) {
	for _, name := range names {
		if err := rd.file(name); err != nil {
			rd.emit(item{row: row{file: name}, err: err})
			break
		}
	}
	rd.flush()
}

// emit queues an item; it returns false once ctx is done.
func (rd *reader) emit(it item) bool {
	it.read = rd.read
	rd.chunk = append(rd.chunk, it)
	if len(rd.chunk) < itemChunk {
		return rd.ctx.Err() == nil
	}
	return rd.flush()
}

func (rd *reader) flush() bool {
	if len(rd.chunk) == 0 {
		return rd.ctx.Err() == nil
	}
	select {
	case rd.out <- rd.chunk:
		rd.chunk = make([]item, 0, itemChunk)
		return true
	case <-rd.ctx.Done():
		return false
	}
}

// event validates a decoded row and hands it over.
func (rd *reader) event(in *events.Input, file string, line int) bool {
	r := row{in: in, file: file, line: line}
	if rd.prepare {
		p, err := ledger.PrepareEvent(in)
		if err != nil {
			return rd.emit(item{row: r, reason: fieldReason(err.(*events.FieldError))})
		}
		if p.ID() == "" {
			id, err := deriveID(p.Content(), p.OccurredAt())
			if err == nil {
				p, err = p.WithID(id)
			}
			if err != nil {
				return rd.emit(item{row: r, reason: err.Error()})
			}
		}
		return rd.emit(item{row: row{p: p, file: file, line: line}})
	}
	if _, err := events.Validate(in); err != nil {
		return rd.emit(item{row: r, reason: fieldReason(err.(*events.FieldError))})
	}
	if in.ID == "" {
		id, err := DeriveID(in)
		if err != nil {
			return rd.emit(item{row: r, reason: err.Error()})
		}
		in.ID = id
	}
	return rd.emit(item{row: r})
}

func (rd *reader) bad(file string, line int, reason string) bool {
	return rd.emit(item{row: row{file: file, line: line}, reason: reason})
}

func fieldReason(fe *events.FieldError) string {
	if fe.Field == "" {
		return fe.Reason
	}
	return fe.Field + ": " + fe.Reason
}

// countingReader counts the bytes read for progress.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

func (rd *reader) file(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(countingReader{f, &rd.read}, 1<<20)
	// A byte-order mark (spreadsheets write one) is not part of the data.
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	if isCSV(name, br) {
		return rd.csv(name, br)
	}
	return rd.jsonl(name, br)
}

// isCSV tells the format by the extension, else by the first byte: JSON
// Lines start with '{'.
func isCSV(name string, br *bufio.Reader) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".tsv":
		return true
	case ".jsonl", ".ndjson", ".json":
		return false
	}
	b, _ := br.Peek(512)
	t := bytes.TrimLeft(b, " \t\r\n")
	return len(t) > 0 && t[0] != '{'
}

// jsonl and csv return nil when ctx is done: the importer sees it.
func (rd *reader) jsonl(name string, br *bufio.Reader) error {
	line := 0
	for {
		l, err := br.ReadBytes('\n')
		if len(l) > 0 {
			line++
			t := bytes.TrimSpace(l)
			if len(t) > 0 && t[0] != '#' {
				in, derr := events.DecodeInput(t)
				var ok bool
				if derr != nil {
					ok = rd.bad(name, line, fieldReason(derr.(*events.FieldError)))
				} else {
					ok = rd.event(in, name, line)
				}
				if !ok {
					return nil
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("import: read %s: %w", name, err)
		}
	}
}

func (rd *reader) csv(name string, br *bufio.Reader) error {
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	// Spreadsheets in a Vietnamese locale write ';'; tell by the header.
	if first, _ := br.Peek(4096); bytes.Count(firstLine(first), []byte(";")) > bytes.Count(firstLine(first), []byte(",")) {
		r.Comma = ';'
	} else if strings.EqualFold(filepath.Ext(name), ".tsv") {
		r.Comma = '\t'
	}
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("import: %s: reading the header: %w", name, err)
	}
	h, err := parseHeader(head)
	if err != nil {
		return fmt.Errorf("import: %s: %w", name, err)
	}
	if len(h.Unknown) > 0 {
		rd.log.Info("import: ignoring columns", "file", name, "columns", strings.Join(h.Unknown, ", "))
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := r.FieldPos(0)
		var ok bool
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("import: read %s: %w", name, err)
			}
			ok = rd.bad(name, pe.StartLine, pe.Err.Error())
		} else if blank(rec) {
			continue
		} else if in, rerr := rowInput(h, rec, rd.actor); rerr != nil {
			ok = rd.bad(name, line, rerr.Error())
		} else {
			ok = rd.event(in, name, line)
		}
		if !ok {
			return nil
		}
	}
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func (im *importer) badReason(file string, line int, reason string) {
	im.p.Rows++
	im.p.Bad++
	if im.cfg.Report != nil {
		fmt.Fprintf(im.cfg.Report, "%s:%d: %s\n", file, line, reason)
	}
}

// add queues a validated row, appending the batch when full.
func (im *importer) add(ctx context.Context, r row) error {
	id := r.id()
	if j, dup := im.ids[id]; dup {
		// The same fact twice in a batch is one fact; the same id with other
		// content is a mistake.
		if r.content() != im.batch[j].content() {
			im.badReason(r.file, r.line, fmt.Sprintf("id: %s is also the id of line %d, with other content", id, im.batch[j].line))
			return nil
		}
		im.p.Rows++
		im.p.Duplicate++
		return nil
	}
	im.p.Rows++
	im.ids[id] = len(im.batch)
	im.batch = append(im.batch, r)
	if len(im.batch) >= im.cfg.BatchSize {
		return im.flush(ctx)
	}
	return nil
}

// AsyncAppender is an Appender that can send a request before the one
// before it is stored (ledger.Ledger): the import then checks and sends the
// next batch while the stream stores the last one.
type AsyncAppender interface {
	AppendAsync(ctx context.Context, ins []*events.Input) (*ledger.Pending, error)
}

// PreparedAppender is an AsyncAppender that takes events prepared by
// ledger.PrepareEvent (ledger.Ledger): the import's reading goroutine then
// validates and fingerprints each row once, for the ledger, and the
// appending goroutine only checks them against the units' state.
type PreparedAppender interface {
	AppendPreparedAsync(ctx context.Context, ps []*ledger.Prepared) (*ledger.Pending, error)
}

// sent is a batch sent and not yet acknowledged.
type sent struct {
	p    *ledger.Pending
	rows []row
}

// flush appends the batch; a rejected row is reported and taken out, and
// the rest appended again. With an AsyncAppender the batch is sent and the
// one before it waited for.
func (im *importer) flush(ctx context.Context) error {
	batch := im.batch
	async, _ := im.cfg.Appender.(AsyncAppender)
	prep, _ := im.cfg.Appender.(PreparedAppender)
	for len(batch) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		var ins []*events.Input
		var ps []*ledger.Prepared
		for _, r := range batch {
			if r.p != nil {
				ps = append(ps, r.p)
			} else {
				ins = append(ins, r.in)
			}
		}
		var err error
		if prep != nil || async != nil {
			var p *ledger.Pending
			if prep != nil {
				p, err = prep.AppendPreparedAsync(ctx, ps)
			} else {
				p, err = async.AppendAsync(ctx, ins)
			}
			if err == nil {
				if err := im.wait(ctx); err != nil {
					return err
				}
				im.inflight = &sent{p: p, rows: batch}
				break
			}
		} else {
			var res []ledger.Result
			if res, err = im.cfg.Appender.Append(ctx, ins); err == nil {
				im.count(res)
				break
			}
		}
		i, reason, ok := im.cfg.Rejection(err)
		if !ok || i < 0 || i >= len(batch) {
			return fmt.Errorf("import: appending %s lines %d–%d: %w", batch[0].file, batch[0].line, batch[len(batch)-1].line, err)
		}
		im.p.Rows-- // counted when read; badReason counts it again
		im.badReason(batch[i].file, batch[i].line, reason)
		batch = append(batch[:i:i], batch[i+1:]...)
	}
	// The batch sent may still be in flight: the next one gets new rows.
	im.batch = make([]row, 0, im.cfg.BatchSize)
	clear(im.ids)
	if async == nil && prep == nil {
		im.progress()
	}
	return nil
}

// wait waits for the batch in flight, if any.
func (im *importer) wait(ctx context.Context) error {
	s := im.inflight
	if s == nil {
		return nil
	}
	im.inflight = nil
	res, err := s.p.Wait(ctx)
	if err != nil {
		return fmt.Errorf("import: appending %s lines %d–%d: %w", s.rows[0].file, s.rows[0].line, s.rows[len(s.rows)-1].line, err)
	}
	im.count(res)
	im.progress()
	return nil
}

func (im *importer) count(res []ledger.Result) {
	for _, r := range res {
		if r.Duplicate {
			im.p.Duplicate++
		} else {
			im.p.Stored++
		}
	}
}

func (im *importer) progress() {
	im.p.Elapsed = time.Since(im.start)
	if im.cfg.Progress != nil {
		im.cfg.Progress(im.p)
	}
}

// DeriveID gives an event without an id one derived from its content: a
// ULID whose time is the event's business date and whose entropy is a hash
// of its content (events.ContentHash), so importing the same row again
// yields the same id and stores nothing.
//
// REQUIRES: in has been validated (its data is in canonical form).
func DeriveID(in *events.Input) (string, error) {
	ch, err := events.ContentHash(in.Type, in.Unit, in.OccurredAt, in.Actor, in.Document, in.Data)
	if err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	return deriveID(ch, in.OccurredAt)
}

// deriveID is DeriveID of an event with the content hash ch.
func deriveID(ch, occurredAt string) (string, error) {
	t, err := events.ParseDate(occurredAt)
	if err != nil {
		return "", fmt.Errorf("occurred_at: %w", err)
	}
	sum := sha256.Sum256([]byte("ntmledger-import|" + ch))
	id, err := ulid.New(ulid.Timestamp(t), bytes.NewReader(sum[:10]))
	if err != nil {
		return "", fmt.Errorf("occurred_at: %q: %w", occurredAt, err)
	}
	return id.String(), nil
}
