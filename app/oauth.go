package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store"
)

// The OAuth 2.0 authorization server's domain: apps registered by
// administrators, users' grants, and tokens. The protocol itself (the
// authorize, token, revocation and introspection endpoints) is
// github.com/zitadel/oidc's, in package oauthserver, which calls these.
const (
	OAuthRequestTTL = 10 * time.Minute
	OAuthAccessTTL  = time.Hour
	OAuthRefreshTTL = 30 * 24 * time.Hour
	maxRedirectURIs = 10
)

// CreateOAuthAppInput registers a third-party app: confidential (a server
// that keeps a secret) or public (a mobile or single-page app, which must
// use PKCE); its exact redirect URIs and the scopes it may ask for.
type CreateOAuthAppInput struct {
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes"`
	// ClientCredentials makes a confidential app a server-to-server one
	// as well: with its own credentials (the client credentials grant) it
	// gets tokens that act as the administrator who registered it, within
	// its scopes, for as long as that administrator is active.
	ClientCredentials bool `json:"client_credentials,omitempty"`
}

// CreatedOAuthApp is a new app with its secret (confidential apps), shown
// only this once.
type CreatedOAuthApp struct {
	*store.OAuthApp
	Secret string `json:"client_secret,omitempty"`
}

// secretHash is what is kept of an app's secret (256 random bits).
func secretHash(secret string) string { return digest("oauth-secret", secret) }

// CreateOAuthApp registers an app (administrators only).
func (a *App) CreateOAuthApp(ctx context.Context, in CreateOAuthAppInput) (*CreatedOAuthApp, error) {
	act, err := a.adminOf(ctx, "oauth_app.create")
	if err != nil {
		return nil, err
	}
	if err := atrium.CheckText("name", strings.TrimSpace(in.Name), atrium.MaxNameLen); err != nil {
		return nil, err
	}
	if in.ClientCredentials && in.Public {
		return nil, atrium.Errorf(atrium.EInvalid, "a public app has no secret, so no client credentials")
	}
	if len(in.RedirectURIs) == 0 && !in.ClientCredentials || len(in.RedirectURIs) > maxRedirectURIs {
		return nil, atrium.Errorf(atrium.EInvalid, "redirect_uris: one to %d exact addresses", maxRedirectURIs)
	}
	for _, u := range in.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, err
		}
	}
	if len(in.Scopes) == 0 || !atrium.ValidScopes(in.Scopes) {
		return nil, atrium.Errorf(atrium.EInvalid, "scopes: one or more of %s", strings.Join(atrium.Scopes, ", "))
	}
	app := &store.OAuthApp{ID: atrium.NewID(), OrgID: act.User.OrgID, Name: strings.TrimSpace(in.Name), Public: in.Public,
		RedirectURIs: in.RedirectURIs, Scopes: slices.Compact(slices.Sorted(slices.Values(in.Scopes))), CreatedBy: act.User.ID}
	out := &CreatedOAuthApp{OAuthApp: app}
	if !in.Public {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, atrium.Internal("app.CreateOAuthApp", err)
		}
		out.Secret = hex.EncodeToString(b)
		app.SecretHash = secretHash(out.Secret)
	}
	var service *store.OAuthGrant
	if in.ClientCredentials {
		service = &store.OAuthGrant{ID: atrium.NewID(), AppID: app.ID, UserID: act.User.ID, OrgID: app.OrgID, Scopes: app.Scopes}
		app.ServiceGrantID = service.ID
	}
	if app.RedirectURIs == nil {
		app.RedirectURIs = []string{}
	}
	err = a.write(ctx, func(w *writer) error {
		app.CreatedAt = w.now
		if err := w.AddOAuthApp(w.ctx, app); err != nil {
			return err
		}
		if service != nil {
			service.CreatedAt = w.now
			if err := w.AddOAuthGrant(w.ctx, service); err != nil {
				return err
			}
			if err := w.audit(app.OrgID, "oauth.grant", "oauth_app", app.ID, "client credentials, acting as "+act.User.ID+": "+strings.Join(app.Scopes, " ")); err != nil {
				return err
			}
		}
		kind := "confidential"
		if app.Public {
			kind = "public"
		}
		return w.audit(app.OrgID, "oauth_app.create", "oauth_app", app.ID, app.Name+", "+kind+", "+strings.Join(app.Scopes, " "))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkRedirectURI accepts an absolute https redirect URI without a
// fragment, matched exactly at authorization (public apps, too: a mobile
// app receives it as a claimed https link).
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 2048 || u.Fragment != "" || strings.Contains(raw, "#") || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return atrium.Errorf(atrium.EInvalid, "redirect URI %q: an absolute https address without a fragment", truncate(raw, 100))
	}
	return nil
}

