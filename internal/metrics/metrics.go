// Package metrics exposes a node's Prometheus metrics on its own registry
// (never the global one): appends, projectors, rebuilds, quarantine and
// live clients. Names follow ntm_<subsystem>_<what>_<unit>.
//
// Projector figures are read when scraped, from the projectors themselves,
// so there is no second bookkeeping to drift: lag is the stream's last
// sequence minus the projector's checkpoint, the applied and quarantined
// counts are the projector's own counters.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/ledger"
)

// Rejection reasons of appends (label "reason").
const (
	ReasonInvalid  = "invalid"   // a field is wrong (400/422)
	ReasonConflict = "conflict"  // expected_version or a reused id (409)
	ReasonTooLarge = "too_large" // more events than one atomic batch (413)
	ReasonError    = "error"     // anything else (5xx)
)

// Reason classifies an append error.
func Reason(err error) string {
	switch {
	case errors.Is(err, events.ErrInvalid):
		return ReasonInvalid
	case errors.Is(err, ledger.ErrConflict):
		return ReasonConflict
	case errors.Is(err, ledger.ErrTooLarge):
		return ReasonTooLarge
	}
	return ReasonError
}

// Projector is what the metrics read of a projector.
type Projector interface {
	Name() string
	Applied() uint64
	Total() uint64
	Quarantined() uint64
	Halted() error
	LastProgress() time.Time
}

// Sources are the node's parts the metrics read when scraped. Every field
// is optional.
type Sources struct {
	// StreamLastSeq returns the stream's last sequence.
	StreamLastSeq func(ctx context.Context) (uint64, error)
	// Projectors returns the live projectors (the views' one changes when a
	// rebuild is swapped in, hence a function).
	Projectors func() []Projector
	// Rebuild reports a rebuild in progress: running, applied, target.
	Rebuild func() (running bool, applied, target uint64)
	// SSEClients is the number of connected SSE clients.
	SSEClients func() int64
	// Live returns the live hub's counters: messages delivered, dropped,
	// resyncs sent, and messages published on NATS.
	Live func() (delivered, dropped, resyncs, natsSent uint64)
}

// Metrics is a node's registry and the instruments code updates directly.
type Metrics struct {
	Registry *prometheus.Registry

	appendRequests *prometheus.CounterVec
	appendedEvents prometheus.Counter
	appendSeconds  prometheus.Histogram
	rejections     *prometheus.CounterVec
}

// New builds the registry with the Go and process collectors, the append
// instruments and a collector reading src at scrape time.
func New(src Sources) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.appendRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ntm_ledger_append_requests_total",
		Help: "Append requests, by result (ok or rejected).",
	}, []string{"result"})
	m.appendedEvents = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ntm_ledger_appended_events_total",
		Help: "Events stored by append requests (idempotent retries included).",
	})
	m.appendSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ntm_ledger_append_duration_seconds",
		Help:    "Time to check, store and index one append request.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	m.rejections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ntm_ledger_rejections_total",
		Help: "Rejected append requests, by reason (invalid, conflict, too_large, error).",
	}, []string{"reason"})
	for _, r := range []string{ReasonInvalid, ReasonConflict, ReasonTooLarge, ReasonError} {
		m.rejections.WithLabelValues(r)
	}
	m.appendRequests.WithLabelValues("ok")
	m.appendRequests.WithLabelValues("rejected")
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.appendRequests, m.appendedEvents, m.appendSeconds, m.rejections,
		&collector{src: src, rates: map[string]sample{}},
	)
	return m
}

