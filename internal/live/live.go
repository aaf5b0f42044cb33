// Package live fans view changes out to live clients: Server-Sent Events
// subscribers of the HTTP API and NATS subjects ntm.live.<view>.<province>.<unit>.
//
// # Invariants
//
//   - Publish never blocks. Projectors call it after each committed batch;
//     a slow, stuck or vanished client must not slow a projector, an append
//     or any other client. Each subscriber has a bounded buffer; when it is
//     full the subscriber's pending messages are dropped and replaced by a
//     single Resync message telling it to re-read the views (what it missed
//     is in them: changes are notifications, the views are the data).
//   - The NATS publisher is a subscriber like any other, with its own
//     bounded buffer and its own goroutine: a NATS connection that stalls
//     loses live messages (counted), never blocks the hub.
//   - Messages carry the stream sequence the views held when the change was
//     committed (as_of_seq), so a client can tell what it has seen.
package live

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/ntmledger/ntmledger/internal/projector"
)

// ViewResync is the view name of the message a subscriber gets after it
// fell behind and changes were dropped: re-read what you show.
const ViewResync = projector.ViewResync

// DefaultBuffer is the per-subscriber buffer when Config.Buffer is 0.
const DefaultBuffer = 1024

// Message is one live message: a view change, or a resync.
type Message = projector.Change

// Filter selects the changes a subscriber gets. Empty fields match all.
type Filter struct {
	Unit     string
	Province string
	View     string
}

func (f Filter) match(m *Message) bool {
	return (f.Unit == "" || f.Unit == m.Unit) && (f.Province == "" || f.Province == m.Province) && (f.View == "" || f.View == m.View)
}

// Config configures a Hub.
type Config struct {
	// Buffer is each subscriber's buffer, in messages. Default DefaultBuffer.
	Buffer int
	Logger *slog.Logger
}

// Hub distributes changes to subscribers.
type Hub struct {
	cfg Config
	log *slog.Logger

	mu   sync.Mutex
	subs map[*Subscription]struct{}
	seq  uint64 // last as_of_seq published

	published atomic.Uint64 // messages delivered into buffers
	dropped   atomic.Uint64 // messages dropped from full buffers
	resyncs   atomic.Uint64 // resync messages sent
}

// New returns a hub with no subscribers.
func New(cfg Config) *Hub {
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Hub{cfg: cfg, log: cfg.Logger.With("component", "live"), subs: map[*Subscription]struct{}{}}
}

// Subscription is one subscriber's feed. Read C until Close.
type Subscription struct {
	hub    *Hub
	filter Filter
	ch     chan Message
	closed bool // guarded by hub.mu
}

// C delivers the subscriber's messages in order.
func (s *Subscription) C() <-chan Message { return s.ch }

// Close unsubscribes. C is closed; it is safe to call more than once.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	delete(s.hub.subs, s)
	close(s.ch)
}

// Subscribe adds a subscriber with a bounded buffer.
func (h *Hub) Subscribe(f Filter) *Subscription {
	s := &Subscription{hub: h, filter: f, ch: make(chan Message, h.cfg.Buffer)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Publish hands changes to every matching subscriber without blocking. It
// has the signature of projector.Config.OnChanges.
func (h *Hub) Publish(changes []projector.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range changes {
		m := &changes[i]
		h.seq = max(h.seq, m.Seq)
		for s := range h.subs {
			if m.View != ViewResync && !s.filter.match(m) {
				continue
			}
			select {
			case s.ch <- *m:
				h.published.Add(1)
			default:
				h.overflow(s)
			}
		}
	}
}

// overflow empties a full buffer and leaves one resync message in it. The
// subscriber reads the resync next and re-reads the views; later changes
// queue behind it as usual. REQUIRES: h.mu held (only Publish sends, so the
// buffer cannot refill between the drain and the send).
func (h *Hub) overflow(s *Subscription) {
	n := uint64(0)
drain:
	for {
		select {
		case <-s.ch:
			n++
		default:
			break drain
		}
	}
	h.dropped.Add(n + 1) // the drained ones and the one that did not fit
	h.resyncs.Add(1)
	s.ch <- Message{View: ViewResync, Seq: h.seq, Unit: s.filter.Unit, Province: s.filter.Province}
}

// Subscribers is the number of current subscribers.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Stats are the hub's counters since it started.
type Stats struct {
	Published uint64 // messages put into subscribers' buffers
	Dropped   uint64 // messages dropped because a buffer was full
	Resyncs   uint64 // resync messages sent
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{Published: h.published.Load(), Dropped: h.dropped.Load(), Resyncs: h.resyncs.Load()}
}

// Seq is the as_of_seq of the last change published.
func (h *Hub) Seq() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}
