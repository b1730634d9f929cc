package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/internal/testoidc"
	"github.com/atrium-dev/atrium/internal/testsaml"
)

// identityProviders registers an OpenID provider (a real one, running
// beside the server) and signs users in through it.
func (w *oapiWorld) identityProviders() {
	const (
		idps, idp = "/api/v1/identity-providers", "/api/v1/identity-providers/{id}"
		start     = "/api/v1/auth/oidc/{id}/start"
		callback  = "/api/v1/auth/oidc/{id}/callback"
		exchange  = "/api/v1/auth/login-code"
		settings  = "/api/v1/org/settings"
	)
	mia := testoidc.User{ID: "sub-1", Username: "mia", Password: "mia-at-the-idp", FirstName: "Mia", LastName: "Ono",
		Email: "mia@acme.test", EmailVerified: true}
	stan := testoidc.User{ID: "sub-2", Username: "stan", Password: "stan-at-the-idp", Email: "staff@acme.test", EmailVerified: true}
	op := testoidc.Start(w.t, mia, stan)
	in := app.CreateIdentityProviderInput{Name: "Corp", Protocol: "oidc", Provision: "internal", Issuer: op.Issuer,
		ClientID: op.ClientID, ClientSecret: op.ClientSecret}
	p := oapiDecode[struct {
		ID          string `json:"id"`
		RedirectURI string `json:"redirect_uri"`
	}](w.t, w.do(oapiCall{method: "POST", path: idps, token: w.ownerTok, want: 201, body: in}))
	op.Allow(p.RedirectURI)
	w.do(oapiCall{method: "POST", path: idps, token: w.staffTok, want: 403, body: in})
	bad := in
	bad.Issuer = "http://idp.example.com"
	w.do(oapiCall{method: "POST", path: idps, token: w.ownerTok, want: 400, body: bad})
	w.paginate(idps, nil, w.ownerTok, 1)
	w.do(oapiCall{method: "GET", path: idps, token: w.clientTok, want: 403})

	// Sign-ins, as a browser makes them: the start sets the state cookie
	// and sends the browser to the provider, which sends it back.
	w.do(oapiCall{method: "GET", path: start, args: []string{p.ID}, query: "return_to=https%3A%2F%2Fevil.example%2F", want: 400})
	w.do(oapiCall{method: "GET", path: start, args: []string{atrium.NewID()}, want: 404})
	signIn := func(u testoidc.User) (query string, cookie map[string]string) {
		w.t.Helper()
		w.do(oapiCall{method: "GET", path: start, args: []string{p.ID}, query: "return_to=%2Fhome", want: 302})
		state := ""
		for _, c := range (&http.Response{Header: w.header}).Cookies() {
			if c.Name == "atrium_login_state" {
				state = c.Value
			}
		}
		cb, err := op.SignIn(&http.Client{}, w.header.Get("Location"), u.Username, u.Password)
		if err != nil || state == "" {
			w.t.Fatalf("signing in at the provider: %v (state %q)", err, state)
		}
		return cb.RawQuery, map[string]string{"Cookie": "atrium_login_state=" + state}
	}
	code := func() string {
		w.t.Helper()
		loc := w.header.Get("Location")
		if !strings.HasPrefix(loc, "/home#login_code=") {
			w.t.Fatalf("the callback sent the browser to %q", loc)
		}
		c, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/home#login_code="))
		return c
	}
	q, cookie := signIn(mia)
	w.do(oapiCall{method: "GET", path: callback, args: []string{p.ID}, query: q, want: 401}) // no cookie: another browser
	w.do(oapiCall{method: "GET", path: callback, args: []string{p.ID}, want: 400})
	w.do(oapiCall{method: "GET", path: callback, args: []string{p.ID}, query: q, header: cookie, want: 302})
	first := code()
	w.do(oapiCall{method: "GET", path: callback, args: []string{p.ID}, query: q, header: cookie, want: 401}) // played again
	w.do(oapiCall{method: "POST", path: exchange, body: app.LoginCodeInput{Code: "short"}, req: oapiReqInvalid, want: 400})
	res := oapiDecode[app.LoginResult](w.t, w.do(oapiCall{method: "POST", path: exchange, body: app.LoginCodeInput{Code: first, DeviceName: "laptop"}, want: 200}))
	w.do(oapiCall{method: "POST", path: exchange, body: app.LoginCodeInput{Code: first}, want: 401})

	// An address that is a user already; a sign-in the policy refuses.
	q, cookie = signIn(stan)
	w.do(oapiCall{method: "GET", path: callback, args: []string{p.ID}, query: q, header: cookie, want: 409})
	w.do(oapiCall{method: "PATCH", path: settings, token: w.ownerTok, want: 200, body: map[string]any{"login_methods_internal": []string{"password"}}})
	q, cookie = signIn(mia)
	w.do(oapiCall{method: "GET", path: callback, args: []string{p.ID}, query: q, header: cookie, want: 403})
	w.do(oapiCall{method: "PATCH", path: settings, token: w.ownerTok, want: 200, body: map[string]any{"login_methods_internal": nil}})

	// A user deactivated between the sign-in and the exchange.
	q, cookie = signIn(mia)
	w.do(oapiCall{method: "GET", path: callback, args: []string{p.ID}, query: q, header: cookie, want: 302})
	late := code()
	w.do(oapiCall{method: "PATCH", path: "/api/v1/users/{id}", args: []string{res.User.ID}, token: w.ownerTok, want: 200,
		body: map[string]string{"status": atrium.StatusDeactivated}})
	w.do(oapiCall{method: "POST", path: exchange, body: app.LoginCodeInput{Code: late}, want: 403})

	w.do(oapiCall{method: "DELETE", path: idp, args: []string{p.ID}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "DELETE", path: idp, args: []string{p.ID}, token: w.ownerTok, want: 204})
	w.do(oapiCall{method: "DELETE", path: idp, args: []string{p.ID}, token: w.ownerTok, want: 404})
}

