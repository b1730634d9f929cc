package integration_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/client"
	"github.com/atrium-dev/atrium/internal/testoidc"
	"github.com/atrium-dev/atrium/internal/testwebauthn"
)

// oidcWorld is an organisation with an OpenID provider running beside it.
type oidcWorld struct {
	*world
	op  *testoidc.Provider
	idp *client.IdentityProvider
	sdk *client.Client
}

var (
	kimAtIdP        = testoidc.User{ID: "sub-kim", Username: "kim", Password: "kim-at-the-idp", FirstName: "Kim", LastName: "Sato", Email: "kim@idp.example", EmailVerified: true}
	unverifiedAtIdP = testoidc.User{ID: "sub-lee", Username: "lee", Password: "lee-at-the-idp", FirstName: "Lee", LastName: "Wong", Email: "lee@idp.example"}
	anaAtIdP        = testoidc.User{ID: "sub-ana", Username: "ana", Password: "ana-at-the-idp", FirstName: "Ana", LastName: "Ito", Email: "ana@example.com", EmailVerified: true}
)

func newOIDCWorld(t *testing.T, dialect string) *oidcWorld {
	w := &oidcWorld{world: newWorld(t, dialect)}
	w.op = testoidc.Start(t, kimAtIdP, unverifiedAtIdP, anaAtIdP)
	w.idp = w.register(t, "Corp IdP", "internal", false)
	w.sdk = newClient(t, w.srv.URL)
	return w
}

// register adds a provider for the OpenID provider, and its callback at
// the provider.
func (w *oidcWorld) register(t *testing.T, name, provision string, linkByEmail bool) *client.IdentityProvider {
	t.Helper()
	p := call(w.anaC.CreateIdentityProvider(ctxT(t), client.IdentityProviderInput{Name: name, Protocol: "oidc",
		Provision: provision, Issuer: w.op.Issuer, ClientID: w.op.ClientID, ClientSecret: w.op.ClientSecret, LinkByEmail: linkByEmail})).must(t)
	w.op.Allow(p.RedirectURI)
	return p
}

// browser is a browser: cookies kept, redirects not followed.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// start opens the sign-in page in b and returns where Atrium sends it.
func (w *oidcWorld) start(t *testing.T, b *http.Client, idpID, returnTo string) *url.URL {
	t.Helper()
	return w.startAt(t, b, w.sdk.ProviderLoginURL("oidc", idpID, returnTo))
}

// startAt opens a start address in b and returns where Atrium sends it.
func (w *oidcWorld) startAt(t *testing.T, b *http.Client, start string) *url.URL {
	t.Helper()
	resp, err := b.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), w.op.Issuer) {
		t.Fatalf("start sent the browser to %v", u)
	}
	return u
}

// back visits the callback address in b and returns the answer.
func back(t *testing.T, b *http.Client, cb *url.URL) *http.Response {
	t.Helper()
	resp, err := b.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// signIn runs a whole sign-in in a fresh browser and returns the
// callback's answer.
func (w *oidcWorld) signIn(t *testing.T, user testoidc.User) *http.Response {
	t.Helper()
	b := browser()
	cb, err := w.op.SignIn(b, w.start(t, b, w.idp.ID, "/welcome").String(), user.Username, user.Password)
	if err != nil {
		t.Fatal(err)
	}
	return back(t, b, cb)
}

// loginCode reads the login code from the callback's redirect.
func loginCode(t *testing.T, resp *http.Response, returnTo string) string {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, returnTo+"#login_code=") {
		t.Fatalf("the callback answered %d, to %q", resp.StatusCode, loc)
	}
	code, _ := url.QueryUnescape(strings.TrimPrefix(loc, returnTo+"#login_code="))
	return code
}

// wantStatus checks an answer's status and error code.
func wantStatus(t *testing.T, what string, resp *http.Response, status int, code string) {
	t.Helper()
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != status || body.Error.Code != code {
		t.Fatalf("%s: %d %q, want %d %q", what, resp.StatusCode, body.Error.Code, status, code)
	}
}

