package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/ntmledger/ntmledger/events"
)

func runAppend(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "append", "append [flags] FILE|-\n\nAppends the events of a JSON Lines file (or standard input) as one atomic\nrequest (at most 1000 events) and prints each event's id, seq, unit and version.")
	var cf clientFlags
	cf.register(fs)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("append takes one FILE (or - for standard input)")
	}
	var r io.Reader = env.Stdin
	name := fs.Arg(0)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	} else {
		name = "standard input"
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	ins, err := events.DecodeLines(b)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	be, err := cf.open(ctx, env, fs)
	if err != nil {
		return err
	}
	defer be.Close()
	res, err := be.Append(ctx, ins)
	if err != nil {
		return err
	}
	if cf.json {
		enc := json.NewEncoder(env.Stdout)
		return enc.Encode(map[string]any{"events": res})
	}
	for _, r := range res {
		dup := ""
		if r.Duplicate {
			dup = "  (already stored)"
		}
		fmt.Fprintf(env.Stdout, "%s  seq %d  %s v%d%s\n", r.ID, r.Seq, r.Unit, r.Version, dup)
	}
	return nil
}
