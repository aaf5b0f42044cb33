package main

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/ledger"
)

// The stream is inspectable on the --nats-listen port with any NATS client,
// as `nats stream info NTM_EVENTS` does: file storage, deletes and purges
// denied.
func TestStreamInspectableOnNATSListenPort(t *testing.T) {
	natsAddr := freeAddr(t)
	httpAddr := freeAddr(t)
	cmd := child(t, "serve", "NTM_TEST_ARGS=serve --data "+t.TempDir()+" --http "+httpAddr+" --nats-listen "+natsAddr+" --log-level warn")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var nc *nats.Conn
	poll(t, "connect to the embedded server", time.Minute, func() error {
		var err error
		nc, err = nats.Connect("nats://" + natsAddr)
		return err
	})
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var info *jetstream.StreamInfo
	poll(t, "stream info", time.Minute, func() error {
		s, err := js.Stream(context.Background(), ledger.StreamName)
		if err != nil {
			return err
		}
		info, err = s.Info(context.Background())
		return err
	})
	c := info.Config
	if !c.DenyDelete || !c.DenyPurge || c.Storage != jetstream.FileStorage || len(c.Subjects) != 1 || c.Subjects[0] != "ntm.ev.>" {
		t.Fatalf("stream config seen by a NATS client: %+v", c)
	}
}
