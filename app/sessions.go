package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/store"
)

// LoginInput is what a client sends to sign in. An address may have an
// account in several organisations: OrgID chooses one; without it the
// address's first account is meant.
type LoginInput struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	OrgID      string `json:"org_id,omitempty"`
	DeviceName string `json:"device_name,omitempty"`
	Platform   string `json:"platform,omitempty"`
}

// LoginResult is a new session and the token that proves it. The token is
// shown only here.
type LoginResult struct {
	Token   string          `json:"token,omitempty"`
	User    *atrium.User    `json:"user,omitempty"`
	Session *atrium.Session `json:"session,omitempty"`
	// DeviceKey (base64) is the key the device encrypts its local cache
	// with. The server destroys it at logout and wipe; the device keeps
	// it only in memory and asks for it again (GET /me/device-key).
	DeviceKey string `json:"device_key,omitempty"`
	// MFARequired: the password was right, and the account asks for a
	// second factor: send MFAToken with a code to /auth/mfa. Token,
	// User, Session and DeviceKey are then empty.
	MFARequired bool   `json:"mfa_required,omitempty"`
	MFAToken    string `json:"mfa_token,omitempty"`
	// MFAEnrollment: the organisation requires a second factor and the
	// account has none yet: set one up with MFAToken (POST
	// /auth/mfa/enroll), then complete the sign-in with a code.
	MFAEnrollment bool `json:"mfa_enrollment,omitempty"`
	// MFAMethods are the second factors the account has: "totp" (a code,
	// or a recovery code) and "webauthn" (a passkey: POST
	// /auth/mfa/webauthn for the options, then the answer to /auth/mfa).
	MFAMethods []string `json:"mfa_methods,omitempty"`
	// RecoveryCodes are given once, when a sign-in set up the second
	// factor.
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

var errBadLogin = atrium.Errorf(atrium.EUnauthorized, "invalid email or password")

// Login checks a password and opens a session. A wrong password and an
// unknown address get the same answer after the same work; repeated
// failures per account and per IP address are throttled.
func (a *App) Login(ctx context.Context, in LoginInput) (*LoginResult, error) {
	ci := atrium.ClientInfoFrom(ctx)
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if err := validateLogin(email, in); err != nil {
		a.auditLogin(ctx, "", "", email, atrium.OutcomeFailure, "invalid input")
		return nil, err
	}
	// Each attempt is counted before the password is checked, so attempts
	// sent in parallel are throttled too; a success takes its count back.
	undoAcct, undoIP, err := a.reserveLogin(email, ci.IP)
	if err != nil {
		a.auditLogin(ctx, "", "", email, atrium.OutcomeDenied, "throttled")
		return nil, err
	}
	u, rehash, err := a.checkPassword(ctx, email, in.OrgID, in.Password)
	if err != nil {
		return nil, err
	}
	device, platform := strings.TrimSpace(in.DeviceName), strings.TrimSpace(in.Platform)
	o, err := a.store.GetOrg(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	if !o.Settings.LoginAllowed(u.Kind, atrium.LoginPassword) {
		// The attempt keeps its count: this answer tells that the password
		// was right, so it must not come faster than a wrong one's.
		a.auditLogin(ctx, u.OrgID, u.ID, email, atrium.OutcomeDenied, "password sign-in not allowed for this user")
		return nil, atrium.Errorf(atrium.EForbidden, "this organisation does not let you sign in with a password")
	}
	undoAcct()
	undoIP()
	methods, err := a.mfaMethods(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	mfa := len(methods) > 0
	if mfa || o.Settings.MFARequiredFor(u.Kind) {
		res, err := a.mfaChallenge(ctx, u, rehash, in.Password, device, platform)
		if res != nil {
			res.MFAEnrollment, res.MFAMethods = !mfa, methods
		}
		return res, err
	}
	return a.openSession(ctx, u, rehash, in.Password, device, platform)
}

// validateLogin checks the sizes and characters of a sign-in's fields.
func validateLogin(email string, in LoginInput) error {
	if len(in.Password) > atrium.MaxPasswordLen || len(email) > atrium.MaxEmailLen || !utf8.ValidString(in.Password) || !utf8.ValidString(email) {
		return atrium.Errorf(atrium.EInvalid, "email or password is too long or not valid UTF-8")
	}
	if in.OrgID != "" && !atrium.ValidID(in.OrgID) {
		return atrium.Errorf(atrium.EInvalid, "org_id is not a valid id")
	}
	if d := strings.TrimSpace(in.DeviceName); d != "" {
		if err := atrium.CheckText("device_name", d, atrium.MaxDeviceNameLen); err != nil {
			return err
		}
	}
	if p := strings.TrimSpace(in.Platform); p != "" {
		if err := atrium.CheckText("platform", p, atrium.MaxPlatformLen); err != nil {
			return err
		}
	}
	return nil
}

// reserveLogin counts a sign-in attempt against the account and the
// address, or refuses it when either is at its limit.
func (a *App) reserveLogin(email, ip string) (undoAcct, undoIP func(), err error) {
	waitAcct, undoAcct := a.acctThrottle.Reserve(email)
	waitIP, undoIP := a.ipThrottle.Reserve(ip)
	wait := max(waitAcct, waitIP)
	if wait <= 0 {
		return undoAcct, undoIP, nil
	}
	undoAcct()
	undoIP()
	return nil, nil, &atrium.Error{Code: atrium.ERateLimited, Message: "too many failed sign-in attempts; try again later",
		RetryAfter: int(math.Ceil(wait.Seconds()))}
}

// checkPassword returns the account this address and password open, and
// whether its hash should be remade under the current parameters;
// failures are audited. Exactly one account is checked, with exactly one
// hash, whatever exists: the organisation's account when orgID is given,
// else the address's first account (the oldest). Nothing about other
// organisations' accounts — how many there are, or their passwords — can
// be learnt from the answer or its timing, and an account made in another
// organisation with someone's address cannot change how they sign in.
func (a *App) checkPassword(ctx context.Context, email, orgID, password string) (*atrium.User, bool, error) {
	u, err := a.loginAccount(ctx, email, orgID)
	if atrium.ErrorCode(err) == atrium.ENotFound || (err == nil && u.PasswordHash == "") {
		a.hasher.Burn(ctx, password)
		a.auditLogin(ctx, orgID, "", email, atrium.OutcomeFailure, "unknown account")
		return nil, false, errBadLogin
	}
	if err != nil {
		return nil, false, err
	}
	rehash, err := a.hasher.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, auth.ErrMismatch) {
		a.auditLogin(ctx, u.OrgID, u.ID, email, atrium.OutcomeFailure, "wrong password")
		return nil, false, errBadLogin
	}
	if err != nil {
		return nil, false, atrium.Internal("app.Login", err)
	}
	if u.Status != atrium.StatusActive {
		// The same answer as a wrong password: a deactivated account's
		// password must not be confirmed to whoever tries it.
		a.auditLogin(ctx, u.OrgID, u.ID, email, atrium.OutcomeDenied, "account "+u.Status)
		return nil, false, errBadLogin
	}
	return u, rehash, nil
}

// loginAccount finds the one account a sign-in is for.
func (a *App) loginAccount(ctx context.Context, email, orgID string) (*atrium.User, error) {
	if orgID != "" {
		return a.store.GetOrgUserByEmail(ctx, orgID, email)
	}
	first, err := a.store.UsersByEmail(ctx, email, 1)
	if err != nil {
		return nil, err
	}
	if len(first) == 0 {
		return nil, atrium.NotFound("user")
	}
	return first[0], nil
}

// auditLogin records a failed or refused sign-in in its own transaction.
func (a *App) auditLogin(ctx context.Context, orgID, userID, email, outcome, detail string) {
	e := a.auditEntry(ctx, orgID, "auth.login", "user", userID, outcome, detail+": "+truncate(email, atrium.MaxEmailLen), a.now())
	e.ActorID = userID
	a.recordAlone(ctx, e)
}

// recordAlone records an audit entry in a transaction of its own (a
// refused or failed attempt, which changes nothing else). A client that
// hung up is still audited.
func (a *App) recordAlone(ctx context.Context, e *atrium.AuditEntry) {
	bg := context.WithoutCancel(ctx)
	if err := a.store.Tx(bg, func(tx *store.Tx) error { tx.AppendRecords([]*atrium.AuditEntry{e}, nil); return nil }); err != nil {
		a.log.Error("audit of a refused attempt", "action", e.Action, "err", err)
	}
}

// rehashPassword remakes u's password hash under the current parameters
// when rehash is set (the caller writes it with the sign-in).
func (a *App) rehashPassword(ctx context.Context, u *atrium.User, rehash bool, password string) error {
	if !rehash {
		return nil
	}
	h, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return atrium.Internal("app.Login", err)
	}
	u.PasswordHash = h
	return nil
}

func (a *App) openSession(ctx context.Context, u *atrium.User, rehash bool, password, device, platform string) (*LoginResult, error) {
	ci := atrium.ClientInfoFrom(ctx)
	if err := a.rehashPassword(ctx, u, rehash, password); err != nil {
		return nil, err
	}
	token, hash := auth.NewToken()
	deviceKey := make([]byte, 32)
	if _, err := rand.Read(deviceKey); err != nil {
		return nil, atrium.Internal("app.Login", err)
	}
	now := a.now()
	if device == "" {
		device = "unnamed device"
	}
	ttl, err := a.sessionTTL(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	s := &atrium.Session{ID: atrium.NewID(), UserID: u.ID, OrgID: u.OrgID, TokenHash: hash,
		DeviceName: device, Platform: platform, IP: ci.IP,
		UserAgent: truncate(ci.UserAgent, 512), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(ttl), DeviceKey: deviceKey}
	err = a.write(ctx, func(w *writer) error {
		if rehash {
			err := w.SetPasswordHash(ctx, u.ID, u.PasswordHash, now)
			if err != nil && atrium.ErrorCode(err) != atrium.ENotFound {
				return err
			}
		}
		if err := w.CreateSession(ctx, s); err != nil {
			return err
		}
		e := a.auditEntry(ctx, u.OrgID, "auth.login", "session", s.ID, atrium.OutcomeSuccess, "", now)
		e.ActorID = u.ID
		w.record(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Current = true
	return &LoginResult{Token: token, User: u, Session: s, DeviceKey: base64.StdEncoding.EncodeToString(deviceKey)}, nil
}

// Authenticate resolves a bearer token to an actor. Unknown, malformed,
// expired and revoked tokens, and tokens of deactivated users, all get
// EUnauthorized.
func (a *App) Authenticate(ctx context.Context, token string) (*atrium.Actor, error) {
	return a.authenticate(ctx, token, true)
}

func (a *App) authenticate(ctx context.Context, token string, useCache bool) (*atrium.Actor, error) {
	if !auth.ValidTokenShape(token) {
		return nil, atrium.Errorf(atrium.EUnauthorized, "invalid or expired token")
	}
	hash := auth.HashToken(token)
	now := a.now()
	ci := atrium.ClientInfoFrom(ctx)
	if e, ok := a.sessions.get(string(hash), now); ok && useCache {
		return &atrium.Actor{User: e.user, SessionID: e.session.ID, IP: ci.IP, UserAgent: ci.UserAgent, Features: e.features,
			WipePending: e.session.WipePending()}, nil
	}
	gen := a.sessions.generation()
	s, err := a.store.GetSessionByTokenHash(ctx, hash)
	if atrium.ErrorCode(err) == atrium.ENotFound || (err == nil && !s.Live(now)) {
		return nil, atrium.Errorf(atrium.EUnauthorized, "invalid or expired token")
	}
	if err != nil {
		return nil, err
	}
	u, err := a.store.GetUser(ctx, s.UserID)
	if err != nil {
		return nil, err
	}
	if u.Status != atrium.StatusActive {
		return nil, atrium.Errorf(atrium.EUnauthorized, "invalid or expired token")
	}
	if now.Sub(s.LastSeenAt) > time.Minute {
		if err := a.touch(ctx, s, now); err != nil {
			return nil, err
		}
	}
	features, err := a.userFeatures(ctx, u)
	if err != nil {
		return nil, err
	}
	a.sessions.put(string(hash), cachedSession{user: u, session: s, features: features, until: now.Add(sessionCacheTTL)}, gen)
	return &atrium.Actor{User: u, SessionID: s.ID, IP: ci.IP, UserAgent: ci.UserAgent, Features: features, WipePending: s.WipePending()}, nil
}

// sessionTTL is how long an organisation's sessions live without use: its
// own setting, or the server's default.
func (a *App) sessionTTL(ctx context.Context, orgID string) (time.Duration, error) {
	o, err := a.store.GetOrg(ctx, orgID)
	if err != nil {
		return 0, err
	}
	if o.Settings.SessionTTLHours > 0 {
		return time.Duration(o.Settings.SessionTTLHours) * time.Hour, nil
	}
	return a.cfg.SessionTTL, nil
}

// touch records use of a session and slides its expiry.
func (a *App) touch(ctx context.Context, s *atrium.Session, now time.Time) error {
	ttl, err := a.sessionTTL(ctx, s.OrgID)
	if err != nil {
		return err
	}
	s.LastSeenAt, s.ExpiresAt = now, now.Add(ttl)
	return a.store.Tx(ctx, func(tx *store.Tx) error { return tx.TouchSession(ctx, s.ID, now, s.ExpiresAt) })
}

// CheckSession returns EUnauthorized if a session can no longer be used,
// reading the database rather than the cache. The event stream asks this
// once it has subscribed (a revocation could have come between its
// authentication and its subscription) and now and then after, for
// sessions that simply expired. Other errors say nothing about the
// session.
func (a *App) CheckSession(ctx context.Context, token string) (wipe bool, err error) {
	act, err := a.authenticate(ctx, token, false)
	if err != nil {
		return false, err
	}
	return act.WipePending, nil
}

// Logout ends the actor's current session.
func (a *App) Logout(ctx context.Context) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	return a.revoke(ctx, act, act.SessionID, "", "auth.logout")
}

// ListSessions returns the actor's live sessions, marking the current one.
func (a *App) ListSessions(ctx context.Context, p Page) ([]*atrium.Session, string, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	return pageAfterID(p, func(after string, limit int) ([]*atrium.Session, error) {
		list, err := a.store.ListLiveSessions(ctx, act.User.ID, a.now(), after, limit)
		for _, s := range list {
			s.Current = s.ID == act.SessionID
		}
		return list, err
	}, func(s *atrium.Session) string { return s.ID })
}

// EndSession ends one of the actor's sessions; ENotFound if it is not a
// live session of theirs.
func (a *App) EndSession(ctx context.Context, id string) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	if !atrium.ValidID(id) {
		return atrium.NotFound("session")
	}
	return a.revoke(ctx, act, id, "", "session.end")
}

// EndOtherSessions ends every session of the actor but the current one.
func (a *App) EndOtherSessions(ctx context.Context) (int, error) {
	act, err := actor(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	err = a.write(ctx, func(w *writer) error {
		ids, err := w.RevokeSessions(ctx, act.User.ID, "", act.SessionID, w.now)
		n = len(ids)
		if err != nil || n == 0 {
			return err
		}
		return w.sessionsRevoked(act.User, ids, "session.end_others")
	})
	if err == nil {
		a.sessions.clear()
	}
	return n, err
}

// revoke ends session id (or all but except when id is empty) of the actor.
func (a *App) revoke(ctx context.Context, act *atrium.Actor, id, except, action string) error {
	err := a.write(ctx, func(w *writer) error {
		ids, err := w.RevokeSessions(ctx, act.User.ID, id, except, w.now)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return atrium.NotFound("session")
		}
		return w.sessionsRevoked(act.User, ids, action)
	})
	if err == nil {
		a.sessions.clear()
	}
	return err
}

// sessionsRevoked audits revoked sessions and tells every node to drop them.
func (w *writer) sessionsRevoked(u *atrium.User, ids []string, action string) error {
	for _, id := range ids {
		if err := w.audit(u.OrgID, action, "session", id, ""); err != nil {
			return err
		}
	}
	return w.event(atrium.EventSessionRevoked, u.OrgID, "", u.ID, "sessions", map[string]any{"session_ids": ids})
}

// ChangePasswordInput is a password change by the user themself.
type ChangePasswordInput struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// ChangePassword replaces the actor's password after checking the current
// one, and ends every other session.
func (a *App) ChangePassword(ctx context.Context, in ChangePasswordInput) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	if err := atrium.ValidatePassword(in.NewPassword); err != nil {
		return err
	}
	undoAcct, undoIP, err := a.reserveLogin(act.User.Email, act.IP)
	if err != nil {
		return err
	}
	u, err := a.store.GetUser(ctx, act.User.ID)
	if err != nil {
		return err
	}
	_, err = a.hasher.Verify(ctx, in.CurrentPassword, u.PasswordHash)
	if errors.Is(err, auth.ErrMismatch) {
		a.auditLogin(ctx, u.OrgID, u.ID, u.Email, atrium.OutcomeFailure, "password change: wrong current password")
		return atrium.Errorf(atrium.EForbidden, "the current password is wrong")
	}
	if err != nil {
		return atrium.Internal("app.ChangePassword", err)
	}
	undoAcct()
	undoIP()
	h, err := a.hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		return atrium.Internal("app.ChangePassword", err)
	}
	err = a.write(ctx, func(w *writer) error {
		// Only the hash is written, and only while the user is active: a
		// deactivation made while the hash was computed stands.
		err := w.SetPasswordHash(ctx, u.ID, h, w.now)
		if atrium.ErrorCode(err) == atrium.ENotFound {
			return atrium.Errorf(atrium.EUnauthorized, "invalid or expired token")
		}
		if err != nil {
			return err
		}
		if err := w.audit(u.OrgID, "user.password_change", "user", u.ID, ""); err != nil {
			return err
		}
		// Apps the user authorised, maybe with the old password, lose
		// their access too.
		if err := w.RevokeUserGrants(ctx, u.ID, w.now); err != nil {
			return err
		}
		ids, err := w.RevokeSessions(ctx, u.ID, "", act.SessionID, w.now)
		if err != nil || len(ids) == 0 {
			return err
		}
		return w.sessionsRevoked(u, ids, "session.end_by_password_change")
	})
	if err == nil {
		a.sessions.clear()
	}
	return err
}

// ControlEvent is called by the broker for every control event read from
// the outbox, on every node: it drops cached sessions at once.
func (a *App) ControlEvent(*atrium.Event) { a.sessions.clear() }
