package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth/providerhttp"
	"github.com/atrium-dev/atrium/auth/samllogin"
	"github.com/atrium-dev/atrium/store"
)

// prepareSAML reads and checks a SAML IdP's metadata (given, or fetched
// from its URL), fixes this server's entity id and assertion consumer
// service for it, and makes this server's key for it (returned, to keep
// encrypted).
func (a *App) prepareSAML(ctx context.Context, p *store.IdentityProvider, in CreateIdentityProviderInput) ([]byte, error) {
	if (in.IDPMetadataXML == "") == (p.Settings.IDPMetadataURL == "") {
		return nil, atrium.Errorf(atrium.EInvalid, "send either idp_metadata_xml or idp_metadata_url")
	}
	data := []byte(in.IDPMetadataXML)
	if p.Settings.IDPMetadataURL != "" {
		var err error
		if data, err = providerhttp.Get(ctx, a.idps.client, p.Settings.IDPMetadataURL, a.cfg.IdPAllowPrivate); err != nil {
			a.log.Warn("identity provider: metadata not read", "url", p.Settings.IDPMetadataURL, "err", err)
			return nil, atrium.Errorf(atrium.EInvalid, "the IdP's metadata could not be read from idp_metadata_url (an https address on the internet)")
		}
	}
	md, err := samllogin.ParseMetadata(data)
	if err != nil {
		return nil, atrium.Errorf(atrium.EInvalid, "%v", err)
	}
	// Browsers are sent there: it must be https, like every provider.
	if err := providerhttp.CheckURL(samllogin.SSOURL(md), a.cfg.IdPAllowPrivate, true); err != nil {
		return nil, atrium.Errorf(atrium.EInvalid, "the IdP's sign-on service: %v", err)
	}
	base := strings.TrimRight(in.AuthBase, "/") + "/saml/" + p.ID
	s := &p.Settings
	s.IDPMetadataXML, s.IDPEntityID, s.SPEntityID, s.ACSURL, s.SLOURL = string(data), md.EntityID, base+"/metadata", base+"/acs", base+"/slo"
	// IdP-initiated sign-ins cannot be bound to a browser: off unless asked.
	s.AllowIDPInitiated = in.AllowIDPInitiated != nil && *in.AllowIDPInitiated
	key, cert, err := samllogin.NewKey(s.SPEntityID, a.now())
	if err != nil {
		return nil, atrium.Internal("app.prepareSAML", err)
	}
	s.SPCertificate = samllogin.EncodeCert(cert)
	return samllogin.EncodeKey(key), nil
}

// samlProvider returns this server as the service provider of a SAML IdP.
func (a *App) samlProvider(ctx context.Context, p *store.IdentityProvider) (*samllogin.Provider, error) {
	now := time.Now()
	if e, ok := a.idps.lookup(p.ID, now); ok && e.saml != nil {
		return e.saml, nil
	}
	keyPEM, err := a.idpSecret(ctx, p)
	if err != nil {
		return nil, err
	}
	key, err := samllogin.DecodeKey([]byte(keyPEM))
	if err != nil {
		return nil, atrium.Internal("app.samlProvider", err)
	}
	cert, err := samllogin.DecodeCert(p.Settings.SPCertificate)
	if err != nil {
		return nil, atrium.Internal("app.samlProvider", err)
	}
	sp, err := samllogin.New(samllogin.Config{IDPMetadata: []byte(p.Settings.IDPMetadataXML), EntityID: p.Settings.SPEntityID,
		ACSURL: p.Settings.ACSURL, SLOURL: p.Settings.SLOURL, Key: key, Certificate: cert, AllowIDPInitiated: p.Settings.AllowIDPInitiated,
		ReplayCache: replayCache{a: a, providerID: p.ID}})
	if err != nil {
		return nil, atrium.Internal("app.samlProvider", err)
	}
	a.idps.store(p.ID, cachedIdP{saml: sp, at: now})
	return sp, nil
}

// replayCache records a provider's accepted assertions in the store, so
// that every node refuses one played again.
type replayCache struct {
	a          *App
	providerID string
}

