package runcond

import "sync"

// cacheLimit bounds a Cache: past it the cache starts again empty (the
// automations of the projects logging now are parsed again once).
const cacheLimit = 10000

// Cache keeps conditions parsed from their stored text, so that logging
// batch after batch into a project with 1,000 metric automations parses
// each of them once rather than once a batch (1.5 µs each, measured). A
// parsed Config is never changed, so it is shared. The text is the key:
// an edited automation has new text and is parsed again. Safe for
// concurrent use; a nil Cache parses every time.
type Cache struct {
	mu    sync.Mutex
	byRaw map[cacheKey]*Config
}

type cacheKey struct{ typ, raw string }

// NewCache makes an empty Cache.
func NewCache() *Cache { return &Cache{byRaw: map[cacheKey]*Config{}} }

// Parse is Parse(typ, raw), from the cache when it was parsed before.
func (c *Cache) Parse(typ, raw string) (*Config, error) {
	if c == nil {
		return Parse(typ, raw)
	}
	k := cacheKey{typ, raw}
	c.mu.Lock()
	cfg, ok := c.byRaw[k]
	c.mu.Unlock()
	if ok {
		return cfg, nil
	}
	cfg, err := Parse(typ, raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.byRaw) >= cacheLimit {
		clear(c.byRaw)
	}
	c.byRaw[k] = cfg
	c.mu.Unlock()
	return cfg, nil
}
