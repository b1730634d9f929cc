package oauthserver

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store"
)

// storage is op.Storage over the app: apps are clients, a user's consent
// completes an authorization request, and tokens live in the store.
type storage struct {
	app     *app.App
	signing signingKey
}

var errNoIDTokens = errors.New("oauthserver: this server issues no ID tokens")

// maxParam bounds state and nonce.
const maxParam = 512

// opErr maps the app's errors to the protocol's: a refusal is
// invalid_grant (its message is the app's, safe to show); anything else
// is a server error that says nothing more (the app logs it).
func opErr(err error) error {
	switch atrium.ErrorCode(err) {
	case "":
		return nil
	case atrium.EUnauthorized, atrium.ENotFound, atrium.EForbidden:
		return oidc.ErrInvalidGrant().WithDescription("%s", atrium.ErrorMessage(err))
	}
	return oidc.ErrServerError()
}

// requestParams are the parameters of an authorization request kept
// until its code is exchanged.
type requestParams struct {
	RedirectURI  string   `json:"redirect_uri"`
	Scopes       []string `json:"scopes"`
	State        string   `json:"state"`
	Nonce        string   `json:"nonce"`
	ResponseType string   `json:"response_type"`
	ResponseMode string   `json:"response_mode"`
	Challenge    string   `json:"code_challenge"`
	Method       string   `json:"code_challenge_method"`
}

// authRequest is op.AuthRequest over a stored request.
type authRequest struct {
	r *store.OAuthRequest
	p requestParams
}

func newAuthRequest(r *store.OAuthRequest) (*authRequest, error) {
	var p requestParams
	if err := json.Unmarshal(r.Request, &p); err != nil {
		return nil, err
	}
	return &authRequest{r: r, p: p}, nil
}

func (a *authRequest) GetID() string          { return a.r.ID }
func (a *authRequest) GetACR() string         { return "" }
func (a *authRequest) GetAMR() []string       { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string  { return []string{a.r.AppID} }
func (a *authRequest) GetClientID() string    { return a.r.AppID }
func (a *authRequest) GetNonce() string       { return a.p.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.p.RedirectURI }
func (a *authRequest) GetState() string       { return a.p.State }
func (a *authRequest) GetSubject() string     { return a.r.GrantID }
func (a *authRequest) Done() bool             { return a.r.GrantID != "" }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.p.ResponseType)
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.p.ResponseMode)
}
func (a *authRequest) GetAuthTime() time.Time {
	if a.r.AuthTime == nil {
		return time.Time{}
	}
	return *a.r.AuthTime
}

// GetScopes are the scopes granted once the user consented, and those
// asked before.
func (a *authRequest) GetScopes() []string {
	if a.r.GrantID != "" {
		return a.r.Scopes
	}
	return a.p.Scopes
}

func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.p.Challenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.p.Challenge, Method: oidc.CodeChallengeMethod(a.p.Method)}
}

// The subject of every token is its grant's id: the grant names the user,
// and revoking it ends the tokens.

// CreateAuthRequest keeps a request op has checked (client, redirect URI).
// PKCE with S256 is required of public apps, and only S256 is taken; no
// ID tokens are issued (the openid scope is dropped).
func (s *storage) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	a, err := s.app.OAuthApp(ctx, r.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient()
	}
	if !slices.Contains(a.RedirectURIs, r.RedirectURI) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is not one the app registered")
	}
	if len(r.State) > maxParam || len(r.Nonce) > maxParam || len(r.Scopes) > 20 || r.CodeChallenge != "" && len(r.CodeChallenge) != 43 {
		return nil, oidc.ErrInvalidRequest().WithDescription("state or nonce too long, too many scopes, or a code_challenge that is not 43 characters")
	}
	if r.CodeChallenge != "" && r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if a.Public && r.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("public clients must use PKCE (S256)")
	}
	if r.ResponseType != oidc.ResponseTypeCode {
		return nil, oidc.ErrInvalidRequest().WithDescription("response_type must be code")
	}
	scopes := slices.DeleteFunc(slices.Clone([]string(r.Scopes)), func(sc string) bool { return sc == oidc.ScopeOpenID })
	p := requestParams{RedirectURI: r.RedirectURI, Scopes: scopes, State: r.State, Nonce: r.Nonce, ResponseType: string(r.ResponseType),
		ResponseMode: string(r.ResponseMode), Challenge: r.CodeChallenge, Method: string(r.CodeChallengeMethod)}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	id, err := s.app.StartOAuthRequest(ctx, a.ID, b)
	if atrium.ErrorCode(err) == atrium.ERateLimited {
		return nil, oidc.ErrServerError().WithDescription("%s", atrium.ErrorMessage(err))
	}
	if err != nil {
		return nil, opErr(err)
	}
	stored, err := s.app.OAuthRequest(ctx, id)
	if err != nil {
		return nil, opErr(err)
	}
	return newAuthRequest(stored)
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.app.OAuthRequest(ctx, id)
	if err != nil {
		return nil, opErr(err)
	}
	return newAuthRequest(r)
}