// samlProviders registers a SAML IdP (a real one, running beside the
// server) and signs users in through it.
func (w *oapiWorld) samlProviders() {
	const (
		idps     = "/api/v1/identity-providers"
		start    = "/api/v1/auth/saml/{id}/start"
		metadata = "/api/v1/auth/saml/{id}/metadata"
		acs      = "/api/v1/auth/saml/{id}/acs"
		settings = "/api/v1/org/settings"
		form     = "application/x-www-form-urlencoded"
	)
	ivy := testsaml.User{Name: "ivy", Password: "ivy-at-the-idp", Email: "ivy@acme.test", FullName: "Ivy Ueda"}
	stan := testsaml.User{Name: "stan", Password: "stan-at-the-idp", Email: "staff@acme.test"}
	idp := testsaml.Start(w.t, ivy, stan)
	in := app.CreateIdentityProviderInput{Name: "Corp SAML", Protocol: "saml", Provision: "client", IDPMetadataXML: string(idp.Metadata())}
	p := oapiDecode[struct {
		ID          string `json:"id"`
		MetadataURL string `json:"metadata_url"`
	}](w.t, w.do(oapiCall{method: "POST", path: idps, token: w.ownerTok, want: 201, body: in}))
	bad := in
	bad.IDPMetadataXML = "<EntityDescriptor/>"
	w.do(oapiCall{method: "POST", path: idps, token: w.ownerTok, want: 400, body: bad})
	w.do(oapiCall{method: "GET", path: metadata, args: []string{p.ID}, want: 200})
	w.do(oapiCall{method: "GET", path: metadata, args: []string{atrium.NewID()}, want: 404})
	idp.AddServiceProvider("atrium", p.MetadataURL, false)

	w.do(oapiCall{method: "GET", path: start, args: []string{atrium.NewID()}, want: 404})
	cookie := map[string]string{}
	signIn := func(u testsaml.User) string {
		w.t.Helper()
		w.do(oapiCall{method: "GET", path: start, args: []string{p.ID}, query: "return_to=%2Fhome", want: 302})
		for _, c := range (&http.Response{Header: w.header}).Cookies() {
			if c.Name == "atrium_saml_state" {
				cookie["Cookie"] = "atrium_saml_state=" + c.Value
			}
		}
		post, err := idp.SignIn(w.header.Get("Location"), u.Name, u.Password)
		if err != nil {
			w.t.Fatal(err)
		}
		return url.Values{"SAMLResponse": {post.SAMLResponse}, "RelayState": {post.RelayState}}.Encode()
	}
	post := func(id, body string, want int) {
		w.t.Helper()
		w.do(oapiCall{method: "POST", path: acs, args: []string{id}, body: oapiRaw(body), ctype: form, header: cookie, want: want, req: oapiReqAny})
	}
	ok := signIn(ivy)
	w.do(oapiCall{method: "POST", path: acs, args: []string{p.ID}, body: oapiRaw(ok), ctype: form, want: 401, req: oapiReqAny}) // another browser
	ok = signIn(ivy)
	post(p.ID, ok, 302)
	post(p.ID, ok, 401) // played again
	post(p.ID, "SAMLResponse=not+base64%21", 400)
	post(atrium.NewID(), "SAMLResponse=PHg%2BPC94Pg%3D%3D", 404)
	post(p.ID, "SAMLResponse="+strings.Repeat("A", 300<<10), 413)
	w.do(oapiCall{method: "POST", path: acs, args: []string{p.ID}, body: oapiRaw(ok), ctype: "text/plain", want: 415, req: oapiReqAny})
	post(p.ID, signIn(stan), 409) // an address that is a user already
	w.do(oapiCall{method: "PATCH", path: settings, token: w.ownerTok, want: 200, body: map[string]any{"login_methods_client": []string{"password"}}})
	post(p.ID, signIn(ivy), 403)
	w.do(oapiCall{method: "PATCH", path: settings, token: w.ownerTok, want: 200, body: map[string]any{"login_methods_client": nil}})

	const slo = "/api/v1/auth/saml/{id}/slo"
	w.do(oapiCall{method: "GET", path: slo, args: []string{p.ID}, query: "SAMLRequest=bm90IGEgcmVxdWVzdA%3D%3D", want: 401})
	w.do(oapiCall{method: "GET", path: slo, args: []string{atrium.NewID()}, query: "SAMLRequest=x", want: 404})
	w.do(oapiCall{method: "POST", path: slo, args: []string{p.ID}, body: oapiRaw("SAMLRequest=bm90IGEgcmVxdWVzdA%3D%3D"), ctype: form, want: 401, req: oapiReqAny})
	w.do(oapiCall{method: "POST", path: slo, args: []string{atrium.NewID()}, body: oapiRaw("SAMLRequest=x"), ctype: form, want: 404, req: oapiReqAny})
	w.do(oapiCall{method: "POST", path: slo, args: []string{p.ID}, body: oapiRaw("SAMLRequest=" + strings.Repeat("A", 300<<10)), ctype: form, want: 413, req: oapiReqAny})
	w.do(oapiCall{method: "POST", path: slo, args: []string{p.ID}, body: oapiRaw("%zz"), ctype: form, want: 400, req: oapiReqAny})
}

