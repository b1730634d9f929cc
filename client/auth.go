package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/atrium-dev/atrium"
)

// LoginResult is a new session: its token (shown only once), the user and
// the session.
type LoginResult struct {
	Token   string          `json:"token"`
	User    *atrium.User    `json:"user"`
	Session *atrium.Session `json:"session"`
	// DeviceKey (base64) encrypts the device's local cache (see package
	// cache). Keep it in memory only; DeviceKey fetches it again.
	DeviceKey string `json:"device_key"`
	// MFARequired: the account asks for a second factor; finish with
	// CompleteMFA and MFAToken. There is no session yet.
	MFARequired bool   `json:"mfa_required"`
	MFAToken    string `json:"mfa_token"`
	// MFAEnrollment: the organisation requires a second factor the account
	// has not set up: call EnrollMFA, then CompleteMFA with its first
	// code; RecoveryCodes then come with the session, once.
	MFAEnrollment bool     `json:"mfa_enrollment"`
	RecoveryCodes []string `json:"recovery_codes"`
	// MFAMethods are the account's second factors: "totp" (CompleteMFA)
	// and "webauthn" (BeginPasskeySignIn, then CompleteMFAWithPasskey).
	MFAMethods []string `json:"mfa_methods"`
}

// TOTPEnrolment is a TOTP secret for an authenticator app.
type TOTPEnrolment struct {
	Secret string `json:"secret"`
	URL    string `json:"otpauth_url"`
}

// EnrollMFA sets up TOTP during a sign-in that answered MFAEnrollment.
func (c *Client) EnrollMFA(ctx context.Context, mfaToken string) (*TOTPEnrolment, error) {
	var out TOTPEnrolment
	err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/auth/mfa/enroll", body: map[string]string{"mfa_token": mfaToken}}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Login signs in with an e-mail address and password, naming the device
// the session is for, and makes the client use the new session's token.
// For an account with two-factor authentication the result has
// MFARequired set and no session: finish with CompleteMFA.
// A wrong address or password gets an *Error with status 401, a
// deactivated account 403, and too many failures 429.
func (c *Client) Login(ctx context.Context, email, password, deviceName string) (*LoginResult, error) {
	return c.LoginTo(ctx, "", email, password, deviceName)
}

// LoginTo signs in to one organisation's account. An address may have an
// account in several organisations; Login signs in to its first one.
func (c *Client) LoginTo(ctx context.Context, orgID, email, password, deviceName string) (*LoginResult, error) {
	in := map[string]string{"email": email, "password": password, "device_name": deviceName}
	if orgID != "" {
		in["org_id"] = orgID
	}
	var out LoginResult
	err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/auth/login", body: in}, &out)
	if err != nil {
		return nil, err
	}
	if !out.MFARequired {
		c.SetToken(out.Token)
	}
	return &out, nil
}

// CompleteMFA finishes a sign-in that asked for a second factor, with a
// code from the authenticator (or, code empty, a recovery code), and
// makes the client use the new session's token. A wrong code gets 401;
// after five, or five minutes, sign in again.
func (c *Client) CompleteMFA(ctx context.Context, mfaToken, code, recoveryCode string) (*LoginResult, error) {
	in := map[string]string{"mfa_token": mfaToken}
	if code != "" {
		in["code"] = code
	} else {
		in["recovery_code"] = recoveryCode
	}
	var out LoginResult
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/auth/mfa", body: in}, &out); err != nil {
		return nil, err
	}
	c.SetToken(out.Token)
	return &out, nil
}

// Logout ends the client's session on the server, which also closes its
// event streams, and forgets the token.
func (c *Client) Logout(ctx context.Context) error {
	err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/auth/logout"}, nil)
	if err == nil {
		c.SetToken("")
	}
	return err
}

// AcceptInvitation activates an invited user with the password they
// chose. Unknown, used and expired invitation tokens get 404. It does not
// sign in; call Login afterwards.
func (c *Client) AcceptInvitation(ctx context.Context, invitationToken, password string) (*atrium.User, error) {
	in := map[string]string{"token": invitationToken, "password": password}
	var out atrium.User
	err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/auth/accept-invitation", body: in}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Account is the signed-in user and their organisation.
type Account struct {
	User *atrium.User `json:"user"`
	Org  *atrium.Org  `json:"org"`
	// Features is what the user may use (feature name → on): hide what
	// is off.
	Features map[string]bool `json:"features"`
}

// Me returns the signed-in user and their organisation.
func (c *Client) Me(ctx context.Context) (*Account, error) {
	var out Account
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/me", retry: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ChangePassword replaces the user's password; the server ends every other
// session of the user. A wrong current password gets 403.
func (c *Client) ChangePassword(ctx context.Context, currentPassword, newPassword string) error {
	in := map[string]string{"current_password": currentPassword, "new_password": newPassword}
	return c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/me/password", body: in}, nil)
}

// ListSessions returns a page of the user's live sessions; the one making
// the request has Current set.
func (c *Client) ListSessions(ctx context.Context, opts ListOptions) (*Page[*atrium.Session], error) {
	var out Page[*atrium.Session]
	err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/me/sessions", query: opts.values(), retry: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// EndSession ends one of the user's sessions (404 if it is not a live
// session of theirs). Ending the client's own session signs it out.
func (c *Client) EndSession(ctx context.Context, sessionID string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: pathf("/api/v1/me/sessions/%s", sessionID)}, nil)
}

// EndOtherSessions ends every session of the user but the client's own and
// returns how many it ended.
func (c *Client) EndOtherSessions(ctx context.Context) (int, error) {
	var out struct {
		Ended int `json:"ended"`
	}
	if err := c.do(ctx, &request{method: http.MethodDelete, path: "/api/v1/me/sessions"}, &out); err != nil {
		return 0, err
	}
	return out.Ended, nil
}

// OpenAPI returns the server's OpenAPI document.
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/openapi.json", retry: true}, &out); err != nil {
		return nil, err
	}
	return out, nil
}
