package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/sealed"
	"github.com/atrium-dev/atrium/store"
)

// Two-factor authentication with TOTP (RFC 6238: 6 digits, 30-second
// steps, SHA-1, as authenticator apps expect) and one-time recovery codes.
const (
	totpPeriod       = 30
	mfaChallengeTTL  = 5 * time.Minute
	mfaMaxAttempts   = 5
	recoveryCodes    = 10
	recoveryCodeSize = 10 // bytes: 16 base32 characters
)

// mfaSecretAD binds a wrapped TOTP secret to its user.
func mfaSecretAD(userID string) string { return "atrium/totp-secret/v1/" + userID }

// TOTPEnrolment is a new TOTP secret to put in an authenticator app.
type TOTPEnrolment struct {
	Secret string `json:"secret"`      // base32
	URL    string `json:"otpauth_url"` // otpauth://totp/…, for a QR code
}

// StartTOTP makes a new TOTP secret for the actor, to confirm with a code
// (ConfirmTOTP) before it counts. The secret is kept wrapped under the
// organisation's key.
func (a *App) StartTOTP(ctx context.Context) (*TOTPEnrolment, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return a.startTOTP(ctx, act.User)
}

// startTOTP makes and records a new unconfirmed TOTP secret for u.
func (a *App) startTOTP(ctx context.Context, u *atrium.User) (*TOTPEnrolment, error) {
	o, err := a.store.GetOrg(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Atrium (" + o.Name + ")", AccountName: u.Email,
		Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, atrium.Internal("app.StartTOTP", err)
	}
	fs, err := a.files()
	if err != nil {
		return nil, err
	}
	orgKey, err := a.orgKey(ctx, fs, u.OrgID)
	if err != nil {
		return nil, err
	}
	wrapped, err := sealed.Wrap(orgKey, []byte(key.Secret()), mfaSecretAD(u.ID))
	if err != nil {
		return nil, atrium.Internal("app.StartTOTP", err)
	}
	err = a.write(ctx, func(w *writer) error {
		if err := w.StartMFA(w.ctx, u.ID, wrapped, w.now); err != nil {
			return err
		}
		return w.audit(u.OrgID, "user.mfa_start", "user", u.ID, "")
	})
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTPInput confirms a TOTP secret: a first code from the
// authenticator, and the password (a second factor is added only by whoever
// knows it, not by whoever holds a session).
type ConfirmTOTPInput struct {
	Code     string `json:"code"`
	Password string `json:"password"`
}

// ConfirmTOTP turns TOTP on with a first code from the authenticator. The
// account's first second factor comes with one-time recovery codes, shown
// only now; a later one leaves the recovery codes as they are.
func (a *App) ConfirmTOTP(ctx context.Context, in ConfirmTOTPInput) ([]string, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.confirmPassword(ctx, act.User.ID, in.Password, "adding a second factor"); err != nil {
		return nil, err
	}
	code := in.Code
	m, err := a.store.GetMFA(ctx, act.User.ID)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, atrium.Errorf(atrium.EConflict, "start with POST /me/mfa/totp")
	}
	if m.ConfirmedAt != nil {
		return nil, atrium.Errorf(atrium.EConflict, "two-factor authentication is on already")
	}
	step, ok, err := a.totpStep(ctx, act.User, m, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, atrium.Errorf(atrium.EInvalid, "the code is not the authenticator's current one")
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	first := false
	err = a.write(ctx, func(w *writer) error {
		// The user's row, locked, orders this with other changes of their
		// second factors.
		if _, err := w.GetUserForUpdate(w.ctx, act.User.ID); err != nil {
			return err
		}
		keys, err := w.Passkeys(w.ctx, act.User.ID)
		if err != nil {
			return err
		}
		first = len(keys) == 0
		if ok, err := w.AcceptStep(w.ctx, act.User.ID, m.SecretWrapped, step, w.now); err != nil || !ok {
			if err == nil {
				err = atrium.Errorf(atrium.EInvalid, "this code was used already; wait for the next")
			}
			return err
		}
		if first {
			if err := w.SetRecoveryCodes(w.ctx, act.User.ID, hashes); err != nil {
				return err
			}
		}
		return w.audit(act.User.OrgID, "user.mfa_enable", "user", act.User.ID, "totp")
	})
	if err != nil {
		return nil, err
	}
	if !first {
		return nil, nil
	}
	return codes, nil
}

// confirmPassword checks the user's password before a change of their
// second factors. A stolen session must not guess it faster than a
// sign-in could: the attempt counts against the same throttles, and
// failures are audited.
func (a *App) confirmPassword(ctx context.Context, userID, password, what string) error {
	u, err := a.store.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.PasswordHash == "" {
		return atrium.Errorf(atrium.EForbidden, "this account has no password to confirm the change with")
	}
	if len(password) > atrium.MaxPasswordLen {
		return atrium.Errorf(atrium.EInvalid, "password is too long")
	}
	undoAcct, undoIP, err := a.reserveLogin(u.Email, atrium.ClientInfoFrom(ctx).IP)
	if err != nil {
		a.auditLogin(ctx, u.OrgID, u.ID, u.Email, atrium.OutcomeDenied, what+": throttled")
		return err
	}
	if _, err := a.hasher.Verify(ctx, password, u.PasswordHash); err != nil {
		a.auditLogin(ctx, u.OrgID, u.ID, u.Email, atrium.OutcomeFailure, what+": wrong password")
		return atrium.Errorf(atrium.EForbidden, "the password is wrong")
	}
	undoAcct()
	undoIP()
	return nil
}

// DisableMFAInput turns two-factor authentication off: the password
// proves it is the user.
type DisableMFAInput struct {
	Password string `json:"password"`
}

// DisableMFA turns the actor's two-factor authentication off.
func (a *App) DisableMFA(ctx context.Context, in DisableMFAInput) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	if err := a.confirmPassword(ctx, act.User.ID, in.Password, "turning two-factor authentication off"); err != nil {
		return err
	}
	u := act.User
	return a.write(ctx, func(w *writer) error {
		if err := w.DeleteMFA(w.ctx, u.ID); err != nil {
			return err
		}
		return w.audit(u.OrgID, "user.mfa_disable", "user", u.ID, "")
	})
}