// identities links an app's unique id to a user, lists and removes it.
func (w *oapiWorld) identities() {
	const (
		clients    = "/api/v1/api-clients"
		identities = "/api/v1/users/{id}/identities"
		identity   = "/api/v1/users/{id}/identities/{source}"
	)
	c := oapiDecode[app.CreatedAPIClient](w.t, w.do(oapiCall{method: "POST", path: clients, token: w.ownerTok, want: 201,
		body: app.CreateAPIClientInput{Name: "Linker", Provision: app.ProvisionNone}}))
	link := app.LinkIdentityInput{Source: c.ID, ExternalID: "crm-77"}
	w.do(oapiCall{method: "POST", path: identities, args: []string{w.client.ID}, token: w.ownerTok, want: 201, body: link})
	w.do(oapiCall{method: "POST", path: identities, args: []string{w.client.ID}, token: w.ownerTok, want: 409, body: link})
	w.do(oapiCall{method: "POST", path: identities, args: []string{w.client.ID}, token: w.ownerTok, want: 400,
		body: app.LinkIdentityInput{Source: atrium.NewID(), ExternalID: "x"}})
	w.do(oapiCall{method: "POST", path: identities, args: []string{w.client.ID}, token: w.clientTok, want: 403, body: link})
	w.do(oapiCall{method: "POST", path: identities, args: []string{w.boss.ID}, token: w.ownerTok, want: 404, body: link})
	w.do(oapiCall{method: "GET", path: identities, args: []string{w.client.ID}, token: w.ownerTok, want: 200})
	w.do(oapiCall{method: "GET", path: identities, args: []string{w.client.ID}, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "GET", path: identities, args: []string{w.boss.ID}, token: w.ownerTok, want: 404})
	w.do(oapiCall{method: "DELETE", path: identity, args: []string{w.client.ID, c.ID}, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "DELETE", path: identity, args: []string{w.client.ID, c.ID}, token: w.ownerTok, want: 204})
	w.do(oapiCall{method: "DELETE", path: identity, args: []string{w.client.ID, c.ID}, token: w.ownerTok, want: 404})
}

