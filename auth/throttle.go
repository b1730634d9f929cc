package auth

import (
	"sync"
	"time"
)

// Throttle counts failures per key (an account, an IP address) in a sliding
// window and refuses further attempts once a key reaches its limit, until
// the window has passed. It is per process; each node throttles on its own.
type Throttle struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	fails  map[string][]time.Time
}

// NewThrottle allows limit failures per key within window.
func NewThrottle(limit int, window time.Duration, now func() time.Time) *Throttle {
	return &Throttle{limit: limit, window: window, now: now, fails: map[string][]time.Time{}}
}

// Check returns how long the key must wait before trying again; zero if it
// may try now.
func (t *Throttle) Check(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.prune(key)
	if len(fs) < t.limit {
		return 0
	}
	return fs[0].Add(t.window).Sub(t.now())
}

// Fail records a failed attempt for the key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.prune(key)
	t.fails[key] = append(fs, t.now())
	if len(t.fails) > 100_000 {
		t.sweep()
	}
}

// Reset forgets a key's failures (after a success).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, key)
}

func (t *Throttle) prune(key string) []time.Time {
	fs := t.fails[key]
	cut := t.now().Add(-t.window)
	i := 0
	for i < len(fs) && !fs[i].After(cut) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.fails, key)
		return nil
	}
	t.fails[key] = fs
	return fs
}

// sweep drops every key whose failures have all expired, bounding memory
// under a spray of addresses.
func (t *Throttle) sweep() {
	for k := range t.fails {
		t.prune(k)
	}
}
