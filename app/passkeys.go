package app

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/store"
)

// Passkeys (WebAuthn credentials) as a second factor: registered by a
// signed-in user, then asked for after the password. The ceremonies are
// github.com/go-webauthn/webauthn's; this file keeps their state.
const (
	ceremonyTTL       = 5 * time.Minute
	maxPasskeyAnswer  = 16 << 10 // an authenticator's JSON answer
	maxPasskeyID      = 1400     // a credential id (up to 1023 bytes), base64url
	maxPasskeysByUser = 20
	purposeRegister   = "register"
	purposeSignIn     = "sign-in"
)

// WebAuthnConfig names this server as a WebAuthn relying party: RPID is
// its domain (e.g. atrium.example.com), Origins the exact origins pages
// run on (e.g. https://atrium.example.com). Empty RPID: no passkeys.
type WebAuthnConfig struct {
	RPID    string
	RPName  string
	Origins []string
}

// newWebAuthn makes the relying party, or nil when not configured.
func newWebAuthn(c WebAuthnConfig) (*webauthn.WebAuthn, error) {
	if c.RPID == "" {
		return nil, nil
	}
	name := c.RPName
	if name == "" {
		name = "Atrium"
	}
	return webauthn.New(&webauthn.Config{RPID: c.RPID, RPDisplayName: name, RPOrigins: c.Origins,
		Timeouts: webauthn.TimeoutsConfig{Login: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL}}})
}

// relyingParty returns the WebAuthn relying party, or EUnavailable.
func (a *App) relyingParty() (*webauthn.WebAuthn, error) {
	if a.webauthn == nil {
		return nil, atrium.Errorf(atrium.EUnavailable, "passkeys need the server's public address (--public-url)")
	}
	return a.webauthn, nil
}

// passkeyUser is a user as the WebAuthn library sees them.
type passkeyUser struct {
	u     *atrium.User
	creds []webauthn.Credential
}

func (p passkeyUser) WebAuthnID() []byte                         { return []byte(p.u.ID) }
func (p passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p passkeyUser) WebAuthnDisplayName() string                { return p.u.Name }
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// loadPasskeyUser returns u with their passkeys, decoded.
func (a *App) loadPasskeyUser(ctx context.Context, u *atrium.User) (passkeyUser, []*store.Passkey, error) {
	keys, err := a.store.Passkeys(ctx, u.ID)
	if err != nil {
		return passkeyUser{}, nil, err
	}
	pu := passkeyUser{u: u}
	for _, k := range keys {
		var c webauthn.Credential
		if err := json.Unmarshal(k.Credential, &c); err != nil {
			return passkeyUser{}, nil, atrium.Internal("app.loadPasskeyUser", err)
		}
		pu.creds = append(pu.creds, c)
	}
	return pu, keys, nil
}

// PasskeyOptions are what a browser's navigator.credentials.create or
// .get takes (the publicKey member and its siblings), and the ceremony's
// id for registrations.
type PasskeyOptions struct {
	CeremonyID string          `json:"registration_id,omitempty"`
	Options    json.RawMessage `json:"options"`
}

// BeginPasskeyRegistration starts registering a passkey for the actor.
func (a *App) BeginPasskeyRegistration(ctx context.Context) (*PasskeyOptions, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	rp, err := a.relyingParty()
	if err != nil {
		return nil, err
	}
	pu, keys, err := a.loadPasskeyUser(ctx, act.User)
	if err != nil {
		return nil, err
	}
	if len(keys) >= maxPasskeysByUser {
		return nil, atrium.Errorf(atrium.EConflict, "at most %d passkeys; remove one first", maxPasskeysByUser)
	}
	exclude := make([]protocol.CredentialDescriptor, len(pu.creds))
	for i := range pu.creds {
		exclude[i] = pu.creds[i].Descriptor()
	}
	creation, session, err := rp.BeginRegistration(pu, webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred))
	if err != nil {
		return nil, atrium.Internal("app.BeginPasskeyRegistration", err)
	}
	token, hash := auth.NewToken()
	if err := a.putCeremony(ctx, hex.EncodeToString(hash), purposeRegister, act.User.ID, session); err != nil {
		return nil, err
	}
	opts, err := json.Marshal(creation)
	if err != nil {
		return nil, atrium.Internal("app.BeginPasskeyRegistration", err)
	}
	return &PasskeyOptions{CeremonyID: token, Options: opts}, nil
}

// putCeremony records a ceremony's session.
func (a *App) putCeremony(ctx context.Context, hash, purpose, userID string, session *webauthn.SessionData) error {
	b, err := json.Marshal(session)
	if err != nil {
		return atrium.Internal("app.putCeremony", err)
	}
	return a.write(ctx, func(w *writer) error {
		return w.PutCeremony(w.ctx, &store.Ceremony{TokenHash: hash, Purpose: purpose, UserID: userID, Session: b,
			ExpiresAt: w.now.Add(ceremonyTTL)})
	})
}

