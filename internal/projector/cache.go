package projector

// Cache is a bounded map for what a projector (or its applier) keeps
// between batches so it need not read and decode it again from Pebble: chain
// heads, folded unit states. It is used by one goroutine. When full, an
// arbitrary entry makes room: what is evicted is read from the database
// again, so eviction costs time, never correctness.
type Cache[V any] struct {
	max int
	m   map[string]V
}

// NewCache returns a cache holding up to max entries.
func NewCache[V any](max int) *Cache[V] {
	return &Cache[V]{max: max, m: make(map[string]V, min(max, 4096))}
}

// Get returns the entry of key.
func (c *Cache[V]) Get(key string) (V, bool) {
	v, ok := c.m[key]
	return v, ok
}

// Put stores the entry of key.
func (c *Cache[V]) Put(key string, v V) {
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = v
}

// Delete forgets the entry of key.
func (c *Cache[V]) Delete(key string) { delete(c.m, key) }

// Clear empties the cache.
func (c *Cache[V]) Clear() { clear(c.m) }

// Len is the number of entries.
func (c *Cache[V]) Len() int { return len(c.m) }
