package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// PasskeyOptions are what the platform's WebAuthn API takes
// (navigator.credentials.create or .get in a browser); RegistrationID
// comes with a registration's.
type PasskeyOptions struct {
	RegistrationID string          `json:"registration_id,omitempty"`
	Options        json.RawMessage `json:"options"`
}

// Passkey is a registered passkey; RecoveryCodes come (once) with the
// account's first second factor.
type Passkey struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	CreatedAt     time.Time  `json:"created_at"`
	LastUsedAt    *time.Time `json:"last_used_at,omitempty"`
	RecoveryCodes []string   `json:"recovery_codes,omitempty"`
}

// BeginPasskeyRegistration asks for the options of a new passkey.
func (c *Client) BeginPasskeyRegistration(ctx context.Context) (*PasskeyOptions, error) {
	var out PasskeyOptions
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/me/mfa/webauthn/register"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RegisterPasskey sends the authenticator's answer (the
// PublicKeyCredential, as JSON) to a registration, with the password.
func (c *Client) RegisterPasskey(ctx context.Context, registrationID, name string, credential json.RawMessage, password string) (*Passkey, error) {
	var out Passkey
	body := map[string]any{"registration_id": registrationID, "name": name, "credential": credential, "password": password}
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/me/mfa/webauthn", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListPasskeys returns the user's passkeys.
func (c *Client) ListPasskeys(ctx context.Context) ([]Passkey, error) {
	var out struct {
		Items []Passkey `json:"items"`
	}
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/me/mfa/webauthn", retry: true}, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// RemovePasskey removes a passkey (not the last second factor), with the
// password.
func (c *Client) RemovePasskey(ctx context.Context, id, password string) error {
	return c.do(ctx, &request{method: http.MethodPost, path: pathf("/api/v1/me/mfa/webauthn/%s/remove", id),
		body: map[string]string{"password": password}}, nil)
}

// BeginPasskeySignIn asks for the options of a sign-in's passkey (after
// a password sign-in answered MFARequired with "webauthn" in MFAMethods).
func (c *Client) BeginPasskeySignIn(ctx context.Context, mfaToken string) (*PasskeyOptions, error) {
	var out PasskeyOptions
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/auth/mfa/webauthn", body: map[string]string{"mfa_token": mfaToken}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CompleteMFAWithPasskey finishes a sign-in with the passkey's answer and
// makes the client use the new session.
func (c *Client) CompleteMFAWithPasskey(ctx context.Context, mfaToken string, answer json.RawMessage) (*LoginResult, error) {
	var out LoginResult
	body := map[string]any{"mfa_token": mfaToken, "webauthn": answer}
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/auth/mfa", body: body}, &out); err != nil {
		return nil, err
	}
	c.SetToken(out.Token)
	return &out, nil
}