// ListOAuthApps returns a page of the organisation's apps (administrators
// only), without secrets.
func (a *App) ListOAuthApps(ctx context.Context, p Page) ([]*store.OAuthApp, string, error) {
	act, err := a.adminOf(ctx, "oauth_app.list")
	if err != nil {
		return nil, "", err
	}
	return pageAfterID(p, func(after string, limit int) ([]*store.OAuthApp, error) {
		return a.store.ListOAuthApps(ctx, act.User.OrgID, after, limit)
	}, func(x *store.OAuthApp) string { return x.ID })
}

// RevokeOAuthApp revokes an app and every grant to it (administrators
// only): its tokens stop working at once.
func (a *App) RevokeOAuthApp(ctx context.Context, id string) error {
	act, err := a.adminOf(ctx, "oauth_app.revoke")
	if err != nil {
		return err
	}
	if !atrium.ValidID(id) {
		return atrium.NotFound("app")
	}
	err = a.write(ctx, func(w *writer) error {
		if err := w.RevokeOAuthApp(w.ctx, act.User.OrgID, id, w.now); err != nil {
			return err
		}
		return w.audit(act.User.OrgID, "oauth_app.revoke", "oauth_app", id, "")
	})
	return a.deny(ctx, err, act.User.OrgID, "oauth_app.revoke", "oauth_app", id)
}

// OAuthApp returns a live app (for the protocol); ENotFound otherwise.
func (a *App) OAuthApp(ctx context.Context, id string) (*store.OAuthApp, error) {
	if !atrium.ValidID(id) {
		return nil, atrium.NotFound("app")
	}
	app, err := a.store.GetOAuthApp(ctx, id)
	if err != nil {
		return nil, err
	}
	if app.RevokedAt != nil {
		return nil, atrium.NotFound("app")
	}
	return app, nil
}

