package main

import (
	"context"
	"fmt"

	"github.com/ntmledger/ntmledger/internal/demo"
	"github.com/ntmledger/ntmledger/internal/node"
	"github.com/ntmledger/ntmledger/ledger"
)

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "demo", "demo [flags]\n\nStarts a node like serve, loads the demo data set (idempotently: running it\nagain stores nothing twice) and serves the API and dashboard.")
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
	stored, err := loadDemo(ctx, n)
	if err != nil {
		return fmt.Errorf("load demo data: %w", err)
	}
	log.Info("demo data loaded", "new_events", stored)
	return serveHTTP(ctx, env, n, *httpAddr, log, func(url string) {
		fmt.Fprintf(env.Stdout, "\nntmledger demo is ready: %s\n  try: curl %s/v1/units/13507\n       go run ./cmd/ntmledger status 13306\nCtrl-C stops it; data stays in %s.\n\n", url, url, n.Config.DataDir)
	})
}

// loadDemo appends the demo set in atomic batches and returns how many
// events were new.
func loadDemo(ctx context.Context, n *node.Node) (int, error) {
	ins := demo.Sample()
	stored := 0
	for i := 0; i < len(ins); i += ledger.MaxBatch {
		res, err := n.Ledger.Append(ctx, ins[i:min(i+ledger.MaxBatch, len(ins))])
		if err != nil {
			return stored, err
		}
		for _, r := range res {
			if !r.Duplicate {
				stored++
			}
		}
	}
	return stored, nil
}
