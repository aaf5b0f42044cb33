package main

import (
	"context"
	"fmt"
	"text/tabwriter"
)

func runFindings(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "findings", "findings [flags]")
	var cf clientFlags
	cf.register(fs)
	province := fs.String("province", "", "only this province (code)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("findings takes no arguments")
	}
	ab, err := cf.openAudit(ctx, env, fs)
	if err != nil {
		return err
	}
	defer ab.Close()
	list, err := ab.Findings(ctx, *province)
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(env.Stdout, list)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "seq\tunit\tprovince\tkind\treason\tmessage\t")
	for _, f := range list.Findings {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t\n", f.Seq, f.Unit, f.Province, f.Kind, f.Reason, f.Message)
	}
	tw.Flush()
	fmt.Fprintf(env.Stdout, "%d findings · as of seq %d\n", len(list.Findings), list.AsOfSeq)
	return nil
}
