package bench

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// DeliveryResult is the delivery phase: posts sent at a fixed rate
// (open loop: on schedule, whether or not earlier posts were answered)
// into a binder whose members listen on the event stream.
type DeliveryResult struct {
	Listeners   int
	Rate        int     // posts per second asked for
	Seconds     float64 // the measured window
	Posted      int     // posts sent in the window and answered 201
	PostErrors  int
	Skipped     int     // posts not sent because too many were still in flight
	Expected    int     // Posted × Listeners
	Received    int     // of those, the messages the listeners received
	Disconnects int     // listeners the server closed during the phase
	CloseReason string  // why, for one of them
	LastErr     string  // one failed post
	Latency     Summary // receipt time − send time, over every listener
	PostLatency Summary
	CPU         CPUUse
}

// SentRate is the posts per second actually sent and accepted.
func (r DeliveryResult) SentRate() float64 { return perSecond(r.Posted, r.Seconds) }

// ServerCPUPerPost is the server's CPU time, fan-out included, per post.
func (r DeliveryResult) ServerCPUPerPost() time.Duration { return perItem(r.CPU.Server, r.Posted) }

// sentMarker precedes a delivery probe's send time (Unix nanoseconds) in
// its text.
const sentMarker = "atrium-bench-sent="

func probeText(seq int, sent time.Time) string {
	return "Delivery probe " + strconv.Itoa(seq) + " " + sentMarker + strconv.FormatInt(sent.UnixNano(), 10) +
		": a new document is waiting for your signature."
}

// sentTime finds a probe's send time in an event frame.
func sentTime(frame []byte) (time.Time, bool) {
	i := bytes.Index(frame, []byte(sentMarker))
	if i < 0 {
		return time.Time{}, false
	}
	digits := frame[i+len(sentMarker):]
	n := 0
	for n < len(digits) && digits[n] >= '0' && digits[n] <= '9' {
		n++
	}
	ns, err := strconv.ParseInt(string(digits[:n]), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// listener reads one event stream and records the delay of every probe
// sent inside the window.
type listener struct {
	c        *websocket.Conn
	win      window
	samples  []time.Duration
	received atomic.Int64
	done     chan struct{}
	err      error // why the stream ended
}

func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	var buf bytes.Buffer
	for {
		_, r, err := l.c.Reader(ctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			l.err = err
			return
		}
		now := time.Now()
		if sent, ok := sentTime(buf.Bytes()); ok && l.win.holds(sent) {
			l.samples = append(l.samples, now.Sub(sent))
			l.received.Add(1)
		}
	}
}

// runDelivery connects the listeners, paces the posts, waits for the
// stragglers and closes the streams.
func runDelivery(ctx context.Context, c *Config, a *api, smp sampler, w *world) (DeliveryResult, error) {
	r := DeliveryResult{Listeners: len(w.listeners), Rate: c.Rate}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ls := make([]*listener, len(w.listeners))
	err := parallel(ctx, len(ls), 16, func(i int) error {
		conn, err := a.openStream(ctx, w.listeners[i])
		ls[i] = &listener{c: conn, done: make(chan struct{})}
		return err
	})
	defer closeListeners(ls)
	if err != nil {
		return r, err
	}
	time.Sleep(200 * time.Millisecond)
	win := newWindow(c.Warmup, c.Duration)
	for _, l := range ls {
		l.win = win
		go l.run(lctx)
	}
	p := &pacer{a: a, posters: w.posters, binder: w.live, win: win}
	p.wg.Add(1)
	go p.run(ctx, c.Rate)
	r.CPU = measureCPU(ctx, smp, win)
	p.wait()
	r.Seconds, r.Posted, r.Skipped = win.seconds(), len(p.rec.samples), p.skipped
	r.Expected = r.Posted * len(ls)
	awaitDelivery(ctx, ls, r.Expected, 5*time.Second)
	r.Disconnects, r.CloseReason = countDone(ls)
	cancel()
	finishDelivery(&r, p, ls)
	return r, nil
}

// awaitDelivery waits until the listeners have received n probes in all,
// or for at most patience.
func awaitDelivery(ctx context.Context, ls []*listener, n int, patience time.Duration) {
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		got := 0
		for _, l := range ls {
			got += int(l.received.Load())
		}
		if got >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countDone counts the listeners whose stream has already ended, and
// gives the reason of one.
func countDone(ls []*listener) (int, string) {
	n, reason := 0, ""
	for _, l := range ls {
		select {
		case <-l.done:
			n++
			reason = l.err.Error()
		default:
		}
	}
	return n, reason
}

func finishDelivery(r *DeliveryResult, p *pacer, ls []*listener) {
	var all []time.Duration
	for _, l := range ls {
		<-l.done
		all = append(all, l.samples...)
	}
	r.Received = len(all)
	r.Latency = Summarize(all)
	r.PostLatency = Summarize(p.rec.samples)
	r.PostErrors = p.rec.errors
	if p.rec.lastErr != nil {
		r.LastErr = p.rec.lastErr.Error()
	}
}

func closeListeners(ls []*listener) {
	for _, l := range ls {
		if l != nil && l.c != nil {
			l.c.CloseNow()
		}
	}
}

// maxInFlight bounds the posts waiting for an answer in the delivery
// phase; a post due while this many are outstanding is skipped and
// counted.
const maxInFlight = 1000

// pacer sends posts on a fixed schedule, round-robin over the posters.
type pacer struct {
	a       *api
	posters []session
	binder  string
	win     window

	wg      sync.WaitGroup
	mu      sync.Mutex
	rec     recorder
	skipped int
}

// run sends the schedule; the caller has added run itself to p.wg.
func (p *pacer) run(ctx context.Context, rate int) {
	defer p.wg.Done()
	interval := time.Second / time.Duration(rate)
	sem := make(chan struct{}, maxInFlight)
	start := time.Now()
	for seq := 0; ctx.Err() == nil; seq++ {
		at := start.Add(time.Duration(seq) * interval)
		if !at.Before(p.win.end) {
			return
		}
		sleepUntil(ctx, at)
		select {
		case sem <- struct{}{}:
		default:
			p.skip(at)
			continue
		}
		p.wg.Add(1)
		go func() {
			defer func() { <-sem; p.wg.Done() }()
			p.send(ctx, seq)
		}()
	}
}

func (p *pacer) send(ctx context.Context, seq int) {
	sent := time.Now()
	err := p.a.post(ctx, p.posters[seq%len(p.posters)], p.binder, probeText(seq, sent))
	took := time.Since(sent)
	if !p.win.holds(sent) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.rec.fail(err)
		return
	}
	p.rec.samples = append(p.rec.samples, took)
}

func (p *pacer) skip(at time.Time) {
	if p.win.holds(at) {
		p.mu.Lock()
		p.skipped++
		p.mu.Unlock()
	}
}

// wait returns when the schedule is done and every post is answered.
func (p *pacer) wait() { p.wg.Wait() }
