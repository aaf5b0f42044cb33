package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ntmledger/ntmledger/internal/gen"
)

func runGen(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "gen", `gen [flags]

Writes a deterministic synthetic national history as JSON Lines (same seed,
same bytes): the real units, every rural commune's yearly assessment rounds
by stage, recognitions in the year-end rounds, revocations under Decision
18/2022, the July 2025 reform and the first years of the 2026-2030 rules.
The default (all 7,692 xã, 2016-2026) is about 9 million events (2 GB);
--communes scales it down. Import it with: ntmledger import FILE`)
	seed := fs.Uint64("seed", 1, "random seed")
	years := fs.String("years", "2016-2026", "first and last year, e.g. 2016-2026")
	communes := fs.Int("communes", 0, "number of rural communes, chosen evenly across the country (0: all)")
	out := fs.String("out", "-", "output file (- for standard output)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("gen takes no arguments (got %q)", fs.Args())
	}
	from, to, err := parseYears(*years)
	if err != nil {
		return err
	}
	if *communes < 0 {
		return usageError("--communes %d: give 0 (all) or more", *communes)
	}
	var w io.Writer = env.Stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	st, err := gen.Write(ctx, w, gen.Config{Seed: *seed, From: from, To: to, Communes: *communes})
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
	}
	b, _ := json.Marshal(st)
	fmt.Fprintf(env.Stderr, "gen: %s\n", b)
	return nil
}

// parseYears reads "2016-2026" or "2020".
func parseYears(s string) (int, int, error) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		b = a
	}
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || from > to {
		return 0, 0, usageError("--years %q: give FIRST-LAST, e.g. 2016-2026", s)
	}
	return from, to, nil
}
