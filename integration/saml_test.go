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
	kimSAML     = testsaml.User{Name: "kim", Password: "kim-at-the-idp", Email: "kim@corp.example", FullName: "Kim Sato", Groups: []string{"internal", "admin"}}
	cleoSAML    = testsaml.User{Name: "cleo", Password: "cleo-at-the-idp", Email: "cleo@customer.example", FullName: "Cleo Park"}
	mallorySAML = testsaml.User{Name: "mallory", Password: "mallory-at-the-idp", Email: "ana@example.com.evil.test", FullName: "Mallory"}
)

// samlWorld is an organisation with a SAML IdP (a real one) beside it.
type samlWorld struct {
	*world
	idp *testsaml.IdP
	p   *client.IdentityProvider
	sdk *client.Client
}

// newSAMLWorld registers the IdP (by its metadata URL) as a provider that
// makes client users, maps groups to kind and role, and links existing
// users by address; the IdP knows Atrium by its metadata, as "atrium".
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
		Provision: "client", IDPMetadataURL: w.idp.MetadataURL(), AllowIDPInitiated: &idpInitiated, LinkByEmail: true,
		Claims: atrium.ClaimMapping{Kind: "eduPersonAffiliation", Role: "eduPersonAffiliation"}})).must(t)
	w.idp.AddServiceProvider(name, p.MetadataURL, encrypt)
	return p
}