// totpStep checks a code against the user's secret and returns the time
// step it belongs to (the current one, or one either side, for clocks a
// little off).
func (a *App) totpStep(ctx context.Context, u *atrium.User, m *store.MFA, code string) (int64, bool, error) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false, nil
	}
	fs, err := a.files()
	if err != nil {
		return 0, false, err
	}
	orgKey, err := a.orgKey(ctx, fs, u.OrgID)
	if err != nil {
		return 0, false, err
	}
	secret, err := sealed.Unwrap(orgKey, m.SecretWrapped, mfaSecretAD(u.ID))
	if err != nil {
		return 0, false, atrium.Internal("app.totpStep", err)
	}
	now := a.now()
	for _, d := range []time.Duration{0, -totpPeriod * time.Second, totpPeriod * time.Second} {
		t := now.Add(d)
		ok, err := totp.ValidateCustom(code, string(secret), t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && ok {
			return t.Unix() / totpPeriod, true, nil
		}
	}
	return 0, false, nil
}

// newRecoveryCodes makes recovery codes and their hashes.
func newRecoveryCodes() (codes, hashes []string, err error) {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for range recoveryCodes {
		b := make([]byte, recoveryCodeSize)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, atrium.Internal("app.newRecoveryCodes", err)
		}
		c := strings.ToLower(enc.EncodeToString(b))
		codes = append(codes, c[:8]+"-"+c[8:])
		hashes = append(hashes, recoveryHash(c))
	}
	return codes, hashes, nil
}

// recoveryHash is what is kept of a recovery code: the codes carry 80
// random bits, so a plain SHA-256 is enough.
func recoveryHash(code string) string {
	return digest("recovery", strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "-", "")))
}

// digest is what is kept of a random secret (a code, a state, a
// cookie): its SHA-256, under a label of its use, so that a value of one
// kind never matches a record of another. The secrets carry 80 bits or
// more, so no slow hash is needed.
func digest(kind, secret string) string {
	sum := sha256.Sum256([]byte("atrium/" + kind + "/v1/" + secret))
	return hex.EncodeToString(sum[:])
}

// mfaChallenge starts the second step of a password sign-in for a user
// with two-factor authentication, and returns its token.
func (a *App) mfaChallenge(ctx context.Context, u *atrium.User, rehash bool, password, device, platform string) (*LoginResult, error) {
	if err := a.rehashPassword(ctx, u, rehash, password); err != nil {
		return nil, err
	}
	token, hash := auth.NewToken()
	err := a.write(ctx, func(w *writer) error {
		if rehash {
			if err := w.SetPasswordHash(w.ctx, u.ID, u.PasswordHash, w.now); err != nil && atrium.ErrorCode(err) != atrium.ENotFound {
				return err
			}
		}
		return w.AddChallenge(w.ctx, &store.MFAChallenge{TokenHash: hex.EncodeToString(hash), UserID: u.ID, DeviceName: device,
			Platform: platform, ExpiresAt: w.now.Add(mfaChallengeTTL)})
	})
	if err != nil {
		return nil, err
	}
	a.auditLogin(ctx, u.OrgID, u.ID, u.Email, atrium.OutcomeSuccess, "password accepted; second factor asked")
	return &LoginResult{MFARequired: true, MFAToken: token}, nil
}

