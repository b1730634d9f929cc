// Package providerhttp is how the server talks to identity providers:
// only to https addresses (plain http only on a loopback host, for trials
// and tests), bounded in time and in the size of what it reads.
package providerhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// MaxResponse bounds what is read of any answer of a provider.
const MaxResponse = 1 << 20

// CheckURL refuses addresses that are not https URLs (plain http only on
// a loopback host), or that carry credentials, a query or a fragment.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("the address must be an absolute URL without credentials, query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
			return nil
		}
	}
	return errors.New("the address must be an https URL")
}

// Client returns a client for talking to providers through base (nil:
// the default transport).
func Client(base http.RoundTripper) *http.Client {
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{Timeout: 15 * time.Second, Transport: limitedTransport{base}}
}

type limitedTransport struct{ base http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = limitedBody{io.LimitReader(resp.Body, MaxResponse), resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// Get reads a document from a checked address (at most MaxResponse bytes;
// a larger one is an error).
func Get(ctx context.Context, client *http.Client, raw string) ([]byte, error) {
	if err := CheckURL(raw); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %d", raw, resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if len(b) >= MaxResponse {
		return nil, fmt.Errorf("%s answered more than %d bytes", raw, MaxResponse-1)
	}
	return b, nil
}
