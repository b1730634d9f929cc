package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/auth/oidclogin"
	"github.com/atrium-dev/atrium/store"
)

// A sign-in through an organisation's identity provider: the browser is
// sent to the provider (StartProviderLogin), comes back to the callback
// (FinishProviderLogin), which hands a one-time login code to the app that
// started it; the app trades the code for a session (ExchangeLoginCode).
// No session token ever travels in a URL.
const (
	loginFlowTTL  = 10 * time.Minute
	loginCodeTTL  = time.Minute
	maxReturnTo   = 2048
	maxStateParam = 512
	maxSubject    = 255 // OpenID Connect Core §2
)

// ProviderLogin is a sign-in sent to a provider: where the browser goes,
// and the state to bind to the browser (the HTTP layer sets it as a
// cookie and hands it back at the callback).
type ProviderLogin struct {
	AuthURL string
	State   string
}

// stateHash is what is kept of a sign-in's state.
func stateHash(state string) string { return digest("login-state", state) }

// StartProviderLogin begins a sign-in through an enabled provider of the
// protocol. returnTo is where the browser goes with the login code
// (checked by the HTTP layer); codeChallenge, when the app sends one, is
// the S256 challenge of a verifier the app keeps: the login code is then
// traded only with that verifier, so that no one can hand a browser a
// code of their own sign-in.
func (a *App) StartProviderLogin(ctx context.Context, protocol, providerID, returnTo, codeChallenge string) (*ProviderLogin, error) {
	if !atrium.ValidID(providerID) {
		return nil, atrium.NotFound("identity provider")
	}
	if len(returnTo) > maxReturnTo {
		return nil, atrium.Errorf(atrium.EInvalid, "return_to is at most %d bytes", maxReturnTo)
	}
	if codeChallenge != "" && !validChallenge(codeChallenge) {
		return nil, atrium.Errorf(atrium.EInvalid, "code_challenge must be the 43-character base64url SHA-256 of a verifier (PKCE S256)")
	}
	p, err := a.enabledProvider(ctx, protocol, providerID)
	if err != nil {
		return nil, err
	}
	req, err := oidclogin.NewRequest()
	if err != nil {
		return nil, atrium.Internal("app.StartProviderLogin", err)
	}
	f := &store.LoginFlow{StateHash: stateHash(req.State), ProviderID: p.ID, ReturnTo: returnTo, CodeChallenge: codeChallenge}
	var authURL string
	if protocol == atrium.ProtocolSAML {
		sp, err := a.samlProvider(ctx, p)
		if err != nil {
			return nil, err
		}
		ar, err := sp.Start(req.State)
		if err != nil {
			return nil, atrium.Internal("app.StartProviderLogin", err)
		}
		// The request's ID is what the response must answer (InResponseTo).
		authURL, f.Nonce, f.RedirectURI = ar.URL, ar.ID, p.Settings.ACSURL
	} else {
		d, err := a.oidcProvider(ctx, p)
		if err != nil {
			return nil, err
		}
		authURL, f.Nonce, f.Verifier, f.RedirectURI = d.AuthURL(req), req.Nonce, req.Verifier, p.Settings.CallbackURL
	}
	err = a.write(ctx, func(w *writer) error {
		f.ExpiresAt = w.now.Add(loginFlowTTL)
		return w.AddLoginFlow(w.ctx, f)
	})
	if err != nil {
		return nil, err
	}
	return &ProviderLogin{AuthURL: authURL, State: req.State}, nil
}