// EnrollMFA sets up TOTP during a sign-in that the organisation requires
// a second factor for, with the sign-in's challenge token: the answer is
// the secret for an authenticator, whose first code then completes the
// sign-in (CompleteMFA). It counts as an attempt of the challenge.
func (a *App) EnrollMFA(ctx context.Context, mfaToken string) (*TOTPEnrolment, error) {
	u, _, err := a.challengeAttempt(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	if has, err := a.hasMFA(ctx, u.ID); err != nil {
		return nil, err
	} else if has {
		return nil, atrium.Errorf(atrium.EConflict, "this account has a second factor already; use it")
	}
	return a.startTOTP(ctx, u)
}

// challengeAttempt counts an attempt at the live challenge of a sign-in
// token and returns its user and the token's hash; the same 401 for any
// token that names no live challenge.
func (a *App) challengeAttempt(ctx context.Context, mfaToken string) (*atrium.User, string, error) {
	if !auth.ValidTokenShape(mfaToken) {
		return nil, "", atrium.Errorf(atrium.EInvalid, "mfa_token is not a sign-in token")
	}
	hash := hex.EncodeToString(auth.HashToken(mfaToken))
	var c *store.MFAChallenge
	err := a.write(ctx, func(w *writer) (err error) {
		c, err = w.TakeAttempt(w.ctx, hash, w.now, mfaMaxAttempts)
		return err
	})
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return nil, "", errBadSecondFactor
	}
	if err != nil {
		return nil, "", err
	}
	u, err := a.store.GetUser(ctx, c.UserID)
	return u, hash, err
}

// CompleteMFAInput is the second step of a sign-in: the challenge's token
// and a code from the authenticator, or a recovery code.
type CompleteMFAInput struct {
	MFAToken     string `json:"mfa_token"`
	Code         string `json:"code,omitempty"`
	RecoveryCode string `json:"recovery_code,omitempty"`
	// WebAuthn is a passkey's answer (the PublicKeyCredential of
	// navigator.credentials.get, as JSON) to POST /auth/mfa/webauthn.
	WebAuthn json.RawMessage `json:"webauthn,omitempty"`
}

// factors counts the second factors a completion sends.
func (in CompleteMFAInput) factors() int {
	n := 0
	for _, set := range []bool{in.Code != "", in.RecoveryCode != "", len(in.WebAuthn) > 0} {
		if set {
			n++
		}
	}
	return n
}

var errBadSecondFactor = atrium.Errorf(atrium.EUnauthorized, "the code is wrong, or the sign-in expired; sign in again")

