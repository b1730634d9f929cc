package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store"
)

// Provisioning of users an app signs in for the first time.
const (
	ProvisionClient   = "client"   // made a client user
	ProvisionInternal = "internal" // made an internal user
	ProvisionNone     = "none"     // must exist already (linked by an administrator)
)

// SSOClockSkew is how far a signed request's timestamp may be from the
// server's clock.
const SSOClockSkew = 5 * time.Minute

// maxSSOField bounds each signed field.
const maxSSOField = 256

// CreateAPIClientInput registers an app.
type CreateAPIClientInput struct {
	Name      string `json:"name"`
	Provision string `json:"provision"`
}

// CreatedAPIClient is a new app with its secret, shown only this once.
type CreatedAPIClient struct {
	*store.APIClient
	Secret string `json:"client_secret"`
}

// apiClientAD binds a wrapped secret to its app.
func apiClientAD(id string) string { return "atrium/api-client-secret/v1/" + id }

// CreateAPIClient registers an app for signature single sign-on
// (administrators only). Its secret is returned once and kept only
// encrypted under the organisation's key.
func (a *App) CreateAPIClient(ctx context.Context, in CreateAPIClientInput) (*CreatedAPIClient, error) {
	act, err := a.adminOf(ctx, "api_client.create")
	if err != nil {
		return nil, err
	}
	if err := atrium.CheckText("name", strings.TrimSpace(in.Name), atrium.MaxNameLen); err != nil {
		return nil, err
	}
	switch in.Provision {
	case ProvisionClient, ProvisionInternal, ProvisionNone:
	default:
		return nil, atrium.Errorf(atrium.EInvalid, "provision must be \"client\", \"internal\" or \"none\"")
	}
	fs, err := a.files()
	if err != nil {
		return nil, err
	}
	orgKey, err := a.orgKey(ctx, fs, act.User.OrgID)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, atrium.Internal("app.CreateAPIClient", err)
	}
	c := &store.APIClient{ID: atrium.NewID(), OrgID: act.User.OrgID, Name: strings.TrimSpace(in.Name), Provision: in.Provision,
		CreatedBy: act.User.ID}
	if c.SecretWrapped, err = sealed.Wrap(orgKey, secret, apiClientAD(c.ID)); err != nil {
		return nil, atrium.Internal("app.CreateAPIClient", err)
	}
	err = a.write(ctx, func(w *writer) error {
		c.CreatedAt = w.now
		if err := w.AddAPIClient(w.ctx, c); err != nil {
			return err
		}
		return w.audit(c.OrgID, "api_client.create", "api_client", c.ID, c.Name+", provision "+c.Provision)
	})
	if err != nil {
		return nil, err
	}
	return &CreatedAPIClient{APIClient: c, Secret: hex.EncodeToString(secret)}, nil
}

// ListAPIClients returns a page of the organisation's apps (administrators
// only), without their secrets.
func (a *App) ListAPIClients(ctx context.Context, p Page) ([]*store.APIClient, string, error) {
	act, err := a.adminOf(ctx, "api_client.list")
	if err != nil {
		return nil, "", err
	}
	return pageAfterID(p, func(after string, limit int) ([]*store.APIClient, error) {
		return a.store.ListAPIClients(ctx, act.User.OrgID, after, limit)
	}, func(c *store.APIClient) string { return c.ID })
}

// RevokeAPIClient revokes an app (administrators only): its signatures
// are refused from then on.
func (a *App) RevokeAPIClient(ctx context.Context, id string) error {
	act, err := a.adminOf(ctx, "api_client.revoke")
	if err != nil {
		return err
	}
	if !atrium.ValidID(id) {
		return atrium.NotFound("API client")
	}
	err = a.write(ctx, func(w *writer) error {
		if err := w.RevokeAPIClient(w.ctx, act.User.OrgID, id, w.now); err != nil {
			return err
		}
		return w.audit(act.User.OrgID, "api_client.revoke", "api_client", id, "")
	})
	return a.deny(ctx, err, act.User.OrgID, "api_client.revoke", "api_client", id)
}

