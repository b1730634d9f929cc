package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/coder/websocket"
)

// MemSample is the server's memory at one moment, read right after a
// garbage collection.
type MemSample struct {
	HeapInuse  uint64 // go_memstats_heap_inuse_bytes
	StackInuse uint64 // go_memstats_stack_inuse_bytes
	RSS        uint64 // VmRSS from /proc/<pid>/status
	Goroutines int
	Streams    int  // atrium_websockets_open
	AfterGC    bool // the collections were seen before the sample
}

// IdleResult is the idle phase: event streams opened and left idle.
type IdleResult struct {
	Sockets       int // asked for
	Opened        int
	Before, After MemSample
}

func (r IdleResult) per(before, after uint64) float64 {
	if r.Opened == 0 {
		return 0
	}
	return (float64(after) - float64(before)) / float64(r.Opened)
}

// HeapStackPerSocket is the growth of the Go heap and stacks in use per
// open stream, in bytes.
func (r IdleResult) HeapStackPerSocket() float64 {
	return r.per(r.Before.HeapInuse+r.Before.StackInuse, r.After.HeapInuse+r.After.StackInuse)
}

// HeapPerSocket and StackPerSocket split HeapStackPerSocket.
func (r IdleResult) HeapPerSocket() float64 { return r.per(r.Before.HeapInuse, r.After.HeapInuse) }

// StackPerSocket is the growth of goroutine stacks per open stream.
func (r IdleResult) StackPerSocket() float64 { return r.per(r.Before.StackInuse, r.After.StackInuse) }

// RSSPerSocket is the growth of the resident set per open stream, in
// bytes; kernel socket buffers are not in it.
func (r IdleResult) RSSPerSocket() float64 { return r.per(r.Before.RSS, r.After.RSS) }

// GoroutinesPerSocket is the server goroutines each open stream holds.
func (r IdleResult) GoroutinesPerSocket() float64 {
	return r.per(uint64(r.Before.Goroutines), uint64(r.After.Goroutines))
}

// runIdle opens n idle event streams, round-robin over the sessions, and
// reads the server's memory before and after.
func runIdle(ctx context.Context, a *api, pid int, ss []session, n int) (IdleResult, error) {
	r := IdleResult{Sockets: n}
	var err error
	if r.Before, err = sampleMemory(ctx, a, pid); err != nil {
		return r, err
	}
	conns := make([]*websocket.Conn, n)
	defer closeAll(conns)
	err = parallel(ctx, n, 32, func(i int) (err error) {
		conns[i], err = a.openStream(ctx, ss[i%len(ss)])
		if err == nil {
			conns[i].CloseRead(context.WithoutCancel(ctx)) // answer pings, expect nothing
		}
		return err
	})
	if err != nil {
		return r, err
	}
	r.Opened = n
	time.Sleep(time.Second)
	if r.After, err = sampleMemory(ctx, a, pid); err != nil {
		return r, err
	}
	if got := r.After.Streams - r.Before.Streams; got != n {
		return r, fmt.Errorf("idle: the server counts %d new streams, not %d", got, n)
	}
	return r, nil
}

func closeAll(conns []*websocket.Conn) {
	for _, c := range conns {
		if c != nil {
			c.CloseNow()
		}
	}
}

// gcCycles is how many garbage collections sampleMemory waits for: the
// first frees the garbage of what came before, the next ones also shrink
// goroutine stacks that grew during a handshake and are mostly unused,
// which a long-running server does on its own.
const gcCycles = 3

// sampleMemory makes the server collect garbage gcCycles times, by
// scraping /metrics (which allocates) until the collection count has moved
// that much, waits for the sweeper to return the freed spans, and then
// reads its memory.
func sampleMemory(ctx context.Context, a *api, pid int) (MemSample, error) {
	m, err := a.metrics(ctx)
	if err != nil {
		return MemSample{}, err
	}
	want := m["go_gc_duration_seconds_count"] + gcCycles
	deadline := time.Now().Add(30 * time.Second)
	var s MemSample
	for time.Now().Before(deadline) && !s.AfterGC {
		if m, err = a.metrics(ctx); err != nil {
			return s, err
		}
		s.AfterGC = m["go_gc_duration_seconds_count"] >= want
	}
	time.Sleep(time.Second) // let the background sweeper free the dead spans
	if m, err = a.metrics(ctx); err != nil {
		return s, err
	}
	s.HeapInuse, s.StackInuse = uint64(m["go_memstats_heap_inuse_bytes"]), uint64(m["go_memstats_stack_inuse_bytes"])
	s.Goroutines, s.Streams = int(m["go_goroutines"]), int(m["atrium_websockets_open"])
	s.RSS, err = processRSS(pid)
	return s, err
}
