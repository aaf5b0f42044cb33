package bench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A small run goes through every phase on real engines and writes a report
// in which every figure was measured: the harness that produces
// bench/results.md keeps working.
func TestSmallRunMeasuresEveryPhase(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Config{Events: 4000, Out: out, Clients: []int{1, 4}, QueryTime: 300 * time.Millisecond, Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 4000 {
		t.Errorf("report of %d events, want 4000", rep.Events)
	}
	byName := map[string]Measure{}
	for _, m := range rep.Measures {
		byName[m.Name] = m
		if !(m.Value > 0) {
			t.Errorf("%s: value %v", m.Name, m.Value)
		}
		if m.Baseline != "" && (!(m.BaseVal > 0) || m.Ratio == 0 && !strings.Contains(m.Name, "RSS")) {
			t.Errorf("%s: baseline %q = %v, ratio %v", m.Name, m.Baseline, m.BaseVal, m.Ratio)
		}
	}
	for _, name := range []string{"import", "rebuild (replay)", "verify", "live: append ack → SSE p99",
		"import CPU per event (whole process, until the views hold every event)", "GET /v1/units/{code} p99, 4 clients"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("no measure %q", name)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Measures) != len(rep.Measures) {
		t.Errorf("results.json: %v, %d measures of %d", err, len(back.Measures), len(rep.Measures))
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(md), "\n| "); got != len(rep.Measures)+1 {
		t.Errorf("results.md has %d table rows, want %d", got, len(rep.Measures)+1)
	}
}
