package bench

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// PostResult is one closed-loop posting phase: each client posts its next
// message as soon as the previous one is answered.
type PostResult struct {
	Clients int
	Shared  bool // all clients post into one binder (else one binder each)
	Posts   int  // posts answered 201 within the measured window
	Errors  int
	LastErr string
	Seconds float64 // the measured window
	Latency Summary
	CPU     CPUUse
}

// Name describes the phase.
func (r PostResult) Name() string {
	where := "own binders"
	if r.Shared {
		where = "one binder"
	}
	if r.Clients == 1 {
		return "1 client"
	}
	return strconv.Itoa(r.Clients) + " clients, " + where
}

// Rate is the posts per second over the window.
func (r PostResult) Rate() float64 { return perSecond(r.Posts, r.Seconds) }

// ServerCPUPerPost is the server's CPU time divided by the posts.
func (r PostResult) ServerCPUPerPost() time.Duration { return perItem(r.CPU.Server, r.Posts) }

// DBCPUPerPost is the PostgreSQL backends' CPU time divided by the posts.
func (r PostResult) DBCPUPerPost() time.Duration { return perItem(r.CPU.DB, r.Posts) }

func perSecond(n int, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
}

func perItem(d time.Duration, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return d / time.Duration(n)
}

// messageText is a message of typical length.
func messageText(client, n int) string {
	return "Bench message " + strconv.Itoa(n) + " from client " + strconv.Itoa(client) +
		": the quarterly statements are attached; please review them before Friday."
}

// runPosts runs one posting phase: client i posts as ss[i] into binders[i].
func runPosts(ctx context.Context, c *Config, a *api, smp sampler, ss []session, binders []string) PostResult {
	win := newWindow(c.Warmup, c.Duration)
	recs := make([]*recorder, len(ss))
	var wg sync.WaitGroup
	for i := range ss {
		recs[i] = &recorder{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			postLoop(ctx, a, i, ss[i], binders[i], win, recs[i])
		}()
	}
	cpu := measureCPU(ctx, smp, win)
	wg.Wait()
	samples, errs, last := mergeRecorders(recs)
	r := PostResult{Clients: len(ss), Shared: len(ss) > 1 && binders[0] == binders[1],
		Posts: len(samples), Errors: errs, Seconds: win.seconds(), Latency: Summarize(samples), CPU: cpu}
	if last != nil {
		r.LastErr = last.Error()
	}
	return r
}

// postLoop posts until the window ends, recording the posts that finish
// inside it.
func postLoop(ctx context.Context, a *api, client int, s session, binder string, win window, rec *recorder) {
	for n := 0; ctx.Err() == nil; n++ {
		t0 := time.Now()
		if !t0.Before(win.end) {
			return
		}
		err := a.post(ctx, s, binder, messageText(client, n))
		t1 := time.Now()
		switch {
		case !win.holds(t1):
		case err != nil:
			rec.fail(err)
		default:
			rec.samples = append(rec.samples, t1.Sub(t0))
		}
	}
}

// measureCPU snapshots CPU use at the window's start and end.
func measureCPU(ctx context.Context, smp sampler, win window) CPUUse {
	sleepUntil(ctx, win.start)
	a := smp.snap()
	sleepUntil(ctx, win.end)
	return smp.snap().since(a)
}

func sleepUntil(ctx context.Context, t time.Time) {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}