// TestOIDCLogin: staff sign in through the organisation's OpenID provider
// (a real one, running beside the server): the first sign-in makes the
// user from the provider's claims, later ones find them, and the session
// comes from a one-time login code.
func TestOIDCLogin(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newOIDCWorld(t, dialect)
		ctx := ctxScenario(t)
		if w.idp.RedirectURI != w.srv.URL+"/api/v1/auth/oidc/"+w.idp.ID+"/callback" || w.idp.Settings.Issuer != w.op.Issuer {
			t.Fatalf("the registered provider: %+v", w.idp)
		}
		// The authorization request carries PKCE (S256), a state and a nonce.
		q := w.start(t, browser(), w.idp.ID, "").Query()
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) != 43 ||
			len(q.Get("nonce")) != 43 || q.Get("redirect_uri") != w.idp.RedirectURI {
			t.Fatalf("the authorization request: %v", q)
		}
		code := loginCode(t, w.signIn(t, kimAtIdP), "/welcome")
		res := call(w.sdk.ExchangeLoginCode(ctx, code, "laptop")).must(t)
		if res.User.Email != "kim@idp.example" || res.User.Name != "Kim Sato" || res.User.Kind != atrium.KindInternal || res.Token == "" {
			t.Fatalf("signed in as %+v", res.User)
		}
		call(w.sdk.Me(ctx)).must(t)
		_, err := newClient(t, w.srv.URL).ExchangeLoginCode(ctx, code, "")
		wantError(t, err, http.StatusUnauthorized, atrium.EUnauthorized)

		again := call(newClient(t, w.srv.URL).ExchangeLoginCode(ctx, loginCode(t, w.signIn(t, kimAtIdP), "/welcome"), "")).must(t)
		if again.User.ID != res.User.ID {
			t.Fatal("the second sign-in found another user")
		}

		// An app that starts the sign-in with a code_challenge keeps the
		// verifier: the login code is traded only with it.
		verifier := strings.Repeat("v", 43)
		sum := sha256.Sum256([]byte(verifier))
		challenge := base64.RawURLEncoding.EncodeToString(sum[:])
		bound := func() string {
			b := browser()
			cb, err := w.op.SignIn(b, w.startAt(t, b, w.sdk.ProviderLoginURL("oidc", w.idp.ID, "/welcome")+"&code_challenge="+challenge).String(),
				kimAtIdP.Username, kimAtIdP.Password)
			if err != nil {
				t.Fatal(err)
			}
			return loginCode(t, back(t, b, cb), "/welcome")
		}
		_, err = newClient(t, w.srv.URL).ExchangeLoginCodeWithVerifier(ctx, bound(), "wrong-verifier", "")
		wantError(t, err, http.StatusUnauthorized, atrium.EUnauthorized)
		call(newClient(t, w.srv.URL).ExchangeLoginCodeWithVerifier(ctx, bound(), verifier, "")).must(t)
	})
}

