package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/internal/node"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

// backend is what the client commands need: a running server over HTTP, or
// the data directory opened directly.
type backend interface {
	Append(ctx context.Context, ins []*events.Input) ([]ledger.Result, error)
	Status(ctx context.Context, unit, asOf string, knownAt time.Time) (*projections.Status, error)
	History(ctx context.Context, unit string, f projections.HistoryFilter) (*projections.History, error)
	Replay(ctx context.Context, progress func(projections.Progress)) error
	Close() error
}

// clientFlags choose the backend.
type clientFlags struct {
	server string
	direct bool
	json   bool
	node   nodeFlags
}

const defaultServer = "http://127.0.0.1:8080"

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", defaultServer, "URL of a running ntmledger server")
	fs.BoolVar(&c.direct, "direct", false, "open the data directory directly instead of talking to a server")
	fs.BoolVar(&c.json, "json", false, "print JSON for machines instead of tables")
	c.node.register(fs)
}

// open returns the server's backend when it answers; otherwise, unless a
// server was named explicitly, the data directory opened directly.
func (c *clientFlags) open(ctx context.Context, env *Env, fs *flag.FlagSet) (backend, error) {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "server" })
	explicit = explicit || env.Getenv("NTM_SERVER") != ""
	if !c.direct {
		hb := &httpBackend{base: strings.TrimRight(c.server, "/"), client: &http.Client{}}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := hb.ping(pctx)
		cancel()
		if err == nil {
			return hb, nil
		}
		if explicit {
			return nil, fmt.Errorf("server %s: %w", c.server, err)
		}
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := c.node.config(log)
	if cfg.NATSURL == "" {
		cfg.NATSListen = "none"
	}
	n, err := node.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("no server at %s, and opening %s directly failed: %w", c.server, c.node.data, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := n.CatchUp(wctx); err != nil {
		n.Close()
		return nil, err
	}
	return &directBackend{n: n}, nil
}

type directBackend struct{ n *node.Node }

func (d *directBackend) Append(ctx context.Context, ins []*events.Input) ([]ledger.Result, error) {
	return d.n.Ledger.Append(ctx, ins)
}

// AppendAsync lets an import send its next batch while the stream stores
// the last (importer.AsyncAppender).
func (d *directBackend) AppendAsync(ctx context.Context, ins []*events.Input) (*ledger.Pending, error) {
	return d.n.Ledger.AppendAsync(ctx, ins)
}

// AppendPreparedAsync lets an import's reading goroutine validate rows for
// the ledger (importer.PreparedAppender).
func (d *directBackend) AppendPreparedAsync(ctx context.Context, ps []*ledger.Prepared) (*ledger.Pending, error) {
	return d.n.Ledger.AppendPreparedAsync(ctx, ps)
}

func (d *directBackend) Status(ctx context.Context, unit, asOf string, knownAt time.Time) (*projections.Status, error) {
	return d.n.Views.Status(ctx, unit, asOf, knownAt)
}

func (d *directBackend) History(ctx context.Context, unit string, f projections.HistoryFilter) (*projections.History, error) {
	return d.n.Views.History(ctx, unit, f)
}

func (d *directBackend) Replay(ctx context.Context, progress func(projections.Progress)) error {
	last, err := d.n.StreamLastSeq(ctx)
	if err != nil {
		return err
	}
	return d.n.Views.Rebuild(ctx, last, progress)
}

func (d *directBackend) Close() error { return d.n.Close() }

type httpBackend struct {
	base   string
	client *http.Client
}

func (h *httpBackend) Close() error { return nil }

func (h *httpBackend) ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// apiError is an error response of the server.
type apiError struct {
	Status int
	Msg    string `json:"error"`
	Index  *int   `json:"index"`
	Field  string `json:"field"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Msg, e.Status) }

func (h *httpBackend) do(ctx context.Context, method, path string, q url.Values, body []byte, ct string, out any) error {
	resp, err := h.send(ctx, method, path, q, body, ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

// send makes a request to the server and returns its response when it
// succeeded, or the server's error (an *apiError) when it did not.
func (h *httpBackend) send(ctx context.Context, method, path string, q url.Values, body []byte, ct string) (*http.Response, error) {
	u := h.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		ae := &apiError{Status: resp.StatusCode}
		b, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(b, ae) != nil || ae.Msg == "" {
			ae.Msg = strings.TrimSpace(string(b))
		}
		return nil, ae
	}
	return resp, nil
}

func (h *httpBackend) Append(ctx context.Context, ins []*events.Input) ([]ledger.Result, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, in := range ins {
		if err := enc.Encode(in); err != nil {
			return nil, err
		}
	}
	var out struct {
		Events []ledger.Result `json:"events"`
	}
	if err := h.do(ctx, http.MethodPost, "/v1/events", nil, buf.Bytes(), "application/x-ndjson", &out); err != nil {
		return nil, err
	}
	return out.Events, nil
}

func (h *httpBackend) Status(ctx context.Context, unit, asOf string, knownAt time.Time) (*projections.Status, error) {
	q := url.Values{}
	if asOf != "" {
		q.Set("as_of", asOf)
	}
	if !knownAt.IsZero() {
		q.Set("known_at", knownAt.Format(time.RFC3339Nano))
	}
	var st projections.Status
	if err := h.do(ctx, http.MethodGet, "/v1/units/"+url.PathEscape(unit), q, nil, "", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (h *httpBackend) History(ctx context.Context, unit string, f projections.HistoryFilter) (*projections.History, error) {
	q := url.Values{}
	if f.From != "" {
		q.Set("from", f.From)
	}
	if f.To != "" {
		q.Set("to", f.To)
	}
	if f.Type != "" {
		q.Set("type", string(f.Type))
	}
	if f.Lineage {
		q.Set("lineage", "true")
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.After > 0 {
		q.Set("after", strconv.FormatUint(f.After, 10))
	}
	if f.Before > 0 {
		q.Set("before", strconv.FormatUint(f.Before, 10))
	}
	var hist projections.History
	if err := h.do(ctx, http.MethodGet, "/v1/units/"+url.PathEscape(unit)+"/history", q, nil, "", &hist); err != nil {
		return nil, err
	}
	return &hist, nil
}

func (h *httpBackend) Replay(ctx context.Context, progress func(projections.Progress)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/v1/replay", nil)
	if err != nil {
		return err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return &apiError{Status: resp.StatusCode, Msg: strings.TrimSpace(string(b))}
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var line struct {
			projections.Progress
			Error string `json:"error"`
		}
		if err := dec.Decode(&line); err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("replay: the server closed the stream before it finished")
			}
			return fmt.Errorf("replay: %w", err)
		}
		if line.Error != "" {
			return fmt.Errorf("replay: %s", line.Error)
		}
		if progress != nil {
			progress(line.Progress)
		}
		if line.Done {
			return nil
		}
	}
}
