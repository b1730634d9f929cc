package app

import (
	"sync"
	"time"

	"github.com/atrium-dev/atrium"
)

// sessionCache remembers recently validated tokens for a short while, so a
// burst of requests does not read the session and user on every call.
// Logout, revocation and deactivation clear it: on this node at once, on
// other nodes when their broker reads the control event.
type sessionCache struct {
	mu      sync.Mutex
	entries map[string]cachedSession
	// gen counts clears: an entry read from the store before a clear is
	// not put after it (it may predate the change that cleared).
	gen uint64
}

type cachedSession struct {
	user     *atrium.User
	session  *atrium.Session
	features map[string]bool
	until    time.Time
}

// sessionCacheTTL bounds how stale a cached entry can be if a control
// event were ever missed.
const sessionCacheTTL = time.Second

const sessionCacheMax = 50_000

func newSessionCache() *sessionCache {
	return &sessionCache{entries: map[string]cachedSession{}}
}

func (c *sessionCache) get(hash string, now time.Time) (cachedSession, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || now.After(e.until) || !e.session.Live(now) {
		return cachedSession{}, false
	}
	return e, true
}

// generation returns the current generation, to pass to put.
func (c *sessionCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put remembers an entry read from the store during generation gen; it is
// dropped if the cache was cleared since.
func (c *sessionCache) put(hash string, e cachedSession, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= sessionCacheMax {
		clear(c.entries)
	}
	c.entries[hash] = e
}

// clear forgets every entry.
func (c *sessionCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.gen++
}
