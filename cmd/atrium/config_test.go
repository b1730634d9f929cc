package main

import (
	"slices"
	"testing"
)

// The server names itself as a WebAuthn relying party by its public URL,
// or as localhost when it listens on loopback; otherwise passkeys are off.
func TestWebAuthnRelyingParty(t *testing.T) {
	for _, c := range []struct {
		listen, publicURL string
		tls, proxy        bool
		rpID, origin      string
	}{
		{"127.0.0.1:8080", "", false, false, "localhost", "http://localhost:8080"},
		{"localhost:8443", "", true, false, "localhost", "https://localhost:8443"},
		{"0.0.0.0:443", "https://atrium.example.com", true, false, "atrium.example.com", "https://atrium.example.com"},
		{"0.0.0.0:8080", "https://atrium.example.com:8443/", false, true, "atrium.example.com", "https://atrium.example.com:8443"},
		{"0.0.0.0:443", "", true, false, "", ""},
		{"127.0.0.1:8080", "", false, true, "", ""},                        // behind a proxy: the browser's host is unknown
		{"0.0.0.0:8080", "http://atrium.example.com", false, true, "", ""}, // browsers refuse passkeys over http
		{"0.0.0.0:8080", "https://Atrium.Example.com", false, true, "atrium.example.com", "https://atrium.example.com"},
	} {
		cfg := &serveConfig{listen: c.listen, publicURL: c.publicURL, tlsSelfSigned: c.tls, behindProxy: c.proxy}
		got := cfg.webAuthn()
		if got.RPID != c.rpID || (c.origin == "" && len(got.Origins) != 0) || (c.origin != "" && !slices.Equal(got.Origins, []string{c.origin})) {
			t.Errorf("listen %s, public URL %q: %+v, want %s %s", c.listen, c.publicURL, got, c.rpID, c.origin)
		}
	}
}
