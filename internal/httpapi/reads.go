package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/export"
	"github.com/ntmledger/ntmledger/projections"
)

// The read endpoints of issue 4: lists, revocation timeline, progress,
// findings, verify, exports, the live feed and metrics.
func (s *Server) routeReads() {
	s.mux.HandleFunc("GET /v1/units", s.getUnits)
	s.mux.HandleFunc("GET /v1/revocations", s.getRevocations)
	s.mux.HandleFunc("GET /v1/progress/{code}", s.getProgress)
	s.mux.HandleFunc("GET /v1/findings", s.getFindings)
	s.mux.HandleFunc("GET /v1/verify", s.getVerify)
	s.mux.HandleFunc("GET /v1/export/status", s.getExportStatus)
	s.mux.HandleFunc("GET /v1/export/revocations", s.getExportRevocations)
	s.mux.HandleFunc("GET /v1/export/history/{code}", s.getExportHistory)
	s.mux.Handle("GET /v1/live", s.node.SSE)
	s.mux.Handle("GET /metrics", s.node.Metrics.Handler())
}

func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, badQuery("limit", "%q is not a positive number", v)
	}
	return min(n, projections.MaxLimit), nil
}

func boolParam(r *http.Request, name string) (*bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, badQuery(name, "%q is not true or false", v)
	}
	return &b, nil
}

func (s *Server) getUnits(w http.ResponseWriter, r *http.Request) {
	if err := s.waitMinSeq(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := projections.UnitFilter{Parent: q.Get("parent"), Province: q.Get("province"), Kind: q.Get("kind"), Tier: q.Get("tier"), After: q.Get("after")}
	if f.Kind != "" && !isKind(f.Kind) {
		s.writeError(w, r, badQuery("kind", "%q is not a unit kind (%s)", f.Kind, strings.Join(events.Kinds, ", ")))
		return
	}
	var err error
	if f.AtRisk, err = boolParam(r, "at_risk"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = limitParam(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.node.Views.Units(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func isKind(k string) bool {
	for _, x := range events.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

func (s *Server) revocationFilter(r *http.Request) (projections.RevocationFilter, error) {
	q := r.URL.Query()
	f := projections.RevocationFilter{Province: q.Get("province"), Unit: q.Get("unit"), Reason: q.Get("reason"), After: q.Get("after")}
	var err error
	if f.From, err = dateParam(r, "from"); err != nil {
		return f, err
	}
	if f.To, err = dateParam(r, "to"); err != nil {
		return f, err
	}
	if f.Reason != "" {
		known := false
		for _, x := range events.Reasons {
			known = known || x == f.Reason
		}
		if !known {
			return f, badQuery("reason", "%q is not a revocation reason (%s)", f.Reason, strings.Join(events.Reasons, ", "))
		}
	}
	f.Limit, err = limitParam(r)
	return f, err
}

func (s *Server) getRevocations(w http.ResponseWriter, r *http.Request) {
	if err := s.waitMinSeq(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.revocationFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.node.Views.Revocations(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) getProgress(w http.ResponseWriter, r *http.Request) {
	if err := s.waitMinSeq(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	year := 0
	if v := r.URL.Query().Get("year"); v != "" {
		var err error
		if year, err = strconv.Atoi(v); err != nil || year < 1900 || year > 2200 {
			s.writeError(w, r, badQuery("year", "%q is not a year", v))
			return
		}
	}
	rep, err := s.node.Views.Progress(r.Context(), r.PathValue("code"), year)
	if errors.Is(err, projections.ErrBadArgument) {
		s.writeError(w, r, fmt.Errorf("%w: %w", errBadQuery, err))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) getFindings(w http.ResponseWriter, r *http.Request) {
	if err := s.waitMinSeq(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.node.Views.Findings(r.Context(), r.URL.Query().Get("province"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// getVerify recomputes hash chains from the stream: the one read that goes
// to the record itself, because it checks the record.
func (s *Server) getVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := s.node.Verify(r.Context(), r.URL.Query().Get("unit"), nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func formatParam(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "", export.CSV:
		return export.CSV, nil
	case export.XLSX:
		return export.XLSX, nil
	default:
		return "", badQuery("format", "%q: csv or xlsx", f)
	}
}

// serveExport renders the table in memory first, so an error becomes a
// proper error response instead of a truncated file.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, name string, t *export.Table) {
	if err := s.waitMinSeq(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	format, err := formatParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := export.Write(r.Context(), &buf, format, t); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", export.ContentType(format))
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fmt.Sprintf("ntm-%s-%s.%s", name, time.Now().UTC().Format("20060102"), format)))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) getExportStatus(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("province")
	name := "status"
	if p != "" {
		name += "-" + p
	}
	s.serveExport(w, r, name, export.StatusTable(s.node.Views, p))
}

func (s *Server) getExportRevocations(w http.ResponseWriter, r *http.Request) {
	f, err := s.revocationFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveExport(w, r, "revocations", export.RevocationsTable(s.node.Views, f))
}

func (s *Server) getExportHistory(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
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
	f.Lineage = r.URL.Query().Get("lineage") == "true"
	s.serveExport(w, r, "history-"+code, export.HistoryTable(s.node.Views, code, f))
}
