// Package httpapi serves the contract's HTTP API (§3, §4) over a node.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/node"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

// MaxBody bounds a request body: 1000 events of generous size.
const MaxBody = 32 << 20

// Server is the HTTP API of one node.
type Server struct {
	node *node.Node
	log  *slog.Logger
	mux  *http.ServeMux

	statuses *statusCache // encoded current statuses, by unit
}

// MaxHistoryPage is the largest limit of a history page.
const MaxHistoryPage = 10_000

// StatusCacheSize bounds the current-status responses kept encoded: every
// unit of the country fits.
const StatusCacheSize = 1 << 15

// New builds the API handler.
func New(n *node.Node, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{node: n, log: log, mux: http.NewServeMux(), statuses: newStatusCache(StatusCacheSize)}
	s.mux.HandleFunc("POST /v1/events", s.postEvents)
	s.mux.HandleFunc("GET /v1/units/{code}", s.getUnit)
	s.mux.HandleFunc("GET /v1/units/{code}/history", s.getHistory)
	s.mux.HandleFunc("POST /v1/replay", s.postReplay)
	s.mux.HandleFunc("GET /healthz", s.getHealth)
	s.routeReads()
	s.routeDashboard()
	return s
}

// Handle registers another handler on the API's mux.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// apiError is the error body of every 4xx/5xx response.
type apiError struct {
	Error string `json:"error"`
	Index *int   `json:"index,omitempty"`
	Field string `json:"field,omitempty"`
}

// writeJSON answers with v as JSON, with its length.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := encodeJSON(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
		b = append(b, '\n')
	}
	writeBody(w, code, b)
}

// encodeJSON is a response body: v as JSON, unescaped HTML, a final newline.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return buf.Bytes(), nil
}

func writeBody(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *events.FieldError
	var ce *ledger.ConflictError
	switch {
	case errors.As(err, &fe):
		code := http.StatusUnprocessableEntity
		if len(fe.Reason) >= 9 && fe.Reason[:9] == "malformed" || fe.Field == "" {
			code = http.StatusBadRequest
		}
		i := fe.Index
		writeJSON(w, code, apiError{Error: fe.Error(), Index: &i, Field: fe.Field})
	case errors.As(err, &ce):
		i := ce.Index
		writeJSON(w, http.StatusConflict, apiError{Error: ce.Error(), Index: &i, Field: ce.Field})
	case errors.Is(err, ledger.ErrTooLarge):
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: err.Error()})
	case errors.Is(err, projections.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: err.Error()})
	case errors.Is(err, errBadQuery):
		var qe *queryError
		errors.As(err, &qe)
		ae := apiError{Error: err.Error()}
		if qe != nil {
			ae.Field = qe.param
		}
		writeJSON(w, http.StatusBadRequest, ae)
	case errors.Is(err, context.DeadlineExceeded):
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: err.Error()})
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
	}
}

var errBadQuery = errors.New("bad query")

// queryError is a query parameter that is not what it should be.
type queryError struct {
	param, reason string
}

func (e *queryError) Error() string   { return fmt.Sprintf("%v: %s: %s", errBadQuery, e.param, e.reason) }
func (e *queryError) Is(t error) bool { return t == errBadQuery }

func badQuery(param, format string, args ...any) error {
	return &queryError{param: param, reason: fmt.Sprintf(format, args...)}
}

func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("request body over %d bytes", MaxBody)})
			return
		}
		s.writeError(w, r, fmt.Errorf("read body: %w", err))
		return
	}
	var ins []*events.Input
	if ct := r.Header.Get("Content-Type"); ct == "application/x-ndjson" || ct == "application/jsonl" {
		ins, err = events.DecodeLines(body)
	} else {
		ins, err = events.DecodeRequest(body)
	}
	if err != nil {
		s.node.Metrics.ObserveAppend(0, 0, err)
		s.writeError(w, r, err)
		return
	}
	start := time.Now()
	res, err := s.node.Ledger.Append(r.Context(), ins)
	s.node.Metrics.ObserveAppend(time.Since(start), len(res), err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"events": res})
}

// waitMinSeq honours ?min_seq=N: the read waits (up to 10 s) until the views
// hold seq N, so a client reads its own writes.
func (s *Server) waitMinSeq(r *http.Request) error {
	v := r.URL.Query().Get("min_seq")
	if v == "" {
		return nil
	}
	seq, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return badQuery("min_seq", "%q is not a sequence number", v)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	return s.node.Views.WaitApplied(ctx, seq)
}

func dateParam(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", nil
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return "", badQuery(name, "%q is not a date (YYYY-MM-DD)", v)
	}
	return v, nil
}

