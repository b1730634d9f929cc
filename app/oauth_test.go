package app_test

import (
	"context"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

// One address starts a bounded number of OAuth authorization requests in
// their lifetime; another address is not held back by it.
func TestOAuthRequestsPerAddress(t *testing.T) {
	w := newFileWorld(t, "sqlite", 0)
	a := w.a
	created, err := a.CreateOAuthApp(w.owner, app.CreateOAuthAppInput{Name: "Reports", RedirectURIs: []string{"https://r.example/cb"},
		Scopes: []string{atrium.ScopeBindersRead}})
	must(t, err)
	from := func(ip string) context.Context {
		return atrium.WithClientInfo(context.Background(), atrium.ClientInfo{IP: ip})
	}
	for i := range 600 {
		if _, err := a.StartOAuthRequest(from("203.0.113.7"), created.ID, []byte(`{}`)); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if _, err := a.StartOAuthRequest(from("203.0.113.7"), created.ID, []byte(`{}`)); atrium.ErrorCode(err) != atrium.ERateLimited {
		t.Fatalf("the 601st request from one address: %v", err)
	}
	if _, err := a.StartOAuthRequest(from("203.0.113.8"), created.ID, []byte(`{}`)); err != nil {
		t.Fatalf("a request from another address: %v", err)
	}
}
