package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ntmledger/ntmledger/projections"
)

func runStatus(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "status", "status [flags] CODE")
	var cf clientFlags
	cf.register(fs)
	asOf := fs.String("as-of", "", "status on this business date (YYYY-MM-DD)")
	knownAt := fs.String("known-at", "", "status as the ledger knew it at this time (RFC 3339)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("status takes one unit CODE")
	}
	if *asOf != "" {
		if _, err := time.Parse(time.DateOnly, *asOf); err != nil {
			return usageError("--as-of %q is not a date (YYYY-MM-DD)", *asOf)
		}
	}
	var kt time.Time
	if *knownAt != "" {
		var err error
		if kt, err = time.Parse(time.RFC3339Nano, *knownAt); err != nil {
			return usageError("--known-at %q is not an RFC 3339 time", *knownAt)
		}
	}
	be, err := cf.open(ctx, env, fs)
	if err != nil {
		return err
	}
	defer be.Close()
	st, err := be.Status(ctx, fs.Arg(0), *asOf, kt)
	if err != nil {
		return err
	}
	if cf.json {
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(env.Stdout, st)
	return nil
}

func printStatus(w io.Writer, st *projections.Status) {
	tier := st.Tier
	if tier == "" {
		tier = "—"
	}
	fmt.Fprintf(w, "%s  %s  (%s", st.Unit, st.Name, st.Kind)
	if st.Parent != "" {
		fmt.Fprintf(w, " in %s", st.Parent)
	}
	fmt.Fprintf(w, ", province %s)\n", st.Province)
	when := "now"
	if st.AsOf != "" {
		when = "on " + st.AsOf
	}
	if st.KnownAt != "" {
		when += ", as known at " + st.KnownAt
	}
	fmt.Fprintf(w, "tier %s %s · rulebook %s · version %d · as of seq %d\n", tier, when, st.Rulebook, st.Version, st.AsOfSeq)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(st.Recognitions) > 0 {
		fmt.Fprintln(tw, "\nrecognition\tgranted\tdecision\t")
		for _, r := range st.Recognitions {
			num := ""
			if r.Decision != nil {
				num = r.Decision.Number
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", r.Tier, r.Granted, num)
		}
	}
	tiers := make([]string, 0, len(st.Criteria))
	for t := range st.Criteria {
		tiers = append(tiers, t)
	}
	sort.Strings(tiers)
	fmt.Fprintln(tw, "\ncriteria\tmet\t\t")
	for _, t := range tiers {
		cs := st.Criteria[t]
		note := ""
		if cs.Unsourced {
			note = "set not in the rulebook yet"
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\t\n", t, cs.Met, cs.Total, note)
	}
	tw.Flush()
	if st.Satisfaction != nil {
		fmt.Fprintf(w, "\nsatisfaction %.1f%% (%s)\n", st.Satisfaction.Percent, st.Satisfaction.Date)
	}
	if len(st.Eligible) > 0 {
		fmt.Fprintf(w, "eligible for: %s\n", strings.Join(st.Eligible, ", "))
	}
	if st.AtRisk && st.Risk != nil {
		fmt.Fprintf(w, "\nAT RISK of revocation (%s, %s): %s\n  %s\n", st.Risk.Basis, st.Risk.Rule, st.Risk.MessageEN, st.Risk.MessageVI)
	}
	if len(st.DissolvedInto) > 0 {
		fmt.Fprintf(w, "dissolved into %s\n", strings.Join(st.DissolvedInto, ", "))
	}
	if len(st.FormedFrom) > 0 {
		fmt.Fprintf(w, "formed from %s\n", strings.Join(st.FormedFrom, ", "))
	}
}