func (s *Server) getUnit(w http.ResponseWriter, r *http.Request) {
	if err := s.waitMinSeq(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	asOf, err := dateParam(r, "as_of")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var knownAt time.Time
	if v := r.URL.Query().Get("known_at"); v != "" {
		if knownAt, err = time.Parse(time.RFC3339Nano, v); err != nil {
			s.writeError(w, r, badQuery("known_at", "%q is not an RFC 3339 time", v))
			return
		}
	}
	code := r.PathValue("code")
	current := asOf == "" && knownAt.IsZero()
	if current {
		if body, ok := s.statuses.get(code, s.node.Views.Applied()); ok {
			writeBody(w, http.StatusOK, body)
			return
		}
	}
	st, err := s.node.Views.Status(r.Context(), code, asOf, knownAt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := encodeJSON(st)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if current {
		s.statuses.put(code, st.AsOfSeq, body)
	}
	writeBody(w, http.StatusOK, body)
}

func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) {
	if err := s.waitMinSeq(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var f projections.HistoryFilter
	var err error
	if f.From, err = dateParam(r, "from"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.To, err = dateParam(r, "to"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if t := r.URL.Query().Get("type"); t != "" {
		if !events.Type(t).Known() {
			s.writeError(w, r, badQuery("type", "unknown event type %q", t))
			return
		}
		f.Type = events.Type(t)
	}
	f.Lineage = r.URL.Query().Get("lineage") == "true"
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxHistoryPage {
			s.writeError(w, r, badQuery("limit", "%q: give a number of events from 1 to %d", v, MaxHistoryPage))
			return
		}
		f.Limit = n
	}
	for _, c := range []struct {
		name string
		to   *uint64
	}{{"after", &f.After}, {"before", &f.Before}} {
		v := q.Get(c.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 && c.name == "before" {
			s.writeError(w, r, badQuery(c.name, "%q is not a unit version", v))
			return
		}
		if f.Lineage {
			s.writeError(w, r, badQuery(c.name, "%s pages one unit's trail; it does not combine with lineage=true", c.name))
			return
		}
		*c.to = n
	}
	h, err := s.node.Views.History(r.Context(), r.PathValue("code"), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// postReplay rebuilds every view from seq 1 and streams progress as JSON
// Lines; the last line says done or the error.
func (s *Server) postReplay(w http.ResponseWriter, r *http.Request) {
	target, err := s.node.StreamLastSeq(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	err = s.node.Views.Rebuild(r.Context(), target, func(p projections.Progress) {
		_ = enc.Encode(p)
		if fl != nil {
			fl.Flush()
		}
	})
	if err != nil {
		_ = enc.Encode(map[string]string{"error": err.Error()})
	}
}

// StallAfter is how long a lagging projector may go without committing
// before /healthz calls it stuck.
const StallAfter = 30 * time.Second

// Health is the body of /healthz.
type Health struct {
	Status     string          `json:"status"` // "ok" or "unhealthy"
	StreamSeq  uint64          `json:"stream_last_seq"`
	Projectors []ProjectorInfo `json:"projectors"`
	Rebuilding bool            `json:"rebuilding,omitempty"`
	Problems   []string        `json:"problems,omitempty"`
}

// ProjectorInfo is one projector's health.
type ProjectorInfo struct {
	Name         string    `json:"name"`
	Applied      uint64    `json:"applied_seq"`
	Lag          uint64    `json:"lag"`
	LastProgress time.Time `json:"last_progress,omitzero"`
	Quarantined  uint64    `json:"quarantined,omitempty"`
	Halted       string    `json:"halted,omitempty"`
	Stalled      bool      `json:"stalled,omitempty"`
}

// getHealth answers 200 when every projector is caught up or moving, 503
// when one halted, or lags the stream without having committed anything for
// StallAfter (stuck, not merely busy), or the stream cannot be read.
// Quarantined messages do not make a node unhealthy: they are findings.
func (s *Server) getHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	h := Health{Status: "ok"}
	last, err := s.node.StreamLastSeq(ctx)
	if err != nil {
		h.Status = "unhealthy"
		h.Problems = append(h.Problems, "stream: "+err.Error())
	}
	h.StreamSeq = last
	now := time.Now()
	for _, p := range []interface {
		Name() string
		Applied() uint64
		Halted() error
		LastProgress() time.Time
		Quarantined() uint64
		WaitApplied(context.Context, uint64) error
	}{s.node.Ledger.Index(), s.node.Views.Projector()} {
		pi := ProjectorInfo{Name: p.Name(), Applied: p.Applied(), LastProgress: p.LastProgress(), Quarantined: p.Quarantined()}
		if last > pi.Applied {
			pi.Lag = last - pi.Applied
		}
		if err := p.Halted(); err != nil {
			pi.Halted = err.Error()
			h.Status = "unhealthy"
			h.Problems = append(h.Problems, fmt.Sprintf("projector %s halted", pi.Name))
		} else if pi.Lag > 0 && now.Sub(pi.LastProgress) > StallAfter && !movesWithin(ctx, p.WaitApplied, last, time.Second) {
			pi.Stalled = true
			h.Status = "unhealthy"
			h.Problems = append(h.Problems, fmt.Sprintf("projector %s is %d events behind and has not committed since %s", pi.Name, pi.Lag, pi.LastProgress.UTC().Format(time.RFC3339)))
		}
		h.Projectors = append(h.Projectors, pi)
	}
	h.Rebuilding, _ = s.node.Views.Rebuilding()
	code := http.StatusOK
	if h.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

// movesWithin tells an idle projector that just received an event (it
// catches up at once) from a stuck one.
func movesWithin(ctx context.Context, wait func(context.Context, uint64) error, seq uint64, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return wait(ctx, seq) == nil
}
