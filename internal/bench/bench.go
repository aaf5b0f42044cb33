// Package bench measures ntmledger against the raw engines underneath it, in
// one run: the machine is shared and noisy, so only ratios measured side by
// side mean something. It backs `ntmledger bench` and `make bench`.
//
// Every phase runs on the embedded default with production durability
// (fsync on every write):
//
//   - import: events/s of the ledger's append path (validation, checks,
//     hash chain, atomic batches of 1000, expected-sequence fencing) against
//     the same stored bodies published to a bare stream in atomic batches of
//     1000 with no validation or hashing;
//   - rebuild: events/s of a views rebuild against an ordered consumer that
//     only reads, and a naive projector (encoding/json decode, two Pebble
//     sets per event, checkpoint per 1000);
//   - queries: p50/p99 of status, history and revocation reads at 1, 50 and
//     200 concurrent clients;
//   - verify: events/s of recomputing every hash chain from the stream,
//     against the raw ordered-consumer read;
//   - live: latency from an append's acknowledgement to the SSE client
//     receiving the change, under a background load of appends and reads;
//   - memory: peak RSS during import and rebuild.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Config configures a run.
type Config struct {
	// Events is the size of the history. Default 1,000,000.
	Events int
	// Dir is the work directory (a temporary one when empty; removed after).
	Dir string
	// Out is where results.json and results.md are written. Default "bench".
	Out string
	// Clients are the concurrency levels of the query phase. Default 1, 50, 200.
	Clients []int
	// QueryTime is how long each query level runs. Default 3 s.
	QueryTime time.Duration
	// Log receives progress lines. Default: discard.
	Log *slog.Logger
	// Command is the command line that reproduces the run, for the report.
	Command string
	// HeapProfile, if set, is where a heap profile is written at the end
	// of the import (go tool pprof).
	HeapProfile string
}

// Measure is one measured figure, with its baseline from the same run.
type Measure struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Baseline string  `json:"baseline,omitempty"`
	BaseVal  float64 `json:"baseline_value,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	Target   string  `json:"target,omitempty"`
	Met      *bool   `json:"met,omitempty"`
	Note     string  `json:"note,omitempty"`
}

// Report is what a run writes.
type Report struct {
	Started  time.Time `json:"started"`
	Duration string    `json:"duration"`
	Command  string    `json:"command"`
	Machine  string    `json:"machine"`
	Events   int       `json:"events"`
	Measures []Measure `json:"measures"`
}

func (r *Report) add(m Measure) {
	if m.BaseVal > 0 {
		m.Ratio = m.Value / m.BaseVal
	}
	r.Measures = append(r.Measures, m)
}

func ratioTarget(m *Measure, min float64) {
	m.Target = fmt.Sprintf("≥ %.2g× %s", min, m.Baseline)
	ok := m.Ratio >= min
	m.Met = &ok
}

func maxTarget(m *Measure, max float64, unit string) {
	m.Target = fmt.Sprintf("≤ %g %s", max, unit)
	ok := m.Value <= max
	m.Met = &ok
}

// ScaleEvents is the size of the scale run (--scale), whose rebuild has
// targets of its own: under 60 s, under 1 GiB.
const ScaleEvents = 10_000_000

// Run runs every phase and writes the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Events <= 0 {
		cfg.Events = 1_000_000
	}
	if cfg.Out == "" {
		cfg.Out = "bench"
	}
	if len(cfg.Clients) == 0 {
		cfg.Clients = []int{1, 50, 200}
	}
	if cfg.QueryTime <= 0 {
		cfg.QueryTime = 3 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Dir == "" {
		d, err := os.MkdirTemp("", "ntmledger-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		cfg.Dir = d
	} else if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: work directory: %w", err)
	}
	rep := &Report{
		Started: time.Now().UTC(), Command: cfg.Command, Events: cfg.Events,
		Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
	}
	r := &runner{cfg: cfg, rep: rep, log: cfg.Log}
	for _, phase := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{"generate", r.generate},
		{"raw import", r.rawImport},
		{"import", r.importLedger},
		{"raw read", r.rawRead},
		{"naive projector", r.naiveProjector},
		{"rebuild", r.rebuild},
		{"verify", r.verify},
		{"queries", r.queries},
		{"live", r.live},
	} {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r.log.Info("bench phase", "phase", phase.name)
		if err := phase.fn(ctx); err != nil {
			r.close()
			return rep, fmt.Errorf("bench %s: %w", phase.name, err)
		}
	}
	r.close()
	rep.Duration = time.Since(rep.Started).Round(time.Second).String()
	return rep, r.write(rep)
}

func (r *runner) write(rep *Report) error {
	if err := os.MkdirAll(r.cfg.Out, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.cfg.Out, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.cfg.Out, "results.md"), []byte(Markdown(rep)), 0o644)
}

// Markdown renders the report as a table.
func Markdown(rep *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# ntmledger benchmarks\n\n%d events · %s · %s · took %s\n\nReproduce: `%s`\n\n", rep.Events, rep.Machine, rep.Started.Format(time.RFC3339), rep.Duration, rep.Command)
	b.WriteString("| measure | value | baseline (same run) | ratio | target | met |\n|---|---:|---|---:|---|:-:|\n")
	for _, m := range rep.Measures {
		base, ratio, met := "", "", ""
		if m.Baseline != "" {
			base = fmt.Sprintf("%s: %s", m.Baseline, num(m.BaseVal, m.Unit))
		}
		if m.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f×", m.Ratio)
		}
		if m.Met != nil {
			met = map[bool]string{true: "yes", false: "**no**"}[*m.Met]
		}
		name := m.Name
		if m.Note != "" {
			name += " (" + m.Note + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", name, num(m.Value, m.Unit), base, ratio, m.Target, met)
	}
	return b.String()
}

func num(v float64, unit string) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 1:
		return fmt.Sprintf("%.2f %s", v, unit)
	}
	return fmt.Sprintf("%.3f %s", v, unit)
}
