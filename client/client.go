package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Client speaks to one Atrium server as one signed-in session. It is safe
// for concurrent use.
type Client struct {
	base      *url.URL
	hc        *http.Client
	userAgent string
	retry     retryPolicy

	mu    sync.RWMutex
	token string
}

// Option configures a Client made by New.
type Option func(*Client)

// WithHTTPClient makes the client send its requests, and open the event
// stream, through hc instead of http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.hc = hc }
}

// WithToken signs the client in with a session token obtained earlier.
func WithToken(token string) Option {
	return func(c *Client) { c.token = token }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithRetries sets how many times a request that is safe to repeat is sent
// again after a network failure or a 502/503/504 answer (default 3), and
// the wait before the first retry, which doubles on each further one
// (default 100ms). Zero retries turns retrying off.
func WithRetries(n int, firstWait time.Duration) Option {
	return func(c *Client) {
		c.retry.attempts = max(n, 0)
		if firstWait > 0 {
			c.retry.wait = firstWait
		}
	}
}

// New returns a client for the server at baseURL, e.g.
// "https://atrium.example.com" (the API's /api/v1 prefix is added by the
// client).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("atrium: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("atrium: base URL %q must be http:// or https:// with a host", baseURL)
	}
	c := &Client{base: u, hc: http.DefaultClient, userAgent: "atrium-go-client",
		retry: defaultRetryPolicy()}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Token returns the session token the client sends, or "" when signed out.
func (c *Client) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// SetToken replaces the session token the client sends.
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = token
}

// request is one API call.
type request struct {
	method string
	path   string // below the base URL, already escaped, e.g. "/api/v1/binders/ID"
	query  url.Values
	body   any    // encoded as JSON when non-nil
	key    string // the Idempotency-Key header, if any
	retry  bool   // safe to send again after a network failure
}

// do sends r, retrying as its policy allows, and decodes a successful
// response's JSON body into out (unless out is nil).
func (c *Client) do(ctx context.Context, r *request, out any) error {
	body, err := encodeBody(r.body)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.send(ctx, r, body)
		if !r.retry || attempt >= c.retry.attempts || !retryable(ctx, resp, err) {
			if err != nil {
				return err
			}
			return decodeResponse(resp, out)
		}
		discard(resp)
		if err := sleep(ctx, c.retry.backoff(attempt)); err != nil {
			return err
		}
	}
}

func encodeBody(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("atrium: encode request: %w", err)
	}
	return b, nil
}

// send makes one attempt of r.
func (c *Client) send(ctx context.Context, r *request, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.url(r.path, r.query), rd)
	if err != nil {
		return nil, fmt.Errorf("atrium: %w", err)
	}
	c.setHeaders(req.Header)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	return c.hc.Do(req)
}

// setHeaders adds what every request, the event stream's too, carries.
func (c *Client) setHeaders(h http.Header) {
	if t := c.Token(); t != "" {
		h.Set("Authorization", "Bearer "+t)
	}
	if c.userAgent != "" {
		h.Set("User-Agent", c.userAgent)
	}
}

// url returns the absolute URL of an API path.
func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.RawPath = c.base.EscapedPath() + path
	u.Path, _ = url.PathUnescape(u.RawPath)
	u.RawQuery = q.Encode()
	return u.String()
}

// decodeResponse turns an error status into an *Error and otherwise
// decodes the JSON body into out.
func decodeResponse(resp *http.Response, out any) error {
	defer discard(resp)
	if resp.StatusCode >= 400 {
		return errorFromResponse(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("atrium: decode %d response: %w", resp.StatusCode, err)
	}
	return nil
}

// discard drains and closes a response body so its connection is reused.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// pathf builds an API path, escaping each argument as one path segment.
func pathf(format string, segments ...string) string {
	args := make([]any, len(segments))
	for i, s := range segments {
		args[i] = url.PathEscape(s)
	}
	return fmt.Sprintf(format, args...)
}