// CompleteMFA checks the second factor of a sign-in and opens its
// session. A challenge takes at most five attempts and lives five
// minutes; a code is accepted once, a recovery code once.
func (a *App) CompleteMFA(ctx context.Context, in CompleteMFAInput) (*LoginResult, error) {
	if !auth.ValidTokenShape(in.MFAToken) || in.factors() != 1 || len(in.Code) > 16 || len(in.RecoveryCode) > 64 {
		return nil, atrium.Errorf(atrium.EInvalid, "send mfa_token and one of code, recovery_code or webauthn")
	}
	hash := hex.EncodeToString(auth.HashToken(in.MFAToken))
	// The attempt is counted in a transaction of its own, so that a wrong
	// code cannot undo the count.
	var c *store.MFAChallenge
	err := a.write(ctx, func(w *writer) (err error) {
		c, err = w.TakeAttempt(w.ctx, hash, w.now, mfaMaxAttempts)
		return err
	})
	refuse := func(u *atrium.User) error {
		orgID, userID := "", ""
		if u != nil {
			orgID, userID = u.OrgID, u.ID
		}
		a.auditLogin(ctx, orgID, userID, "", atrium.OutcomeFailure, "second factor refused")
		return errBadSecondFactor
	}
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return nil, refuse(nil)
	}
	if err != nil {
		return nil, err
	}
	u, err := a.store.GetUser(ctx, c.UserID)
	if err != nil {
		return nil, err
	}
	// Each challenge takes five attempts, but whoever has the password can
	// open challenges at will: the account's throttle bounds the codes
	// tried across all of them. A success takes its count back.
	wait, undo := a.acctThrottle.Reserve(mfaThrottleKey(u.ID))
	if wait > 0 {
		undo()
		a.auditLogin(ctx, u.OrgID, u.ID, "", atrium.OutcomeDenied, "second factor throttled")
		return nil, &atrium.Error{Code: atrium.ERateLimited, Message: "too many wrong codes; try again later",
			RetryAfter: int(math.Ceil(wait.Seconds()))}
	}
	m, err := a.store.GetMFA(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(in.WebAuthn) > 0 {
		ok, err := a.checkPasskey(ctx, u, hash, in.WebAuthn)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, refuse(u)
		}
		undo()
		return a.finishSecondFactor(ctx, u, c, hash, "passkey", nil)
	}
	keys, err := a.store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	passkeys := len(keys) > 0
	if in.RecoveryCode != "" && passkeys && (m == nil || m.ConfirmedAt == nil) {
		m = &store.MFA{ConfirmedAt: &c.ExpiresAt} // a passkey user's recovery code
	}
	// A code of a secret not confirmed yet counts only as the first code
	// of a set-up the sign-in asked for: never beside another factor.
	if m == nil || m.ConfirmedAt == nil && (in.Code == "" || passkeys) {
		return nil, refuse(u)
	}
	enrolling := m.ConfirmedAt == nil
	var codes, hashes []string
	if enrolling {
		if codes, hashes, err = newRecoveryCodes(); err != nil {
			return nil, err
		}
	}
	var step int64
	if in.Code != "" {
		ok := false
		if step, ok, err = a.totpStep(ctx, u, m, in.Code); err != nil {
			return nil, err
		}
		if !ok {
			return nil, refuse(u)
		}
	}
	// The code (once) or the recovery code (once) is spent with the
	// challenge, so that two attempts at once cannot both pass.
	ok := false
	err = a.write(ctx, func(w *writer) (err error) {
		if in.RecoveryCode != "" {
			ok, err = w.UseRecoveryCode(w.ctx, u.ID, recoveryHash(in.RecoveryCode), w.now)
		} else {
			ok, err = w.AcceptStep(w.ctx, u.ID, m.SecretWrapped, step, w.now)
		}
		if err != nil || !ok {
			return err
		}
		if enrolling {
			if err := w.SetRecoveryCodes(w.ctx, u.ID, hashes); err != nil {
				return err
			}
			if err := w.audit(u.OrgID, "user.mfa_enable", "user", u.ID, "totp, at sign-in"); err != nil {
				return err
			}
		}
		return w.DeleteChallenge(w.ctx, hash, w.now)
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(u)
	}
	undo()
	how := "totp"
	if in.RecoveryCode != "" {
		how = "recovery code"
	}
	return a.finishSecondFactor(ctx, u, c, "", how, codes)
}

// finishSecondFactor opens the session of a sign-in whose second factor
// passed (ending its challenge, when hash is given; the code paths end it
// with the code).
func (a *App) finishSecondFactor(ctx context.Context, u *atrium.User, c *store.MFAChallenge, hash, how string, codes []string) (*LoginResult, error) {
	if hash != "" {
		if err := a.write(ctx, func(w *writer) error { return w.DeleteChallenge(w.ctx, hash, w.now) }); err != nil {
			return nil, err
		}
	}
	if u.Status != atrium.StatusActive {
		return nil, errBadSecondFactor
	}
	res, err := a.openSession(ctx, u, false, "", c.DeviceName, c.Platform)
	if err != nil {
		return nil, err
	}
	a.auditLogin(ctx, u.OrgID, u.ID, u.Email, atrium.OutcomeSuccess, "second factor: "+how)
	res.RecoveryCodes = codes
	return res, nil
}

// mfaThrottleKey is the account throttle's key for a user's second-factor
// attempts (apart from their password's, which is keyed by address).
func mfaThrottleKey(userID string) string { return "mfa:" + userID }

// hasMFA reports whether a user's sign-ins need a second factor: a
// confirmed TOTP secret or a passkey.
func (a *App) hasMFA(ctx context.Context, userID string) (bool, error) {
	methods, err := a.mfaMethods(ctx, userID)
	return len(methods) > 0, err
}

// mfaMethods lists a user's second factors: "totp", "webauthn".
func (a *App) mfaMethods(ctx context.Context, userID string) ([]string, error) {
	return secondFactors(ctx, a.store.Queries, userID)
}

// secondFactors lists a user's second factors as q reads them (the store,
// or a transaction).
func secondFactors(ctx context.Context, q store.Queries, userID string) ([]string, error) {
	var out []string
	m, err := q.GetMFA(ctx, userID)
	if err != nil {
		return nil, err
	}
	if m != nil && m.ConfirmedAt != nil {
		out = append(out, "totp")
	}
	keys, err := q.Passkeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		out = append(out, "webauthn")
	}
	return out, nil
}
