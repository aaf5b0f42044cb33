// Package projections is the read side: Pebble views built from the event
// stream by projectors (package internal/projector), and the queries over
// them.
//
// # Views
//
//	s/<unit>            the unit's folded state (status is rendered from it)
//	h/<unit>/<version>  the unit's audit trail: stream seq + stored event body
//
// # Invariants
//
//   - Every view is a pure function of the event sequence: no wall clock, no
//     map iteration order, no randomness reaches a stored byte. A rebuild
//     from seq 1 (Replay) therefore yields a byte-identical database, which
//     is what the replay and crash tests check.
//   - The state of a unit is a fold of its events that does not depend on
//     the order in which facts about different business dates were recorded:
//     the newest assessment per criterion wins by (business date, stage,
//     seq), recognitions are intervals. So a status "as of" a date or "as
//     known at" a time is the same fold over a filtered history.
//   - A retraction takes the retracted event out of the fold; the event stays
//     in the history, marked.
package projections
