package integration_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/client"
	"github.com/atrium-dev/atrium/internal/testsaml"
)

var (
	kimSAML     = testsaml.User{Name: "kim", Password: "kim-at-the-idp", Email: "kim@corp.example", FullName: "Kim Sato", Groups: []string{"admin"}}
	cleoSAML    = testsaml.User{Name: "cleo", Password: "cleo-at-the-idp", Email: "cleo@customer.example", FullName: "Cleo Park", Groups: []string{"client"}}
	mallorySAML = testsaml.User{Name: "mallory", Password: "mallory-at-the-idp", Email: "ana@example.com.evil.test", FullName: "Mallory", Groups: []string{"client"}}
)

// samlWorld is an organisation with a SAML IdP (a real one) beside it.
type samlWorld struct {
	*world
	idp *testsaml.IdP
	p   *client.IdentityProvider
	sdk *client.Client
}

// newSAMLWorld registers the IdP (by its metadata URL) as a provider that
// makes internal users, maps the affiliation to kind and role, takes
// IdP-initiated sign-ins, and links existing members by address; the IdP
// knows Atrium by its metadata, as "atrium".
func newSAMLWorld(t *testing.T, dialect string, encrypt bool) *samlWorld {
	w := &samlWorld{world: newWorld(t, dialect)}
	w.idp = testsaml.Start(t, kimSAML, cleoSAML, mallorySAML)
	w.p = w.register(t, "atrium", true, encrypt)
	w.sdk = newClient(t, w.srv.URL)
	return w
}

// register adds a provider for the IdP and registers it at the IdP.
func (w *samlWorld) register(t *testing.T, name string, idpInitiated, encrypt bool) *client.IdentityProvider {
	t.Helper()
	p := call(w.anaC.CreateIdentityProvider(ctxT(t), client.IdentityProviderInput{Name: "Corp SAML " + name, Protocol: "saml",
		Provision: "internal", IDPMetadataURL: w.idp.MetadataURL(), AllowIDPInitiated: &idpInitiated, LinkByEmail: true,
		Claims: atrium.ClaimMapping{Kind: "eduPersonAffiliation", Role: "eduPersonAffiliation"}})).must(t)
	w.idp.AddServiceProvider(name, p.MetadataURL, encrypt)
	return p
}

// samlPost is what the IdP has the browser post, and the browser's state
// cookie from the start.
type samlPost struct {
	*testsaml.Post
	cookie string
}

// signIn starts an SP-initiated sign-in through p and signs user in at
// the IdP.
func (w *samlWorld) signIn(t *testing.T, p *client.IdentityProvider, user testsaml.User, returnTo string) samlPost {
	t.Helper()
	resp, err := browser().Get(w.sdk.ProviderLoginURL("saml", p.ID, returnTo))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), w.idp.URL+"/sso?SAMLRequest=") {
		t.Fatalf("start: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := ""
	for _, c := range resp.Cookies() {
		if c.Name == "atrium_saml_state" && c.SameSite == http.SameSiteNoneMode {
			cookie = c.Value
		}
	}
	post, err := w.idp.SignIn(resp.Header.Get("Location"), user.Name, user.Password)
	if err != nil {
		t.Fatal(err)
	}
	if post.Action != p.RedirectURI || cookie == "" {
		t.Fatalf("the IdP posts to %q, not the ACS %q (state cookie %q)", post.Action, p.RedirectURI, cookie)
	}
	return samlPost{post, cookie}
}

// deliver posts a response to an ACS, as the browser does (with its
// state cookie, if any).
func deliver(t *testing.T, acs, samlResponse, relayState, cookie string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, acs, strings.NewReader(url.Values{"SAMLResponse": {samlResponse}, "RelayState": {relayState}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "atrium_saml_state", Value: cookie})
	}
	resp, err := browser().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// back delivers a post as the IdP had it made.
func (p samlPost) back(t *testing.T) *http.Response {
	t.Helper()
	return deliver(t, p.Action, p.SAMLResponse, p.RelayState, p.cookie)
}

// TestSAMLLogin: users sign in through the organisation's SAML IdP, started
// at Atrium or at the IdP; attributes make the user, and the session comes
// from a one-time login code. The IdP encrypts its assertions to Atrium's
// key, as Atrium's metadata offers.
func TestSAMLLogin(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newSAMLWorld(t, dialect, true)
		ctx := ctxScenario(t)
		if !strings.HasSuffix(w.p.RedirectURI, "/acs") || w.p.Settings.IDPEntityID != w.idp.MetadataURL() {
			t.Fatalf("the registered provider: %+v", w.p)
		}
		kim := call(w.sdk.ExchangeLoginCode(ctx, loginCode(t, w.signIn(t, w.p, kimSAML, "/home").back(t), "/home"), "laptop")).must(t)
		if kim.User.Email != "kim@corp.example" || kim.User.Name != "Kim Sato" || kim.User.Kind != atrium.KindInternal || kim.User.Role != atrium.OrgRoleAdmin {
			t.Fatalf("signed in as %+v", kim.User)
		}
		second := call(newClient(t, w.srv.URL).ExchangeLoginCode(ctx, loginCode(t, w.signIn(t, w.p, kimSAML, "").back(t), "/"), "")).must(t)
		if second.User.ID != kim.User.ID {
			t.Fatal("the second sign-in found another user")
		}

		// Started at the IdP, with a RelayState that would lead elsewhere:
		// it lands on "/".
		post, err := w.idp.IdPInitiated("atrium", cleoSAML.Name, cleoSAML.Password)
		if err != nil {
			t.Fatal(err)
		}
		cleo := call(newClient(t, w.srv.URL).ExchangeLoginCode(ctx, loginCode(t, deliver(t, post.Action, post.SAMLResponse, "/\t/evil.example/x", ""), "/"), "")).must(t)
		if cleo.User.Email != "cleo@customer.example" || cleo.User.Kind != atrium.KindClient || cleo.User.Role != atrium.OrgRoleMember {
			t.Fatalf("signed in from the IdP as %+v", cleo.User)
		}

		// Single logout: Cleo logs out at the IdP, which sends her browser
		// here with a signed logout request; her Atrium sessions end, and
		// the browser goes back to the IdP with the answer.
		post, cookies, err := w.idp.IdPInitiatedSession("atrium", cleoSAML.Name, cleoSAML.Password)
		if err != nil {
			t.Fatal(err)
		}
		cleoC := newClient(t, w.srv.URL)
		call(cleoC.ExchangeLoginCode(ctx, loginCode(t, deliver(t, post.Action, post.SAMLResponse, "", ""), "/"), "")).must(t)
		call(cleoC.Me(ctx)).must(t)
		slo, err := w.idp.Logout(cookies)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(slo, w.p.Settings.SLOURL+"?SAMLRequest=") {
			t.Fatalf("the IdP sent the browser to %q, not the single logout service", slo)
		}
		resp, err := browser().Get(slo)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), w.idp.URL) || !strings.Contains(resp.Header.Get("Location"), "SAMLResponse=") {
			t.Fatalf("the logout's answer: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, err = cleoC.Me(ctx)
		wantError(t, err, http.StatusUnauthorized, atrium.EUnauthorized)
		// The same logout request, played again, is refused.
		resp, err = browser().Get(slo)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a logout request played again: %d", resp.StatusCode)
		}
	})
}

