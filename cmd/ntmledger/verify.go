package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
)

// errChainBroken makes verify exit 1 when a chain is broken.
var errChainBroken = errors.New("hash chain broken")

func runVerify(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "verify", "verify [flags] [CODE]   (every unit when no CODE)")
	var cf clientFlags
	cf.register(fs)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageError("verify takes at most one unit CODE")
	}
	ab, err := cf.openAudit(ctx, env, fs)
	if err != nil {
		return err
	}
	defer ab.Close()
	rep, err := ab.Verify(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	if cf.json {
		if err := printJSON(env.Stdout, rep); err != nil {
			return err
		}
	} else {
		what := "every unit"
		if rep.Unit != "" {
			what = "unit " + rep.Unit
		}
		fmt.Fprintf(env.Stdout, "verified %s from the stream: %d events of %d units, through seq %d\n", what, rep.Events, rep.Units, rep.ThroughSeq)
		if len(rep.Breaks) > 0 {
			tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "\nunit\tversion\tseq\treason\tbad\tdetail\t")
			for _, b := range rep.Breaks {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%s\t\n", b.Unit, b.Version, b.Seq, b.Reason, b.Bad, b.Detail)
			}
			tw.Flush()
		}
	}
	if !rep.OK {
		return fmt.Errorf("%w: %d units have a broken chain (first break listed per unit)", errChainBroken, len(rep.Breaks))
	}
	if !cf.json {
		fmt.Fprintln(env.Stdout, "every chain is intact")
	}
	return nil
}
