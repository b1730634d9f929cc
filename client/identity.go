package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/atrium-dev/atrium"
)

// IdentityProviderInput registers an organisation's identity provider
// (administrators only). Protocol is "oidc" (with Issuer, ClientID and
// usually ClientSecret) or "saml" (with IDPMetadataXML or
// IDPMetadataURL); Provision is "client", "internal" or "none".
type IdentityProviderInput struct {
	Name              string              `json:"name"`
	Protocol          string              `json:"protocol"`
	Provision         string              `json:"provision"`
	Issuer            string              `json:"issuer,omitempty"`
	ClientID          string              `json:"client_id,omitempty"`
	ClientSecret      string              `json:"client_secret,omitempty"`
	Scopes            []string            `json:"scopes,omitempty"`
	IDPMetadataXML    string              `json:"idp_metadata_xml,omitempty"`
	IDPMetadataURL    string              `json:"idp_metadata_url,omitempty"`
	AllowIDPInitiated *bool               `json:"allow_idp_initiated,omitempty"`
	Claims            atrium.ClaimMapping `json:"claims"`
	LinkByEmail       bool                `json:"link_by_email,omitempty"`
}

// IdentityProvider is a registered provider. RedirectURI is the address
// to register at the provider (the OpenID Connect callback, or the SAML
// assertion consumer service); MetadataURL is this server's SAML metadata
// for the IdP; StartURL is where a browser begins a sign-in through it.
type IdentityProvider struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	Protocol    string             `json:"protocol"`
	Provision   string             `json:"provision"`
	Settings    atrium.IdPSettings `json:"settings"`
	RedirectURI string             `json:"redirect_uri"`
	MetadataURL string             `json:"metadata_url,omitempty"`
	StartURL    string             `json:"start_url"`
}

// CreateIdentityProvider registers a provider (administrators only).
func (c *Client) CreateIdentityProvider(ctx context.Context, in IdentityProviderInput) (*IdentityProvider, error) {
	var out IdentityProvider
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/identity-providers", body: in}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DisableIdentityProvider turns a provider off (administrators only).
func (c *Client) DisableIdentityProvider(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: pathf("/api/v1/identity-providers/%s", id), retry: true}, nil)
}

// ProviderLoginURL is where to send a browser to sign in through a
// provider of the protocol ("oidc" or "saml"). Afterwards the browser
// arrives at returnTo (a path on the server, or an address of an allowed
// origin; "" means "/") with #login_code=… in the fragment: pass that
// code to ExchangeLoginCode.
func (c *Client) ProviderLoginURL(protocol, providerID, returnTo string) string {
	u := c.base.JoinPath("/api/v1/auth", protocol, providerID, "start")
	if returnTo != "" {
		u.RawQuery = url.Values{"return_to": {returnTo}}.Encode()
	}
	return u.String()
}

// ExchangeLoginCode trades the one-time code of a finished provider
// sign-in for a session, and makes the client use it.
func (c *Client) ExchangeLoginCode(ctx context.Context, code, deviceName string) (*LoginResult, error) {
	return c.ExchangeLoginCodeWithVerifier(ctx, code, "", deviceName)
}

// ExchangeLoginCodeWithVerifier is ExchangeLoginCode for a sign-in that
// was started with &code_challenge= (the base64url SHA-256 of verifier,
// PKCE S256): the code is traded only with the verifier, so that no one
// can hand the app a code of their own sign-in.
func (c *Client) ExchangeLoginCodeWithVerifier(ctx context.Context, code, verifier, deviceName string) (*LoginResult, error) {
	var out LoginResult
	body := map[string]string{"code": code, "code_verifier": verifier, "device_name": deviceName}
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/auth/login-code", body: body}, &out); err != nil {
		return nil, err
	}
	c.SetToken(out.Token)
	return &out, nil
}

// ExternalIdentity is an app's unique id or a provider's subject that
// signs a user in.
type ExternalIdentity struct {
	Source     string `json:"source"`
	Kind       string `json:"kind"`
	ExternalID string `json:"external_id"`
	UserID     string `json:"user_id"`
}

// LinkIdentity makes an app's unique id, or an identity provider's subject,
// sign a user in (administrators only): source is the API client's or the
// provider's id.
func (c *Client) LinkIdentity(ctx context.Context, userID, source, externalID string) (*ExternalIdentity, error) {
	var out ExternalIdentity
	body := map[string]string{"source": source, "external_id": externalID}
	if err := c.do(ctx, &request{method: http.MethodPost, path: pathf("/api/v1/users/%s/identities", userID), body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UnlinkIdentities removes a user's ids from one app or provider
// (administrators only).
func (c *Client) UnlinkIdentities(ctx context.Context, userID, source string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: pathf("/api/v1/users/%s/identities/%s", userID, source), retry: true}, nil)
}