// enabledProvider returns an enabled provider of the protocol; ENotFound
// for any other id.
func (a *App) enabledProvider(ctx context.Context, protocol, id string) (*store.IdentityProvider, error) {
	if !atrium.ValidID(id) {
		return nil, atrium.NotFound("identity provider")
	}
	p, err := a.store.GetIdentityProvider(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.DisabledAt != nil || p.Protocol != protocol {
		return nil, atrium.NotFound("identity provider")
	}
	return p, nil
}

// ProviderCallback is what the provider sends the browser back with, and
// the state the browser kept.
type ProviderCallback struct {
	ProviderID   string // the callback's own
	State        string
	Code         string
	Error        string // the provider's refusal (e.g. access_denied)
	BrowserState string
}

// ProviderLoginDone is a finished sign-in: where to send the browser, and
// the one-time code to give the app there.
type ProviderLoginDone struct {
	ReturnTo  string
	LoginCode string
}

var errSignInExpired = atrium.Errorf(atrium.EUnauthorized, "this sign-in expired or was finished already; start again")

// FinishProviderLogin checks what the provider sent back: the state must
// be one this server issued, unused and unexpired, and the one the browser
// kept (so that no one can sign a victim in as themselves); the code is
// exchanged with the sign-in's PKCE verifier, and the ID token must carry
// its nonce. The user is then found, linked or made, as the provider is
// configured. Every refusal is audited.
func (a *App) FinishProviderLogin(ctx context.Context, in ProviderCallback) (*ProviderLoginDone, error) {
	if in.State == "" || len(in.State) > maxStateParam || len(in.Code) > 4096 || len(in.Error) > 256 {
		return nil, atrium.Errorf(atrium.EInvalid, "state is missing, or a parameter is too long")
	}
	if !validErrorCode(in.Error) {
		return nil, atrium.Errorf(atrium.EInvalid, "error is not an OAuth error code")
	}
	if subtle.ConstantTimeCompare([]byte(in.State), []byte(in.BrowserState)) != 1 {
		a.auditLogin(ctx, "", "", "", atrium.OutcomeFailure, "provider sign-in: state not this browser's")
		return nil, atrium.Errorf(atrium.EUnauthorized, "this sign-in was not started in this browser; start again")
	}
	var f *store.LoginFlow
	err := a.write(ctx, func(w *writer) (err error) {
		f, err = w.TakeLoginFlow(w.ctx, stateHash(in.State), w.now)
		return err
	})
	if atrium.ErrorCode(err) == atrium.ENotFound {
		a.auditLogin(ctx, "", "", "", atrium.OutcomeFailure, "provider sign-in: unknown, used or expired state")
		return nil, errSignInExpired
	}
	if err != nil {
		return nil, err
	}
	p, err := a.store.GetIdentityProvider(ctx, f.ProviderID)
	if err != nil {
		return nil, err
	}
	refuse := func(userID, detail string, err error) (*ProviderLoginDone, error) {
		a.auditLogin(ctx, p.OrgID, userID, "provider "+p.ID, atrium.OutcomeFailure, "provider sign-in: "+detail)
		return nil, err
	}
	if p.DisabledAt != nil || p.Protocol != atrium.ProtocolOIDC {
		return refuse("", "provider disabled, or not an OpenID provider", errSignInExpired)
	}
	if p.ID != in.ProviderID {
		// Each provider has a callback of its own: an answer that comes
		// back to another one's is a mix-up.
		return refuse("", "answer at another provider's callback", errSignInExpired)
	}
	if in.Error != "" {
		return refuse("", "the provider answered "+in.Error,
			atrium.Errorf(atrium.EUnauthorized, "the identity provider did not sign you in (%s)", in.Error))
	}
	if in.Code == "" {
		return refuse("", "no code", atrium.Errorf(atrium.EInvalid, "code is missing"))
	}
	d, err := a.oidcProvider(ctx, p)
	if err != nil {
		return nil, err
	}
	id, err := d.Exchange(ctx, in.Code, oidclogin.Request{State: in.State, Nonce: f.Nonce, Verifier: f.Verifier})
	if errors.Is(err, oidclogin.ErrRefused) {
		return refuse("", err.Error(), atrium.Errorf(atrium.EUnauthorized, "the identity provider did not confirm the sign-in"))
	}
	if err != nil {
		a.log.Warn("identity provider unreachable", "provider", p.ID, "err", err)
		a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "provider sign-in: the provider could not be reached")
		return nil, atrium.Errorf(atrium.EUnavailable, "the identity provider cannot be reached; try again later")
	}
	return a.finishExternal(ctx, p, a.oidcIdentity(p, id), f.ReturnTo, f.CodeChallenge)
}

