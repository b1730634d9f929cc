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

func (c *sessionCache) put(hash string, e cachedSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
}
