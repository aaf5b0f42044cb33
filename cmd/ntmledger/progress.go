package main

import (
	"context"
	"fmt"
	"text/tabwriter"
)

func runProgress(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "progress", "progress [flags] CODE   (a province, a district, or VN)")
	var cf clientFlags
	cf.register(fs)
	year := fs.Int("year", 0, "only this year")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("progress takes one unit CODE")
	}
	if *year != 0 && (*year < 1900 || *year > 2200) {
		return usageError("--year %d is not a year", *year)
	}
	ab, err := cf.openAudit(ctx, env, fs)
	if err != nil {
		return err
	}
	defer ab.Close()
	rep, err := ab.Progress(ctx, fs.Arg(0), *year)
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(env.Stdout, rep)
	}
	fmt.Fprintf(env.Stdout, "%s  %s  (%s) — progress against targets\n", rep.Unit, rep.Name, rep.Kind)
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "year\tlevel\ttier\ttarget\tachieved\t(+granted −revoked)\tcumulative\tof\t%\ton track\t")
	for _, y := range rep.Years {
		for _, r := range y.Tiers {
			target := "—"
			if t := r.Target; t != nil {
				switch {
				case t.Count != nil && t.CumulativePercent != nil:
					target = fmt.Sprintf("%d, %g%%", *t.Count, *t.CumulativePercent)
				case t.Count != nil:
					target = fmt.Sprint(*t.Count)
				case t.CumulativePercent != nil:
					target = fmt.Sprintf("%g%%", *t.CumulativePercent)
				}
			}
			onTrack := "—"
			if r.OnTrack != nil {
				onTrack = map[bool]string{true: "yes", false: "NO"}[*r.OnTrack]
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t(+%d −%d)\t%d\t%d\t%.1f\t%s\t\n", y.Year, r.Level, r.Tier, target, r.Achieved, r.Granted, r.Revoked, r.Cumulative, r.Units, r.Percent, onTrack)
		}
	}
	tw.Flush()
	fmt.Fprintf(env.Stdout, "as of seq %d\n", rep.AsOfSeq)
	return nil
}
