// Package oidclogin signs users in through an organisation's OpenID
// Connect provider: the authorization code flow with PKCE (S256), a state
// that the caller binds to the browser, and a nonce checked in the ID
// token. Discovery, token exchange and ID-token verification come from
// golang.org/x/oauth2 and github.com/coreos/go-oidc; nothing of the
// protocol is written here by hand.
package oidclogin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/atrium-dev/atrium/auth/providerhttp"
)

// Config is one OpenID provider as an organisation registered it.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string // empty for a public client (PKCE alone)
	RedirectURL  string // this server's callback, registered at the provider
	Scopes       []string
	// AllowPrivate lets the provider and its endpoints be on private
	// addresses or plain http on loopback (trials and tests).
	AllowPrivate bool
}

// Provider is a discovered provider, ready for sign-ins. It keeps the
// provider's signing keys cached, so keep one per provider.
type Provider struct {
	oauth    oauth2.Config
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	client   *http.Client
}

// Discover reads the provider's discovery document (its issuer must be
// c.Issuer exactly, and its endpoints https) and returns the provider.
func Discover(ctx context.Context, client *http.Client, c Config) (*Provider, error) {
	if err := providerhttp.CheckURL(c.Issuer, c.AllowPrivate, false); err != nil {
		return nil, err
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, client), c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidclogin: discovery of %s: %w", c.Issuer, err)
	}
	var endpoints struct {
		JWKS string `json:"jwks_uri"`
	}
	_ = p.Claims(&endpoints)
	for name, u := range map[string]string{"authorization": p.Endpoint().AuthURL, "token": p.Endpoint().TokenURL,
		"keys": endpoints.JWKS, "userinfo": p.UserInfoEndpoint()} {
		if u == "" && name == "userinfo" {
			continue
		}
		if err := providerhttp.CheckURL(u, c.AllowPrivate, true); err != nil {
			return nil, fmt.Errorf("oidclogin: the %s endpoint: %w", name, err)
		}
	}
	scopes := append([]string{oidc.ScopeOpenID}, c.Scopes...)
	// The key set keeps only the HTTP client of ctx, not its deadline.
	return &Provider{
		oauth: oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: c.RedirectURL, Scopes: scopes},
		provider: p,
		verifier: p.Verifier(&oidc.Config{ClientID: c.ClientID}),
		client:   client,
	}, nil
}

// Request is one sign-in in flight: what goes to the provider, and what
// must come back.
type Request struct {
	State    string // echoed by the provider; bind it to the browser
	Nonce    string // must be in the ID token
	Verifier string // PKCE code verifier; only its S256 challenge is sent
}

// NewRequest makes a sign-in's random values (256 bits each).
func NewRequest() (Request, error) {
	var r Request
	for _, p := range []*string{&r.State, &r.Nonce} {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return r, err
		}
		*p = base64.RawURLEncoding.EncodeToString(b)
	}
	r.Verifier = oauth2.GenerateVerifier()
	return r, nil
}

// AuthURL is where the browser goes to sign in at the provider.
func (p *Provider) AuthURL(r Request) string {
	return p.oauth.AuthCodeURL(r.State, oidc.Nonce(r.Nonce), oauth2.S256ChallengeOption(r.Verifier))
}

// Identity is who the provider says signed in: the ID token's subject and
// its claims (with those of the userinfo endpoint when the token lacks
// an email).
type Identity struct {
	Subject string
	Claims  map[string]any
}

// ErrRefused is wrapped by every error that means the provider did not
// vouch for a sign-in (as opposed to being unreachable).
var ErrRefused = errors.New("oidclogin: the provider did not confirm the sign-in")

// Exchange trades the code the provider sent back for tokens (with the
// PKCE verifier), verifies the ID token (signature, issuer, audience,
// expiry) and its nonce, and returns the identity.
func (p *Provider) Exchange(ctx context.Context, code string, r Request) (*Identity, error) {
	ctx = oidc.ClientContext(ctx, p.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(r.Verifier))
	if err != nil {
		// A 4xx answer is a refusal (a code not issued, used already, or
		// bound to another PKCE challenge); anything else is an outage.
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode/100 == 4 {
			return nil, fmt.Errorf("%w: the token endpoint said %s", ErrRefused, re.ErrorCode)
		}
		return nil, fmt.Errorf("oidclogin: token exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: no ID token", ErrRefused)
	}
	id, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if id.Nonce != r.Nonce {
		return nil, fmt.Errorf("%w: the ID token's nonce is not this sign-in's", ErrRefused)
	}
	claims := map[string]any{}
	if err := id.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if _, ok := claims["email"]; !ok && p.provider.UserInfoEndpoint() != "" {
		p.addUserInfo(ctx, tok, id.Subject, claims)
	}
	return &Identity{Subject: id.Subject, Claims: claims}, nil
}

// addUserInfo adds the userinfo endpoint's claims that the ID token lacks,
// when the endpoint answers for the same subject. A provider whose
// endpoint fails simply gives fewer claims.
func (p *Provider) addUserInfo(ctx context.Context, tok *oauth2.Token, subject string, claims map[string]any) {
	info, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != subject {
		return
	}
	extra := map[string]any{}
	if info.Claims(&extra) != nil {
		return
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
}
