package httpapi

import "sync"

// statusCache keeps encoded current-status responses by unit, each with
// the views' sequence it was rendered at. An entry answers only while the
// views still hold that sequence: any committed batch moves the sequence
// and every entry falls out of date at once, so a cached answer is always
// the one a fresh render would give (and carries the same as_of_seq).
// Dashboards read far more often than offices write; between two writes
// each unit is rendered and encoded once.
type statusCache struct {
	mu  sync.Mutex
	max int
	m   map[string]cachedStatus
}

type cachedStatus struct {
	seq  uint64
	body []byte
}

func newStatusCache(max int) *statusCache {
	return &statusCache{max: max, m: make(map[string]cachedStatus)}
}

// get returns the body cached for unit at seq.
func (c *statusCache) get(unit string, seq uint64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[unit]
	if !ok || e.seq != seq {
		return nil, false
	}
	return e.body, true
}

// put stores a body rendered at seq, unless a newer one is there.
func (c *statusCache) put(unit string, seq uint64, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[unit]; ok && e.seq > seq {
		return
	}
	if _, ok := c.m[unit]; !ok && len(c.m) >= c.max {
		clear(c.m) // full: start over (most entries are out of date by then)
	}
	c.m[unit] = cachedStatus{seq: seq, body: body}
}
