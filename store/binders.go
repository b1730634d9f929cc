package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-dev/atrium"
)

// CreateBinder inserts a binder.
func (q Queries) CreateBinder(ctx context.Context, b *atrium.Binder) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO binders
		(id, org_id, title, created_by, last_seq, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 0, $5, $6)`,
		b.ID, b.OrgID, b.Title, b.CreatedBy, ms(b.CreatedAt), ms(b.UpdatedAt))
	return atrium.Internal("store.CreateBinder", err)
}

const binderCols = `b.id, b.org_id, b.title, b.created_by, b.last_seq, b.created_at, b.updated_at, b.deleted_at, b.acl_version`

func scanBinder(row interface{ Scan(...any) error }, extra ...any) (*atrium.Binder, error) {
	var b atrium.Binder
	var created, updated int64
	var deleted sql.NullInt64
	dest := append([]any{&b.ID, &b.OrgID, &b.Title, &b.CreatedBy, &b.LastSeq, &created, &updated, &deleted, &b.ACLVersion}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	b.CreatedAt, b.UpdatedAt = fromMS(created), fromMS(updated)
	b.DeletedAt = fromNullMS(deleted)
	return &b, nil
}

// GetBinderForUser returns a binder that is not deleted, together with the
// user's membership of it (nil if the user is not a member). ENotFound if
// the binder does not exist or is deleted.
func (q Queries) GetBinderForUser(ctx context.Context, id, userID string) (*atrium.Binder, *atrium.Member, error) {
	return q.getBinderForUser(ctx, id, userID, "")
}

// GetBinderForUserLocked is GetBinderForUser for a change to the binder:
// on PostgreSQL it also locks the binder's row until commit, so writes to
// one binder are serialised and what is checked afterwards in the
// transaction (membership, roles, the last owner, a message's state) still
// holds when it commits. SQLite's writers are serialised already.
func (q Queries) GetBinderForUserLocked(ctx context.Context, id, userID string) (*atrium.Binder, *atrium.Member, error) {
	lock := ""
	if q.d.name() == "postgres" {
		lock = " FOR UPDATE OF b"
	}
	return q.getBinderForUser(ctx, id, userID, lock)
}

func (q Queries) getBinderForUser(ctx context.Context, id, userID, lock string) (*atrium.Binder, *atrium.Member, error) {
	var role sql.NullString
	var readSeq sql.NullInt64
	b, err := scanBinder(q.q.QueryRowContext(ctx, `SELECT `+binderCols+`, m.role, m.read_seq
		FROM binders b LEFT JOIN binder_members m ON m.binder_id = b.id AND m.user_id = $2
		WHERE b.id = $1 AND b.deleted_at IS NULL`+lock, id, userID), &role, &readSeq)
	if err != nil {
		return nil, nil, notFound(err, "binder", "store.GetBinderForUser")
	}
	if !role.Valid {
		return b, nil, nil
	}
	b.MyRole, b.ReadSeq = role.String, readSeq.Int64
	return b, &atrium.Member{BinderID: b.ID, UserID: userID, Role: role.String, ReadSeq: readSeq.Int64}, nil
}

// ListBindersForUser returns the binders the user is a member of, with ids
// after `after`, with the user's role, read position and unread count.
func (q Queries) ListBindersForUser(ctx context.Context, userID, after string, limit int) ([]*atrium.Binder, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+binderCols+`, m.role, m.read_seq,
		(SELECT COUNT(*) FROM messages x WHERE x.binder_id = b.id AND x.seq > m.read_seq
			AND x.sender_id <> m.user_id AND x.deleted_at IS NULL)
		FROM binder_members m JOIN binders b ON b.id = m.binder_id
		WHERE m.user_id = $1 AND b.deleted_at IS NULL AND b.id > $2
		ORDER BY b.id LIMIT $3`, userID, after, limit)
	if err != nil {
		return nil, atrium.Internal("store.ListBindersForUser", err)
	}
	defer rows.Close()
	var out []*atrium.Binder
	for rows.Next() {
		var role string
		var readSeq, unread int64
		b, err := scanBinder(rows, &role, &readSeq, &unread)
		if err != nil {
			return nil, atrium.Internal("store.ListBindersForUser", err)
		}
		b.MyRole, b.ReadSeq, b.Unread = role, readSeq, unread
		out = append(out, b)
	}
	return out, atrium.Internal("store.ListBindersForUser", rows.Err())
}

// CountUnread returns how many live messages from others the user has not
// read in a binder.
func (q Queries) CountUnread(ctx context.Context, binderID, userID string, readSeq int64) (int64, error) {
	var n int64
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE binder_id = $1
		AND seq > $2 AND sender_id <> $3 AND deleted_at IS NULL`, binderID, readSeq, userID).Scan(&n)
	return n, atrium.Internal("store.CountUnread", err)
}

// UpdateBinderTitle renames a binder.
func (q Queries) UpdateBinderTitle(ctx context.Context, id, title string, now time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE binders SET title = $2, updated_at = $3 WHERE id = $1`,
		id, title, ms(now))
	return atrium.Internal("store.UpdateBinderTitle", err)
}

// DeleteBinder marks a binder deleted; its content stays for the audit
// trail and later retention policies.
func (q Queries) DeleteBinder(ctx context.Context, id string, now time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE binders SET deleted_at = $2, updated_at = $2 WHERE id = $1`,
		id, ms(now))
	return atrium.Internal("store.DeleteBinder", err)
}
