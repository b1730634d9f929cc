// Package providerhttp is how the server talks to identity providers
// (discovery, keys, tokens, metadata): only to https addresses on public
// IP addresses, without following redirects, bounded in time and in the
// size of what it reads. An administrator who registers a provider thus
// cannot make the server reach its own network. For trials and tests,
// AllowPrivate also allows private addresses, and plain http on loopback.
package providerhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// MaxResponse bounds what is read of any answer of a provider.
const MaxResponse = 1 << 20

// ErrPrivate is the error of a connection to a non-public address.
var ErrPrivate = errors.New("providerhttp: the address is not a public one")

// CheckURL refuses addresses that are not https URLs (plain http only on a
// loopback host, with allowPrivate), or that carry credentials or a
// fragment; a query only when withQuery.
func CheckURL(raw string, allowPrivate, withQuery bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || (u.RawQuery != "" && !withQuery) {
		return errors.New("the address must be an absolute URL without credentials or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); allowPrivate && ((ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost") {
			return nil
		}
	}
	return errors.New("the address must be an https URL")
}

// notPublic are ranges that Go's IsGlobalUnicast accepts but that do not
// lead to the internet, or may lead back into a private network: shared
// address space, "this network", benchmarking, IETF protocol assignments,
// reserved; IPv4-compatible, NAT64 and 6to4 IPv6 (which embed an IPv4
// address, checked on its own), and deprecated site-local IPv6.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("fec0::/10"),
}

// public reports whether ip is an address on the internet.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Client returns a client for talking to providers.
func Client(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !public(ap.Addr()) {
			return ErrPrivate
		}
		return nil
	}}
	tr := &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 10 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second, MaxIdleConns: 20, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}
	return &http.Client{Timeout: 15 * time.Second, Transport: limitedTransport{tr},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
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

// Get reads a document (at most MaxResponse bytes; a larger one is an
// error) from an address CheckURL accepts.
func Get(ctx context.Context, client *http.Client, raw string, allowPrivate bool) ([]byte, error) {
	if err := CheckURL(raw, allowPrivate, true); err != nil {
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
		return nil, fmt.Errorf("the answer was %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if len(b) >= MaxResponse {
		return nil, fmt.Errorf("the answer is larger than %d bytes", MaxResponse-1)
	}
	return b, nil
}
