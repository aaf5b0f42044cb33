// Package ledger is the write side of ntmledger: it checks each request
// against the rulebook and the units' current state, stamps the events
// (recorded_at, version, hash chain) and appends them to the NTM_EVENTS
// JetStream stream.
//
// # Invariants
//
//   - A request is all-or-nothing. A single event is one publish; several are
//     one JetStream atomic batch (at most MaxBatch). A request that fails any
//     check stores nothing.
//   - Every append carries Nats-Expected-Last-Subject-Sequence for the first
//     event of each unit in it — the subject sequence its prev_hash was
//     computed from — so a unit's hash chain can never fork, even with
//     several writers on several nodes. The client's expected_version is
//     checked on top.
//   - Idempotency holds forever: Nats-Msg-Id is the event id (the stream's
//     duplicate window catches a concurrent retry), and the write-side index
//     answers for ids older than the window. Same id and same content returns
//     the original result; same id and other content is a conflict.
//   - The write-side index is a projection of the stream (package projector),
//     never a second write that could diverge from it. Before checking a
//     request the ledger waits for the index to reach the stream's last
//     sequence; after appending, for it to reach the new events.
package ledger
