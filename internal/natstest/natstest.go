// Package natstest starts real embedded NATS servers with JetStream for
// tests: random ports, temporary directories, fsync on every write.
package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/internal/natsserver"
)

// Server is a test server with a client connection.
type Server struct {
	*natsserver.Server
	Dir  string
	Conn *nats.Conn
	JS   jetstream.JetStream
}

// Start starts a server storing under dir (a new temp dir when "") that
// listens on a random loopback port. It is shut down when the test ends.
func Start(t testing.TB, dir string) *Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := natsserver.Start(ctx, natsserver.Config{StoreDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	nc, err := s.Connect("test")
	if err != nil {
		s.Shutdown()
		t.Fatalf("connect: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	srv := &Server{Server: s, Dir: dir, Conn: nc, JS: js}
	t.Cleanup(srv.Stop)
	return srv
}

// Stop closes the connection and shuts the server down. It is safe to call
// twice.
func (s *Server) Stop() {
	if s.Conn != nil {
		s.Conn.Close()
		s.Conn = nil
		s.Shutdown()
	}
}
