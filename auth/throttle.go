package auth

import (
	"sync"
	"time"
)

// Throttle counts attempts per key (an account, an IP address) in a sliding
// window and refuses further attempts once a key reaches its limit, until
// the window has passed. An attempt is counted before it is made and taken
// back if it succeeds, so only failures stay counted. It is per process;
// each node throttles on its own.
type Throttle struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	fails  map[string][]time.Time
}

// NewThrottle allows limit attempts per key within window.
func NewThrottle(limit int, window time.Duration, now func() time.Time) *Throttle {
	return &Throttle{limit: limit, window: window, now: now, fails: map[string][]time.Time{}}
}

// Reserve counts an attempt for the key before it is made, so that
// attempts made in parallel are counted too. It returns how long the key
// must wait (and counts nothing) when it is at its limit; otherwise zero
// and a function that takes the attempt back, for an attempt that
// succeeded.
func (t *Throttle) Reserve(key string) (wait time.Duration, undo func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.prune(key)
	if len(fs) >= t.limit {
		return fs[0].Add(t.window).Sub(t.now()), func() {}
	}
	at := t.now()
	t.fails[key] = append(fs, at)
	if len(t.fails) > maxKeys {
		t.sweep()
	}
	return 0, func() { t.unfail(key, at) }
}

// unfail removes one attempt made at `at`.
func (t *Throttle) unfail(key string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.fails[key]
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Equal(at) {
			t.fails[key] = append(fs[:i:i], fs[i+1:]...)
			return
		}
	}
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

// maxKeys is how many keys may be tracked before expired ones are swept.
const maxKeys = 100_000

// sweep drops every key whose failures have all expired, bounding memory
// under a spray of addresses.
func (t *Throttle) sweep() {
	for k := range t.fails {
		t.prune(k)
	}
}
