package integration_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/client"
)

// oauthWorld is an organisation with a third-party app registered, and
// the server's OAuth metadata.
type oauthWorld struct {
	*world
	app  *client.OAuthApp
	meta struct {
		Issuer      string   `json:"issuer"`
		Authorize   string   `json:"authorization_endpoint"`
		Token       string   `json:"token_endpoint"`
		Revoke      string   `json:"revocation_endpoint"`
		Introspect  string   `json:"introspection_endpoint"`
		PKCEMethods []string `json:"code_challenge_methods_supported"`
	}
}

const appRedirect = "https://app.example/cb"

func newOAuthWorld(t *testing.T, dialect string) *oauthWorld {
	w := &oauthWorld{world: newWorld(t, dialect)}
	w.app = call(w.anaC.CreateOAuthApp(ctxT(t), client.OAuthApp{Name: "Reporting app", RedirectURIs: []string{appRedirect},
		Scopes: []string{atrium.ScopeBindersRead, atrium.ScopeMessagesRead}})).must(t)
	resp, err := http.Get(w.srv.URL + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&w.meta); err != nil || w.meta.Issuer != w.srv.URL+"/oauth" {
		t.Fatalf("the metadata: %+v %v", w.meta, err)
	}
	return w
}

// config is the app's OAuth client configuration.
func (w *oauthWorld) config(scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: w.app.ID, ClientSecret: w.app.Secret, RedirectURL: appRedirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: w.meta.Authorize, TokenURL: w.meta.Token, AuthStyle: oauth2.AuthStyleInHeader}}
}

// authorize runs the browser's part: the authorization request, the
// consent page (signing in as email, allowing or not), and the redirect
// back; it returns the redirect's query.
func (w *oauthWorld) authorize(t *testing.T, authURL, email string, allow bool) url.Values {
	t.Helper()
	b := browser()
	resp, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.Path, "/oauth/consent") {
		t.Fatalf("authorize: %d to %v", resp.StatusCode, loc)
	}
	page, err := b.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), "Reporting app") || !strings.Contains(string(body), atrium.ScopeBindersRead) {
		t.Fatalf("the consent page: %d %.300s", page.StatusCode, body)
	}
	decision := "deny"
	if allow {
		decision = "allow"
	}
	resp, err = b.PostForm(loc.String(), url.Values{"id": {loc.Query().Get("authRequestID")}, "email": {email}, "password": {password}, "decision": {decision}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for i := 0; i < 5 && resp.StatusCode == http.StatusFound; i++ {
		next, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if strings.HasPrefix(next.String(), appRedirect) {
			return next.Query()
		}
		if resp, err = b.Get(next.String()); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	t.Fatalf("the consent did not lead back to the app: %d", resp.StatusCode)
	return nil
}

// api calls the API with an access token.
func (w *oauthWorld) api(t *testing.T, token, method, path string, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestOAuthCodeFlow: a third-party app gets a user's consent through the
// authorization code flow with PKCE, calls the API within its scopes,
// rotates its refresh token, and loses everything when a refresh token is
// played twice.
func TestOAuthCodeFlow(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newOAuthWorld(t, dialect)
		ctx := ctxScenario(t)
		conf := w.config(atrium.ScopeBindersRead, "offline_access")
		verifier := oauth2.GenerateVerifier()
		q := w.authorize(t, conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)), "ana@example.com", true)
		if q.Get("state") != "state-1" || q.Get("code") == "" {
			t.Fatalf("the redirect back: %v", q)
		}
		tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
			t.Fatalf("the exchange: %+v %v", tok, err)
		}
		if resp := w.api(t, tok.AccessToken, "GET", "/api/v1/binders", ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("listing binders with binders:read: %d", resp.StatusCode)
		}
		wantStatus(t, "posting without messages:write", w.api(t, tok.AccessToken, "POST", "/api/v1/binders/"+w.lobby.ID+"/messages", `{"text":"hi"}`),
			http.StatusForbidden, atrium.EScope)
		wantStatus(t, "a session-only endpoint", w.api(t, tok.AccessToken, "GET", "/api/v1/me/sessions", ""), http.StatusForbidden, atrium.EScope)
		// A code is exchanged once; played again, it revokes what it gave.
		if _, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("a code used twice: %v", err)
		}
		wantStatus(t, "a token of a code played twice", w.api(t, tok.AccessToken, "GET", "/api/v1/binders", ""), http.StatusUnauthorized, atrium.EUnauthorized)
		verifier = oauth2.GenerateVerifier()
		q = w.authorize(t, conf.AuthCodeURL("state-2", oauth2.S256ChallengeOption(verifier)), "ana@example.com", true)
		if tok, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatal(err)
		}

		// The refresh token rotates; the old one, played again, revokes
		// the whole grant.
		next, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("a refresh: %+v %v", next, err)
		}
		if resp := w.api(t, next.AccessToken, "GET", "/api/v1/binders", ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("the refreshed token: %d", resp.StatusCode)
		}
		if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Fatal("a refresh token used twice was accepted")
		}
		wantStatus(t, "a token of a revoked grant", w.api(t, next.AccessToken, "GET", "/api/v1/binders", ""), http.StatusUnauthorized, atrium.EUnauthorized)
		if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); err == nil {
			t.Fatal("the grant's newest refresh token still works after the reuse")
		}
	})
}

