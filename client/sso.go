package client

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"

	"github.com/atrium-dev/atrium"
)

// SignatureLogin is an app's signed request to sign one of its users in
// (POST /api/v1/auth/sso/signature); fill it in and call Sign on the
// backend, which holds the secret.
type SignatureLogin struct {
	ClientID   string `json:"client_id"`
	UniqueID   string `json:"unique_id"`
	Timestamp  string `json:"timestamp"`
	Nonce      string `json:"nonce"`
	Signature  string `json:"signature"`
	Email      string `json:"email,omitempty"`
	Name       string `json:"name,omitempty"`
	DeviceName string `json:"device_name,omitempty"`
	Platform   string `json:"platform,omitempty"`
}

// Sign sets Signature: the lowercase hex HMAC-SHA256, under the client
// secret (64 hex digits), of the string StringToSign returns.
func (s *SignatureLogin) Sign(secret string) error {
	sig, err := hmacHex(secret, s.StringToSign())
	if err != nil {
		return err
	}
	s.Signature = sig
	return nil
}

// StringToSign is ClientID + "\n" + UniqueID + "\n" + Timestamp + "\n" +
// Nonce, followed by "\n" + Email + "\n" + Name when either of those two is
// set (they are signed too, so that no one can change who is provisioned).
func (s *SignatureLogin) StringToSign() string {
	return atrium.SSOStringToSign(s.ClientID, s.UniqueID, s.Timestamp, s.Nonce, s.Email, s.Name)
}

// SignSSO returns the signature of a request without email or name: the
// lowercase hex HMAC-SHA256, under the client secret (64 hex digits), of
// clientID + "\n" + uniqueID + "\n" + timestamp + "\n" + nonce. Keep the
// secret on the backend; never ship it in an app.
func SignSSO(secret, clientID, uniqueID, timestamp, nonce string) (string, error) {
	return hmacHex(secret, atrium.SSOStringToSign(clientID, uniqueID, timestamp, nonce, "", ""))
}

// hmacHex is the lowercase hex HMAC-SHA256 of msg under a hex key.
func hmacHex(secret, msg string) (string, error) {
	key, err := hex.DecodeString(secret)
	if err != nil || len(key) != 32 {
		return "", errors.New("atrium: the client secret is 64 hex digits")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// LoginWithSignature signs in with an app's signed request and makes the
// client use the new session's token.
func (c *Client) LoginWithSignature(ctx context.Context, in SignatureLogin) (*LoginResult, error) {
	var out LoginResult
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/auth/sso/signature", body: in}, &out); err != nil {
		return nil, err
	}
	c.SetToken(out.Token)
	return &out, nil
}

// APIClient is an app registered for signature sign-on; Secret is set only
// in the answer to CreateAPIClient.
type APIClient struct {
	ID        string `json:"client_id"`
	Name      string `json:"name"`
	Provision string `json:"provision"`
	Secret    string `json:"client_secret,omitempty"`
}

// CreateAPIClient registers an app (administrators only): provision is
// "client", "internal" or "none". The secret is in the answer only.
func (c *Client) CreateAPIClient(ctx context.Context, name, provision string) (*APIClient, error) {
	var out APIClient
	body := map[string]string{"name": name, "provision": provision}
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/api-clients", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeAPIClient revokes an app (administrators only).
func (c *Client) RevokeAPIClient(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: pathf("/api/v1/api-clients/%s", id), retry: true}, nil)
}