// signIn starts an SP-initiated sign-in through p and signs user in at
// the IdP; it returns what the IdP has the browser post.
func (w *samlWorld) signIn(t *testing.T, p *client.IdentityProvider, user testsaml.User, returnTo string) *testsaml.Post {
	t.Helper()
	resp, err := browser().Get(w.sdk.ProviderLoginURL("saml", p.ID, returnTo))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), w.idp.URL+"/sso?SAMLRequest=") {
		t.Fatalf("start: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	post, err := w.idp.SignIn(resp.Header.Get("Location"), user.Name, user.Password)
	if err != nil {
		t.Fatal(err)
	}
	if post.Action != p.RedirectURI {
		t.Fatalf("the IdP posts to %q, not the ACS %q", post.Action, p.RedirectURI)
	}
	return post
}

// deliver posts a response to an ACS, as the browser does.
func deliver(t *testing.T, acs, samlResponse, relayState string) *http.Response {
	t.Helper()
	resp, err := browser().PostForm(acs, url.Values{"SAMLResponse": {samlResponse}, "RelayState": {relayState}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestSAMLLogin: users sign in through the organisation's SAML IdP, started
// at Atrium or at the IdP; attributes make the user, and the session comes
// from a one-time login code. The IdP encrypts its assertions to Atrium's
// key, as Atrium's metadata offers.
func TestSAMLLogin(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newSAMLWorld(t, dialect, true)
		ctx := ctxT(t)
		if !strings.HasSuffix(w.p.RedirectURI, "/acs") || w.p.Settings.IDPEntityID != w.idp.MetadataURL() {
			t.Fatalf("the registered provider: %+v", w.p)
		}
		post := w.signIn(t, w.p, kimSAML, "/home")
		kim := call(w.sdk.ExchangeLoginCode(ctx, loginCode(t, deliver(t, post.Action, post.SAMLResponse, post.RelayState), "/home"), "laptop")).must(t)
		if kim.User.Email != "kim@corp.example" || kim.User.Name != "Kim Sato" || kim.User.Kind != atrium.KindInternal || kim.User.Role != atrium.OrgRoleAdmin {
			t.Fatalf("signed in as %+v", kim.User)
		}
		again := w.signIn(t, w.p, kimSAML, "")
		second := call(newClient(t, w.srv.URL).ExchangeLoginCode(ctx, loginCode(t, deliver(t, again.Action, again.SAMLResponse, again.RelayState), "/"), "")).must(t)
		if second.User.ID != kim.User.ID {
			t.Fatal("the second sign-in found another user")
		}

		// Started at the IdP.
		post, err := w.idp.IdPInitiated("atrium", cleoSAML.Name, cleoSAML.Password)
		if err != nil {
			t.Fatal(err)
		}
		cleo := call(newClient(t, w.srv.URL).ExchangeLoginCode(ctx, loginCode(t, deliver(t, post.Action, post.SAMLResponse, post.RelayState), "/"), "")).must(t)
		if cleo.User.Email != "cleo@customer.example" || cleo.User.Kind != atrium.KindClient || cleo.User.Role != atrium.OrgRoleMember {
			t.Fatalf("signed in from the IdP as %+v", cleo.User)
		}
	})
}

// TestSAMLLoginRefusals: forged, altered, replayed, expired and misdirected
// responses are refused with a precise error, and audited. The IdP sends
// its assertions in the clear here, so that they can be tampered with.
func TestSAMLLoginRefusals(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newSAMLWorld(t, dialect, false)
		ctx := ctxT(t)
		acs := w.p.RedirectURI

		// Played again.
		post := w.signIn(t, w.p, cleoSAML, "")
		loginCode(t, deliver(t, acs, post.SAMLResponse, post.RelayState), "/")
		wantStatus(t, "a response played again", deliver(t, acs, post.SAMLResponse, post.RelayState), http.StatusUnauthorized, atrium.EUnauthorized)
		wantStatus(t, "a response played again, as IdP-initiated", deliver(t, acs, post.SAMLResponse, ""), http.StatusUnauthorized, atrium.EUnauthorized)

		// An IdP-initiated response (answering no request) played again:
		// the assertion's ID was spent.
		post, err := w.idp.IdPInitiated("atrium", cleoSAML.Name, cleoSAML.Password)
		if err != nil {
			t.Fatal(err)
		}
		loginCode(t, deliver(t, acs, post.SAMLResponse, post.RelayState), "/")
		wantStatus(t, "an IdP-initiated response played again", deliver(t, acs, post.SAMLResponse, post.RelayState), http.StatusUnauthorized, atrium.EUnauthorized)

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
		wantStatus(t, "an unsigned response", deliver(t, acs, unsigned, post.RelayState), http.StatusUnauthorized, atrium.EUnauthorized)

		// Signature wrapping: a forged assertion for Ana put before the
		// signed one.
		post = w.signIn(t, w.p, cleoSAML, "")
		wrapped := edit(t, post.SAMLResponse, func(doc *etree.Document) {
			signed := doc.FindElement("//Assertion")
			forged := signed.Copy()
			forged.CreateAttr("ID", "_forged")
			for _, sig := range forged.FindElements("./Signature") {
				forged.RemoveChild(sig)
			}
			for _, v := range append(forged.FindElements(".//NameID"), forged.FindElements(".//AttributeValue")...) {
				if strings.Contains(v.Text(), "cleo@customer.example") {
					v.SetText("ana@example.com")
				}
			}
			signed.Parent().InsertChildAt(signed.Index(), forged)
		})
		wantStatus(t, "a wrapped signature", deliver(t, acs, wrapped, post.RelayState), http.StatusUnauthorized, atrium.EUnauthorized)

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
		resp := deliver(t, acs, commented, post.RelayState)
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
		wantStatus(t, "an expired response", deliver(t, acs, post.SAMLResponse, post.RelayState), http.StatusUnauthorized, atrium.EUnauthorized)

		// For another audience: a response made for another service
		// provider, posted here.
		other := w.register(t, "other", false, false)
		post = w.signIn(t, other, cleoSAML, "")
		wantStatus(t, "another audience's response", deliver(t, acs, post.SAMLResponse, post.RelayState), http.StatusUnauthorized, atrium.EUnauthorized)
		// That provider takes no IdP-initiated sign-ins.
		post, err = w.idp.IdPInitiated("other", cleoSAML.Name, cleoSAML.Password)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "an IdP-initiated sign-in, not allowed", deliver(t, other.RedirectURI, post.SAMLResponse, ""), http.StatusUnauthorized, atrium.EUnauthorized)

		// Malformed and oversized.
		wantStatus(t, "not base64", deliver(t, acs, "%%%not base64", ""), http.StatusBadRequest, atrium.EInvalid)
		wantStatus(t, "not XML", deliver(t, acs, base64.StdEncoding.EncodeToString([]byte("<Response><unclosed")), ""), http.StatusBadRequest, atrium.EInvalid)
		wantStatus(t, "an oversized response", deliver(t, acs, strings.Repeat("A", 400<<10), ""), http.StatusRequestEntityTooLarge, atrium.ETooLarge)

		entries, _, err := w.srv.App.SearchAudit(asUserOf(t, w.world, "ana@example.com"), app.AuditSearch{Action: "auth.login"}, app.Page{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		refused := 0
		for _, e := range entries {
			if e.Outcome == atrium.OutcomeFailure && strings.Contains(e.Detail, "provider sign-in") {
				refused++
			}
		}
		if refused < 11 {
			t.Fatalf("%d refused SAML sign-ins audited, want at least 11", refused)
		}
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