// TestOIDCLoginRefusals: every way a provider sign-in can be forged or
// replayed is refused with a precise error, and audited.
func TestOIDCLoginRefusals(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newOIDCWorld(t, dialect)
		ctx := ctxScenario(t)

		// The callback reached from another browser than the one that
		// started the sign-in (login CSRF): refused, and the victim's own
		// sign-in is not spent.
		victim := browser()
		cb, err := w.op.SignIn(victim, w.start(t, victim, w.idp.ID, "").String(), kimAtIdP.Username, kimAtIdP.Password)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "a callback in another browser", back(t, browser(), cb), http.StatusUnauthorized, atrium.EUnauthorized)
		code := loginCode(t, back(t, victim, cb), "/")
		// The same callback played again.
		wantStatus(t, "a callback played twice", back(t, victim, cb), http.StatusUnauthorized, atrium.EUnauthorized)
		call(w.sdk.ExchangeLoginCode(ctx, code, "")).must(t)

		// A state this server never issued, with a matching cookie.
		req, _ := http.NewRequest(http.MethodGet, w.idp.RedirectURI+"?state=forged&code=abc", nil)
		req.AddCookie(&http.Cookie{Name: "atrium_login_state", Value: "forged"})
		resp, err := browser().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		wantStatus(t, "an unknown state", resp, http.StatusUnauthorized, atrium.EUnauthorized)

		// Someone who sees the start of a victim's sign-in authorises at
		// the provider with the victim's PKCE challenge but a nonce of
		// their own: the code exchanges, and the ID token's nonce betrays it.
		tamper := func(param, value string) *http.Response {
			b := browser()
			u := w.start(t, b, w.idp.ID, "")
			q := u.Query()
			q.Set(param, value)
			u.RawQuery = q.Encode()
			cb, err := w.op.SignIn(b, u.String(), kimAtIdP.Username, kimAtIdP.Password)
			if err != nil {
				t.Fatal(err)
			}
			return back(t, b, cb)
		}
		wantStatus(t, "another nonce", tamper("nonce", "attackers-nonce"), http.StatusUnauthorized, atrium.EUnauthorized)
		// A code bound to another PKCE challenge does not exchange with
		// this sign-in's verifier.
		wantStatus(t, "another PKCE challenge", tamper("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
			http.StatusUnauthorized, atrium.EUnauthorized)

		// The provider's own refusal, passed on.
		b := browser()
		u := w.start(t, b, w.idp.ID, "")
		refused, _ := url.Parse(w.idp.RedirectURI + "?error=access_denied&state=" + url.QueryEscape(u.Query().Get("state")))
		wantStatus(t, "the provider's refusal", back(t, b, refused), http.StatusUnauthorized, atrium.EUnauthorized)

		// An answer brought to another provider's callback (a mix-up).
		other := w.register(t, "Other IdP", "internal", false)
		b = browser()
		cb, err = w.op.SignIn(b, w.start(t, b, w.idp.ID, "").String(), kimAtIdP.Username, kimAtIdP.Password)
		if err != nil {
			t.Fatal(err)
		}
		mixed, _ := url.Parse(other.RedirectURI + "?" + cb.RawQuery)
		wantStatus(t, "an answer at another provider's callback", back(t, b, mixed), http.StatusUnauthorized, atrium.EUnauthorized)

		// An address that is a user already is not taken over.
		wantStatus(t, "an existing user's address", w.signIn(t, anaAtIdP), http.StatusConflict, atrium.EConflict)

		// Where the browser may be sent back to.
		for _, rt := range []string{"https://evil.example/x", "//evil.example/x", "javascript:alert(1)", "/x#frag"} {
			resp, err := browser().Get(w.sdk.ProviderLoginURL("oidc", w.idp.ID, rt))
			if err != nil {
				t.Fatal(err)
			}
			wantStatus(t, "return_to "+rt, resp, http.StatusBadRequest, atrium.EInvalid)
			resp.Body.Close()
		}

		// The login policy: staff may sign in only with a password now.
		call(w.anaC.PatchOrgSettings(ctx, map[string]any{"login_methods_internal": []string{"password"}})).must(t)
		wantStatus(t, "a sign-in the policy refuses", w.signIn(t, kimAtIdP), http.StatusForbidden, atrium.EForbidden)
		call(w.anaC.PatchOrgSettings(ctx, map[string]any{"login_methods_internal": nil})).must(t)

		// A disabled provider: its sign-ins do not start.
		if err := w.anaC.DisableIdentityProvider(ctx, w.idp.ID); err != nil {
			t.Fatal(err)
		}
		resp, err = browser().Get(w.sdk.ProviderLoginURL("oidc", w.idp.ID, ""))
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "a disabled provider", resp, http.StatusNotFound, atrium.ENotFound)
		resp.Body.Close()

		// Each refusal after the state was recognised is in the
		// organisation's audit log.
		entries, _, err := w.srv.App.SearchAudit(asUserOf(t, w.world, "ana@example.com"), app.AuditSearch{Action: "auth.login"}, app.Page{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		var details []string
		for _, e := range entries {
			if e.Outcome != atrium.OutcomeSuccess {
				details = append(details, e.Detail)
			}
		}
		all := strings.Join(details, "\n")
		for _, want := range []string{"nonce is not this sign-in's", "token endpoint said invalid_grant", "the provider answered access_denied",
			"no user: ", "oidc sign-in not allowed"} {
			if !strings.Contains(all, want) {
				t.Errorf("no audited refusal says %q; refusals:\n%s", want, all)
			}
		}
	})
}

