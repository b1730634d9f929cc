package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-dev/atrium"
)

// Passkey is a user's WebAuthn credential.
type Passkey struct {
	ID         string     `json:"id"` // the credential id, base64url
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// Credential is the WebAuthn library's record (JSON).
	Credential []byte `json:"-"`
}

// AddPasskey records a passkey; EConflict if its credential is registered
// already (to anyone).
func (q Queries) AddPasskey(ctx context.Context, p *Passkey) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO webauthn_credentials (id, user_id, name, credential, created_at, last_used_at)
		VALUES ($1, $2, $3, $4, $5, NULL)`, p.ID, p.UserID, p.Name, string(p.Credential), ms(p.CreatedAt))
	if q.d.isUnique(err) {
		return atrium.Errorf(atrium.EConflict, "this passkey is registered already")
	}
	return atrium.Internal("store.AddPasskey", err)
}

// Passkeys returns a user's passkeys, oldest first.
func (q Queries) Passkeys(ctx context.Context, userID string) ([]*Passkey, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, user_id, name, credential, created_at, last_used_at
		FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, atrium.Internal("store.Passkeys", err)
	}
	defer rows.Close()
	var out []*Passkey
	for rows.Next() {
		var p Passkey
		var cred string
		var created int64
		var used sql.NullInt64
		if err := rows.Scan(&p.ID, &p.UserID, &p.Name, &cred, &created, &used); err != nil {
			return nil, atrium.Internal("store.Passkeys", err)
		}
		p.Credential, p.CreatedAt, p.LastUsedAt = []byte(cred), fromMS(created), fromNullMS(used)
		out = append(out, &p)
	}
	return out, atrium.Internal("store.Passkeys", rows.Err())
}

// UsePasskey records a passkey's use: its record after the sign-in (the
// signature counter moved on). oldCredential is the record the sign-in
// was checked against; false if it changed meanwhile (another sign-in
// with the same passkey got there first).
func (q Queries) UsePasskey(ctx context.Context, id string, oldCredential, credential []byte, now time.Time) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE webauthn_credentials SET credential = $3, last_used_at = $4
		WHERE id = $1 AND credential = $2`, id, string(oldCredential), string(credential), ms(now))
	if err != nil {
		return false, atrium.Internal("store.UsePasskey", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeletePasskey removes a user's passkey; ENotFound if they have none
// with that id.
func (q Queries) DeletePasskey(ctx context.Context, userID, id string) error {
	res, err := q.q.ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE user_id = $1 AND id = $2`, userID, id)
	return changedOne(res, err, "passkey", "store.DeletePasskey")
}

// Ceremony is a WebAuthn registration or sign-in in flight.
type Ceremony struct {
	TokenHash string
	Purpose   string
	UserID    string
	Session   []byte // the library's session data (JSON)
	ExpiresAt time.Time
}

// PutCeremony records a ceremony, replacing one with the same token and
// purpose.
func (q Queries) PutCeremony(ctx context.Context, c *Ceremony) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO webauthn_ceremonies (token_hash, purpose, user_id, session, expires_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash, purpose) DO UPDATE SET user_id = excluded.user_id,
		session = excluded.session, expires_at = excluded.expires_at`,
		c.TokenHash, c.Purpose, c.UserID, string(c.Session), ms(c.ExpiresAt))
	return atrium.Internal("store.PutCeremony", err)
}

// TakeCeremony removes and returns a live ceremony, so that its challenge
// is answered once; ENotFound if there is none (or it expired).
func (q Queries) TakeCeremony(ctx context.Context, tokenHash, purpose string, now time.Time) (*Ceremony, error) {
	var c Ceremony
	var session string
	var expires int64
	err := q.q.QueryRowContext(ctx, `DELETE FROM webauthn_ceremonies WHERE token_hash = $1 AND purpose = $2
		RETURNING token_hash, purpose, user_id, session, expires_at`, tokenHash, purpose).
		Scan(&c.TokenHash, &c.Purpose, &c.UserID, &session, &expires)
	if err != nil {
		return nil, notFound(err, "ceremony", "store.TakeCeremony")
	}
	c.Session = []byte(session)
	if c.ExpiresAt = fromMS(expires); !c.ExpiresAt.After(now) {
		return nil, atrium.NotFound("ceremony")
	}
	return &c, nil
}

// DeleteCeremoniesBefore forgets ceremonies that expired before t.
func (q Queries) DeleteCeremoniesBefore(ctx context.Context, t time.Time) error {
	_, err := q.q.ExecContext(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at < $1`, ms(t))
	return atrium.Internal("store.DeleteCeremoniesBefore", err)
}
