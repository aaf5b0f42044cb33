// Package node wires one ntmledger node: a NATS connection (an embedded
// server by default, or an existing server or cluster), the ledger (write
// side) and the views (read side). The HTTP API and the CLI's direct mode
// both run on a Node.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/internal/live"
	"github.com/ntmledger/ntmledger/internal/metrics"
	"github.com/ntmledger/ntmledger/internal/natsserver"
	"github.com/ntmledger/ntmledger/internal/projector"
	"github.com/ntmledger/ntmledger/internal/rules"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

// Config configures a node. The zero value of every optional field is the
// embedded default of the contract.
type Config struct {
	// DataDir holds js/ (JetStream, when embedded), ledger/ (the write-side
	// index) and views/. Default "data".
	DataDir string
	// NATSListen is the embedded server's client address. Default
	// "127.0.0.1:4222"; "none" or "-1" for in-process only.
	NATSListen string
	// NATSURL, when set, connects to an existing NATS server or cluster
	// instead of embedding one.
	NATSURL  string
	Creds    string
	User     string
	Password string
	// Replicas of the stream. Default 1.
	Replicas int
	// DuplicateWindow of the stream. Default ledger.DefaultDuplicateWindow.
	DuplicateWindow time.Duration
	// LazySync turns off fsync per write on the embedded server (benchmarks
	// only).
	LazySync bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// OnChanges receives view changes besides the node's live hub. Must not
	// block.
	OnChanges func([]projector.Change)
	// LiveBuffer is each live subscriber's buffer (live.DefaultBuffer when
	// 0).
	LiveBuffer int
	// NoLiveNATS turns off publishing view changes on ntm.live.> subjects.
	NoLiveNATS bool
}

// Node is a running node.
type Node struct {
	Config Config
	Server *natsserver.Server // nil when connected to an external NATS
	Conn   *nats.Conn
	JS     jetstream.JetStream
	Rules  *rules.Set
	Ledger *ledger.Ledger
	Views  *projections.Views
	// Live fans view changes out to SSE clients (SSE) and NATS.
	Live    *live.Hub
	SSE     *live.SSE
	Metrics *metrics.Metrics

	natsLive *live.NATSPublisher
}

// Start starts a node.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if cfg.NATSListen == "" {
		cfg.NATSListen = "127.0.0.1:4222"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	n := &Node{Config: cfg, Rules: rules.BuiltIn()}
	n.Live = live.New(live.Config{Buffer: cfg.LiveBuffer, Logger: cfg.Logger})
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	var err error
	if cfg.NATSURL != "" {
		opts := []nats.Option{nats.Name("ntmledger"), nats.MaxReconnects(-1)}
		if cfg.Creds != "" {
			opts = append(opts, nats.UserCredentials(cfg.Creds))
		}
		if cfg.User != "" {
			opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
		}
		n.Conn, err = nats.Connect(cfg.NATSURL, opts...)
		if err != nil {
			return nil, fmt.Errorf("connect to NATS at %s: %w", cfg.NATSURL, err)
		}
	} else {
		n.Server, err = natsserver.Start(ctx, natsserver.Config{
			StoreDir: filepath.Join(cfg.DataDir, "js"), Listen: cfg.NATSListen,
			LazySync: cfg.LazySync, Logger: cfg.Logger,
		})
		if err != nil {
			return nil, err
		}
		if n.Conn, err = n.Server.Connect("ntmledger"); err != nil {
			return nil, err
		}
	}
	if n.JS, err = jetstream.New(n.Conn); err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	n.Ledger, err = ledger.Open(ctx, ledger.Config{
		JS: n.JS, IndexDir: filepath.Join(cfg.DataDir, "ledger"), Rules: n.Rules,
		Replicas: cfg.Replicas, DuplicateWindow: cfg.DuplicateWindow, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	if !cfg.NoLiveNATS {
		n.natsLive = live.PublishNATS(n.Live, n.Conn)
	}
	onChanges := n.Live.Publish
	if cfg.OnChanges != nil {
		onChanges = func(cs []projector.Change) {
			n.Live.Publish(cs)
			cfg.OnChanges(cs)
		}
	}
	n.Views, err = projections.Open(ctx, projections.Config{
		JS: n.JS, Stream: ledger.StreamName, Dir: filepath.Join(cfg.DataDir, "views"),
		Rules: n.Rules, Logger: cfg.Logger, OnChanges: onChanges,
	})
	if err != nil {
		return nil, err
	}
	n.SSE = &live.SSE{Hub: n.Live, Applied: n.Views.Applied}
	n.Metrics = metrics.New(metrics.Sources{
		StreamLastSeq: n.StreamLastSeq,
		Projectors:    func() []metrics.Projector { return []metrics.Projector{n.Ledger.Index(), n.Views.Projector()} },
		Rebuild: func() (bool, uint64, uint64) {
			running, p := n.Views.Rebuilding()
			if p == nil {
				return running, 0, 0
			}
			return running, p.Applied, p.Target
		},
		SSEClients: n.SSE.Clients,
		Live: func() (uint64, uint64, uint64, uint64) {
			st := n.Live.Stats()
			var sent uint64
			if n.natsLive != nil {
				sent = n.natsLive.Sent()
			}
			return st.Published, st.Dropped, st.Resyncs, sent
		},
	})
	ok = true
	return n, nil
}

// Verify recomputes the hash chains of one unit, or of every unit when unit
// is "", from the stream (see ledger.Verify).
func (n *Node) Verify(ctx context.Context, unit string, progress func(at, last uint64)) (*ledger.VerifyReport, error) {
	return n.Ledger.Verify(ctx, unit, progress)
}

// StreamLastSeq is the stream's last sequence.
func (n *Node) StreamLastSeq(ctx context.Context) (uint64, error) {
	info, err := n.Ledger.Stream().Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream info: %w", err)
	}
	return info.State.LastSeq, nil
}

// CatchUp waits until the views hold every event stored so far.
func (n *Node) CatchUp(ctx context.Context) error {
	last, err := n.StreamLastSeq(ctx)
	if err != nil {
		return err
	}
	return n.Views.WaitApplied(ctx, last)
}

// Close stops everything the node started, in reverse order.
func (n *Node) Close() error {
	var errs []error
	if n.Views != nil {
		errs = append(errs, n.Views.Close())
	}
	if n.natsLive != nil {
		n.natsLive.Stop()
	}
	if n.Ledger != nil {
		errs = append(errs, n.Ledger.Close())
	}
	if n.Conn != nil {
		n.Conn.Close()
	}
	if n.Server != nil {
		n.Server.Shutdown()
	}
	return errors.Join(errs...)
}