// AuthRequestByCode spends the code (the app revokes the grant of a code
// played again).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.app.OAuthRequestByCode(ctx, code)
	if err != nil {
		return nil, opErr(err)
	}
	return newAuthRequest(r)
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return opErr(s.app.SetOAuthCode(ctx, id, code))
}

// DeleteAuthRequest does nothing: the code was spent when it was read,
// and the request stays until it expires, so that a code played again
// is recognised.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// tokenScopes are the API scopes of a token request.
func tokenScopes(scopes []string) []string {
	return slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return !slices.Contains(atrium.Scopes, sc) })
}

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, _, exp, err := s.app.IssueOAuthTokens(ctx, req.GetSubject(), tokenScopes(req.GetScopes()), false)
	return id, exp, opErr(err)
}

// CreateAccessAndRefreshTokens issues tokens for a code, or rotates a
// refresh token (currentRefreshToken set): the old one is spent.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	if current == "" {
		id, refresh, exp, err := s.app.IssueOAuthTokens(ctx, req.GetSubject(), tokenScopes(req.GetScopes()), true)
		return id, refresh, exp, opErr(err)
	}
	rr, ok := req.(*refreshRequest)
	if !ok {
		return "", "", time.Time{}, oidc.ErrInvalidGrant()
	}
	id, refresh, exp, err := s.app.RotateOAuthRefresh(ctx, rr.g, tokenScopes(req.GetScopes()))
	return id, refresh, exp, opErr(err)
}

// refreshRequest is op.RefreshTokenRequest over a refresh token's grant.
type refreshRequest struct {
	g      *app.RefreshGrant
	scopes []string
}

func (r *refreshRequest) GetAMR() []string                 { return []string{"pwd"} }
func (r *refreshRequest) GetAudience() []string            { return []string{r.g.Grant.AppID} }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.g.Grant.CreatedAt }
func (r *refreshRequest) GetClientID() string              { return r.g.Grant.AppID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.g.Grant.ID }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

// TokenRequestByRefreshToken finds a refresh token's grant; a token used
// before revokes the grant (reuse detection).
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	g, err := s.app.OAuthRefresh(ctx, token)
	switch atrium.ErrorCode(err) {
	case "":
	case atrium.EUnauthorized, atrium.ENotFound:
		return nil, op.ErrInvalidRefreshToken
	default:
		return nil, oidc.ErrServerError()
	}
	return &refreshRequest{g: g, scopes: append(slices.Clone(g.Scopes), oidc.ScopeOfflineAccess)}, nil
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// RevokeToken revokes a token of the calling client (RFC 7009).
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	if err := s.app.RevokeOAuthTokenFor(ctx, clientID, tokenOrID); err != nil {
		return oidc.ErrServerError()
	}
	return nil
}

// GetRefreshTokenInfo finds a refresh token to revoke, without side
// effects, and only among the calling app's.
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	g, err := s.app.OAuthRefreshGrant(ctx, token)
	if err != nil || g.AppID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return g.ID, token, nil
}