// SignatureLoginInput is an app's signed request to sign one of its users
// in. Signature is the lowercase hex HMAC-SHA256, under the app's secret,
// of the string StringToSign returns. Email and Name are used only when
// the user is made (provisioned) on first sign-in; when either is sent it
// is signed too.
type SignatureLoginInput struct {
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

// StringToSign is the string the request's signature is over.
func (in SignatureLoginInput) StringToSign() string {
	return atrium.SSOStringToSign(in.ClientID, in.UniqueID, in.Timestamp, in.Nonce, in.Email, in.Name)
}

var errBadSignature = atrium.Errorf(atrium.EUnauthorized, "the signed sign-in request is not valid")

// LoginWithSignature signs in the user an app vouches for with a
// signature (see SignatureLoginInput), provisioning them on first sign-in
// when the app allows. Unknown or revoked apps, bad signatures, old or
// future timestamps and replayed nonces all get the same 401; every
// attempt is audited.
func (a *App) LoginWithSignature(ctx context.Context, in SignatureLoginInput) (*LoginResult, error) {
	ci := atrium.ClientInfoFrom(ctx)
	if err := in.validate(); err != nil {
		return nil, err
	}
	// Attempts count against the address's throttle, as logins do (not
	// against the app's: anyone could then lock an app out).
	wait, undoIP := a.ipThrottle.Reserve(ci.IP)
	if wait > 0 {
		undoIP()
		return nil, &atrium.Error{Code: atrium.ERateLimited, Message: "too many failed sign-in attempts; try again later",
			RetryAfter: int(wait.Seconds()) + 1}
	}
	c, u, err := a.checkSignature(ctx, in)
	if err != nil {
		orgID := ""
		if c != nil {
			orgID = c.OrgID
		}
		a.auditLogin(ctx, orgID, "", "client "+in.ClientID, atrium.OutcomeFailure, "signature sign-in refused")
		return nil, err
	}
	undoIP()
	if o, err := a.store.GetOrg(ctx, u.OrgID); err != nil {
		return nil, err
	} else if !o.Settings.LoginAllowed(u.Kind, atrium.LoginSignature) {
		a.auditLogin(ctx, u.OrgID, u.ID, "client "+c.ID, atrium.OutcomeDenied, "signature sign-in not allowed for this user")
		return nil, atrium.Errorf(atrium.EForbidden, "this organisation does not let this user sign in through an app")
	}
	if u.Status != atrium.StatusActive {
		a.auditLogin(ctx, u.OrgID, u.ID, "client "+c.ID, atrium.OutcomeDenied, "account not active")
		return nil, atrium.Errorf(atrium.EForbidden, "this account is deactivated")
	}
	device := in.DeviceName
	if device == "" {
		device = c.Name
	}
	res, err := a.openSession(ctx, u, false, "", device, in.Platform)
	if err != nil {
		return nil, err
	}
	a.auditLogin(ctx, u.OrgID, u.ID, "client "+c.ID, atrium.OutcomeSuccess, "signature sign-in")
	return res, nil
}

// validate refuses malformed signed requests: every signed field present,
// at most 256 bytes and without a newline (so no two requests sign the
// same string).
func (in SignatureLoginInput) validate() error {
	for name, v := range map[string]string{"client_id": in.ClientID, "unique_id": in.UniqueID, "timestamp": in.Timestamp, "nonce": in.Nonce} {
		if v == "" || len(v) > maxSSOField || strings.ContainsAny(v, "\n\r") {
			return atrium.Errorf(atrium.EInvalid, "%s is required, at most %d bytes, without a line break", name, maxSSOField)
		}
	}
	if len(in.Signature) != 64 || strings.ToLower(in.Signature) != in.Signature {
		return atrium.Errorf(atrium.EInvalid, "signature must be the 64 lowercase hex digits of an HMAC-SHA256")
	}
	if _, err := hex.DecodeString(in.Signature); err != nil {
		return atrium.Errorf(atrium.EInvalid, "signature must be the 64 lowercase hex digits of an HMAC-SHA256")
	}
	if _, err := strconv.ParseInt(in.Timestamp, 10, 64); err != nil {
		return atrium.Errorf(atrium.EInvalid, "timestamp must be Unix seconds")
	}
	if len(in.Email) > atrium.MaxEmailLen || strings.ContainsAny(in.Email, "\n\r") {
		return atrium.Errorf(atrium.EInvalid, "email is at most %d bytes, without a line break", atrium.MaxEmailLen)
	}
	if in.Name != "" {
		if err := atrium.CheckText("name", in.Name, atrium.MaxNameLen); err != nil {
			return err
		}
	}
	if in.DeviceName != "" {
		if err := atrium.CheckText("device_name", in.DeviceName, atrium.MaxDeviceNameLen); err != nil {
			return err
		}
	}
	if in.Platform != "" {
		if err := atrium.CheckText("platform", in.Platform, atrium.MaxPlatformLen); err != nil {
			return err
		}
	}
	return nil
}

// checkSignature verifies a signed request and returns its app and the
// user it signs in (made now if need be and allowed).
func (a *App) checkSignature(ctx context.Context, in SignatureLoginInput) (*store.APIClient, *atrium.User, error) {
	if !atrium.ValidID(in.ClientID) {
		return nil, nil, errBadSignature
	}
	c, err := a.store.GetAPIClient(ctx, in.ClientID)
	if atrium.ErrorCode(err) == atrium.ENotFound || err == nil && c.RevokedAt != nil {
		return nil, nil, errBadSignature
	}
	if err != nil {
		return nil, nil, err
	}
	fs, err := a.files()
	if err != nil {
		return c, nil, err
	}
	orgKey, err := a.orgKey(ctx, fs, c.OrgID)
	if err != nil {
		return c, nil, err
	}
	secret, err := sealed.Unwrap(orgKey, c.SecretWrapped, apiClientAD(c.ID))
	if err != nil {
		return c, nil, atrium.Internal("app.checkSignature", err)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in.StringToSign()))
	got, _ := hex.DecodeString(in.Signature)
	if !hmac.Equal(mac.Sum(nil), got) {
		return c, nil, errBadSignature
	}
	ts, _ := strconv.ParseInt(in.Timestamp, 10, 64)
	now := a.now()
	if d := now.Sub(time.Unix(ts, 0)); d > SSOClockSkew || d < -SSOClockSkew {
		return c, nil, errBadSignature
	}
	// The nonce is spent in a transaction of its own, whatever follows, so
	// that a request refused later (say, an address already taken) cannot
	// be played again.
	fresh := false
	err = a.write(ctx, func(w *writer) (err error) {
		fresh, err = w.UseNonce(w.ctx, c.ID, in.Nonce, w.now.Add(2*SSOClockSkew))
		return err
	})
	if err != nil {
		return c, nil, err
	}
	if !fresh {
		return c, nil, errBadSignature
	}
	var u *atrium.User
	err = a.write(ctx, func(w *writer) (err error) {
		u, err = a.ssoUser(w, c, in)
		return err
	})
	return c, u, err
}