// TestOIDCLinkByEmail: a provider trusted with the organisation's
// addresses signs existing members in by their verified address, but never
// owners or administrators (nor anyone with a second factor).
func TestOIDCLinkByEmail(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := &oidcWorld{world: newWorld(t, dialect)}
		ctx := ctxScenario(t)
		sam := w.srv.CreateUser(t, w.org.ID, "sam@example.com", atrium.KindInternal, password)
		w.srv.CreateUser(t, w.org.ID, "lee@example.com", atrium.KindInternal, password)
		samAtIdP := testoidc.User{ID: "sub-sam", Username: "sam", Password: "sam-at-the-idp", Email: "sam@example.com", EmailVerified: true}
		// Lee's address at the provider is a member's, but not verified.
		leeAtIdP := testoidc.User{ID: "sub-lee", Username: "lee", Password: "lee-at-the-idp", Email: "lee@example.com"}
		w.op = testoidc.Start(t, samAtIdP, anaAtIdP, leeAtIdP)
		w.idp = w.register(t, "Corp", "none", true)
		w.sdk = newClient(t, w.srv.URL)
		res := call(w.sdk.ExchangeLoginCode(ctx, loginCode(t, w.signIn(t, samAtIdP), "/welcome"), "")).must(t)
		if res.User.ID != sam.ID {
			t.Fatalf("signed in as %+v, want Sam", res.User)
		}
		wantStatus(t, "the owner's address", w.signIn(t, anaAtIdP), http.StatusConflict, atrium.EConflict)
		// Nor a member with a passkey: the link would sign them in without it.
		w.srv.CreateUser(t, w.org.ID, "pat@example.com", atrium.KindInternal, password)
		pat := login(t, w.srv.URL, "pat@example.com")
		opts := call(pat.BeginPasskeyRegistration(ctx)).must(t)
		answer, err := testwebauthn.New("http://localhost", "localhost").Register(opts.Options)
		if err != nil {
			t.Fatal(err)
		}
		call(pat.RegisterPasskey(ctx, opts.RegistrationID, "key", answer, password)).must(t)
		patAtIdP := testoidc.User{ID: "sub-pat", Username: "pat", Password: "pat-at-the-idp", Email: "pat@example.com", EmailVerified: true}
		w.op.AddUser(patAtIdP)
		wantStatus(t, "a member with a passkey", w.signIn(t, patAtIdP), http.StatusConflict, atrium.EConflict)
		// An address the provider does not say it verified is not linked
		// (and this provider makes no users).
		wantStatus(t, "an unverified address", w.signIn(t, leeAtIdP), http.StatusForbidden, atrium.EForbidden)
		_, err = w.kaiC.CreateIdentityProvider(ctx, client.IdentityProviderInput{Name: "Mine", Protocol: "oidc", Provision: "client",
			Issuer: w.op.Issuer, ClientID: w.op.ClientID})
		wantError(t, err, http.StatusForbidden, atrium.EForbidden)
		_, err = w.anaC.CreateIdentityProvider(ctx, client.IdentityProviderInput{Name: "Plain", Protocol: "oidc", Provision: "client",
			Issuer: "http://idp.example.com", ClientID: "x"})
		wantError(t, err, http.StatusBadRequest, atrium.EInvalid)
	})
}

// asUserOf is a context acting as the user with this address.
func asUserOf(t *testing.T, w *world, email string) context.Context {
	t.Helper()
	res, err := w.srv.App.Login(context.Background(), app.LoginInput{Email: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	act, err := w.srv.App.Authenticate(context.Background(), res.Token)
	if err != nil {
		t.Fatal(err)
	}
	return atrium.WithActor(context.Background(), act)
}
