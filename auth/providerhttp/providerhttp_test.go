package providerhttp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	for _, c := range []struct {
		url                     string
		allowPrivate, withQuery bool
		ok                      bool
	}{
		{"https://idp.example.com", false, false, true},
		{"https://idp.example.com/x?a=1", false, false, false},
		{"https://idp.example.com/x?a=1", false, true, true},
		{"http://idp.example.com", true, false, false},
		{"http://127.0.0.1:8080", false, false, false},
		{"http://127.0.0.1:8080", true, false, true},
		{"http://localhost", true, false, true},
		{"https://user:pw@idp.example.com", false, false, false},
		{"https://idp.example.com/#x", false, false, false},
		{"ftp://idp.example.com", true, false, false},
		{"/relative", true, false, false},
	} {
		if err := CheckURL(c.url, c.allowPrivate, c.withQuery); (err == nil) != c.ok {
			t.Errorf("CheckURL(%q, %v, %v) = %v, want ok %v", c.url, c.allowPrivate, c.withQuery, err, c.ok)
		}
	}
}

// The client does not reach loopback (or other private) addresses unless
// allowed, does not follow redirects, and reads bounded answers.
func TestClient(t *testing.T) {
	big := strings.Repeat("x", MaxResponse+10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/doc", http.StatusFound)
		case "/big":
			_, _ = w.Write([]byte(big))
		default:
			_, _ = w.Write([]byte("doc"))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if _, err := Client(false).Get(srv.URL); !errors.Is(err, ErrPrivate) {
		t.Fatalf("a loopback address, not allowed: %v", err)
	}
	c := Client(true)
	if b, err := Get(ctx, c, srv.URL+"/doc", true); err != nil || string(b) != "doc" {
		t.Fatalf("a document: %q %v", b, err)
	}
	if _, err := Get(ctx, c, srv.URL+"/moved", true); err == nil || !strings.Contains(err.Error(), "302") {
		t.Fatalf("a redirect was followed: %v", err)
	}
	if _, err := Get(ctx, c, srv.URL+"/big", true); err == nil {
		t.Fatal("an oversized answer was read whole")
	}
	if _, err := Get(ctx, c, srv.URL+"/doc", false); err == nil {
		t.Fatal("plain http was allowed without allowPrivate")
	}
}

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1::1": true,
		"127.0.0.1": false, "10.0.0.1": false, "192.168.1.1": false, "172.16.0.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.1": false, "198.18.0.1": false, "240.0.0.1": false, "::1": false, "fe80::1": false,
		"fd00::1": false, "::ffff:10.0.0.1": false, "64:ff9b::a00:1": false, "2002:a00:1::1": false, "::a00:1": false,
		"fec0::1": false, "224.0.0.1": false,
	} {
		if got := public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("public(%s) = %v, want %v", addr, got, want)
		}
	}
}
