package live

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// SSE serves a hub's changes as Server-Sent Events (GET /v1/live).
//
// The stream opens with an "event: hello" carrying the views' as_of_seq;
// then every change is one default ("message") event whose data is the
// change's JSON: {"view","unit","province","as_of_seq","type"}. A client
// that fell behind gets {"view":"resync",…}: re-read what you show. Query
// parameters unit, province and view filter the changes.
type SSE struct {
	Hub *Hub
	// Applied returns the sequence the views hold, for the hello event.
	Applied func() uint64
	// Heartbeat is how often a comment line keeps idle connections open
	// through proxies. Default 15 s.
	Heartbeat time.Duration
	// WriteTimeout drops a client whose connection accepts nothing for
	// this long. Default 30 s.
	WriteTimeout time.Duration

	clients atomic.Int64
}

// Clients is the number of connected SSE clients.
func (s *SSE) Clients() int64 { return s.clients.Load() }

func (s *SSE) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	heartbeat, timeout := s.Heartbeat, s.WriteTimeout
	if heartbeat <= 0 {
		heartbeat = 15 * time.Second
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	q := r.URL.Query()
	sub := s.Hub.Subscribe(Filter{Unit: q.Get("unit"), Province: q.Get("province"), View: q.Get("view")})
	defer sub.Close()
	s.clients.Add(1)
	defer s.clients.Add(-1)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var applied uint64
	if s.Applied != nil {
		applied = s.Applied()
	}
	write := func(format string, args ...any) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(timeout))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return true
	}
	if !write("retry: 2000\nevent: hello\ndata: {\"as_of_seq\":%d}\n\n", applied) || rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if !write(": keep-alive\n\n") || rc.Flush() != nil {
				return
			}
		case m, ok := <-sub.C():
			if !ok {
				return
			}
			// Write what is queued, then flush once.
			for more := true; more; {
				b, _ := json.Marshal(m)
				if !write("id: %d\ndata: %s\n\n", m.Seq, b) {
					return
				}
				select {
				case m, ok = <-sub.C():
					if !ok {
						return
					}
				default:
					more = false
				}
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}
