// Package testoidc runs a real OpenID provider for tests: zitadel/oidc's
// certified op package over its in-memory example storage, on a loopback
// port, with the users and the one client a test asks for.
package testoidc

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// User is an account at the provider.
type User struct {
	ID            string
	Username      string
	Password      string
	FirstName     string
	LastName      string
	Email         string
	EmailVerified bool
}

// Provider is a running OpenID provider with one confidential client.
// A relying party learns its redirect URI only once it knows the provider
// (its callback names the provider's id), so the client's redirect URIs
// are registered afterwards, with Allow.
type Provider struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	t            testing.TB
	list         []User
	redirects    []string
	handler      atomic.Pointer[http.Handler]
}

// Start runs a provider with these users.
func Start(t testing.TB, users ...User) *Provider {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	p := &Provider{Issuer: issuer, ClientID: "atrium-test", ClientSecret: "provider-secret-for-tests", t: t, list: users}
	p.build()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*p.handler.Load()).ServeHTTP(w, r) })
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// AddUser adds an account. The provider starts afresh, as with Allow.
func (p *Provider) AddUser(u User) {
	p.list = append(p.list, u)
	p.build()
}

// userStore writes the users where the example storage reads them.
func (p *Provider) userStore() storage.UserStore {
	m := map[string]*storage.User{}
	for _, u := range p.list {
		m[u.ID] = &storage.User{ID: u.ID, Username: u.Username, Password: u.Password, FirstName: u.FirstName,
			LastName: u.LastName, Email: u.Email, EmailVerified: u.EmailVerified}
	}
	b, err := json.Marshal(m)
	if err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(p.t.TempDir(), "users.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		p.t.Fatal(err)
	}
	us, err := storage.StoreFromFile(path)
	if err != nil {
		p.t.Fatal(err)
	}
	return us
}

// build makes the provider anew with the client's redirect URIs so far.
func (p *Provider) build() {
	redirects := append([]string{p.Issuer + "/nowhere"}, p.redirects...)
	st := storage.NewStorageWithClients(p.userStore(), map[string]*storage.Client{
		p.ClientID: storage.WebClient(p.ClientID, p.ClientSecret, redirects...),
	})
	h := http.Handler(exampleop.SetupServer(p.Issuer, st, nil, false))
	p.handler.Store(&h)
}

// Allow registers a redirect URI for the client. The provider starts
// afresh (new signing keys, no sign-ins in flight): call it before
// sign-ins, not during one.
func (p *Provider) Allow(redirectURI string) {
	p.redirects = append(p.redirects, redirectURI)
	p.build()
}

// noRedirects makes a client stop at each redirect.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// SignIn plays a browser (browser: a client with a cookie jar) that was
// sent to authURL: it follows the provider's redirects, fills in its
// sign-in form, and returns the address the provider finally sends the
// browser to (the relying party's callback), without visiting it.
func (p *Provider) SignIn(browser *http.Client, authURL, username, password string) (*url.URL, error) {
	c := *browser
	c.CheckRedirect = noRedirects
	next, err := url.Parse(authURL)
	if err != nil {
		return nil, err
	}
	for range 10 {
		if !strings.HasPrefix(next.String(), p.Issuer+"/") {
			return next, nil
		}
		var resp *http.Response
		if next.Path == "/login/username" {
			id := next.Query().Get("authRequestID")
			resp, err = c.PostForm(p.Issuer+"/login/username", url.Values{"id": {id}, "username": {username}, "password": {password}})
		} else {
			resp, err = c.Get(next.String())
		}
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther || loc == "" {
			return nil, fmt.Errorf("testoidc: %s answered %d: %.300s", next.Path, resp.StatusCode, body)
		}
		if next, err = resp.Request.URL.Parse(loc); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("testoidc: too many redirects")
}
