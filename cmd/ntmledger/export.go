package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ntmledger/ntmledger/internal/export"
	"github.com/ntmledger/ntmledger/projections"
)

func runExport(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "export", "export [flags] status|history CODE|revocations")
	var cf clientFlags
	cf.register(fs)
	format := fs.String("format", "", "csv or xlsx (default: from --output's extension, else csv)")
	output := fs.String("output", "", "file to write; - for standard output (default ntm-<table>.<format>)")
	fs.StringVar(output, "o", "", "short for --output")
	province := fs.String("province", "", "status and revocations: only this province")
	from := fs.String("from", "", "history and revocations: first business date (YYYY-MM-DD)")
	to := fs.String("to", "", "history and revocations: last business date (YYYY-MM-DD)")
	reason := fs.String("reason", "", "revocations: only this reason")
	lineage := fs.Bool("lineage", false, "history: include the trails of the units it was formed from")
	// Flags may come before or after the table and code.
	var pos []string
	for rest := args; ; {
		if err := parse(fs, env, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	req := exportRequest{Province: *province}
	if len(pos) > 0 {
		req.Table = pos[0]
	}
	switch {
	case req.Table == export.TableHistory && len(pos) == 2:
		req.Unit = pos[1]
		req.History = projections.HistoryFilter{From: *from, To: *to, Lineage: *lineage}
	case (req.Table == export.TableStatus || req.Table == export.TableRevocations) && len(pos) == 1:
		req.Revs = projections.RevocationFilter{Province: *province, From: *from, To: *to, Reason: *reason}
	default:
		return usageError("export status | export history CODE | export revocations")
	}
	for name, d := range map[string]string{"--from": *from, "--to": *to} {
		if d != "" {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return usageError("%s %q is not a date (YYYY-MM-DD)", name, d)
			}
		}
	}
	req.Format = strings.ToLower(*format)
	if req.Format == "" {
		req.Format = export.CSV
		if strings.EqualFold(filepath.Ext(*output), ".xlsx") {
			req.Format = export.XLSX
		}
	}
	if req.Format != export.CSV && req.Format != export.XLSX {
		return usageError("--format %q: csv or xlsx", *format)
	}
	if *output == "" {
		name := req.Table
		if req.Unit != "" {
			name += "-" + req.Unit
		} else if req.Province != "" {
			name += "-" + req.Province
		}
		*output = fmt.Sprintf("ntm-%s.%s", name, req.Format)
	}
	ab, err := cf.openAudit(ctx, env, fs)
	if err != nil {
		return err
	}
	defer ab.Close()
	if *output == "-" {
		w := bufio.NewWriter(env.Stdout)
		if err := ab.Export(ctx, w, req); err != nil {
			return err
		}
		return w.Flush()
	}
	// Write beside the target and rename, so a failed export leaves no
	// half-written file an auditor might open.
	tmp := *output + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	w := bufio.NewWriter(f)
	err = ab.Export(ctx, w, req)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, *output); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(env.Stderr, "wrote %s\n", *output)
	return nil
}
