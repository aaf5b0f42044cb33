package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/ntmledger/ntmledger/events"
	"github.com/ntmledger/ntmledger/ledger"
)

// Events prepared ahead of the ledger's lock are stored as the same events
// appended plainly would be; a Prepared does not change with the Input it
// was made from; bad events and ids are refused as Append refuses them.
func TestPreparedEvents(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	in := hierarchy(t)
	in = append(in, assess(t, "13306", "2019-10-01", "1", "met"))
	ps := make([]*ledger.Prepared, len(in))
	for i, x := range in {
		p, err := ledger.PrepareEvent(x)
		if err != nil {
			t.Fatalf("prepare %d: %v", i, err)
		}
		ps[i] = p
	}
	// Changing the inputs afterwards changes nothing prepared.
	in[4].Unit = "13426"
	in[4].Data = json.RawMessage(`{"tier":"ntm","criterion":"2","status":"not_met","stage":"province"}`)

	id := events.NewID()
	withID, err := ps[4].WithID(id)
	if err != nil {
		t.Fatal(err)
	}
	if ps[4].ID() != "" || withID.ID() != id || withID.Content() != ps[4].Content() {
		t.Errorf("WithID changed the original (%q) or lost the content", ps[4].ID())
	}
	if _, err := withID.WithID(events.NewID()); err == nil {
		t.Error("a second id was accepted")
	}
	if _, err := ps[3].WithID("not-a-ulid"); err == nil {
		t.Error("an id that is not a ULID was accepted")
	}
	ps[4] = withID

	p, err := e.l.AppendPreparedAsync(ctx, ps)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res[4].ID != id || res[4].Unit != "13306" || res[4].Version != 2 || res[4].Seq != 5 {
		t.Errorf("the assessment was stored as %+v", res[4])
	}
	// The same events again are duplicates, prepared or plain.
	again, err := e.l.Append(ctx, []*events.Input{assessWithID(t, id)})
	if err != nil || !again[0].Duplicate || again[0].Seq != 5 {
		t.Errorf("plain retry of the prepared event: %+v, %v", again, err)
	}

	// Refusals name the event.
	bad := assess(t, "13306", "2019-02-31", "1", "met")
	if _, err := ledger.PrepareEvent(bad); err == nil {
		t.Error("an event on 31 February was prepared")
	}
	twice := []*ledger.Prepared{withID, withID}
	var fe *events.FieldError
	if _, err := e.l.AppendPreparedAsync(ctx, twice); !errors.As(err, &fe) || fe.Index != 1 || fe.Field != "id" {
		t.Errorf("one id twice in a request: %v", err)
	}
	if _, err := e.l.AppendPreparedAsync(ctx, nil); !errors.As(err, &fe) {
		t.Errorf("an empty request: %v", err)
	}
}

func assessWithID(t *testing.T, id string) *events.Input {
	in := assess(t, "13306", "2019-10-01", "1", "met")
	in.ID = id
	return in
}
