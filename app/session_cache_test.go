package app

import (
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
)

// An entry read before a clear is not cached after it: it may predate the
// revocation or wipe that cleared the cache.
func TestSessionCacheDropsEntriesReadBeforeAClear(t *testing.T) {
	c := newSessionCache()
	now := time.Now()
	e := cachedSession{user: &atrium.User{ID: "u"}, session: &atrium.Session{ExpiresAt: now.Add(time.Hour)}, until: now.Add(time.Second)}
	gen := c.generation()
	c.clear() // a wipe commits while the entry is being read
	c.put("h", e, gen)
	if _, ok := c.get("h", now); ok {
		t.Fatal("a stale entry was cached")
	}
	c.put("h", e, c.generation())
	if _, ok := c.get("h", now); !ok {
		t.Fatal("a fresh entry was not cached")
	}
}