// ssoUser returns the user an app's unique id signs in, making them if
// the app provisions users.
func (a *App) ssoUser(w *writer, c *store.APIClient, in SignatureLoginInput) (*atrium.User, error) {
	id, err := w.ExternalUser(w.ctx, c.ID, in.UniqueID)
	if err != nil {
		return nil, err
	}
	if id != "" {
		return w.GetUser(w.ctx, id)
	}
	if c.Provision == ProvisionNone {
		return nil, atrium.Errorf(atrium.EForbidden, "this app does not create users, and unique_id signs in no one yet")
	}
	if in.Email == "" {
		return nil, atrium.Errorf(atrium.EInvalid, "email is required to create the user on first sign-in")
	}
	// A user the login policy would refuse is not made either.
	o, err := w.GetOrg(w.ctx, c.OrgID)
	if err != nil {
		return nil, err
	}
	if !o.Settings.LoginAllowed(c.Provision, atrium.LoginSignature) {
		return nil, atrium.Errorf(atrium.EForbidden, "this organisation does not let this kind of user sign in through an app")
	}
	created, err := a.createUserWith(w, c.OrgID, CreateUserInput{Email: in.Email, Name: in.Name, Kind: c.Provision}, "", false)
	if err != nil {
		return nil, err
	}
	if err := w.AddExternalIdentity(w.ctx, c.ID, in.UniqueID, created.ID, w.now); err != nil {
		return nil, err
	}
	if err := w.audit(c.OrgID, "user.provision", "user", created.ID, "by API client "+c.ID); err != nil {
		return nil, err
	}
	return created.User, nil
}

// expireNonces forgets nonces past use.
func (a *App) expireNonces(ctx context.Context) error {
	return a.store.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteNoncesBefore(ctx, a.now()) })
}
