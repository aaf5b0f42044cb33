package projections_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ntmledger/ntmledger/internal/natstest"
	"github.com/ntmledger/ntmledger/internal/scenario"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

// TestViewsOfAnotherLayoutAreRebuilt: views written under the previous key
// layout (format marker "2", history records holding seq and body) are
// emptied on open and rebuilt from the stream, ending byte-identical to
// views built under the current layout.
func TestViewsOfAnotherLayoutAreRebuilt(t *testing.T) {
	srv := natstest.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := ledger.Open(ctx, ledger.Config{JS: srv.JS, IndexDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	views, err := projections.Open(ctx, projections.Config{JS: srv.JS, Stream: ledger.StreamName, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for _, b := range scenario.Batches(scenario.Events(scenario.Config{Communes: 20, Years: 2, WithNoise: true}), ledger.MaxBatch) {
		res, err := l.Append(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		last = res[len(res)-1].Seq
	}
	if err := views.WaitApplied(ctx, last); err != nil {
		t.Fatal(err)
	}
	want, n, _ := dump(t, views)
	if err := views.Close(); err != nil {
		t.Fatal(err)
	}

	// Turn the database into one of the previous layout: its marker, and
	// history records holding the seq followed by the body.
	gen, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := pebble.Open(filepath.Join(dir, strings.TrimSpace(string(gen))), &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewBatch()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte("h/"), UpperBound: []byte("h0")})
	if err != nil {
		t.Fatal(err)
	}
	old := 0
	for it.First(); it.Valid(); it.Next() {
		body, closer, err := db.Get(append([]byte("e/"), it.Value()...))
		if err != nil {
			t.Fatalf("body of history record %q: %v", it.Key(), err)
		}
		v := binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(it.Value()))
		v = append(v, body...)
		closer.Close()
		if err := b.Set(it.Key(), v, nil); err != nil {
			t.Fatal(err)
		}
		old++
	}
	it.Close()
	if err := b.DeleteRange([]byte("e/"), []byte("e0"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Set([]byte("m/format"), []byte("2"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if old == 0 {
		t.Fatal("no history records to rewrite")
	}

	views, err = projections.Open(ctx, projections.Config{JS: srv.JS, Stream: ledger.StreamName, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer views.Close()
	if err := views.WaitApplied(ctx, last); err != nil {
		t.Fatal(err)
	}
	got, m, _ := dump(t, views)
	if got != want || m != n {
		t.Fatalf("views reopened over the old layout: %d keys, digest %s; built under the current layout: %d keys, %s", m, got, n, want)
	}
	var seen bool
	_, err = views.Dump(func(k, v []byte) error {
		if bytes.Equal(k, []byte("m/format")) {
			seen = true
			if !strings.HasSuffix(string(v), "/"+projections.Layout) {
				t.Errorf("format marker %q does not name layout %s", v, projections.Layout)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !seen {
		t.Error("no format marker in the views")
	}
}