// takeCeremony takes a ceremony's session, once.
func (a *App) takeCeremony(ctx context.Context, hash, purpose, userID string) (*webauthn.SessionData, error) {
	var c *store.Ceremony
	err := a.write(ctx, func(w *writer) (err error) {
		c, err = w.TakeCeremony(w.ctx, hash, purpose, w.now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if c.UserID != userID {
		return nil, atrium.NotFound("ceremony")
	}
	var s webauthn.SessionData
	if err := json.Unmarshal(c.Session, &s); err != nil {
		return nil, atrium.Internal("app.takeCeremony", err)
	}
	return &s, nil
}

// RegisterPasskeyInput finishes a registration: the authenticator's
// answer (the PublicKeyCredential, as JSON), a name for the passkey, and
// the password (a second factor is added only by whoever knows it, not by
// whoever holds a session).
type RegisterPasskeyInput struct {
	CeremonyID string          `json:"registration_id"`
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
	Password   string          `json:"password"`
}

// RegisteredPasskey is a new passkey; RecoveryCodes come (once) when it
// is the account's first second factor.
type RegisteredPasskey struct {
	*store.Passkey
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

// RegisterPasskey checks the authenticator's answer to a registration the
// actor began (its challenge, origin, relying party; once) and keeps the
// passkey.
func (a *App) RegisterPasskey(ctx context.Context, in RegisterPasskeyInput) (*RegisteredPasskey, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	rp, err := a.relyingParty()
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = "Passkey"
	}
	if err := atrium.CheckText("name", name, atrium.MaxDeviceNameLen); err != nil {
		return nil, err
	}
	if !auth.ValidTokenShape(in.CeremonyID) || len(in.Credential) == 0 || len(in.Credential) > maxPasskeyAnswer {
		return nil, atrium.Errorf(atrium.EInvalid, "send registration_id and the authenticator's credential (at most %d bytes)", maxPasskeyAnswer)
	}
	if err := a.confirmPassword(ctx, act.User.ID, in.Password, "adding a passkey"); err != nil {
		return nil, err
	}
	session, err := a.takeCeremony(ctx, hex.EncodeToString(auth.HashToken(in.CeremonyID)), purposeRegister, act.User.ID)
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return nil, atrium.Errorf(atrium.EInvalid, "this registration expired or was finished already; begin again")
	}
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(in.Credential)
	if err != nil {
		return nil, atrium.Errorf(atrium.EInvalid, "the authenticator's answer is not a WebAuthn credential")
	}
	pu := passkeyUser{u: act.User}
	cred, err := rp.CreateCredential(pu, *session, parsed)
	if err != nil {
		a.auditRefusal(ctx, act.User.OrgID, "user.passkey_add", act.User.ID, "the authenticator's answer was refused")
		return nil, atrium.Errorf(atrium.EInvalid, "the authenticator's answer was not accepted (challenge, origin or signature)")
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return nil, atrium.Internal("app.RegisterPasskey", err)
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	had := false
	p := &store.Passkey{ID: base64.RawURLEncoding.EncodeToString(cred.ID), UserID: act.User.ID, Name: name, Credential: record}
	err = a.write(ctx, func(w *writer) error {
		p.CreatedAt = w.now
		// Decided under the user's lock, so that two factors added at once
		// do not both hand out recovery codes.
		if had, err = w.hasSecondFactor(act.User.ID); err != nil {
			return err
		}
		if err := w.AddPasskey(w.ctx, p); err != nil {
			return err
		}
		if !had {
			if err := w.SetRecoveryCodes(w.ctx, act.User.ID, hashes); err != nil {
				return err
			}
			if err := w.audit(act.User.OrgID, "user.mfa_enable", "user", act.User.ID, "passkey"); err != nil {
				return err
			}
		}
		return w.audit(act.User.OrgID, "user.passkey_add", "user", act.User.ID, name)
	})
	if err != nil {
		return nil, err
	}
	if had {
		codes = nil
	}
	return &RegisteredPasskey{Passkey: p, RecoveryCodes: codes}, nil
}

// auditRefusal records a refused attempt of the actor's.
func (a *App) auditRefusal(ctx context.Context, orgID, action, userID, detail string) {
	a.recordAlone(ctx, a.auditEntry(ctx, orgID, action, "user", userID, atrium.OutcomeFailure, detail, a.now()))
}

// ListPasskeys returns the actor's passkeys.
func (a *App) ListPasskeys(ctx context.Context) ([]*store.Passkey, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return a.store.Passkeys(ctx, act.User.ID)
}

// hasSecondFactor locks the user's row (ordering changes of their second
// factors) and reports whether they have one: a confirmed TOTP secret or
// a passkey.
func (w *writer) hasSecondFactor(userID string) (bool, error) {
	if _, err := w.GetUserForUpdate(w.ctx, userID); err != nil {
		return false, err
	}
	methods, err := secondFactors(w.ctx, w.Queries, userID)
	return len(methods) > 0, err
}

// RemovePasskeyInput confirms a passkey's removal with the password.
type RemovePasskeyInput struct {
	Password string `json:"password"`
}

// RemovePasskey removes one of the actor's passkeys (with the password),
// as long as another second factor remains; turning two-factor
// authentication off altogether is DisableMFA.
func (a *App) RemovePasskey(ctx context.Context, id string, in RemovePasskeyInput) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	if len(id) == 0 || len(id) > maxPasskeyID {
		return atrium.NotFound("passkey")
	}
	if err := a.confirmPassword(ctx, act.User.ID, in.Password, "removing a passkey"); err != nil {
		return err
	}
	return a.write(ctx, func(w *writer) error {
		if _, err := w.GetUserForUpdate(w.ctx, act.User.ID); err != nil {
			return err
		}
		keys, err := w.Passkeys(w.ctx, act.User.ID)
		if err != nil {
			return err
		}
		found := false
		for _, k := range keys {
			found = found || k.ID == id
		}
		if !found {
			return atrium.NotFound("passkey")
		}
		m, err := w.GetMFA(w.ctx, act.User.ID)
		if err != nil {
			return err
		}
		if len(keys) <= 1 && (m == nil || m.ConfirmedAt == nil) {
			return atrium.Errorf(atrium.EConflict, "this is your only second factor: turn two-factor authentication off instead")
		}
		if err := w.DeletePasskey(w.ctx, act.User.ID, id); err != nil {
			return err
		}
		return w.audit(act.User.OrgID, "user.passkey_remove", "user", act.User.ID, id)
	})
}

// BeginPasskeySignIn asks the authenticator for the second factor of a
// sign-in (its challenge token); it counts as an attempt of the challenge.
func (a *App) BeginPasskeySignIn(ctx context.Context, mfaToken string) (*PasskeyOptions, error) {
	rp, err := a.relyingParty()
	if err != nil {
		return nil, err
	}
	u, hash, err := a.challengeAttempt(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	pu, _, err := a.loadPasskeyUser(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(pu.creds) == 0 {
		return nil, atrium.Errorf(atrium.EConflict, "this account has no passkey; use a code")
	}
	assertion, session, err := rp.BeginLogin(pu)
	if err != nil {
		return nil, atrium.Internal("app.BeginPasskeySignIn", err)
	}
	if err := a.putCeremony(ctx, hash, purposeSignIn, u.ID, session); err != nil {
		return nil, err
	}
	opts, err := json.Marshal(assertion)
	if err != nil {
		return nil, atrium.Internal("app.BeginPasskeySignIn", err)
	}
	return &PasskeyOptions{Options: opts}, nil
}

// checkPasskey verifies a sign-in's passkey answer against the ceremony
// begun for its challenge (once), and records the passkey's use. A
// signature counter that went backwards (a cloned authenticator) is
// refused.
func (a *App) checkPasskey(ctx context.Context, u *atrium.User, challengeHash string, answer json.RawMessage) (bool, error) {
	rp, err := a.relyingParty()
	if err != nil {
		return false, err
	}
	if len(answer) > maxPasskeyAnswer {
		return false, nil
	}
	session, err := a.takeCeremony(ctx, challengeHash, purposeSignIn, u.ID)
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return false, nil
	}
	pu, keys, err := a.loadPasskeyUser(ctx, u)
	if err != nil {
		return false, err
	}
	cred, err := rp.ValidateLogin(pu, *session, parsed)
	if err != nil {
		return false, nil
	}
	id := base64.RawURLEncoding.EncodeToString(cred.ID)
	if cred.Authenticator.CloneWarning {
		a.auditLogin(ctx, u.OrgID, u.ID, u.Email, atrium.OutcomeFailure,
			"passkey "+truncate(id, 64)+": its signature counter went backwards (a cloned authenticator?); remove it")
		return false, nil
	}
	var old []byte
	for _, k := range keys {
		if k.ID == id {
			old = k.Credential
		}
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return false, atrium.Internal("app.checkPasskey", err)
	}
	ok := false
	err = a.write(ctx, func(w *writer) (err error) {
		ok, err = w.UsePasskey(w.ctx, id, old, record, w.now)
		return err
	})
	return ok, err
}
