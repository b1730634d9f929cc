package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"

	"github.com/atrium-dev/atrium"
)

// MFA is a user's TOTP enrolment.
type MFA struct {
	UserID        string
	SecretWrapped []byte
	ConfirmedAt   *time.Time
	LastStep      int64
}

// GetMFA returns a user's TOTP enrolment, or nil.
func (q Queries) GetMFA(ctx context.Context, userID string) (*MFA, error) {
	var m MFA
	var wrapped string
	var confirmed sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT user_id, secret_wrapped, confirmed_at, last_step FROM user_mfa WHERE user_id = $1`,
		userID).Scan(&m.UserID, &wrapped, &confirmed, &m.LastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, atrium.Internal("store.GetMFA", err)
	}
	m.SecretWrapped, _ = base64.StdEncoding.DecodeString(wrapped)
	m.ConfirmedAt = fromNullMS(confirmed)
	return &m, nil
}

// StartMFA records a new, unconfirmed TOTP secret for a user, replacing an
// unconfirmed one; EConflict if the user has a confirmed one.
func (q Queries) StartMFA(ctx context.Context, userID string, wrapped []byte, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `INSERT INTO user_mfa (user_id, secret_wrapped, confirmed_at, last_step, created_at)
		VALUES ($1, $2, NULL, 0, $3) ON CONFLICT (user_id) DO UPDATE SET secret_wrapped = excluded.secret_wrapped,
		created_at = excluded.created_at WHERE user_mfa.confirmed_at IS NULL`,
		userID, base64.StdEncoding.EncodeToString(wrapped), ms(now))
	if err != nil {
		return atrium.Internal("store.StartMFA", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return atrium.Errorf(atrium.EConflict, "two-factor authentication is on already; turn it off first")
	}
	return nil
}

// AcceptStep records that a code of time step step was accepted for the
// secret wrapped as wrapped, and confirms the enrolment; false if a code
// of that step or a later one was accepted before (a replay), or if the
// secret was replaced since the code was checked.
func (q Queries) AcceptStep(ctx context.Context, userID string, wrapped []byte, step int64, now time.Time) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE user_mfa SET last_step = $2, confirmed_at = COALESCE(confirmed_at, $3)
		WHERE user_id = $1 AND last_step < $2 AND secret_wrapped = $4`, userID, step, ms(now), base64.StdEncoding.EncodeToString(wrapped))
	if err != nil {
		return false, atrium.Internal("store.AcceptStep", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteMFA turns a user's two-factor authentication off: TOTP, passkeys
// and recovery codes.
func (q Queries) DeleteMFA(ctx context.Context, userID string) error {
	for _, stmt := range []string{`DELETE FROM mfa_recovery WHERE user_id = $1`, `DELETE FROM user_mfa WHERE user_id = $1`,
		`DELETE FROM webauthn_credentials WHERE user_id = $1`, `DELETE FROM webauthn_ceremonies WHERE user_id = $1`} {
		if _, err := q.q.ExecContext(ctx, stmt, userID); err != nil {
			return atrium.Internal("store.DeleteMFA", err)
		}
	}
	return nil
}

// SetRecoveryCodes replaces a user's recovery codes (their hashes).
func (q Queries) SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	if _, err := q.q.ExecContext(ctx, `DELETE FROM mfa_recovery WHERE user_id = $1`, userID); err != nil {
		return atrium.Internal("store.SetRecoveryCodes", err)
	}
	for _, h := range hashes {
		if _, err := q.q.ExecContext(ctx, `INSERT INTO mfa_recovery (user_id, code_hash, used_at) VALUES ($1, $2, NULL)`, userID, h); err != nil {
			return atrium.Internal("store.SetRecoveryCodes", err)
		}
	}
	return nil
}

// UseRecoveryCode spends an unused recovery code; false if there is none
// with that hash.
func (q Queries) UseRecoveryCode(ctx context.Context, userID, hash string, now time.Time) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE mfa_recovery SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
		userID, hash, ms(now))
	if err != nil {
		return false, atrium.Internal("store.UseRecoveryCode", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// MFAChallenge is the step between a password and its second factor.
type MFAChallenge struct {
	TokenHash  string
	UserID     string
	DeviceName string
	Platform   string
	Attempts   int
	ExpiresAt  time.Time
}

// AddChallenge records a challenge.
func (q Queries) AddChallenge(ctx context.Context, c *MFAChallenge) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO mfa_challenges (token_hash, user_id, device_name, platform, attempts, expires_at)
		VALUES ($1, $2, $3, $4, 0, $5)`, c.TokenHash, c.UserID, c.DeviceName, c.Platform, ms(c.ExpiresAt))
	return atrium.Internal("store.AddChallenge", err)
}

// TakeAttempt counts an attempt at a live challenge and returns it;
// ENotFound if there is no such live challenge or its attempts ran out.
func (q Queries) TakeAttempt(ctx context.Context, tokenHash string, now time.Time, maxAttempts int) (*MFAChallenge, error) {
	var c MFAChallenge
	var expires int64
	err := q.q.QueryRowContext(ctx, `UPDATE mfa_challenges SET attempts = attempts + 1
		WHERE token_hash = $1 AND expires_at > $2 AND attempts < $3
		RETURNING token_hash, user_id, device_name, platform, attempts, expires_at`, tokenHash, ms(now), maxAttempts).
		Scan(&c.TokenHash, &c.UserID, &c.DeviceName, &c.Platform, &c.Attempts, &expires)
	if err != nil {
		return nil, notFound(err, "challenge", "store.TakeAttempt")
	}
	c.ExpiresAt = fromMS(expires)
	return &c, nil
}

// DeleteChallenge ends a challenge; with now set, every expired one too.
func (q Queries) DeleteChallenge(ctx context.Context, tokenHash string, now time.Time) error {
	_, err := q.q.ExecContext(ctx, `DELETE FROM mfa_challenges WHERE token_hash = $1 OR expires_at < $2`, tokenHash, ms(now))
	return atrium.Internal("store.DeleteChallenge", err)
}
