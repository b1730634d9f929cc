package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-dev/atrium"
)

// Invitation lets a user created without a password choose one.
type Invitation struct {
	TokenHash []byte
	UserID    string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// CreateInvitation stores an invitation.
func (q Queries) CreateInvitation(ctx context.Context, inv *Invitation) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO invitations
		(token_hash, user_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		inv.TokenHash, inv.UserID, inv.CreatedBy, ms(inv.CreatedAt), ms(inv.ExpiresAt))
	return atrium.Internal("store.CreateInvitation", err)
}

// GetInvitation returns the invitation whose token hashes to h; ENotFound
// if there is none.
func (q Queries) GetInvitation(ctx context.Context, h []byte) (*Invitation, error) {
	var inv Invitation
	var created, expires int64
	var used sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT token_hash, user_id, created_by, created_at, expires_at, used_at
		FROM invitations WHERE token_hash = $1`, h).
		Scan(&inv.TokenHash, &inv.UserID, &inv.CreatedBy, &created, &expires, &used)
	if err != nil {
		return nil, notFound(err, "invitation", "store.GetInvitation")
	}
	inv.CreatedAt, inv.ExpiresAt, inv.UsedAt = fromMS(created), fromMS(expires), fromNullMS(used)
	return &inv, nil
}

// UseInvitation marks an invitation used; it reports false if it already was.
func (q Queries) UseInvitation(ctx context.Context, h []byte, now time.Time) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE invitations SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL`,
		h, ms(now))
	if err != nil {
		return false, atrium.Internal("store.UseInvitation", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