// storeFailure is a replay cache that could not record: the sign-in
// fails as the store's error, not as a refusal.
type storeFailure struct{ err error }

func (f storeFailure) Error() string { return f.err.Error() }

// Consume records an assertion's ID until it could no longer be accepted
// by any node (its deadline, plus the clock skew nodes may have between
// them).
func (r replayCache) Consume(assertionID string, expires time.Time) error {
	fresh := false
	err := r.a.write(context.Background(), func(w *writer) (err error) {
		fresh, err = w.UseNonce(w.ctx, "saml:"+r.providerID, assertionID, expires.Add(SSOClockSkew))
		return err
	})
	if err != nil {
		return storeFailure{err}
	}
	if !fresh {
		return saml.ErrAssertionReplayed
	}
	return nil
}

// SAMLMetadata is this server's service-provider metadata for a SAML IdP.
func (a *App) SAMLMetadata(ctx context.Context, providerID string) ([]byte, error) {
	p, err := a.enabledProvider(ctx, atrium.ProtocolSAML, providerID)
	if err != nil {
		return nil, err
	}
	sp, err := a.samlProvider(ctx, p)
	if err != nil {
		return nil, err
	}
	md, err := sp.Metadata()
	if err != nil {
		return nil, atrium.Internal("app.SAMLMetadata", err)
	}
	return md, nil
}

// RefuseSAMLPost audits a post to a provider's assertion consumer service
// that was refused before it could be read (too large, not a form).
func (a *App) RefuseSAMLPost(ctx context.Context, providerID, reason string) {
	if p, err := a.enabledProvider(ctx, atrium.ProtocolSAML, providerID); err == nil {
		a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "provider sign-in: "+reason)
	}
}

// SAMLResponse is what an IdP posts to the assertion consumer service.
type SAMLResponse struct {
	ProviderID   string
	SAMLResponse string
	RelayState   string
	// BrowserState is the state the browser kept from the start (a
	// cookie): a sign-in this server started is finished only in the
	// browser that started it.
	BrowserState string
}

// FinishSAMLLogin checks a response posted by a SAML IdP: for a sign-in
// this server started (RelayState names it, once), the response must
// answer its request; otherwise it is an IdP-initiated sign-in, accepted
// only when the provider allows them. Signature, audience, recipient,
// destination, validity and replay are checked by the SAML library. The
// answer is the login code, as for OpenID Connect.
func (a *App) FinishSAMLLogin(ctx context.Context, in SAMLResponse) (*ProviderLoginDone, error) {
	if in.SAMLResponse == "" {
		return nil, atrium.Errorf(atrium.EInvalid, "SAMLResponse is missing")
	}
	if len(in.RelayState) > maxStateParam {
		return nil, atrium.Errorf(atrium.EInvalid, "RelayState is too long")
	}
	p, err := a.enabledProvider(ctx, atrium.ProtocolSAML, in.ProviderID)
	if err != nil {
		return nil, err
	}
	// A sign-in this server started names itself in RelayState, once, in
	// the browser that started it, and its response must answer its
	// request. Anything else is IdP-initiated: it lands on "/", whatever
	// RelayState says (an IdP may let anyone choose it).
	var requestIDs []string
	returnTo, codeChallenge := "/", ""
	if in.RelayState != "" && len(in.RelayState) == 43 {
		var f *store.LoginFlow
		err := a.write(ctx, func(w *writer) (err error) {
			f, err = w.TakeLoginFlow(w.ctx, stateHash(in.RelayState), w.now)
			return err
		})
		switch {
		case err == nil && f.ProviderID == p.ID:
			if subtle.ConstantTimeCompare([]byte(in.RelayState), []byte(in.BrowserState)) != 1 {
				a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "provider sign-in: state not this browser's")
				return nil, atrium.Errorf(atrium.EUnauthorized, "this sign-in was not started in this browser; start again")
			}
			requestIDs, returnTo, codeChallenge = []string{f.Nonce}, f.ReturnTo, f.CodeChallenge
		case err == nil || atrium.ErrorCode(err) == atrium.ENotFound:
		default:
			return nil, err
		}
	}
	sp, err := a.samlProvider(ctx, p)
	if err != nil {
		return nil, err
	}
	id, err := sp.Finish(in.SAMLResponse, requestIDs)
	if errors.Is(err, samllogin.ErrTooLarge) {
		a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "provider sign-in: "+err.Error())
		return nil, atrium.Errorf(atrium.ETooLarge, "the SAML response is larger than %d bytes", samllogin.MaxResponse)
	}
	if errors.Is(err, samllogin.ErrMalformed) {
		a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "provider sign-in: "+err.Error())
		return nil, atrium.Errorf(atrium.EInvalid, "the SAML response is malformed: %s", strings.TrimPrefix(err.Error(), samllogin.ErrMalformed.Error()+": "))
	}
	var sf storeFailure
	if errors.As(err, &sf) {
		return nil, sf.err
	}
	if err != nil {
		a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "provider sign-in: "+truncate(err.Error(), 400))
		return nil, atrium.Errorf(atrium.EUnauthorized, "the identity provider's response was refused")
	}
	ext := externalIdentity{Method: atrium.LoginSAML, Subject: "nameid:" + id.NameID, Attrs: id.Attrs, Verified: true}
	if id.Transient() || id.NameID == "" {
		// A subject that changes at every sign-in: the address stands in.
		email, err := atrium.NormalizeEmail(first(id.Attrs[p.Settings.Claims.Email]))
		if err != nil {
			a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "provider sign-in: no stable subject")
			return nil, atrium.Errorf(atrium.EForbidden, "the identity provider gave neither a stable NameID nor an address")
		}
		ext.Subject = "email:" + email
	}
	return a.finishExternal(ctx, p, ext, returnTo, codeChallenge)
}

