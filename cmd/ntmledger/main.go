// Command ntmledger is the event-sourced progress ledger of Vietnam's
// National Target Programme on New Rural Development.
//
// main is wiring only: it builds a context cancelled by SIGINT/SIGTERM, runs
// the subcommand and maps its error to an exit code (0 ok, 1 failure, 2 bad
// usage).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// errUsage marks a bad invocation (exit code 2).
var errUsage = errors.New("usage")

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// Env is what a subcommand may touch of the process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

func commands() []command {
	return []command{
		{"serve", "run a node: embedded NATS, projectors and the HTTP API", runServe},
		{"demo", "serve with the demo data set loaded (what `make demo` runs)", runDemo},
		{"append", "append events (JSON Lines) atomically, printing their ids", runAppend},
		{"import", "import JSON Lines or CSV files in atomic batches; resumable; bad rows to a report", runImport},
		{"gen", "write a deterministic synthetic national history as JSON Lines", runGen},
		{"status", "show a unit's status (current, --as-of a date, --known-at a time)", runStatus},
		{"history", "show a unit's audit trail", runHistory},
		{"replay", "rebuild every view from the stream and swap it in", runReplay},
		{"revocations", "show the revocation timeline, newest first", runRevocations},
		{"progress", "show a province's or district's progress against its targets", runProgress},
		{"findings", "show audit findings (quarantined messages, rulebook findings)", runFindings},
		{"verify", "recompute hash chains from the stream; exit 1 on a break", runVerify},
		{"export", "export status, a history or the revocations as CSV or XLSX", runExport},
		{"bench", "measure the ledger against the raw engines underneath (writes bench/results.*)", runBench},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	err := Run(ctx, env, os.Args[1:])
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "ntmledger:", strings.TrimPrefix(err.Error(), "usage: "))
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "ntmledger:", err)
		os.Exit(1)
	}
}

// Run runs the subcommand named by args[0].
func Run(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.Stderr)
		if len(args) == 0 {
			return usageError("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	printUsage(env.Stderr)
	return usageError("unknown command %q", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "ntmledger — the New Rural Development progress ledger\n\nUsage: ntmledger <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command has --help. Flags can also be set as NTM_<FLAG> environment variables (e.g. NTM_HTTP=:9090).")
}

// newFlags makes a flag set for a subcommand whose --help prints a usage
// line and the flags.
func newFlags(env *Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: ntmledger %s\n\nFlags (also NTM_<FLAG> in the environment):\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, then fills every flag not given on the command line
// from NTM_<FLAG> (upper case, '-' as '_').
func parse(fs *flag.FlagSet, env *Env, args []string) error {
	// Flags may come before or after the arguments (status 13306 --json):
	// parse up to each argument, keep it, and go on; "--" ends the flags.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %s", errUsage, err)
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); len(rest) == 0 || consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil {
		return fmt.Errorf("%w: %s", errUsage, err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, name := range names {
		if set[name] {
			continue
		}
		key := "NTM_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v := env.Getenv(key); v != "" {
			if err := fs.Set(name, v); err != nil {
				return usageError("%s=%q: %v", key, v, err)
			}
		}
	}
	return nil
}
