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
		tls               bool
		rpID, origin      string
	}{
		{"127.0.0.1:8080", "", false, "localhost", "http://localhost:8080"},
		{"localhost:8443", "", true, "localhost", "https://localhost:8443"},
		{"0.0.0.0:443", "https://atrium.example.com", true, "atrium.example.com", "https://atrium.example.com"},
		{"0.0.0.0:8080", "https://atrium.example.com:8443/", false, "atrium.example.com", "https://atrium.example.com:8443"},
		{"0.0.0.0:443", "", true, "", ""},
	} {
		cfg := &serveConfig{listen: c.listen, publicURL: c.publicURL, tlsSelfSigned: c.tls}
		got := cfg.webAuthn()
		if got.RPID != c.rpID || (c.origin == "" && len(got.Origins) != 0) || (c.origin != "" && !slices.Equal(got.Origins, []string{c.origin})) {
			t.Errorf("listen %s, public URL %q: %+v, want %s %s", c.listen, c.publicURL, got, c.rpID, c.origin)
		}
	}
}
