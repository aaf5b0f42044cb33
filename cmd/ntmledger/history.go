package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"text/tabwriter"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/projections"
)

func runHistory(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "history", "history [flags] CODE")
	var cf clientFlags
	cf.register(fs)
	var f projections.HistoryFilter
	fs.StringVar(&f.From, "from", "", "first business date (YYYY-MM-DD)")
	fs.StringVar(&f.To, "to", "", "last business date (YYYY-MM-DD)")
	typ := fs.String("type", "", "only events of this type")
	fs.BoolVar(&f.Lineage, "lineage", false, "include the trails of the units it was formed from")
	fs.IntVar(&f.Limit, "limit", 0, "at most this many events (a page; 0: all)")
	fs.Uint64Var(&f.After, "after", 0, "only versions after this one (the next page forward)")
	last := fs.Int("last", 0, "only the newest N events (the first page back)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if *last > 0 {
		f.Limit, f.Before = *last, math.MaxUint64
	}
	if fs.NArg() != 1 {
		return usageError("history takes one unit CODE")
	}
	if *typ != "" {
		if !events.Type(*typ).Known() {
			return usageError("--type %q is not an event type", *typ)
		}
		f.Type = events.Type(*typ)
	}
	be, err := cf.open(ctx, env, fs)
	if err != nil {
		return err
	}
	defer be.Close()
	h, err := be.History(ctx, fs.Arg(0), f)
	if err != nil {
		return err
	}
	if cf.json {
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(h)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "seq\tunit\tv\toccurred\ttype\tdocument\tdata\t")
	for _, e := range h.Events {
		doc := ""
		if e.Document != nil {
			doc = e.Document.Number
		}
		data := string(e.Data)
		if len(data) > 70 {
			data = data[:67] + "..."
		}
		if e.Retracted {
			data = "[retracted by " + e.RetractedBy + "] " + data
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t\n", e.Seq, e.Unit, e.Version, e.OccurredAt, e.Type, doc, data)
	}
	tw.Flush()
	fmt.Fprintf(env.Stdout, "%d events · as of seq %d\n", len(h.Events), h.AsOfSeq)
	if h.More && len(h.Events) > 0 {
		if f.Before > 0 && f.After == 0 {
			fmt.Fprintf(env.Stdout, "older events precede version %d\n", h.Events[0].Version)
		} else {
			fmt.Fprintf(env.Stdout, "more follow: --after %d\n", h.Events[len(h.Events)-1].Version)
		}
	}
	return nil
}
