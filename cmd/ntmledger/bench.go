package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/ntmledger/ntmledger/internal/bench"
)

func runBench(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "bench", "bench [flags]\n\nMeasures import, rebuild and queries against the raw engines underneath, in one\nrun, with fsync on every write, and writes results.json and results.md.")
	events := fs.Int("events", 1_000_000, "size of the generated history")
	scale := fs.Bool("scale", false, "the 10M-event history (sets --events 10000000)")
	out := fs.String("out", "bench", "directory for results.json and results.md")
	dir := fs.String("dir", "", "work directory (default: a temporary one, removed after)")
	qt := fs.Duration("query-time", 3*time.Second, "duration of each query load level")
	cpuprof := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	heapprof := fs.String("heapprofile", "", "write a heap profile at the end of the import to this file, and one half way through the rebuild to FILE.rebuild (go tool pprof)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if *scale {
		*events = bench.ScaleEvents
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cmdline := "ntmledger bench " + strings.Join(args, " ")
	rep, err := bench.Run(ctx, bench.Config{Events: *events, Dir: *dir, Out: *out, QueryTime: *qt, Log: log, Command: strings.TrimSpace(cmdline), HeapProfile: *heapprof})
	if err != nil {
		return err
	}
	fmt.Fprint(env.Stdout, bench.Markdown(rep))
	fmt.Fprintf(env.Stdout, "\nwritten to %s/results.json and %s/results.md\n", *out, *out)
	return nil
}