// ObserveAppend records one append request: its duration, the events it
// stored and, if it failed, why.
func (m *Metrics) ObserveAppend(d time.Duration, stored int, err error) {
	m.appendSeconds.Observe(d.Seconds())
	if err != nil {
		m.appendRequests.WithLabelValues("rejected").Inc()
		m.rejections.WithLabelValues(Reason(err)).Inc()
		return
	}
	m.appendRequests.WithLabelValues("ok").Inc()
	m.appendedEvents.Add(float64(stored))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

var (
	descLastSeq     = prometheus.NewDesc("ntm_stream_last_seq", "Last sequence of the event stream.", nil, nil)
	descApplied     = prometheus.NewDesc("ntm_projector_applied_seq", "Last stream sequence the projector committed (its checkpoint).", []string{"projector"}, nil)
	descLag         = prometheus.NewDesc("ntm_projector_lag_events", "Stream last sequence minus the projector's checkpoint.", []string{"projector"}, nil)
	descEvents      = prometheus.NewDesc("ntm_projector_applied_events_total", "Events applied since the projector started.", []string{"projector"}, nil)
	descRate        = prometheus.NewDesc("ntm_projector_apply_rate_events_per_second", "Events applied per second since the previous scrape.", []string{"projector"}, nil)
	descQuarantined = prometheus.NewDesc("ntm_projector_quarantined_events_total", "Messages the projector refused because they break their unit's hash chain (forged, altered, missing hash).", []string{"projector"}, nil)
	descHalted      = prometheus.NewDesc("ntm_projector_halted", "1 when the projector halted on an event it could not apply.", []string{"projector"}, nil)
	descProgress    = prometheus.NewDesc("ntm_projector_last_progress_timestamp_seconds", "When the projector last committed a batch (or started).", []string{"projector"}, nil)
	descRebuilding  = prometheus.NewDesc("ntm_views_rebuild_running", "1 while a rebuild (replay) of the views runs.", nil, nil)
	descRebuildAt   = prometheus.NewDesc("ntm_views_rebuild_applied_seq", "Sequence the running (or last) rebuild has reached.", nil, nil)
	descRebuildTo   = prometheus.NewDesc("ntm_views_rebuild_target_seq", "Sequence the running (or last) rebuild goes to.", nil, nil)
	descRebuildPct  = prometheus.NewDesc("ntm_views_rebuild_progress_ratio", "Progress of the running (or last) rebuild, 0 to 1.", nil, nil)
	descSSE         = prometheus.NewDesc("ntm_live_sse_clients", "Connected Server-Sent Events clients.", nil, nil)
	descDelivered   = prometheus.NewDesc("ntm_live_delivered_messages_total", "Live messages put into subscribers' buffers.", nil, nil)
	descDropped     = prometheus.NewDesc("ntm_live_dropped_messages_total", "Live messages dropped because a subscriber's buffer was full.", nil, nil)
	descResyncs     = prometheus.NewDesc("ntm_live_resyncs_total", "Resync messages sent to subscribers that fell behind.", nil, nil)
	descNATS        = prometheus.NewDesc("ntm_live_nats_published_messages_total", "Live messages published on ntm.live.> subjects.", nil, nil)
)

type sample struct {
	at    time.Time
	total uint64
}

// collector reads the sources at scrape time.
type collector struct {
	src   Sources
	mu    sync.Mutex
	rates map[string]sample
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLastSeq, descApplied, descLag, descEvents, descRate, descQuarantined, descHalted, descProgress,
		descRebuilding, descRebuildAt, descRebuildTo, descRebuildPct, descSSE, descDelivered, descDropped, descResyncs, descNATS} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	var last uint64
	haveLast := false
	if c.src.StreamLastSeq != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		seq, err := c.src.StreamLastSeq(ctx)
		cancel()
		if err == nil {
			last, haveLast = seq, true
			ch <- prometheus.MustNewConstMetric(descLastSeq, prometheus.GaugeValue, float64(last))
		}
	}
	if c.src.Projectors != nil {
		now := time.Now()
		c.mu.Lock()
		for _, p := range c.src.Projectors() {
			name, applied, total := p.Name(), p.Applied(), p.Total()
			ch <- prometheus.MustNewConstMetric(descApplied, prometheus.GaugeValue, float64(applied), name)
			if haveLast {
				lag := uint64(0)
				if last > applied {
					lag = last - applied
				}
				ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(lag), name)
			}
			ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(total), name)
			rate := 0.0
			if prev, ok := c.rates[name]; ok && total >= prev.total && now.After(prev.at) {
				rate = float64(total-prev.total) / now.Sub(prev.at).Seconds()
			}
			c.rates[name] = sample{at: now, total: total}
			ch <- prometheus.MustNewConstMetric(descRate, prometheus.GaugeValue, rate, name)
			ch <- prometheus.MustNewConstMetric(descQuarantined, prometheus.CounterValue, float64(p.Quarantined()), name)
			halted := 0.0
			if p.Halted() != nil {
				halted = 1
			}
			ch <- prometheus.MustNewConstMetric(descHalted, prometheus.GaugeValue, halted, name)
			if t := p.LastProgress(); !t.IsZero() {
				ch <- prometheus.MustNewConstMetric(descProgress, prometheus.GaugeValue, float64(t.UnixNano())/1e9, name)
			}
		}
		c.mu.Unlock()
	}
	if c.src.Rebuild != nil {
		running, at, to := c.src.Rebuild()
		r := 0.0
		if running {
			r = 1
		}
		ratio := 0.0
		if to > 0 {
			ratio = min(1, float64(at)/float64(to))
		}
		ch <- prometheus.MustNewConstMetric(descRebuilding, prometheus.GaugeValue, r)
		ch <- prometheus.MustNewConstMetric(descRebuildAt, prometheus.GaugeValue, float64(at))
		ch <- prometheus.MustNewConstMetric(descRebuildTo, prometheus.GaugeValue, float64(to))
		ch <- prometheus.MustNewConstMetric(descRebuildPct, prometheus.GaugeValue, ratio)
	}
	if c.src.SSEClients != nil {
		ch <- prometheus.MustNewConstMetric(descSSE, prometheus.GaugeValue, float64(c.src.SSEClients()))
	}
	if c.src.Live != nil {
		d, dr, rs, ns := c.src.Live()
		ch <- prometheus.MustNewConstMetric(descDelivered, prometheus.CounterValue, float64(d))
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(dr))
		ch <- prometheus.MustNewConstMetric(descResyncs, prometheus.CounterValue, float64(rs))
		ch <- prometheus.MustNewConstMetric(descNATS, prometheus.CounterValue, float64(ns))
	}
}