// oauthApps registers an OAuth app, lists it and revokes it, and lists
// and revokes grants (there are none to revoke here: TestOAuthRefusals
// revokes real ones).
func (w *oapiWorld) oauthApps() {
	const (
		apps, one     = "/api/v1/oauth-apps", "/api/v1/oauth-apps/{id}"
		grants, grant = "/api/v1/oauth-grants", "/api/v1/oauth-grants/{id}"
		mine, mineOne = "/api/v1/me/oauth-grants", "/api/v1/me/oauth-grants/{id}"
	)
	in := app.CreateOAuthAppInput{Name: "Reports", RedirectURIs: []string{"https://reports.example/cb"}, Scopes: []string{atrium.ScopeBindersRead}}
	a := oapiDecode[app.CreatedOAuthApp](w.t, w.do(oapiCall{method: "POST", path: apps, token: w.ownerTok, want: 201, body: in}))
	if a.Secret == "" {
		w.t.Fatal("a confidential app without a secret")
	}
	w.do(oapiCall{method: "POST", path: apps, token: w.staffTok, want: 403, body: in})
	bad := in
	bad.RedirectURIs = []string{"http://reports.example/cb"}
	w.do(oapiCall{method: "POST", path: apps, token: w.ownerTok, want: 400, body: bad})
	w.paginate(apps, nil, w.ownerTok, 1)
	w.do(oapiCall{method: "GET", path: apps, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "GET", path: grants, token: w.ownerTok, want: 200})
	w.do(oapiCall{method: "GET", path: grants, token: w.clientTok, want: 403})
	w.do(oapiCall{method: "GET", path: mine, token: w.clientTok, want: 200})
	w.do(oapiCall{method: "DELETE", path: grant, args: []string{atrium.NewID()}, token: w.ownerTok, want: 404})
	w.do(oapiCall{method: "DELETE", path: mineOne, args: []string{atrium.NewID()}, token: w.clientTok, want: 404})
	w.do(oapiCall{method: "DELETE", path: one, args: []string{a.ID}, token: w.staffTok, want: 403})
	w.do(oapiCall{method: "DELETE", path: one, args: []string{a.ID}, token: w.ownerTok, want: 204})
	w.do(oapiCall{method: "DELETE", path: one, args: []string{a.ID}, token: w.ownerTok, want: 404})
}