// SAMLLogout ends, at the IdP's request (single logout), every session of
// the user its NameID names, and returns where to send the browser with
// the IdP's answer. The request must be signed by the IdP, addressed
// here, fresh and used once; every logout is audited.
func (a *App) SAMLLogout(ctx context.Context, providerID string, r *http.Request) (string, error) {
	p, err := a.enabledProvider(ctx, atrium.ProtocolSAML, providerID)
	if err != nil {
		return "", err
	}
	sp, err := a.samlProvider(ctx, p)
	if err != nil {
		return "", err
	}
	lr, err := sp.Logout(r)
	var sf storeFailure
	if errors.As(err, &sf) {
		return "", sf.err
	}
	if err != nil {
		a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "single logout refused: "+truncate(err.Error(), 300))
		return "", atrium.Errorf(atrium.EUnauthorized, "the identity provider's logout request was refused")
	}
	uid, err := a.store.IdPUser(ctx, p.ID, "nameid:"+lr.NameID)
	if err != nil {
		return "", err
	}
	if uid == "" {
		// Nobody signed in under that NameID (or under a transient one,
		// which is not kept): the IdP is told nothing was ended.
		a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "single logout: no user with this NameID")
		back, err := sp.LogoutResponseStatus(lr.ID, r.FormValue("RelayState"), false)
		if err != nil {
			return "", atrium.Internal("app.SAMLLogout", err)
		}
		return back, nil
	}
	u, err := a.store.GetUser(ctx, uid)
	if err != nil {
		return "", err
	}
	err = a.write(ctx, func(w *writer) error {
		ids, err := w.RevokeSessions(w.ctx, u.ID, "", "", w.now)
		if err != nil {
			return err
		}
		if err := w.audit(u.OrgID, "auth.single_logout", "user", u.ID, "by provider "+p.ID); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		return w.sessionsRevoked(u, ids, "session.end_by_single_logout")
	})
	if err != nil {
		return "", err
	}
	a.sessions.clear()
	back, err := sp.LogoutResponse(lr.ID, r.FormValue("RelayState"))
	if err != nil {
		return "", atrium.Internal("app.SAMLLogout", err)
	}
	return back, nil
}
