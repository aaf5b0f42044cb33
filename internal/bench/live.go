package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ntmledger/ntmledger/events"
)

// verify measures `verify` over the whole ledger against the raw
// ordered-consumer read rate of the same run.
func (r *runner) verify(ctx context.Context) error {
	base, err := r.readRate(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	rep, err := r.node.Verify(ctx, "", nil)
	if err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("verify found %d broken chains in a ledger written by the ledger", len(rep.Breaks))
	}
	rate := float64(rep.Events) / time.Since(start).Seconds()
	m := Measure{Name: "verify", Value: rate, Unit: "events/s", Baseline: "raw ordered-consumer read, just before", BaseVal: base}
	m.Ratio = m.Value / m.BaseVal
	ratioTarget(&m, 0.7)
	r.rep.add(m)
	r.log.Info("verify", "events", rep.Events, "units", rep.Units, "rate", int(rate))
	return nil
}

// liveTemplates returns criterion assessments of the history, one per unit
// (up to n), to re-append with new ids: valid events for known units.
func (r *runner) liveTemplates(n int) ([]*events.Input, error) {
	f, err := os.Open(r.eventsFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seen := map[string]bool{}
	var out []*events.Input
	for sc.Scan() && len(out) < n {
		if !strings.Contains(sc.Text(), `"criterion.assessed"`) {
			continue
		}
		in, err := events.DecodeInput(sc.Bytes())
		if err != nil {
			return nil, err
		}
		if in.Type != events.CriterionAssessed || seen[in.Unit] {
			continue
		}
		seen[in.Unit] = true
		in.ID, in.ExpectedVersion = "", nil
		out = append(out, in)
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("the history holds %d assessed units; the live phase needs 2", len(out))
	}
	return out, sc.Err()
}

// live measures the latency from an append's acknowledgement to the SSE
// client receiving the change, under a background load of batched appends
// to other units and status reads.
func (r *runner) live(ctx context.Context) error {
	base, client, err := r.serve()
	if err != nil {
		return err
	}
	tpl, err := r.liveTemplates(500)
	if err != nil {
		return err
	}
	probe, others := tpl[0], tpl[1:]

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/live?unit="+probe.Unit, nil)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return fmt.Errorf("live: open SSE: %w", err)
	}
	defer resp.Body.Close()
	got := make(chan uint64, 1024)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var m struct {
				Unit string `json:"unit"`
				Seq  uint64 `json:"as_of_seq"`
			}
			if json.Unmarshal([]byte(line), &m) == nil && m.Unit == probe.Unit {
				got <- m.Seq
			}
		}
		close(got)
	}()

	// Background: batches of 100 appends to other units, and status reads.
	var wg sync.WaitGroup
	var bgEvents int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			batch := make([]*events.Input, 0, 100)
			for j := range 100 {
				c := *others[(i*100+j)%len(others)]
				batch = append(batch, &c)
			}
			if _, err := r.node.Ledger.Append(ctx, batch); err != nil {
				if ctx.Err() == nil {
					r.log.Warn("live background append", "err", err)
				}
				return
			}
			bgEvents += len(batch)
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		load(ctx, client, base, func(g *rand.Rand) string { return "/v1/units/" + others[g.IntN(len(others))].Unit }, 20, 0, time.Hour)
	}()

	const samples = 300
	lat := make([]float64, 0, samples)
	start := time.Now()
	for i := 0; i < samples; i++ {
		c := *probe
		res, err := r.node.Ledger.Append(ctx, []*events.Input{&c})
		if err != nil {
			return fmt.Errorf("live: probe append: %w", err)
		}
		acked := time.Now()
		seq := res[0].Seq
	wait:
		for {
			select {
			case s, ok := <-got:
				if !ok {
					return fmt.Errorf("live: SSE stream ended")
				}
				if s >= seq {
					lat = append(lat, float64(time.Since(acked).Microseconds())/1000)
					break wait
				}
			case <-time.After(30 * time.Second):
				return fmt.Errorf("live: no SSE message for seq %d within 30s", seq)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	el := time.Since(start)
	cancel()
	wg.Wait()
	bg := fmt.Sprintf("%d samples; background %.0f appended events/s in batches of 100 and 20 status readers", len(lat), float64(bgEvents)/el.Seconds())
	p50, p99 := percentile(lat, 0.5), percentile(lat, 0.99)
	r.rep.add(Measure{Name: "live: append ack → SSE p50", Value: p50, Unit: "ms", Note: bg})
	m := Measure{Name: "live: append ack → SSE p99", Value: p99, Unit: "ms"}
	maxTarget(&m, 100, "ms")
	r.rep.add(m)
	r.log.Info("live", "p50_ms", p50, "p99_ms", p99, "background", bg)
	return nil
}
