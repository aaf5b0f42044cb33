package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ntmledger/ntmledger/internal/export"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

// auditBackend is what the inspectors' and auditors' commands (revocations,
// progress, findings, verify, export) need of a backend. Both backends
// implement it; the methods live here beside the commands.
type auditBackend interface {
	backend
	Revocations(ctx context.Context, f projections.RevocationFilter) (*projections.RevocationList, error)
	Progress(ctx context.Context, code string, year int) (*projections.ProgressReport, error)
	Findings(ctx context.Context, province string) (*projections.FindingList, error)
	Verify(ctx context.Context, unit string) (*ledger.VerifyReport, error)
	Export(ctx context.Context, w io.Writer, req exportRequest) error
}

// exportRequest names a table to export.
type exportRequest struct {
	Table    string // export.TableStatus, TableHistory, TableRevocations
	Unit     string // for history
	Province string // for status and revocations
	Format   string // export.CSV or export.XLSX
	History  projections.HistoryFilter
	Revs     projections.RevocationFilter
}

// openAudit opens the backend of an audit command (revocations, progress,
// findings, verify, export). Close it when done.
func (c *clientFlags) openAudit(ctx context.Context, env *Env, fs *flag.FlagSet) (auditBackend, error) {
	be, err := c.open(ctx, env, fs)
	if err != nil {
		return nil, err
	}
	ab, ok := be.(auditBackend)
	if !ok {
		be.Close()
		return nil, fmt.Errorf("backend %T cannot report", be)
	}
	return ab, nil
}

func (d *directBackend) Revocations(ctx context.Context, f projections.RevocationFilter) (*projections.RevocationList, error) {
	return d.n.Views.Revocations(ctx, f)
}

func (d *directBackend) Progress(ctx context.Context, code string, year int) (*projections.ProgressReport, error) {
	return d.n.Views.Progress(ctx, code, year)
}

func (d *directBackend) Findings(ctx context.Context, province string) (*projections.FindingList, error) {
	return d.n.Views.Findings(ctx, province)
}

func (d *directBackend) Verify(ctx context.Context, unit string) (*ledger.VerifyReport, error) {
	return d.n.Verify(ctx, unit, nil)
}

func (d *directBackend) Export(ctx context.Context, w io.Writer, req exportRequest) error {
	var t *export.Table
	switch req.Table {
	case export.TableStatus:
		t = export.StatusTable(d.n.Views, req.Province)
	case export.TableHistory:
		if _, err := d.n.Views.History(ctx, req.Unit, req.History); err != nil {
			return err
		}
		t = export.HistoryTable(d.n.Views, req.Unit, req.History)
	case export.TableRevocations:
		t = export.RevocationsTable(d.n.Views, req.Revs)
	default:
		return usageError("unknown table %q (status, history, revocations)", req.Table)
	}
	return export.Write(ctx, w, req.Format, t)
}

func revocationQuery(f projections.RevocationFilter) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"province": f.Province, "unit": f.Unit, "from": f.From, "to": f.To, "reason": f.Reason, "after": f.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

func (h *httpBackend) Revocations(ctx context.Context, f projections.RevocationFilter) (*projections.RevocationList, error) {
	var out projections.RevocationList
	if err := h.do(ctx, http.MethodGet, "/v1/revocations", revocationQuery(f), nil, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (h *httpBackend) Progress(ctx context.Context, code string, year int) (*projections.ProgressReport, error) {
	q := url.Values{}
	if year != 0 {
		q.Set("year", strconv.Itoa(year))
	}
	var out projections.ProgressReport
	if err := h.do(ctx, http.MethodGet, "/v1/progress/"+url.PathEscape(code), q, nil, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (h *httpBackend) Findings(ctx context.Context, province string) (*projections.FindingList, error) {
	q := url.Values{}
	if province != "" {
		q.Set("province", province)
	}
	var out projections.FindingList
	if err := h.do(ctx, http.MethodGet, "/v1/findings", q, nil, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (h *httpBackend) Verify(ctx context.Context, unit string) (*ledger.VerifyReport, error) {
	q := url.Values{}
	if unit != "" {
		q.Set("unit", unit)
	}
	var out ledger.VerifyReport
	if err := h.do(ctx, http.MethodGet, "/v1/verify", q, nil, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (h *httpBackend) Export(ctx context.Context, w io.Writer, req exportRequest) error {
	var path string
	q := url.Values{}
	switch req.Table {
	case export.TableStatus:
		path = "/v1/export/status"
		if req.Province != "" {
			q.Set("province", req.Province)
		}
	case export.TableHistory:
		path = "/v1/export/history/" + url.PathEscape(req.Unit)
		if req.History.From != "" {
			q.Set("from", req.History.From)
		}
		if req.History.To != "" {
			q.Set("to", req.History.To)
		}
		if req.History.Lineage {
			q.Set("lineage", "true")
		}
	case export.TableRevocations:
		path = "/v1/export/revocations"
		q = revocationQuery(req.Revs)
	default:
		return usageError("unknown table %q (status, history, revocations)", req.Table)
	}
	q.Set("format", req.Format)
	resp, err := h.send(ctx, http.MethodGet, path, q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	return nil
}

// printJSON writes v indented for people and scripts alike.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