// ServiceScopes returns the scopes a server-to-server app's token gets:
// those asked that the app may have (all of them when none are asked).
func ServiceScopes(a *store.OAuthApp, asked []string) []string {
	if len(asked) == 0 {
		return a.Scopes
	}
	var out []string
	for _, s := range asked {
		if slices.Contains(a.Scopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// CheckOAuthSecret reports whether secret is a confidential app's, in
// constant time.
func (a *App) CheckOAuthSecret(ctx context.Context, id, secret string) bool {
	app, err := a.OAuthApp(ctx, id)
	if err != nil || app.Public || app.SecretHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(secretHash(secret)), []byte(app.SecretHash)) == 1
}

// oauthStartsPerWindow bounds the authorization requests one address may
// start in OAuthRequestTTL: generous for an office behind one address,
// tight for a flood.
const oauthStartsPerWindow = 600

// StartOAuthRequest records an authorization request the protocol checked
// (app, redirect URI, PKCE); request is its parameters, kept as JSON. An
// address that started too many lately is refused.
func (a *App) StartOAuthRequest(ctx context.Context, appID string, request []byte) (string, error) {
	if wait, _ := a.oauthStarts.Reserve(atrium.ClientInfoFrom(ctx).IP); wait > 0 {
		return "", &atrium.Error{Code: atrium.ERateLimited, Message: "too many authorization requests from this address; try again later",
			RetryAfter: int(math.Ceil(wait.Seconds()))}
	}
	r := &store.OAuthRequest{ID: atrium.NewID(), AppID: appID, Request: request}
	err := a.write(ctx, func(w *writer) error {
		r.ExpiresAt = w.now.Add(OAuthRequestTTL)
		return w.AddOAuthRequest(w.ctx, r)
	})
	return r.ID, err
}

// OAuthRequest returns a live authorization request.
func (a *App) OAuthRequest(ctx context.Context, id string) (*store.OAuthRequest, error) {
	if !atrium.ValidID(id) {
		return nil, atrium.NotFound("authorization request")
	}
	return a.store.GetOAuthRequest(ctx, id, a.now())
}

// ApproveOAuthRequest records that the user (the actor, signed in on the
// consent page) authorised the app for the scopes asked that their
// account may use: a grant, audited.
func (a *App) ApproveOAuthRequest(ctx context.Context, id string, asked []string) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	r, err := a.OAuthRequest(ctx, id)
	if err != nil {
		return err
	}
	app, err := a.OAuthApp(ctx, r.AppID)
	if err != nil {
		return err
	}
	if app.OrgID != act.User.OrgID {
		return atrium.Errorf(atrium.EForbidden, "this app belongs to another organisation")
	}
	var scopes []string
	for _, s := range asked {
		if slices.Contains(app.Scopes, s) && (s != atrium.ScopeAdmin || atrium.CanManageUsers(act.User, act.User.OrgID)) {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) == 0 {
		a.auditRefusal(ctx, act.User.OrgID, "oauth.grant", act.User.ID, "none of the scopes "+app.Name+" asked can be granted by this account")
		return atrium.Errorf(atrium.EForbidden, "none of the scopes asked can be granted by this account")
	}
	if slices.Contains(asked, "offline_access") {
		scopes = append(scopes, "offline_access") // a refresh token, not an API scope
	}
	g := &store.OAuthGrant{ID: atrium.NewID(), AppID: app.ID, UserID: act.User.ID, OrgID: act.User.OrgID, Scopes: scopes}
	return a.write(ctx, func(w *writer) error {
		g.CreatedAt = w.now
		if err := w.AddOAuthGrant(w.ctx, g); err != nil {
			return err
		}
		if err := w.ApproveOAuthRequest(w.ctx, id, act.User.ID, g.ID, scopes, w.now); err != nil {
			return err
		}
		return w.audit(act.User.OrgID, "oauth.grant", "oauth_app", app.ID, strings.Join(scopes, " "))
	})
}

// SetOAuthCode records the hash of the code issued for an approved request.
func (a *App) SetOAuthCode(ctx context.Context, id, code string) error {
	return a.write(ctx, func(w *writer) error { return w.SetOAuthCode(w.ctx, id, codeHash(code)) })
}

// codeHash is what is kept of an authorization code.
func codeHash(code string) string { return digest("oauth-code", code) }

// browserHash is what is kept of the cookie that binds a request to a
// browser.
func browserHash(token string) string { return digest("oauth-browser", token) }

// OAuthRequestByCode spends a code and returns its approved request. A
// code presented a second time was copied: the grant it led to is revoked
// with its tokens (RFC 6749 §4.1.2), and audited.
func (a *App) OAuthRequestByCode(ctx context.Context, code string) (*store.OAuthRequest, error) {
	r, err := a.store.OAuthRequestByCode(ctx, codeHash(code), a.now())
	if err != nil {
		return nil, atrium.Errorf(atrium.EUnauthorized, "the code is not valid or expired")
	}
	first := false
	if r.CodeUsedAt == nil {
		if err := a.write(ctx, func(w *writer) (err error) {
			first, err = w.UseOAuthCode(w.ctx, r.ID, w.now)
			return err
		}); err != nil {
			return nil, err
		}
	}
	if !first {
		a.revokeGrantFor(ctx, r.GrantID, "an authorization code was used twice")
		return nil, atrium.Errorf(atrium.EUnauthorized, "the code was used already: the authorisation is revoked")
	}
	return r, nil
}

// BindOAuthRequest ties a request to the browser that started it: the
// consent is taken only from a browser with the same cookie.
func (a *App) BindOAuthRequest(ctx context.Context, id, browserToken string) error {
	return a.write(ctx, func(w *writer) error { return w.BindOAuthRequest(w.ctx, id, browserHash(browserToken)) })
}

// DenyOAuthRequest ends a request the user refused; audited.
func (a *App) DenyOAuthRequest(ctx context.Context, id string) error {
	r, err := a.OAuthRequest(ctx, id)
	if err != nil {
		return err
	}
	orgID := ""
	if app, err := a.OAuthApp(ctx, r.AppID); err == nil {
		orgID = app.OrgID
	}
	return a.write(ctx, func(w *writer) error {
		if err := w.DeleteOAuthRequest(w.ctx, id); err != nil {
			return err
		}
		w.record(a.auditEntry(w.ctx, orgID, "oauth.deny", "oauth_app", r.AppID, atrium.OutcomeDenied, "the user refused the app", w.now))
		return nil
	})
}

// liveGrant returns a grant that is not revoked, of a live app and an
// active user.
func (a *App) liveGrant(ctx context.Context, id string) (*store.OAuthGrant, *atrium.User, error) {
	g, err := a.store.GetOAuthGrant(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if g.RevokedAt != nil {
		return nil, nil, atrium.Errorf(atrium.EUnauthorized, "the authorisation was revoked")
	}
	if _, err := a.OAuthApp(ctx, g.AppID); err != nil {
		return nil, nil, atrium.Errorf(atrium.EUnauthorized, "the app was revoked")
	}
	u, err := a.store.GetUser(ctx, g.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.Status != atrium.StatusActive {
		return nil, nil, atrium.Errorf(atrium.EUnauthorized, "the account is deactivated")
	}
	return g, u, nil
}

// IssueOAuthTokens issues an access token for a grant (and a refresh token
// when refresh is set): the access token's id and the refresh token.
func (a *App) IssueOAuthTokens(ctx context.Context, grantID string, scopes []string, refresh bool) (string, string, time.Time, error) {
	g, u, err := a.liveGrant(ctx, grantID)
	if err != nil {
		return "", "", time.Time{}, err
	}
	var kept []string
	for _, s := range scopes {
		// admin only while the user still administers the organisation.
		if slices.Contains(g.Scopes, s) && (s != atrium.ScopeAdmin || atrium.CanManageUsers(u, u.OrgID)) {
			kept = append(kept, s)
		}
	}
	access := &store.OAuthToken{ID: atrium.NewID(), GrantID: g.ID, Kind: "access", Scopes: kept}
	var refreshToken string
	var rt *store.OAuthToken
	if refresh {
		var hash []byte
		refreshToken, hash = auth.NewToken()
		rt = &store.OAuthToken{ID: atrium.NewID(), GrantID: g.ID, Kind: "refresh", TokenHash: hex.EncodeToString(hash), Scopes: kept}
	}
	err = a.write(ctx, func(w *writer) error {
		access.CreatedAt, access.ExpiresAt = w.now, w.now.Add(OAuthAccessTTL)
		if err := w.AddOAuthToken(w.ctx, access); err != nil {
			return err
		}
		if rt != nil {
			rt.CreatedAt, rt.ExpiresAt = w.now, w.now.Add(OAuthRefreshTTL)
			return w.AddOAuthToken(w.ctx, rt)
		}
		return nil
	})
	return access.ID, refreshToken, access.ExpiresAt, err
}

// RefreshGrant is what a refresh token stands for.
type RefreshGrant struct {
	Grant  *store.OAuthGrant
	Token  *store.OAuthToken
	Scopes []string
}

// OAuthRefresh returns the grant of a live, unused refresh token. A refresh
// token used a second time means it was copied: the whole grant is
// revoked (RFC 6819 §5.2.2.3), and audited.
func (a *App) OAuthRefresh(ctx context.Context, refreshToken string) (*RefreshGrant, error) {
	if !auth.ValidTokenShape(refreshToken) {
		return nil, atrium.Errorf(atrium.EUnauthorized, "not a refresh token")
	}
	t, err := a.store.OAuthTokenByHash(ctx, hex.EncodeToString(auth.HashToken(refreshToken)))
	if err != nil || t.Kind != "refresh" {
		return nil, atrium.Errorf(atrium.EUnauthorized, "not a refresh token")
	}
	if t.UsedAt != nil {
		a.revokeGrantFor(ctx, t.GrantID, "a refresh token was used twice")
		return nil, atrium.Errorf(atrium.EUnauthorized, "this refresh token was used already: the authorisation is revoked")
	}
	if t.RevokedAt != nil || !t.ExpiresAt.After(a.now()) {
		return nil, atrium.Errorf(atrium.EUnauthorized, "the refresh token expired or was revoked")
	}
	g, _, err := a.liveGrant(ctx, t.GrantID)
	if err != nil {
		return nil, err
	}
	return &RefreshGrant{Grant: g, Token: t, Scopes: t.Scopes}, nil
}

// revokeGrantFor revokes a grant that was abused, and audits why.
func (a *App) revokeGrantFor(ctx context.Context, grantID, why string) {
	if grantID == "" {
		return
	}
	g, err := a.store.GetOAuthGrant(ctx, grantID)
	if err != nil {
		return
	}
	err = a.write(ctx, func(w *writer) error {
		if err := w.RevokeOAuthGrant(w.ctx, g.ID, w.now); err != nil && atrium.ErrorCode(err) != atrium.ENotFound {
			return err
		}
		return w.audit(g.OrgID, "oauth.revoke", "oauth_grant", g.ID, why)
	})
	if err != nil {
		a.log.Warn("revoking an abused grant", "why", why, "err", err)
	}
}

// OAuthRefreshGrant returns, without side effects, the grant of a
// refresh token (for revocation, which must not trigger reuse detection).
func (a *App) OAuthRefreshGrant(ctx context.Context, refreshToken string) (*store.OAuthGrant, error) {
	if !auth.ValidTokenShape(refreshToken) {
		return nil, atrium.NotFound("token")
	}
	t, err := a.store.OAuthTokenByHash(ctx, hex.EncodeToString(auth.HashToken(refreshToken)))
	if err != nil || t.Kind != "refresh" {
		return nil, atrium.NotFound("token")
	}
	return a.store.GetOAuthGrant(ctx, t.GrantID)
}

// RotateOAuthRefresh spends a refresh token and issues the next access
// and refresh tokens. Two uses at once: one wins, the other finds the
// token used (and revokes the grant).
func (a *App) RotateOAuthRefresh(ctx context.Context, rg *RefreshGrant, scopes []string) (string, string, time.Time, error) {
	ok := false
	err := a.write(ctx, func(w *writer) (err error) {
		ok, err = w.UseRefreshToken(w.ctx, rg.Token.ID, w.now)
		return err
	})
	if err != nil {
		return "", "", time.Time{}, err
	}
	if !ok {
		a.revokeGrantFor(ctx, rg.Grant.ID, "a refresh token was used twice")
		return "", "", time.Time{}, atrium.Errorf(atrium.EUnauthorized, "this refresh token was used already: the authorisation is revoked")
	}
	return a.IssueOAuthTokens(ctx, rg.Grant.ID, scopes, true)
}

// RevokeOAuthTokenFor revokes a token (RFC 7009) of one of an app's
// grants: an access token by id, or a refresh token by its value (which
// revokes the whole grant). Tokens of other apps, and unknown ones, are
// ignored, as the RFC asks.
func (a *App) RevokeOAuthTokenFor(ctx context.Context, appID, tokenOrID string) error {
	var t *store.OAuthToken
	var err error
	if auth.ValidTokenShape(tokenOrID) {
		t, err = a.store.OAuthTokenByHash(ctx, hex.EncodeToString(auth.HashToken(tokenOrID)))
	} else if atrium.ValidID(tokenOrID) {
		t, err = a.store.GetOAuthToken(ctx, tokenOrID)
	} else {
		return nil
	}
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	g, err := a.store.GetOAuthGrant(ctx, t.GrantID)
	if err != nil || g.AppID != appID {
		return nil
	}
	return a.write(ctx, func(w *writer) error {
		if t.Kind == "refresh" {
			if err := w.RevokeOAuthGrant(w.ctx, g.ID, w.now); err != nil && atrium.ErrorCode(err) != atrium.ENotFound {
				return err
			}
		} else if err := w.RevokeOAuthToken(w.ctx, t.ID, w.now); err != nil {
			return err
		}
		return w.audit(g.OrgID, "oauth.revoke", "oauth_grant", g.ID, "by the app: a "+t.Kind+" token")
	})
}

// OAuthAccess is a live access token's grant and user.
type OAuthAccess struct {
	Token *store.OAuthToken
	Grant *store.OAuthGrant
	User  *atrium.User
}

// CheckOAuthAccess returns a live access token: not expired or revoked,
// its grant live, its app live, its user active.
func (a *App) CheckOAuthAccess(ctx context.Context, tokenID string) (*OAuthAccess, error) {
	bad := atrium.Errorf(atrium.EUnauthorized, "the access token is not valid, expired or was revoked")
	if !atrium.ValidID(tokenID) {
		return nil, bad
	}
	t, err := a.store.GetOAuthToken(ctx, tokenID)
	if atrium.ErrorCode(err) == atrium.ENotFound || err == nil && (t.Kind != "access" || t.RevokedAt != nil || !t.ExpiresAt.After(a.now())) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	g, u, err := a.liveGrant(ctx, t.GrantID)
	if atrium.ErrorCode(err) == atrium.EUnauthorized || atrium.ErrorCode(err) == atrium.ENotFound {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	return &OAuthAccess{Token: t, Grant: g, User: u}, nil
}

// AuthenticateOAuth returns the actor of an access token: its user,
// limited to the token's scopes.
func (a *App) AuthenticateOAuth(ctx context.Context, tokenID string) (*atrium.Actor, error) {
	acc, err := a.CheckOAuthAccess(ctx, tokenID)
	if err != nil {
		// A known token refused (revoked, expired, its grant or app
		// revoked, its user deactivated) is audited in its organisation.
		if t, terr := a.store.GetOAuthToken(ctx, tokenID); terr == nil {
			if g, gerr := a.store.GetOAuthGrant(ctx, t.GrantID); gerr == nil {
				a.AuditOAuthRefusal(ctx, g.AppID, "api", "invalid_token", atrium.ErrorMessage(err))
			}
		}
		return nil, err
	}
	ci := atrium.ClientInfoFrom(ctx)
	act := &atrium.Actor{User: acc.User, IP: ci.IP, UserAgent: ci.UserAgent, Scopes: acc.Token.Scopes,
		GrantID: acc.Grant.ID, AppID: acc.Grant.AppID}
	if act.Features, err = a.userFeatures(ctx, acc.User); err != nil {
		return nil, err
	}
	return act, nil
}

// ListMyGrants returns the apps the actor authorised.
func (a *App) ListMyGrants(ctx context.Context, p Page) ([]*store.OAuthGrant, string, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	return a.listGrants(ctx, act.User.OrgID, act.User.ID, p)
}

// ListOrgGrants returns every live grant of the organisation
// (administrators only).
func (a *App) ListOrgGrants(ctx context.Context, p Page) ([]*store.OAuthGrant, string, error) {
	act, err := a.adminOf(ctx, "oauth_grant.list")
	if err != nil {
		return nil, "", err
	}
	return a.listGrants(ctx, act.User.OrgID, "", p)
}

func (a *App) listGrants(ctx context.Context, orgID, userID string, p Page) ([]*store.OAuthGrant, string, error) {
	return pageAfterID(p, func(after string, limit int) ([]*store.OAuthGrant, error) {
		return a.store.ListOAuthGrants(ctx, orgID, userID, after, limit)
	}, func(g *store.OAuthGrant) string { return g.ID })
}

// RevokeGrant revokes a grant: the actor's own, or (administrators) any
// of the organisation's. Its tokens stop working at once. Audited.
func (a *App) RevokeGrant(ctx context.Context, id string) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	if !atrium.ValidID(id) {
		return atrium.NotFound("grant")
	}
	g, err := a.store.GetOAuthGrant(ctx, id)
	if atrium.ErrorCode(err) == atrium.ENotFound || err == nil && (g.OrgID != act.User.OrgID || g.RevokedAt != nil) {
		return atrium.NotFound("grant")
	}
	if err != nil {
		return err
	}
	if g.UserID != act.User.ID && !atrium.CanManageUsers(act.User, act.User.OrgID) {
		return atrium.NotFound("grant")
	}
	return a.write(ctx, func(w *writer) error {
		if err := w.RevokeOAuthGrant(w.ctx, g.ID, w.now); err != nil {
			return err
		}
		return w.audit(g.OrgID, "oauth.revoke", "oauth_grant", g.ID, g.AppName)
	})
}

// ServerKey returns one of the server's own 256-bit keys (made at first
// use, kept wrapped under the master key), e.g. the OAuth server's.
func (a *App) ServerKey(ctx context.Context, name string) ([32]byte, error) {
	var out [32]byte
	fs, err := a.files()
	if err != nil {
		return out, err
	}
	s, err := a.store.GetServerSecret(ctx, name)
	if atrium.ErrorCode(err) == atrium.ENotFound {
		if err := a.newServerKey(ctx, fs, name); err != nil {
			return out, err
		}
		s, err = a.store.GetServerSecret(ctx, name) // another node's may have been first
	}
	if err != nil {
		return out, err
	}
	key, err := fs.Keys.Unwrap(ctx, s.KEKID, s.Wrapped, "atrium/server-secret/v1/"+name)
	if err != nil {
		return out, atrium.Internal("app.ServerKey", err)
	}
	copy(out[:], key[:])
	return out, nil
}

// ConsentInput is a user's answer on the consent page: their credentials
// (a password, and a code when their account asks for a second factor)
// and whether they allow the app.
type ConsentInput struct {
	RequestID    string
	BrowserToken string // the cookie of the browser that started the request
	Email        string
	Password     string
	Code         string
}

// ErrSecondFactorNeeded asks the consent page for the user's code.
var ErrSecondFactorNeeded = atrium.Errorf(atrium.EUnauthorized, "enter the code from your authenticator app")

// ConsentToOAuth signs the user in as a login would (throttles, login
// policy, second factor, audit), in the app's organisation, and, when they
// allow it, records their grant. The sign-in opens no lasting session.
func (a *App) ConsentToOAuth(ctx context.Context, in ConsentInput) error {
	r, err := a.OAuthRequest(ctx, in.RequestID)
	if err != nil {
		return err
	}
	// Consent is taken only in the browser that started the request: no
	// one can start one and have someone else approve it.
	if r.BrowserHash == "" || subtle.ConstantTimeCompare([]byte(browserHash(in.BrowserToken)), []byte(r.BrowserHash)) != 1 {
		return atrium.Errorf(atrium.EForbidden, "this authorization was not started in this browser; start again from the app")
	}
	app, err := a.OAuthApp(ctx, r.AppID)
	if err != nil {
		return err
	}
	res, err := a.Login(ctx, LoginInput{Email: in.Email, Password: in.Password, OrgID: app.OrgID, DeviceName: "OAuth consent: " + app.Name})
	if err != nil {
		return err
	}
	if res.MFARequired {
		if res.MFAEnrollment {
			return atrium.Errorf(atrium.EForbidden, "set up a second factor in Atrium first")
		}
		if !slices.Contains(res.MFAMethods, "totp") {
			return atrium.Errorf(atrium.EForbidden, "this page takes a code from an authenticator app; accounts with passkeys only cannot authorise apps here yet")
		}
		if strings.TrimSpace(in.Code) == "" {
			return ErrSecondFactorNeeded
		}
		if res, err = a.CompleteMFA(ctx, CompleteMFAInput{MFAToken: res.MFAToken, Code: strings.TrimSpace(in.Code)}); err != nil {
			return err
		}
	}
	act, err := a.Authenticate(ctx, res.Token)
	if err != nil {
		return err
	}
	actx := atrium.WithActor(ctx, act)
	defer func() {
		if err := a.Logout(actx); err != nil {
			a.log.Warn("ending the consent page's session", "err", err)
		}
	}()
	var asked []string
	if err := json.Unmarshal(r.Request, &struct {
		Scopes *[]string `json:"scopes"`
	}{&asked}); err != nil {
		return atrium.Internal("app.ConsentToOAuth", err)
	}
	return a.ApproveOAuthRequest(actx, r.ID, asked)
}

// newServerKey makes and keeps a server key, unless one of that name
// exists already.
func (a *App) newServerKey(ctx context.Context, fs FileStorage, name string) error {
	key, err := sealed.NewKey()
	if err != nil {
		return atrium.Internal("app.newServerKey", err)
	}
	kek, wrapped, err := fs.Keys.Wrap(ctx, key, "atrium/server-secret/v1/"+name)
	if err != nil {
		return atrium.Internal("app.newServerKey", err)
	}
	return a.store.Tx(ctx, func(tx *store.Tx) error {
		return tx.AddServerSecret(ctx, &store.ServerSecret{Name: name, KEKID: kek, Wrapped: wrapped}, a.now())
	})
}

// AuditOAuthRefusal records a request the OAuth server refused (an
// unknown client, a redirect URI not registered, a code used twice, a PKCE
// verifier that does not match…), in the app's organisation when the app
// is known.
func (a *App) AuditOAuthRefusal(ctx context.Context, clientID, endpoint, code, description string) {
	orgID := ""
	if app, err := a.OAuthApp(ctx, clientID); err == nil {
		orgID = app.OrgID
	}
	detail := truncate(endpoint+": "+code+": "+description, 500)
	a.recordAlone(ctx, a.auditEntry(ctx, orgID, "oauth.refuse", "oauth_app", truncate(clientID, 64), atrium.OutcomeFailure, detail, a.now()))
}
