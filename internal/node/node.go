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
	// DuplicateWindow of the stream. Default 2 minutes.
	DuplicateWindow time.Duration
	// LazySync turns off fsync per write on the embedded server (benchmarks
	// only).
	LazySync bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// OnChanges receives view changes (live feed). Must not block.
	OnChanges func([]projector.Change)
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
	n.Views, err = projections.Open(ctx, projections.Config{
		JS: n.JS, Stream: ledger.StreamName, Dir: filepath.Join(cfg.DataDir, "views"),
		Rules: n.Rules, Logger: cfg.Logger, OnChanges: cfg.OnChanges,
	})
	if err != nil {
		return nil, err
	}
	ok = true
	return n, nil
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
