package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ntmledger/ntmledger/internal/httpapi"
	"github.com/ntmledger/ntmledger/internal/node"
	"github.com/ntmledger/ntmledger/ledger"
)

// nodeFlags are the flags of every command that runs a node.
type nodeFlags struct {
	data       string
	natsListen string
	natsURL    string
	creds      string
	user       string
	password   string
	replicas   int
	dupWindow  time.Duration
	logLevel   string
}

func (f *nodeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "data", "data directory: js/ (embedded JetStream), ledger/, views/")
	fs.StringVar(&f.natsListen, "nats-listen", "127.0.0.1:4222", "embedded NATS client address; -1 or none for in-process only")
	fs.StringVar(&f.natsURL, "nats-url", "", "use an existing NATS server or cluster (nats://…) instead of embedding one")
	fs.StringVar(&f.creds, "creds", "", "NATS credentials file (with --nats-url)")
	fs.StringVar(&f.user, "user", "", "NATS user (with --nats-url)")
	fs.StringVar(&f.password, "password", "", "NATS password (with --nats-url)")
	fs.IntVar(&f.replicas, "replicas", 1, "stream replicas (3 in a cluster)")
	fs.DurationVar(&f.dupWindow, "dup-window", ledger.DefaultDuplicateWindow, "stream duplicate window (the server keeps its ids in memory); older ids are still caught by the ledger's index")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
}

func (f *nodeFlags) logger(env *Env) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usageError("--log-level %q: %v", f.logLevel, err)
	}
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: lvl})), nil
}

func (f *nodeFlags) config(log *slog.Logger) node.Config {
	listen := f.natsListen
	if listen == "-1" {
		listen = "none"
	}
	return node.Config{
		DataDir: f.data, NATSListen: listen, NATSURL: f.natsURL, Creds: f.creds,
		User: f.user, Password: f.password, Replicas: f.replicas, DuplicateWindow: f.dupWindow, Logger: log,
	}
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "serve", "serve [flags]")
	var nf nodeFlags
	nf.register(fs)
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP listen address")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	log, err := nf.logger(env)
	if err != nil {
		return err
	}
	n, err := node.Start(ctx, nf.config(log))
	if err != nil {
		return err
	}
	defer n.Close()
	return serveHTTP(ctx, env, n, *httpAddr, log, nil)
}

// serveHTTP serves the API until ctx is done. ready, if set, is called
// with the base URL once the listener is up.
func serveHTTP(ctx context.Context, env *Env, n *node.Node, addr string, log *slog.Logger, ready func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	api := httpapi.New(n, log)
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	log.Info("serving", "http", url, "nats", natsDesc(n), "data", n.Config.DataDir)
	if ready != nil {
		ready(url)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func natsDesc(n *node.Node) string {
	if n.Server == nil {
		return n.Config.NATSURL
	}
	if u := n.Server.ClientURL(); u != "" {
		return u + " (embedded)"
	}
	return "embedded, in-process only"
}