// externalIdentity is who an identity provider says signed in.
type externalIdentity struct {
	Method  string // atrium.LoginOIDC or atrium.LoginSAML
	Subject string
	Attrs   map[string][]string
	// Verified: the provider vouches for the address; Unverified: it
	// says it has not checked it (neither: it does not say).
	Verified, Unverified bool
}

// oidcIdentity is an OpenID provider's identity: the claims that are
// strings or lists of strings. email_verified (true, or "true" as some
// providers send it) vouches for the address only when the address is the
// email claim itself.
func (a *App) oidcIdentity(p *store.IdentityProvider, id *oidclogin.Identity) externalIdentity {
	e := externalIdentity{Method: atrium.LoginOIDC, Subject: id.Subject, Attrs: map[string][]string{}}
	for k, v := range id.Claims {
		switch v := v.(type) {
		case string:
			e.Attrs[k] = []string{strings.TrimSpace(v)}
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					e.Attrs[k] = append(e.Attrs[k], strings.TrimSpace(s))
				}
			}
		}
	}
	if p.Settings.Claims.Email == "email" {
		switch v := id.Claims["email_verified"].(type) {
		case bool:
			e.Verified, e.Unverified = v, !v
		case string:
			e.Verified, e.Unverified = v == "true", v == "false"
		}
	}
	return e
}

// finishExternal signs in the user a provider vouched for: found, linked
// or made, then checked against the login policy and their status; the
// answer is the one-time login code for the app at returnTo.
func (a *App) finishExternal(ctx context.Context, p *store.IdentityProvider, id externalIdentity, returnTo, codeChallenge string) (*ProviderLoginDone, error) {
	u, err := a.providerUser(ctx, p, id)
	if err != nil {
		a.auditLogin(ctx, p.OrgID, "", "provider "+p.ID, atrium.OutcomeFailure, "provider sign-in: no user: "+err.Error())
		return nil, err
	}
	if o, err := a.store.GetOrg(ctx, u.OrgID); err != nil {
		return nil, err
	} else if !o.Settings.LoginAllowed(u.Kind, id.Method) {
		a.auditLogin(ctx, u.OrgID, u.ID, "provider "+p.ID, atrium.OutcomeDenied, id.Method+" sign-in not allowed for this user")
		return nil, atrium.Errorf(atrium.EForbidden, "this organisation does not let you sign in through this provider")
	}
	if u.Status != atrium.StatusActive {
		a.auditLogin(ctx, u.OrgID, u.ID, "provider "+p.ID, atrium.OutcomeDenied, "account not active")
		return nil, atrium.Errorf(atrium.EForbidden, "this account is deactivated")
	}
	code, hash := auth.NewToken()
	err = a.write(ctx, func(w *writer) error {
		return w.AddLoginCode(w.ctx, &store.LoginCode{CodeHash: hex.EncodeToString(hash), UserID: u.ID, ProviderID: p.ID,
			Method: id.Method, CodeChallenge: codeChallenge, ExpiresAt: w.now.Add(loginCodeTTL)})
	})
	if err != nil {
		return nil, err
	}
	return &ProviderLoginDone{ReturnTo: returnTo, LoginCode: code}, nil
}

// providerUser returns the user a provider's identity signs in: the one
// its subject was mapped to, or else (on a first sign-in) the
// organisation's user with the verified address when the provider links
// by address, or else a user made now when the provider provisions.
func (a *App) providerUser(ctx context.Context, p *store.IdentityProvider, id externalIdentity) (*atrium.User, error) {
	if id.Subject == "" || len(id.Subject) > maxSubject {
		return nil, atrium.Errorf(atrium.EUnauthorized, "the identity provider's subject is not valid")
	}
	var u *atrium.User
	err := a.write(ctx, func(w *writer) error {
		uid, err := w.IdPUser(w.ctx, p.ID, id.Subject)
		if err != nil {
			return err
		}
		if uid != "" {
			u, err = w.GetUser(w.ctx, uid)
			return err
		}
		u, err = a.firstProviderSignIn(w, p, id)
		return err
	})
	return u, err
}