// TestOAuthRefusals: what a third-party app cannot do — a redirect URI
// that differs by a character or a trailing slash, a PKCE verifier that
// does not match, a public app without PKCE, a revoked or introspected
// token, another organisation's data, a denied consent, a revoked grant.
func TestOAuthRefusals(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newOAuthWorld(t, dialect)
		ctx := ctxScenario(t)
		conf := w.config(atrium.ScopeBindersRead, atrium.ScopeMessagesRead)

		// Redirect URIs match exactly: the authorization server answers
		// the browser itself, never redirecting to an unregistered address.
		for _, bad := range []string{appRedirect + "/", "https://app.example/cc", "https://app.example/cb?x=1"} {
			c := *conf
			c.RedirectURL = bad
			resp, err := browser().Get(c.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 4 || resp.Header.Get("Location") != "" {
				t.Fatalf("redirect URI %q: %d to %q", bad, resp.StatusCode, resp.Header.Get("Location"))
			}
		}

		// Someone who starts a request cannot have a victim approve it: the
		// consent is taken only in the browser that started it, and the
		// code is never handed out to whoever knows the request's id.
		attacker := browser()
		resp, err := attacker.Get(conf.AuthCodeURL("s1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		consent, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
		victim := browser()
		resp, err = victim.PostForm(consent.String(), url.Values{"id": {consent.Query().Get("authRequestID")}, "email": {"ana@example.com"},
			"password": {password}, "decision": {"allow"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "not started in this browser") {
			t.Fatalf("a consent in another browser than the one that started it: %d %.200s", resp.StatusCode, body)
		}
		resp, err = attacker.Get(w.srv.URL + "/oauth/authorize/callback?id=" + consent.Query().Get("authRequestID"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("the library's callback, which would hand out a code for a request id: %d", resp.StatusCode)
		}

		// A verifier that does not match the challenge.
		verifier := oauth2.GenerateVerifier()
		q := w.authorize(t, conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier)), "ana@example.com", true)
		if _, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("a wrong PKCE verifier: %v", err)
		}

		// A public app must use PKCE.
		public := call(w.anaC.CreateOAuthApp(ctx, client.OAuthApp{Name: "Phone app", Public: true, RedirectURIs: []string{"https://phone.example/cb"},
			Scopes: []string{atrium.ScopeBindersRead}})).must(t)
		if public.Secret != "" {
			t.Fatal("a public app was given a secret")
		}
		pc := oauth2.Config{ClientID: public.ID, RedirectURL: "https://phone.example/cb", Scopes: []string{atrium.ScopeBindersRead},
			Endpoint: oauth2.Endpoint{AuthURL: w.meta.Authorize, TokenURL: w.meta.Token}}
		resp, err = browser().Get(pc.AuthCodeURL("s3"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("a public app without PKCE: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}

		// A token: introspected (RFC 7662), then revoked (RFC 7009).
		verifier = oauth2.GenerateVerifier()
		q = w.authorize(t, conf.AuthCodeURL("s4", oauth2.S256ChallengeOption(verifier)), "ana@example.com", true)
		tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		var info struct {
			Active bool   `json:"active"`
			Scope  string `json:"scope"`
		}
		w.clientPost(t, w.meta.Introspect, url.Values{"token": {tok.AccessToken}}, &info)
		if !info.Active || !strings.Contains(info.Scope, atrium.ScopeBindersRead) {
			t.Fatalf("introspection: %+v", info)
		}
		// Another organisation's binder is not there for this token.
		_, boss := w.srv.Bootstrap(t, "Other", "boss@other.example", password)
		bossC := login(t, w.srv.URL, boss.Email)
		theirs := newBinder(t, bossC, "Theirs")
		wantStatus(t, "another organisation's binder", w.api(t, tok.AccessToken, "GET", "/api/v1/binders/"+theirs.ID, ""), http.StatusNotFound, atrium.ENotFound)
		// Nor can a user of another organisation authorise this one's app.
		outsider := browser()
		resp, err = outsider.Get(conf.AuthCodeURL("s8", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		page, _ := resp.Request.URL.Parse(resp.Header.Get("Location"))
		resp, err = outsider.PostForm(page.String(), url.Values{"id": {page.Query().Get("authRequestID")}, "email": {boss.Email},
			"password": {password}, "decision": {"allow"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a consent by a user of another organisation: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		w.clientPost(t, w.meta.Revoke, url.Values{"token": {tok.AccessToken}}, nil)
		wantStatus(t, "a revoked access token", w.api(t, tok.AccessToken, "GET", "/api/v1/binders", ""), http.StatusUnauthorized, atrium.EUnauthorized)
		info.Active = true
		w.clientPost(t, w.meta.Introspect, url.Values{"token": {tok.AccessToken}}, &info)
		if info.Active {
			t.Fatal("a revoked token introspects as active")
		}

		// The user says no: the app is told access_denied.
		q = w.authorize(t, conf.AuthCodeURL("s5", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "ana@example.com", false)
		if q.Get("error") != "access_denied" || q.Get("state") != "s5" {
			t.Fatalf("a denied consent: %v", q)
		}

		// The user lists the apps they authorised and revokes one: its
		// tokens stop at once.
		verifier = oauth2.GenerateVerifier()
		q = w.authorize(t, conf.AuthCodeURL("s6", oauth2.S256ChallengeOption(verifier)), "kai@example.com", true)
		kaiTok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		grants := call(w.kaiC.ListMyGrants(ctx)).must(t)
		if len(grants) != 1 || grants[0].AppName != "Reporting app" || grants[0].UserID != w.kai.ID {
			t.Fatalf("Kai's grants: %+v", grants)
		}
		if err := w.kaiC.RevokeMyGrant(ctx, grants[0].ID); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "a token of a grant the user revoked", w.api(t, kaiTok.AccessToken, "GET", "/api/v1/binders", ""), http.StatusUnauthorized, atrium.EUnauthorized)

		// An administrator sees every grant and revokes one; then revokes
		// the app, which ends the rest.
		authorized := func(email string) *oauth2.Token {
			v := oauth2.GenerateVerifier()
			q := w.authorize(t, conf.AuthCodeURL("s7", oauth2.S256ChallengeOption(v)), email, true)
			tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		kaiTok, anaTok := authorized("kai@example.com"), authorized("ana@example.com")
		var all struct {
			Items []client.OAuthGrant `json:"items"`
		}
		resp = w.api(t, w.anaC.Token(), "GET", "/api/v1/oauth-grants", "")
		if err := json.NewDecoder(resp.Body).Decode(&all); err != nil || len(all.Items) < 2 {
			t.Fatalf("the organisation's grants: %+v %v", all, err)
		}
		for _, g := range all.Items {
			if g.UserID == w.kai.ID {
				if r := w.api(t, w.anaC.Token(), "DELETE", "/api/v1/oauth-grants/"+g.ID, ""); r.StatusCode != http.StatusNoContent {
					t.Fatalf("an administrator revoking Kai's grant: %d", r.StatusCode)
				}
			}
		}
		wantStatus(t, "a token of a grant an administrator revoked", w.api(t, kaiTok.AccessToken, "GET", "/api/v1/binders", ""), http.StatusUnauthorized, atrium.EUnauthorized)
		if r := w.api(t, w.anaC.Token(), "DELETE", "/api/v1/oauth-apps/"+w.app.ID, ""); r.StatusCode != http.StatusNoContent {
			t.Fatalf("revoking the app: %d", r.StatusCode)
		}
		wantStatus(t, "a token of a revoked app", w.api(t, anaTok.AccessToken, "GET", "/api/v1/binders", ""), http.StatusUnauthorized, atrium.EUnauthorized)

		// Each refusal of the protocol is in the organisation's audit log.
		entries, _, err := w.srv.App.SearchAudit(asUserOf(t, w.world, "ana@example.com"), app.AuditSearch{Action: "oauth.refuse"}, app.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var details []string
		for _, e := range entries {
			details = append(details, e.Detail)
		}
		refusals := strings.Join(details, "\n")
		for _, want := range []string{"/authorize: invalid_request", "/oauth/token: invalid_grant"} {
			if !strings.Contains(refusals, want) {
				t.Errorf("no audited refusal %q; refusals:\n%s", want, refusals)
			}
		}
		if n := strings.Count(refusals, "redirect_uri"); n < 3 {
			t.Errorf("%d refused redirect URIs audited, want 3; refusals:\n%s", n, refusals)
		}
	})
}

// clientPost posts a form to an OAuth endpoint as the confidential app
// (HTTP Basic) and decodes the answer into out (if not nil).
func (w *oauthWorld) clientPost(t *testing.T, endpoint string, form url.Values, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(w.app.ID), url.QueryEscape(w.app.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %d %s", endpoint, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOAuthClientCredentials: a server-to-server app gets tokens with its
// own credentials, acting as the administrator who registered it, within
// its scopes.
func TestOAuthClientCredentials(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newOAuthWorld(t, dialect)
		ctx := ctxScenario(t)
		svc := call(w.anaC.CreateOAuthApp(ctx, client.OAuthApp{Name: "Nightly export", ClientCredentials: true,
			Scopes: []string{atrium.ScopeAdmin, atrium.ScopeBindersRead}})).must(t)
		cc := clientcredentials.Config{ClientID: svc.ID, ClientSecret: svc.Secret, TokenURL: w.meta.Token, Scopes: []string{atrium.ScopeAdmin}}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if resp := w.api(t, tok.AccessToken, "GET", "/api/v1/users", ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("listing users with admin: %d", resp.StatusCode)
		}
		wantStatus(t, "a scope not asked for", w.api(t, tok.AccessToken, "GET", "/api/v1/binders", ""), http.StatusForbidden, atrium.EScope)
		// The administrator changing their password leaves the app working
		// (it acts under a grant of its own, not a consent).
		if err := w.anaC.ChangePassword(ctx, password, password+"-new"); err != nil {
			t.Fatal(err)
		}
		if _, err := cc.Token(ctx); err != nil {
			t.Fatalf("client credentials after the administrator's password change: %v", err)
		}
		bad := cc
		bad.ClientSecret = strings.Repeat("0", 64)
		if _, err := bad.Token(ctx); err == nil {
			t.Fatal("client credentials with a wrong secret")
		}
		// An app registered without client credentials gets none.
		plain := clientcredentials.Config{ClientID: w.app.ID, ClientSecret: w.app.Secret, TokenURL: w.meta.Token}
		if _, err := plain.Token(ctx); err == nil {
			t.Fatal("client credentials for an app not registered for them")
		}
		_, err = w.anaC.CreateOAuthApp(ctx, client.OAuthApp{Name: "Phone", Public: true, ClientCredentials: true, Scopes: []string{atrium.ScopeBindersRead}})
		wantError(t, err, http.StatusBadRequest, atrium.EInvalid)
	})
}
