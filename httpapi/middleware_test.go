package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIPBelievesOnlyTrustedProxies(t *testing.T) {
	lan := netip.MustParsePrefix("10.0.0.0/8")
	cases := []struct {
		name   string
		cfg    Config
		peer   string
		xff    string
		want   string
		secure bool
	}{
		{"no proxy: the peer", Config{}, "203.0.113.5:4000", "198.51.100.1", "203.0.113.5", false},
		{"loopback proxy by default", Config{BehindProxy: true}, "127.0.0.1:4000", "198.51.100.1", "198.51.100.1", true},
		{"an untrusted peer's header is ignored", Config{BehindProxy: true}, "203.0.113.5:4000", "198.51.100.1", "203.0.113.5", false},
		{"a chain of trusted proxies", Config{BehindProxy: true, TrustedProxies: []netip.Prefix{lan}}, "10.0.0.2:4000",
			"198.51.100.1, 10.0.0.7", "198.51.100.1", true},
		{"a spoofed first hop stays spoofed only", Config{BehindProxy: true, TrustedProxies: []netip.Prefix{lan}}, "10.0.0.2:4000",
			"1.2.3.4, 198.51.100.1", "198.51.100.1", true},
		{"garbage in the header", Config{BehindProxy: true}, "[::1]:4000", "not-an-ip", "::1", true},
	}
	for _, c := range cases {
		s := &Server{cfg: c.cfg}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		r.Header.Set("X-Forwarded-For", c.xff)
		r.Header.Set("X-Forwarded-Proto", "https")
		if got := s.clientIP(r); got != c.want {
			t.Errorf("%s: client %q, want %q", c.name, got, c.want)
		}
		if got := s.secure(r); got != c.secure {
			t.Errorf("%s: secure %v, want %v", c.name, got, c.secure)
		}
	}
}
