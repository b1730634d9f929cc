package client

import (
	"context"
	crand "crypto/rand"
	"math/rand/v2"
	"net/http"
	"time"
)

// retryPolicy says how often and how patiently a request is repeated.
type retryPolicy struct {
	attempts int           // retries after the first attempt
	wait     time.Duration // before the first retry; doubles after
	maxWait  time.Duration
}

func defaultRetryPolicy() retryPolicy {
	return retryPolicy{attempts: 3, wait: 100 * time.Millisecond, maxWait: 5 * time.Second}
}

// backoff is the wait before retry number attempt+1: exponential, capped,
// with jitter so that many clients do not retry in step.
func (p retryPolicy) backoff(attempt int) time.Duration {
	return jitter(min(p.wait<<min(attempt, 20), p.maxWait))
}

// jitter returns a duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// retryable reports whether an attempt failed in a way that a repeat may
// cure: a network failure (not the caller's own cancellation) or a gateway
// or availability status.
func retryable(ctx context.Context, resp *http.Response, err error) bool {
	if err != nil {
		return ctx.Err() == nil
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// newIdempotencyKey returns a fresh random key for a creating request.
func newIdempotencyKey() string {
	return crand.Text()
}
