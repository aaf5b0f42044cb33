package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ntmledger/ntmledger/internal/demo"
	"github.com/ntmledger/ntmledger/internal/node"
)

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "demo", "demo [flags]\n\nStarts a node like serve, loads the demo data set — the real administrative\nunits, the 2025 reform and the facts of the seed articles (docs/demo.md) —\nidempotently (running it again stores nothing twice) and serves the API and\ndashboard.")
	var nf nodeFlags
	nf.register(fs)
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP listen address")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	log, err := nf.logger(env)
	if err != nil {
		return err
	}
	n, err := node.Start(ctx, nf.config(log))
	if err != nil {
		return err
	}
	defer n.Close()
	start := time.Now()
	st, err := loadDemo(ctx, env, n)
	if err != nil {
		return fmt.Errorf("load demo data: %w", err)
	}
	log.Info("demo data loaded", "events", st.Events, "new_events", st.Stored, "took", time.Since(start).Round(time.Millisecond))
	return serveHTTP(ctx, env, n, *httpAddr, log, func(url string) {
		fmt.Fprintf(env.Stdout, "\nntmledger demo is ready: %s\n  try: curl %s/v1/units/35          (Hà Nam: completed on 2020-12-31)\n       curl %s/v1/units/13507       (Xã Đinh Xá, at risk under Decision 18/2022)\n       curl %s/v1/units/13330@2025  (Phường Duy Tân, formed on 2025-07-01)\n       go run ./cmd/ntmledger status 13306\nCtrl-C stops it; data stays in %s.\n\n", url, url, url, url, n.Config.DataDir)
	})
}

// loadDemo appends the demo set in atomic batches, showing progress.
func loadDemo(ctx context.Context, env *Env, n *node.Node) (demo.Stats, error) {
	rep := newReporter(env.Stderr, "loading demo data")
	st, err := demo.Load(ctx, n.Ledger, func(done, total int) { rep.update(uint64(done), uint64(total)) })
	rep.finish()
	return st, err
}
