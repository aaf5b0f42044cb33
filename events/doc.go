// Package events is the vocabulary of the ledger: the event envelope, the v1
// event types of the public contract, their validation, their canonical
// encoding and the per-unit hash chain.
//
// The package does no I/O. Everything here is a pure function of its inputs,
// so the same bytes always validate, encode and hash the same way — which is
// what lets a projector rebuild byte-identical views and lets verify recompute
// a chain years later.
//
// # Canonical encoding
//
// A stored event is one JSON object whose fields appear in a fixed order:
//
//	id, type, unit, occurred_at, recorded_at, actor, document, data,
//	version, prev_hash, hash
//
// with the keys of actor, document and data sorted and no insignificant
// whitespace. hash is the hex SHA-256 of that object written without the hash
// field. prev_hash is the hash of the unit's previous event ("" for its first),
// so each unit's history is a chain that verify can recompute from the stream.
// The stream sequence (seq) is not part of the body: the stream assigns it and
// the stream's own metadata carries it.
//
// INVARIANT: Encode(Decode(b)) == b for every body this package produced.
package events
