package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/ledger"
)

// TestPipelinedRequestsMeetAnotherWriter sends requests two at a time
// (AppendAsync) while another ledger on the same stream appends to a unit
// of the third request after it was checked and before it was sent. The
// third request fails at the server, the fourth (checked as if the third
// were stored) fails by the stream fence, and both are checked and stored
// again, in order: every result names the message stored at its seq, and
// every unit's hash chain is intact.
func TestPipelinedRequestsMeetAnotherWriter(t *testing.T) {
	e, other, ctx := twoWriters(t)
	const requests, size = 8, 40
	reqs := assessmentRequests(t, requests, size)
	sent := 0
	var intruder []ledger.Result
	ledger.SetBeforeSend(e.l, func(units []string) {
		sent++
		if sent != 3 {
			return
		}
		intruder = mustAppend(t, other, assess(t, units[0], "2019-12-31", "2", "not_met"))
	})
	var all [][]ledger.Result
	pending := make([]*ledger.Pending, 0, requests)
	for _, req := range reqs {
		p, err := e.l.AppendAsync(ctx, req)
		if err != nil {
			t.Fatalf("request %d: %v", len(pending), err)
		}
		pending = append(pending, p)
		if len(pending) >= 2 {
			res, err := pending[len(all)].Wait(ctx)
			if err != nil {
				t.Fatalf("request %d: %v", len(all), err)
			}
			all = append(all, res)
		}
	}
	for len(all) < len(pending) {
		res, err := pending[len(all)].Wait(ctx)
		if err != nil {
			t.Fatalf("request %d: %v", len(all), err)
		}
		all = append(all, res)
	}
	if intruder == nil {
		t.Fatal("the other writer did not append")
	}

	if got, want := lastSeq(t, e.srv.JS), uint64(len(hierarchy(t))+requests*size+1); got != want {
		t.Fatalf("stream holds %d messages, want %d", got, want)
	}
	stream, err := e.srv.JS.Stream(ctx, ledger.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	prev := uint64(0)
	for r, res := range all {
		if len(res) != size {
			t.Fatalf("request %d: %d results", r, len(res))
		}
		for i, x := range res {
			if x.Seq <= prev {
				t.Fatalf("request %d event %d at seq %d, not after %d", r, i, x.Seq, prev)
			}
			prev = x.Seq
			m, err := stream.GetMsg(ctx, x.Seq)
			if err != nil {
				t.Fatal(err)
			}
			if id := m.Header.Get(jetstream.MsgIDHeader); id != x.ID {
				t.Fatalf("request %d event %d: result says seq %d holds %s, the stream has %s", r, i, x.Seq, x.ID, id)
			}
		}
	}
	// The third request was checked again after the other writer's event.
	if s := intruder[0].Seq; s <= all[1][size-1].Seq || s >= all[2][0].Seq {
		t.Fatalf("the other writer's event is at seq %d; the second request ends at %d, the third starts at %d", s, all[1][size-1].Seq, all[2][0].Seq)
	}
	rep, err := e.l.Verify(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Breaks) > 0 {
		t.Fatalf("chains broken: %+v", rep.Breaks)
	}
}

// TestPipelinedRequestFailingForGood: the third of a run of pipelined
// requests carries an expected_version that another writer makes stale
// after the request was checked. The server refuses it (the unit moved),
// it is checked again and now fails for good with a conflict; the fourth,
// which was checked as if the third were stored, fails too and is not
// stored; the requests after them are stored. Nothing of the failed
// requests is in the stream, every stored result names its message, and
// the chains are intact.
func TestPipelinedRequestFailingForGood(t *testing.T) {
	e, other, ctx := twoWriters(t)
	const requests, size = 6, 40
	reqs := assessmentRequests(t, requests, size)
	// Unit 13306 is at version 1 after the hierarchy, and each request adds
	// size/2 events to it.
	v := uint64(1 + 2*size/2)
	reqs[2][0].ExpectedVersion = &v
	sent := 0
	ledger.SetBeforeSend(e.l, func(units []string) {
		sent++
		if sent == 3 {
			mustAppend(t, other, assess(t, "13306", "2019-12-31", "2", "not_met"))
		}
	})
	pending := make([]*ledger.Pending, 0, requests)
	for r, req := range reqs {
		p, err := e.l.AppendAsync(ctx, req)
		if err != nil {
			t.Fatalf("request %d: %v", r, err)
		}
		pending = append(pending, p)
	}
	all := make([][]ledger.Result, requests)
	for r, p := range pending {
		res, err := p.Wait(ctx)
		switch r {
		case 2:
			if !errors.Is(err, ledger.ErrConflict) {
				t.Fatalf("request 2: err %v, want a conflict on expected_version", err)
			}
		case 3:
			if err == nil || !strings.Contains(err.Error(), "a request sent before it failed") {
				t.Fatalf("request 3: err %v, want a failure naming the request before it", err)
			}
		default:
			if err != nil {
				t.Fatalf("request %d: %v", r, err)
			}
		}
		all[r] = res
	}

	if got, want := lastSeq(t, e.srv.JS), uint64(len(hierarchy(t))+(requests-2)*size+1); got != want {
		t.Fatalf("stream holds %d messages, want %d", got, want)
	}
	stream, err := e.srv.JS.Stream(ctx, ledger.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	for r := range all {
		if r == 2 || r == 3 {
			continue // refused: the count above shows none of it was stored
		}
		if len(all[r]) != size {
			t.Fatalf("request %d: %d results", r, len(all[r]))
		}
		for i, x := range all[r] {
			m, err := stream.GetMsg(ctx, x.Seq)
			if err != nil {
				t.Fatal(err)
			}
			if id := m.Header.Get(jetstream.MsgIDHeader); id != x.ID {
				t.Fatalf("request %d event %d: result says seq %d holds %s, the stream has %s", r, i, x.Seq, x.ID, id)
			}
		}
	}
	if all[4][0].Seq <= all[1][size-1].Seq {
		t.Fatalf("request 4 starts at seq %d, before request 1 ends at %d", all[4][0].Seq, all[1][size-1].Seq)
	}
	rep, err := e.l.Verify(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || len(rep.Breaks) > 0 || rep.Events != int(lastSeq(t, e.srv.JS)) {
		t.Fatalf("verify: %+v", rep)
	}
}

// assessmentRequests returns n requests of size assessments each, split
// between the two communes of hierarchy, request r on month r+1 of 2020.
func assessmentRequests(t *testing.T, n, size int) [][]*events.Input {
	reqs := make([][]*events.Input, n)
	for r := range reqs {
		for i := range size {
			unit := []string{"13306", "13426"}[i%2]
			date := fmt.Sprintf("2020-%02d-%02d", 1+r, 1+i/2)
			reqs[r] = append(reqs[r], assess(t, unit, date, fmt.Sprint(1+i%19), "met"))
		}
	}
	return reqs
}

// twoWriters returns a ledger holding the hierarchy, another ledger on the
// same stream, and a context for the test.
func twoWriters(t *testing.T) (*env, *ledger.Ledger, context.Context) {
	e := setup(t)
	mustAppend(t, e.l, hierarchy(t)...)
	other := open(t, e.srv, t.TempDir(), 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return e, other, ctx
}