// signingKey signs the ID tokens the protocol sends beside access tokens
// (this server takes no openid scope, so they carry nothing more than the
// grant): Ed25519, from a server key every node shares.
type signingKey struct {
	id  string
	key ed25519.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.EdDSA }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

// publicKey is the signing key's public half, for the key set.
type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.EdDSA }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.key.Public() }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.signing, nil }
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.EdDSA}, nil
}
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.signing}}, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	a, err := s.app.OAuthApp(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	return &client{a: a}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	if !s.app.CheckOAuthSecret(ctx, id, secret) {
		return oidc.ErrInvalidClient().WithDescription("wrong client credentials")
	}
	return nil
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errNoIDTokens
}

// SetIntrospectionFromToken answers introspection (RFC 7662) for a live
// access token of the calling app's own.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, _, clientID string) error {
	acc, err := s.app.CheckOAuthAccess(ctx, tokenID)
	if err != nil {
		return err
	}
	// An app introspects its own tokens only: another app (even of the
	// organisation) learns nothing of them.
	if clientID != acc.Grant.AppID {
		return errors.New("oauthserver: another app's token")
	}
	resp.Active = true
	resp.Scope = oidc.SpaceDelimitedArray(acc.Token.Scopes)
	resp.ClientID = acc.Grant.AppID
	resp.Subject = acc.User.ID
	resp.Username = acc.User.Email
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(acc.Token.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(acc.Token.CreatedAt)
	resp.Audience = []string{acc.Grant.AppID}
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("oauthserver: no JWT client authentication")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("oauthserver: no JWT profile grant")
}

func (s *storage) Health(context.Context) error { return nil }

// ClientCredentials authenticates a server-to-server app (client
// credentials grant): a confidential app registered for it.
func (s *storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if !s.app.CheckOAuthSecret(ctx, id, secret) {
		return nil, oidc.ErrInvalidClient().WithDescription("wrong client credentials")
	}
	a, err := s.app.OAuthApp(ctx, id)
	if err != nil || a.ServiceGrantID == "" {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("this app was not registered for client credentials")
	}
	return &client{a: a}, nil
}

// ClientCredentialsTokenRequest is the token request of a
// server-to-server app: its service grant, within the scopes asked.
func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (op.TokenRequest, error) {
	a, err := s.app.OAuthApp(ctx, id)
	if err != nil || a.ServiceGrantID == "" {
		return nil, oidc.ErrUnauthorizedClient()
	}
	granted := app.ServiceScopes(a, scopes)
	if len(granted) == 0 {
		return nil, oidc.ErrInvalidScope().WithDescription("none of the scopes asked is the app's")
	}
	return &serviceRequest{grant: a.ServiceGrantID, app: a.ID, scopes: granted}, nil
}

// serviceRequest is op.TokenRequest for client credentials.
type serviceRequest struct {
	grant, app string
	scopes     []string
}

func (r *serviceRequest) GetSubject() string    { return r.grant }
func (r *serviceRequest) GetAudience() []string { return []string{r.app} }
func (r *serviceRequest) GetScopes() []string   { return r.scopes }

// client is op.Client over an app: confidential apps are web clients
// (client_secret_basic or _post), public apps native ones (no secret,
// PKCE). Redirect URIs match exactly; no development leniency.
type client struct{ a *store.OAuthApp }

func (c *client) GetID() string                    { return c.a.ID }
func (c *client) RedirectURIs() []string           { return c.a.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return nil }
func (c *client) ApplicationType() op.ApplicationType {
	if c.a.Public {
		return op.ApplicationTypeUserAgent // https redirect URIs, matched exactly
	}
	return op.ApplicationTypeWeb
}
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.a.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	types := []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	if c.a.ServiceGrantID != "" {
		types = append(types, oidc.GrantTypeClientCredentials)
	}
	return types
}
func (c *client) LoginURL(id string) string            { return ConsentPath + "?authRequestID=" + id }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return time.Hour }
func (c *client) DevMode() bool                        { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool {
	return slices.Contains(c.a.Scopes, scope) || strings.EqualFold(scope, oidc.ScopeOfflineAccess)
}
