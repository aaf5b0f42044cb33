package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/importer"
)

func runImport(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "import", `import [flags] FILE...

Imports events from JSON Lines (.jsonl: one event object per line, as for
append) and CSV files (.csv: one row per assessment, request, grant,
revocation, survey or target; Vietnamese headers accepted; layout in
docs/demo.md) in atomic batches. Rows the ledger rejects are written to the
report with their line and reason and do not stop the import. Every event
has an id (its own, or one derived from its content), so running the same
import again — after a crash, say — stores only what is missing.
Exit code 1 if any row was rejected.`)
	var cf clientFlags
	cf.register(fs)
	report := fs.String("report", "import-report.txt", "file for rejected rows (FILE:LINE: reason); written only if a row is rejected")
	batch := fs.Int("batch", 1000, "events per atomic append (at most 1000)")
	actorID := fs.String("actor-id", "ntmledger-import", "actor id of CSV rows without actor columns")
	actorRole := fs.String("actor-role", "system", "actor role of CSV rows without actor columns (commune, district, province, national, auditor, system)")
	actorName := fs.String("actor-name", "", "actor name of CSV rows without actor columns")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("import takes one or more FILEs")
	}
	if *batch < 1 || *batch > 1000 {
		return usageError("--batch %d: give 1 to 1000", *batch)
	}
	for _, f := range fs.Args() {
		if _, err := os.Stat(f); err != nil {
			return usageError("%v", err)
		}
	}
	be, err := cf.open(ctx, env, fs)
	if err != nil {
		return err
	}
	defer be.Close()
	rep := &lazyFile{path: *report}
	defer rep.Close()
	prog := newImportProgress(env.Stderr)
	sum, err := importer.Run(ctx, importer.Config{
		Appender:  be,
		BatchSize: *batch,
		Actor:     events.Actor{ID: *actorID, Role: *actorRole, Name: *actorName},
		Report:    rep,
		Progress:  prog.update,
		Rejection: rejection,
		Logger:    slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, fs.Args())
	prog.finish()
	if cerr := rep.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if cf.json {
		out := map[string]any{"rows": sum.Rows, "stored": sum.Stored, "duplicate": sum.Duplicate, "bad": sum.Bad, "seconds": sum.Elapsed.Seconds(), "done": sum.Done}
		if sum.Bad > 0 {
			out["report"] = *report
		}
		enc := json.NewEncoder(env.Stdout)
		_ = enc.Encode(out)
	} else {
		rate := float64(sum.Rows) / max(sum.Elapsed.Seconds(), 1e-9)
		fmt.Fprintf(env.Stdout, "%d rows in %s (%.0f rows/s): %d stored, %d already stored, %d rejected\n",
			sum.Rows, sum.Elapsed.Round(time.Millisecond), rate, sum.Stored, sum.Duplicate, sum.Bad)
		if sum.Bad > 0 {
			fmt.Fprintf(env.Stdout, "rejected rows, with line and reason: %s\n", *report)
		}
	}
	if err != nil {
		return fmt.Errorf("%w (run the same import again to resume: what is stored is not stored twice)", err)
	}
	if sum.Bad > 0 {
		return fmt.Errorf("%d rows rejected; see %s", sum.Bad, *report)
	}
	return nil
}

var eventPrefix = regexp.MustCompile(`^event \d+: `)

// rejection recognizes the rejection of one event, from the ledger or from
// a server over HTTP.
func rejection(err error) (int, string, bool) {
	if i, reason, ok := importer.LedgerRejection(err); ok {
		return i, reason, true
	}
	var ae *apiError
	if errors.As(err, &ae) && ae.Index != nil && (ae.Status == http.StatusBadRequest || ae.Status == http.StatusConflict || ae.Status == http.StatusUnprocessableEntity) {
		return *ae.Index, eventPrefix.ReplaceAllString(ae.Msg, ""), true
	}
	return 0, "", false
}

// lazyFile creates its file on the first write.
type lazyFile struct {
	path string
	f    *os.File
	err  error
}

func (l *lazyFile) Write(p []byte) (int, error) {
	if l.f == nil && l.err == nil {
		l.f, l.err = os.Create(l.path)
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Write(p)
}

func (l *lazyFile) Close() error {
	if l.f == nil {
		return l.err
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("report %s: %w", l.path, err)
	}
	return nil
}

// importProgress shows an import's progress: a bar over the bytes read on
// a terminal (with counts, rate and ETA), a plain line every few seconds
// otherwise.
type importProgress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	last  time.Time
	start time.Time
}

func newImportProgress(w io.Writer) *importProgress {
	p := &importProgress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowBytes(true), progressbar.OptionSetPredictTime(true), progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *importProgress) update(s importer.Progress) {
	rate := float64(s.Rows) / max(time.Since(p.start).Seconds(), 1e-9)
	counts := fmt.Sprintf("%d rows (%d stored, %d already stored, %d rejected), %.0f rows/s", s.Rows, s.Stored, s.Duplicate, s.Bad, rate)
	if p.bar != nil {
		if p.bar.GetMax64() != s.Size {
			p.bar.ChangeMax64(s.Size)
		}
		p.bar.Describe("importing: " + counts)
		_ = p.bar.Set64(s.Read)
		return
	}
	if time.Since(p.last) < 2*time.Second && !s.Done {
		return
	}
	p.last = time.Now()
	eta := ""
	if s.Read > 0 && s.Size > s.Read {
		el := time.Since(p.start)
		eta = fmt.Sprintf(", ETA %s", time.Duration(float64(el)*float64(s.Size-s.Read)/float64(s.Read)).Round(time.Second))
	}
	pct := 100.0
	if s.Size > 0 {
		pct = 100 * float64(s.Read) / float64(s.Size)
	}
	fmt.Fprintf(p.w, "import: %s; %.0f%% read%s\n", counts, pct, eta)
}

func (p *importProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
