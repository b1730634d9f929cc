package store

import (
	"context"
	"time"

	"github.com/atrium-dev/atrium"
)

const userCols = `id, org_id, email, name, kind, role, status, password_hash, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (*atrium.User, error) {
	var u atrium.User
	var created, updated int64
	err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &u.Kind, &u.Role, &u.Status,
		&u.PasswordHash, &created, &updated)
	if err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return &u, nil
}

// CreateUser inserts a user; EConflict if the e-mail address is taken in
// the user's organisation (other organisations may use it too).
func (q Queries) CreateUser(ctx context.Context, u *atrium.User) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO users (`+userCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.ID, u.OrgID, u.Email, u.Name, u.Kind, u.Role, u.Status, u.PasswordHash,
		ms(u.CreatedAt), ms(u.UpdatedAt))
	if q.d.isUnique(err) {
		return atrium.Errorf(atrium.EConflict, "a user with this email already exists in this organisation")
	}
	return atrium.Internal("store.CreateUser", err)
}

// GetUser returns a user by id; ENotFound if there is none.
func (q Queries) GetUser(ctx context.Context, id string) (*atrium.User, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "user", "store.GetUser")
	}
	return u, nil
}

// UsersByEmail returns up to limit accounts with a normalised e-mail
// address, one per organisation at most, oldest first.
func (q Queries) UsersByEmail(ctx context.Context, email string, limit int) ([]*atrium.User, error) {
	return queryAll(ctx, q.q, "store.UsersByEmail", scanUser, `SELECT `+userCols+` FROM users WHERE email = $1 ORDER BY id LIMIT $2`, email, limit)
}

// GetOrgUserByEmail returns an organisation's user by normalised e-mail
// address; ENotFound if there is none.
func (q Queries) GetOrgUserByEmail(ctx context.Context, orgID, email string) (*atrium.User, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE org_id = $1 AND email = $2`, orgID, email))
	if err != nil {
		return nil, notFound(err, "user", "store.GetOrgUserByEmail")
	}
	return u, nil
}

// ListUsers returns up to limit users of an organisation with ids after
// `after`, in id order.
func (q Queries) ListUsers(ctx context.Context, orgID, after string, limit int) ([]*atrium.User, error) {
	return queryAll(ctx, q.q, "store.ListUsers", scanUser, `SELECT `+userCols+` FROM users
		WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`, orgID, after, limit)
}

// GetUserForUpdate returns a user and, on PostgreSQL, locks the row until
// commit, so a read-modify-write of the user cannot lose a concurrent
// change; ENotFound if there is none.
func (q Queries) GetUserForUpdate(ctx context.Context, id string) (*atrium.User, error) {
	lock := ""
	if q.d.name() == "postgres" {
		lock = " FOR UPDATE"
	}
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`+lock, id))
	if err != nil {
		return nil, notFound(err, "user", "store.GetUserForUpdate")
	}
	return u, nil
}

// SetPasswordHash replaces the password hash of an active user; ENotFound
// if the user is not active (deactivated meanwhile, say).
func (q Queries) SetPasswordHash(ctx context.Context, id, hash string, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = $3
		WHERE id = $1 AND status = 'active'`, id, hash, ms(now))
	return changedOne(res, err, "user", "store.SetPasswordHash")
}

// UpdateUser writes a user's mutable fields.
func (q Queries) UpdateUser(ctx context.Context, u *atrium.User) error {
	_, err := q.q.ExecContext(ctx, `UPDATE users SET name = $2, role = $3, status = $4,
		password_hash = $5, updated_at = $6 WHERE id = $1`,
		u.ID, u.Name, u.Role, u.Status, u.PasswordHash, ms(u.UpdatedAt))
	return atrium.Internal("store.UpdateUser", err)
}

// OrgOwner returns an organisation's owner; ENotFound if it has none.
func (q Queries) OrgOwner(ctx context.Context, orgID string) (*atrium.User, error) {
	u, err := scanUser(q.q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users
		WHERE org_id = $1 AND role = 'owner' ORDER BY id LIMIT 1`, orgID))
	if err != nil {
		return nil, notFound(err, "owner", "store.OrgOwner")
	}
	return u, nil
}
