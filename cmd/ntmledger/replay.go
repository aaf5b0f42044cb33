package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ntmledger/ntmledger/projections"
)

func runReplay(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "replay", "replay [flags]\n\nRebuilds every view from stream sequence 1 into a fresh directory and swaps it\nin; reads keep being served from the old views meanwhile.")
	var cf clientFlags
	cf.register(fs)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	be, err := cf.open(ctx, env, fs)
	if err != nil {
		return err
	}
	defer be.Close()
	rep := newReporter(env.Stderr, "rebuilding views")
	start := time.Now()
	var last projections.Progress
	err = be.Replay(ctx, func(p projections.Progress) {
		last = p
		rep.update(p.Applied, p.Target)
	})
	rep.finish()
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(env.Stdout, "views rebuilt: %d events in %s (%.0f events/s)\n", last.Applied, el.Round(time.Millisecond), float64(last.Applied)/el.Seconds())
	return nil
}

// reporter shows progress: a bar on a terminal, a plain line every few
// seconds otherwise (logs, CI).
type reporter struct {
	w     io.Writer
	what  string
	bar   *progressbar.ProgressBar
	last  time.Time
	start time.Time
}

func newReporter(w io.Writer, what string) *reporter {
	r := &reporter{w: w, what: what, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return r
}

func (r *reporter) update(done, total uint64) {
	if r.bar != nil {
		if r.bar.GetMax64() != int64(total) {
			r.bar.ChangeMax64(int64(total))
		}
		_ = r.bar.Set64(int64(done))
		return
	}
	if time.Since(r.last) < 2*time.Second && done < total {
		return
	}
	r.last = time.Now()
	rate := float64(done) / time.Since(r.start).Seconds()
	eta := ""
	if rate > 0 && total > done {
		eta = fmt.Sprintf(", ETA %s", time.Duration(float64(total-done)/rate*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintf(r.w, "%s: %d/%d events (%.0f/s%s)\n", r.what, done, total, rate, eta)
}

func (r *reporter) finish() {
	if r.bar != nil {
		_ = r.bar.Finish()
	}
}
