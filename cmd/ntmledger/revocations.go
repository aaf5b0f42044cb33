package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ntmledger/ntmledger/projections"
)

func runRevocations(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "revocations", "revocations [flags]")
	var cf clientFlags
	cf.register(fs)
	var f projections.RevocationFilter
	fs.StringVar(&f.Province, "province", "", "only this province (code)")
	fs.StringVar(&f.Unit, "unit", "", "only this unit (code)")
	fs.StringVar(&f.From, "from", "", "first revocation date (YYYY-MM-DD)")
	fs.StringVar(&f.To, "to", "", "last revocation date (YYYY-MM-DD)")
	fs.StringVar(&f.Reason, "reason", "", "only this reason (not_maintained, violation, false_dossier, reorganization, other)")
	limit := fs.Int("limit", 0, "at most this many rows (default all)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("revocations takes no arguments")
	}
	for name, d := range map[string]string{"--from": f.From, "--to": f.To} {
		if d != "" {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return usageError("%s %q is not a date (YYYY-MM-DD)", name, d)
			}
		}
	}
	ab, err := cf.openAudit(ctx, env, fs)
	if err != nil {
		return err
	}
	defer ab.Close()
	// Follow the pages until the limit or the end of the timeline.
	all := &projections.RevocationList{Revocations: []projections.RevocationEntry{}}
	for {
		f.Limit = projections.MaxLimit
		if *limit > 0 {
			f.Limit = min(projections.MaxLimit, *limit-len(all.Revocations))
		}
		page, err := ab.Revocations(ctx, f)
		if err != nil {
			return err
		}
		all.Revocations = append(all.Revocations, page.Revocations...)
		all.AsOfSeq = page.AsOfSeq
		if page.Next == "" || *limit > 0 && len(all.Revocations) >= *limit {
			break
		}
		f.After = page.Next
	}
	if cf.json {
		return printJSON(env.Stdout, all)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "revoked\tunit\tname\tprovince\ttier\tdecision\treason\tbasis\tended\tgranted\theld\t")
	for _, r := range all.Revocations {
		num := ""
		if r.Decision != nil {
			num = r.Decision.Number
		}
		ended, granted, held := "", "", ""
		if r.Ended != nil {
			granted, held = r.Ended.GrantedOn, r.Ended.Held
			if r.Ended.Decision != nil {
				ended = r.Ended.Decision.Number
			}
		}
		tier := r.Tier
		for _, a := range r.AlsoEnded {
			tier += "+" + a.Tier
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.RevokedOn, r.Unit, r.Name, r.Province, tier, num, r.Reason, r.Basis, ended, granted, held)
	}
	tw.Flush()
	fmt.Fprintf(env.Stdout, "%d revocations · as of seq %d\n", len(all.Revocations), all.AsOfSeq)
	return nil
}
