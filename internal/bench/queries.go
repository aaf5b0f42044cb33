package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ntmledger/ntmledger/internal/httpapi"
)

// queries measures read latency over HTTP at each concurrency level.
func (r *runner) queries(ctx context.Context) error {
	base, client, err := r.serve()
	if err != nil {
		return err
	}
	maxc := slices.Max(r.cfg.Clients)
	unit := func(rng *rand.Rand) string { return r.units[rng.IntN(len(r.units))] }
	endpoints := []struct {
		name string
		path func(*rand.Rand) string
		p99  float64 // target in ms, 0 for none
	}{
		{"GET /v1/units/{code}", func(g *rand.Rand) string { return "/v1/units/" + unit(g) }, 2},
		{"GET /v1/units/{code}/history", func(g *rand.Rand) string { return "/v1/units/" + unit(g) + "/history" }, 0},
		// What an inspector's screen opens on: the newest page of a trail.
		{"GET /v1/units/{code}/history?limit=50&before=max", func(g *rand.Rand) string {
			return "/v1/units/" + unit(g) + "/history?limit=50&before=" + strconv.FormatUint(math.MaxUint64, 10)
		}, 0},
		{"GET /v1/revocations", func(*rand.Rand) string { return "/v1/revocations?limit=50" }, 0},
	}
	for _, ep := range endpoints {
		// An endpoint this build does not serve is reported, not measured.
		resp, err := client.Get(base + ep.path(rand.New(rand.NewPCG(1, 2))))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			r.rep.add(Measure{Name: ep.name, Unit: "ms", Note: "not served by this build"})
			continue
		}
		for _, c := range r.cfg.Clients {
			lat, err := load(ctx, client, base, ep.path, c, 0, r.cfg.QueryTime)
			if err != nil {
				return fmt.Errorf("%s with %d clients: %w", ep.name, c, err)
			}
			p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
			r.rep.add(Measure{Name: fmt.Sprintf("%s p50, %d clients", ep.name, c), Value: p50, Unit: "ms", Note: fmt.Sprintf("%d requests", len(lat))})
			m := Measure{Name: fmt.Sprintf("%s p99, %d clients", ep.name, c), Value: p99, Unit: "ms"}
			if ep.p99 > 0 && c == maxc {
				maxTarget(&m, ep.p99, "ms")
			}
			r.rep.add(m)
			r.log.Info("queries", "endpoint", ep.name, "clients", c, "requests", len(lat), "p50_ms", p50, "p99_ms", p99)
		}
		// Dashboards do not hammer: each of the clients asks at its own pace.
		const perClient = 5 // requests per second
		lat, err := load(ctx, client, base, ep.path, maxc, perClient, r.cfg.QueryTime)
		if err != nil {
			return fmt.Errorf("%s open loop: %w", ep.name, err)
		}
		note := fmt.Sprintf("%d clients × %d req/s each, %d requests", maxc, perClient, len(lat))
		p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
		r.rep.add(Measure{Name: fmt.Sprintf("%s p50, open loop", ep.name), Value: p50, Unit: "ms", Note: note})
		m := Measure{Name: fmt.Sprintf("%s p99, open loop", ep.name), Value: p99, Unit: "ms"}
		if ep.p99 > 0 {
			maxTarget(&m, ep.p99, "ms")
		}
		r.rep.add(m)
		r.log.Info("queries open loop", "endpoint", ep.name, "clients", maxc, "requests", len(lat), "p50_ms", p50, "p99_ms", p99)
	}
	return nil
}

// serve starts the HTTP API of the node on a loopback port (once) and
// returns its base URL and a client sized for the largest load.
func (r *runner) serve() (string, *http.Client, error) {
	if r.base != "" {
		return r.base, r.client, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: httpapi.New(r.node, slog.New(slog.NewTextHandler(io.Discard, nil)))}
	go srv.Serve(ln)
	r.closers = append(r.closers, srv.Close)
	maxc := slices.Max(r.cfg.Clients)
	r.base = "http://" + ln.Addr().String()
	r.client = &http.Client{Transport: &http.Transport{MaxIdleConns: maxc * 2, MaxIdleConnsPerHost: maxc * 2}, Timeout: 30 * time.Second}
	return r.base, r.client, nil
}

// load runs c clients for d and returns every request's latency in ms.
// With rate 0 each client asks again as soon as it has its answer (closed
// loop); otherwise each asks rate times a second on its own schedule (open
// loop), and latency counts from when a request was due, so a slow answer
// delays nothing unmeasured (no coordinated omission).
func load(ctx context.Context, client *http.Client, base string, path func(*rand.Rand) string, c, rate int, d time.Duration) ([]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var all []float64
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		firstErr = cmp.Or(firstErr, err)
		mu.Unlock()
	}
	var interval time.Duration
	if rate > 0 {
		interval = time.Second / time.Duration(rate)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			due := start
			if interval > 0 {
				due = start.Add(time.Duration(rng.Int64N(int64(interval))))
			}
			var lat []float64
			for {
				if w := time.Until(due); w > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(w):
					}
				}
				if ctx.Err() != nil {
					break
				}
				from := due
				if interval == 0 {
					from = time.Now()
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path(rng), nil)
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						fail(err)
					}
					break
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					fail(fmt.Errorf("GET %s: HTTP %d", req.URL.Path, resp.StatusCode))
					break
				}
				lat = append(lat, float64(time.Since(from).Microseconds())/1000)
				due = due.Add(interval)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(all) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return all, nil
}

func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}