// refusedFor checks that a refused SAML sign-in was audited for the reason
// given (a fragment of the library's own words).
func refusedFor(t *testing.T, w *world, what, reason string) {
	t.Helper()
	entries, _, err := w.srv.App.SearchAudit(asUserOf(t, w, "ana@example.com"), app.AuditSearch{Action: "auth.login"}, app.Page{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Outcome == atrium.OutcomeFailure && strings.Contains(e.Detail, reason) {
			return
		}
	}
	var seen []string
	for _, e := range entries {
		if e.Outcome == atrium.OutcomeFailure {
			seen = append(seen, e.Detail)
		}
	}
	t.Fatalf("%s: no refusal audited for %q; refusals:\n%s", what, reason, strings.Join(seen, "\n"))
}

// TestSAMLLoginRefusals: forged, altered, replayed, expired and misdirected
// responses are refused with a precise error, audited with the reason.
// The IdP sends its assertions in the clear here, so that they can be
// tampered with.
func TestSAMLLoginRefusals(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newSAMLWorld(t, dialect, false)
		ctx := ctxScenario(t)
		acs := w.p.RedirectURI
		refused := func(what string, resp *http.Response, status int, code, reason string) {
			t.Helper()
			wantStatus(t, what, resp, status, code)
			refusedFor(t, w.world, what, reason)
		}

		// Posted from another browser than the one that started it (a
		// login CSRF); then, from the right one, fine — once.
		post := w.signIn(t, w.p, cleoSAML, "")
		refused("another browser", deliver(t, acs, post.SAMLResponse, post.RelayState, ""), http.StatusUnauthorized, atrium.EUnauthorized, "state not this browser's")
		post = w.signIn(t, w.p, cleoSAML, "")
		loginCode(t, post.back(t), "/")
		refused("a response played again", post.back(t), http.StatusUnauthorized, atrium.EUnauthorized, "InResponseTo")

		// An IdP-initiated response (answering no request) played again:
		// its assertion was spent.
		idpPost, err := w.idp.IdPInitiated("atrium", cleoSAML.Name, cleoSAML.Password)
		if err != nil {
			t.Fatal(err)
		}
		loginCode(t, deliver(t, acs, idpPost.SAMLResponse, "", ""), "/")
		refused("an IdP-initiated response played again", deliver(t, acs, idpPost.SAMLResponse, "", ""), http.StatusUnauthorized, atrium.EUnauthorized, "already been used")

		// Signatures taken off.
		post = w.signIn(t, w.p, cleoSAML, "")
		unsigned := edit(t, post.SAMLResponse, func(doc *etree.Document) {
			sigs := doc.FindElements("//Signature")
			for _, sig := range sigs {
				sig.Parent().RemoveChild(sig)
			}
			if len(sigs) == 0 {
				t.Fatal("the response carries no signature to take off")
			}
		})
		refused("an unsigned response", deliver(t, acs, unsigned, post.RelayState, post.cookie), http.StatusUnauthorized, atrium.EUnauthorized, "signature element not present")

		// Signature wrapping: the Response's own signature taken off, and
		// the signed assertion moved into a forged one for Ana (into its
		// Advice), which now stands where the signed one was.
		post = w.signIn(t, w.p, cleoSAML, "")
		wrapped := edit(t, post.SAMLResponse, func(doc *etree.Document) {
			resp := doc.Root()
			for _, sig := range resp.SelectElements("Signature") {
				resp.RemoveChild(sig)
			}
			signed := resp.SelectElement("Assertion")
			forged := signed.Copy()
			forged.CreateAttr("ID", "_forged")
			for _, sig := range forged.SelectElements("Signature") {
				forged.RemoveChild(sig)
			}
			for _, v := range append(forged.FindElements(".//NameID"), forged.FindElements(".//AttributeValue")...) {
				if strings.Contains(v.Text(), "cleo@customer.example") {
					v.SetText("ana@example.com")
				}
			}
			at := signed.Index()
			resp.RemoveChild(signed)
			advice := forged.CreateElement("saml:Advice")
			advice.AddChild(signed)
			resp.InsertChildAt(at, forged)
		})
		refused("a wrapped signature", deliver(t, acs, wrapped, post.RelayState, post.cookie), http.StatusUnauthorized, atrium.EUnauthorized, "signature")

		// A comment in the signed address (which canonicalisation drops,
		// so the signature still holds) does not cut it short: Mallory,
		// ana@example.com.evil.test, is not taken for ana@example.com.
		post = w.signIn(t, w.p, mallorySAML, "")
		commented := edit(t, post.SAMLResponse, func(doc *etree.Document) {
			for _, v := range append(doc.FindElements("//NameID"), doc.FindElements("//AttributeValue")...) {
				if v.Text() == mallorySAML.Email {
					v.SetText("ana@example.com")
					v.AddChild(etree.NewComment(""))
					v.AddChild(etree.NewText(".evil.test"))
				}
			}
		})
		resp := deliver(t, acs, commented, post.RelayState, post.cookie)
		if resp.StatusCode == http.StatusFound {
			got := call(newClient(t, w.srv.URL).ExchangeLoginCode(ctx, loginCode(t, resp, "/"), "")).must(t)
			if got.User.ID == w.ana.ID || got.User.Email != mallorySAML.Email {
				t.Fatalf("a comment in the address signed in %+v", got.User)
			}
		} else {
			wantStatus(t, "a comment in the address", resp, http.StatusUnauthorized, atrium.EUnauthorized)
		}

		// Expired: issued two and a half minutes ago (more than the 90
		// seconds a response may take; within the clock skew the IdP allows
		// the request, so that it still answers).
		w.idp.SetClock(time.Now().Add(-150 * time.Second))
		post = w.signIn(t, w.p, cleoSAML, "")
		w.idp.SetClock(time.Time{})
		refused("an expired response", post.back(t), http.StatusUnauthorized, atrium.EUnauthorized, "expired")

		// For another audience: the IdP knows another service provider with
		// the same assertion consumer service but another entity id, and
		// sends it a response, which arrives here.
		w.idp.AddServiceProviderAs("impostor", w.p.MetadataURL, "https://impostor.example/saml")
		idpPost, err = w.idp.IdPInitiated("impostor", cleoSAML.Name, cleoSAML.Password)
		if err != nil {
			t.Fatal(err)
		}
		refused("another audience's response", deliver(t, acs, idpPost.SAMLResponse, "", ""), http.StatusUnauthorized, atrium.EUnauthorized, "AudienceRestriction")

		// A provider that takes no IdP-initiated sign-ins.
		other := w.register(t, "other", false, false)
		idpPost, err = w.idp.IdPInitiated("other", cleoSAML.Name, cleoSAML.Password)
		if err != nil {
			t.Fatal(err)
		}
		refused("an IdP-initiated sign-in, not allowed", deliver(t, other.RedirectURI, idpPost.SAMLResponse, "", ""), http.StatusUnauthorized, atrium.EUnauthorized, "InResponseTo")

		// Malformed and oversized.
		refused("not base64", deliver(t, acs, "%%%not base64", "", ""), http.StatusBadRequest, atrium.EInvalid, "not base64")
		refused("not XML", deliver(t, acs, base64.StdEncoding.EncodeToString([]byte("<Response><unclosed")), "", ""), http.StatusBadRequest, atrium.EInvalid, "not well-formed XML")
		refused("an oversized response", deliver(t, acs, strings.Repeat("A", 400<<10), "", ""), http.StatusRequestEntityTooLarge, atrium.ETooLarge, "larger than")
	})
}

// edit decodes a SAMLResponse, changes it and encodes it again.
func edit(t *testing.T, samlResponse string, change func(*etree.Document)) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(samlResponse)
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	change(doc)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}
