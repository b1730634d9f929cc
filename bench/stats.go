package bench

import (
	"math"
	"slices"
	"time"
)

// Summary describes a set of latencies.
type Summary struct {
	N   int
	P50 time.Duration
	P99 time.Duration
	Max time.Duration
}

// Summarize sorts samples in place and returns their summary.
func Summarize(samples []time.Duration) Summary {
	slices.Sort(samples)
	s := Summary{N: len(samples), P50: Percentile(samples, 50), P99: Percentile(samples, 99)}
	if len(samples) > 0 {
		s.Max = samples[len(samples)-1]
	}
	return s
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted samples
// by the nearest-rank method: the smallest sample that at least p per cent
// of the samples are less than or equal to. It returns 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// recorder collects the latencies of one goroutine; merge them at the end.
type recorder struct {
	samples []time.Duration
	errors  int
	lastErr error
}

func (r *recorder) fail(err error) {
	r.errors++
	r.lastErr = err
}

// mergeRecorders returns all samples, the error count and one error.
func mergeRecorders(rs []*recorder) ([]time.Duration, int, error) {
	var all []time.Duration
	var n int
	var last error
	for _, r := range rs {
		all = append(all, r.samples...)
		n += r.errors
		if r.lastErr != nil {
			last = r.lastErr
		}
	}
	return all, n, last
}

// window is the measured part of a phase; what happens before start is
// warm-up and is not counted.
type window struct {
	start, end time.Time
}

func newWindow(warmup, d time.Duration) window {
	s := time.Now().Add(warmup)
	return window{start: s, end: s.Add(d)}
}

// holds reports whether t falls inside the window.
func (w window) holds(t time.Time) bool {
	return !t.Before(w.start) && t.Before(w.end)
}

func (w window) seconds() float64 { return w.end.Sub(w.start).Seconds() }
