package client

import (
	"context"
	"net/http"
)

// OAuthApp is a third-party app registered with Atrium's OAuth server;
// Secret is set only in the answer to CreateOAuthApp (confidential apps).
type OAuthApp struct {
	ID           string   `json:"client_id"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes"`
	// ClientCredentials: a server-to-server app, which gets tokens with its
	// own credentials, acting as the administrator who registered it.
	ClientCredentials bool   `json:"client_credentials,omitempty"`
	Secret            string `json:"client_secret,omitempty"`
}

// CreateOAuthApp registers an app (administrators only).
func (c *Client) CreateOAuthApp(ctx context.Context, in OAuthApp) (*OAuthApp, error) {
	var out OAuthApp
	body := map[string]any{"name": in.Name, "public": in.Public, "redirect_uris": in.RedirectURIs, "scopes": in.Scopes,
		"client_credentials": in.ClientCredentials}
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/oauth-apps", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// OAuthGrant is a user's authorisation of an app.
type OAuthGrant struct {
	ID      string   `json:"id"`
	AppID   string   `json:"client_id"`
	AppName string   `json:"app_name"`
	UserID  string   `json:"user_id"`
	Scopes  []string `json:"scopes"`
}

// ListMyGrants returns the apps the user authorised.
func (c *Client) ListMyGrants(ctx context.Context) ([]OAuthGrant, error) {
	var out struct {
		Items []OAuthGrant `json:"items"`
	}
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/me/oauth-grants", retry: true}, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// RevokeMyGrant revokes one of the user's authorisations: the app's
// tokens stop working.
func (c *Client) RevokeMyGrant(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: pathf("/api/v1/me/oauth-grants/%s", id), retry: true}, nil)
}