// firstProviderSignIn links or makes the user of a subject seen for the
// first time.
func (a *App) firstProviderSignIn(w *writer, p *store.IdentityProvider, id externalIdentity) (*atrium.User, error) {
	m := p.Settings.Claims
	rawEmail := first(id.Attrs[m.Email])
	if rawEmail == "" {
		return nil, atrium.Errorf(atrium.EForbidden, "the identity provider gave no address (claim %q)", m.Email)
	}
	email, err := atrium.NormalizeEmail(rawEmail)
	if err != nil {
		return nil, atrium.Errorf(atrium.EForbidden, "the identity provider's address is not valid")
	}
	if id.Unverified {
		return nil, atrium.Errorf(atrium.EForbidden, "the identity provider has not verified this address")
	}
	if p.Settings.LinkByEmail && id.Verified {
		existing, err := w.GetOrgUserByEmail(w.ctx, p.OrgID, email)
		if err == nil {
			// A provider an administrator registered must not open the
			// accounts of owners, administrators or anyone with a second
			// factor: those are linked only by their own sign-in.
			second, err := w.hasSecondFactor(existing.ID)
			if err != nil {
				return nil, err
			}
			if existing.Role != atrium.OrgRoleMember || second {
				return nil, atrium.Errorf(atrium.EConflict, "this address is an administrator's or has a second factor; it is not linked by address")
			}
			if err := w.AddIdPIdentity(w.ctx, p.ID, id.Subject, existing.ID, w.now); err != nil {
				return nil, err
			}
			return existing, w.audit(p.OrgID, "user.link", "user", existing.ID, "to provider "+p.ID+" by verified address")
		}
		if atrium.ErrorCode(err) != atrium.ENotFound {
			return nil, err
		}
	}
	if p.Provision == ProvisionNone {
		return nil, atrium.Errorf(atrium.EForbidden, "this provider does not create users, and this identity signs in no one yet")
	}
	// The kind claim may make a provider's staff clients, never clients
	// staff; the role claim may make staff administrators. Each must hold
	// exactly one value (a list of groups anyone could join is not read).
	kind := p.Provision
	if k := only(id.Attrs[m.Kind]); m.Kind != "" && k == atrium.KindClient {
		kind = atrium.KindClient
	}
	role := atrium.OrgRoleMember
	if m.Role != "" && only(id.Attrs[m.Role]) == atrium.OrgRoleAdmin && kind == atrium.KindInternal {
		role = atrium.OrgRoleAdmin
	}
	o, err := w.GetOrg(w.ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	if !o.Settings.LoginAllowed(kind, id.Method) {
		return nil, atrium.Errorf(atrium.EForbidden, "this organisation does not let this kind of user sign in through this provider")
	}
	name := first(id.Attrs[m.Name])
	if atrium.CheckText("name", name, atrium.MaxNameLen) != nil {
		name = ""
	}
	created, err := a.createUserWith(w, p.OrgID, CreateUserInput{Email: email, Name: name, Kind: kind, Role: role}, "", false)
	if err != nil {
		return nil, err
	}
	if err := w.AddIdPIdentity(w.ctx, p.ID, id.Subject, created.ID, w.now); err != nil {
		return nil, err
	}
	if err := w.audit(p.OrgID, "user.provision", "user", created.ID, "by provider "+p.ID+", role "+role); err != nil {
		return nil, err
	}
	return created.User, nil
}

// only is a list's one value, or "" when it has none or several.
func only(values []string) string {
	if len(values) != 1 {
		return ""
	}
	return values[0]
}

// first is a list's first value, or "".
func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// LoginCodeInput trades a login code for a session; CodeVerifier is
// needed when the sign-in was started with a code_challenge.
type LoginCodeInput struct {
	Code         string `json:"code"`
	CodeVerifier string `json:"code_verifier,omitempty"`
	DeviceName   string `json:"device_name,omitempty"`
	Platform     string `json:"platform,omitempty"`
}

// ExchangeLoginCode opens the session of a finished provider sign-in. A
// code is accepted once, within a minute.
func (a *App) ExchangeLoginCode(ctx context.Context, in LoginCodeInput) (*LoginResult, error) {
	if !auth.ValidTokenShape(in.Code) {
		return nil, atrium.Errorf(atrium.EInvalid, "code is not a login code")
	}
	device, platform := strings.TrimSpace(in.DeviceName), strings.TrimSpace(in.Platform)
	if err := validateLogin("", LoginInput{DeviceName: device, Platform: platform}); err != nil {
		return nil, err
	}
	var c *store.LoginCode
	err := a.write(ctx, func(w *writer) (err error) {
		c, err = w.TakeLoginCode(w.ctx, hex.EncodeToString(auth.HashToken(in.Code)), w.now)
		return err
	})
	if atrium.ErrorCode(err) == atrium.ENotFound {
		a.auditLogin(ctx, "", "", "", atrium.OutcomeFailure, "login code unknown, used or expired")
		return nil, atrium.Errorf(atrium.EUnauthorized, "the login code is not valid, or was used, or expired")
	}
	if err != nil {
		return nil, err
	}
	who := "provider " + c.ProviderID
	u, err := a.store.GetUser(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	// An app that sends a verifier takes only codes of sign-ins it
	// started with its challenge: so no one can hand it a code of a
	// sign-in of their own started without one.
	if (c.CodeChallenge != "" || in.CodeVerifier != "") && subtle.ConstantTimeCompare([]byte(s256(in.CodeVerifier)), []byte(c.CodeChallenge)) != 1 {
		a.auditLogin(ctx, u.OrgID, u.ID, who, atrium.OutcomeFailure, "login code without its verifier")
		return nil, atrium.Errorf(atrium.EUnauthorized, "the login code is not valid, or was used, or expired")
	}
	// Between the sign-in and now, the provider may have been turned off,
	// or the policy changed.
	if p, err := a.store.GetIdentityProvider(ctx, c.ProviderID); err != nil || p.DisabledAt != nil {
		a.auditLogin(ctx, u.OrgID, u.ID, who, atrium.OutcomeDenied, "provider disabled since the sign-in")
		return nil, atrium.Errorf(atrium.EUnauthorized, "the login code is not valid, or was used, or expired")
	}
	if o, err := a.store.GetOrg(ctx, u.OrgID); err != nil {
		return nil, err
	} else if !o.Settings.LoginAllowed(u.Kind, c.Method) {
		a.auditLogin(ctx, u.OrgID, u.ID, who, atrium.OutcomeDenied, c.Method+" sign-in not allowed for this user")
		return nil, atrium.Errorf(atrium.EForbidden, "this organisation does not let you sign in through this provider")
	}
	if u.Status != atrium.StatusActive {
		a.auditLogin(ctx, u.OrgID, u.ID, who, atrium.OutcomeDenied, "account not active")
		return nil, atrium.Errorf(atrium.EForbidden, "this account is deactivated")
	}
	res, err := a.openSession(ctx, u, false, "", device, platform)
	if err != nil {
		return nil, err
	}
	a.auditLogin(ctx, u.OrgID, u.ID, who, atrium.OutcomeSuccess, c.Method+" sign-in")
	return res, nil
}

// s256 is the PKCE S256 challenge of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validChallenge reports whether s has the shape of an S256 challenge.
func validChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// validErrorCode reports whether s is empty or an OAuth error code
// (RFC 6749 §4.1.2.1: printable ASCII, no quote or backslash), short.
func validErrorCode(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return false
		}
	}
	return true
}
