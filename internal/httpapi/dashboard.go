package httpapi

import (
	"net/http"
	"sync"

	"github.com/ntmledger/ntmledger/internal/web"
	"github.com/ntmledger/ntmledger/projections"
)

// routeDashboard mounts the dashboard (§6) and the one read it needs that
// the other endpoints do not give: the overview of units by tier per
// province.
func (s *Server) routeDashboard() {
	s.mux.Handle("GET /v1/summary", &overviewHandler{s: s})
	page := web.Handler(web.Options{Logger: s.log})
	s.mux.Handle("GET /{$}", page)
	s.mux.Handle("GET /assets/", page)
}

// overviewHandler serves GET /v1/summary?as_of=. The overview walks every
// unit summary, so the latest answer per as_of is kept until the views
// move on; dashboards re-read it on every live change.
type overviewHandler struct {
	s *Server

	mu    sync.Mutex
	cache map[string]*projections.Overview // by as_of; all at one seq
}

func (h *overviewHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.s.waitMinSeq(r); err != nil {
		h.s.writeError(w, r, err)
		return
	}
	asOf, err := dateParam(r, "as_of")
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	applied := h.s.node.Views.Applied()
	h.mu.Lock()
	o, ok := h.cache[asOf]
	h.mu.Unlock()
	if ok && o.AsOfSeq == applied {
		writeJSON(w, http.StatusOK, o)
		return
	}
	o, err = h.s.node.Views.Overview(r.Context(), asOf)
	if err != nil {
		h.s.writeError(w, r, err)
		return
	}
	h.mu.Lock()
	if h.cache == nil || len(h.cache) >= 16 {
		h.cache = map[string]*projections.Overview{}
	}
	for k, c := range h.cache {
		if c.AsOfSeq < o.AsOfSeq {
			delete(h.cache, k)
		}
	}
	h.cache[asOf] = o
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, o)
}
