package jobs

import (
	"sync"
	"time"
)

// cache keeps recently loaded values for a short time, so a burst of
// deliveries for one event or one webhook reads the database (and unwraps
// secrets) once rather than once per delivery. It holds at most max
// entries; when full it starts over, which is cheap and bounds memory.
type cache[K comparable, V any] struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	m       map[K]cacheEntry[V]
	loading map[K]chan struct{} // closed when the load of K finishes
}

type cacheEntry[V any] struct {
	v       V
	expires time.Time
}

func newCache[K comparable, V any](ttl time.Duration, max int) *cache[K, V] {
	return &cache[K, V]{ttl: ttl, max: max, m: make(map[K]cacheEntry[V]), loading: make(map[K]chan struct{})}
}

// get returns the cached value of k, or loads, caches and returns it. One
// load runs per key at a time: the deliveries of one event, all claimed
// together, wait for the first one's load. Errors are not cached.
func (c *cache[K, V]) get(k K, load func() (V, error)) (V, error) {
	for {
		now := time.Now()
		c.mu.Lock()
		if e, ok := c.m[k]; ok && now.Before(e.expires) {
			c.mu.Unlock()
			return e.v, nil
		}
		wait, busy := c.loading[k]
		if !busy {
			done := make(chan struct{})
			c.loading[k] = done
			c.mu.Unlock()
			return c.load(k, now, done, load)
		}
		c.mu.Unlock()
		<-wait // then look again: cached, or load it ourselves if it failed
	}
}

// load runs one load of k and lets its waiters go even if load panics
// (the runner turns an action's panic into a failed attempt; the next
// delivery with k must not wait forever).
func (c *cache[K, V]) load(k K, now time.Time, done chan struct{}, load func() (V, error)) (v V, err error) {
	returned := false // false while panicking
	defer func() {
		c.mu.Lock()
		delete(c.loading, k)
		if returned && err == nil {
			if len(c.m) >= c.max {
				clear(c.m)
			}
			c.m[k] = cacheEntry[V]{v: v, expires: now.Add(c.ttl)}
		}
		c.mu.Unlock()
		close(done)
	}()
	v, err = load()
	returned = true
	return v, err
}
