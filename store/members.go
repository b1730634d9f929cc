package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/atrium-dev/atrium"
)

// AddMember inserts a membership; EConflict if the user is already a member.
// It moves the binder's ACLVersion on.
func (q Queries) AddMember(ctx context.Context, m *atrium.Member) error {
	if err := q.bumpACLVersion(ctx, m.BinderID); err != nil {
		return err
	}
	_, err := q.q.ExecContext(ctx, `INSERT INTO binder_members
		(binder_id, user_id, role, read_seq, added_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		m.BinderID, m.UserID, m.Role, m.ReadSeq, m.AddedBy, ms(m.CreatedAt))
	if q.d.isUnique(err) {
		return atrium.Errorf(atrium.EConflict, "the user is already a member of this binder")
	}
	return atrium.Internal("store.AddMember", err)
}

// RemoveMember deletes a membership; ENotFound if there was none. It moves
// the binder's ACLVersion on.
func (q Queries) RemoveMember(ctx context.Context, binderID, userID string) error {
	if err := q.bumpACLVersion(ctx, binderID); err != nil {
		return err
	}
	res, err := q.q.ExecContext(ctx, `DELETE FROM binder_members WHERE binder_id = $1 AND user_id = $2`,
		binderID, userID)
	if err != nil {
		return atrium.Internal("store.RemoveMember", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return atrium.NotFound("member")
	}
	return nil
}

// bumpACLVersion marks a change to a binder's membership. On PostgreSQL
// the update also makes a write planned from an older read (see
// CreateMessageIfACL), waiting for this transaction's lock, see the new
// version when this one commits.
func (q Queries) bumpACLVersion(ctx context.Context, binderID string) error {
	_, err := q.q.ExecContext(ctx, `UPDATE binders SET acl_version = acl_version + 1 WHERE id = $1`, binderID)
	return atrium.Internal("store.bumpACLVersion", err)
}

const memberCols = `m.binder_id, m.user_id, m.role, m.read_seq, m.added_by, m.created_at,
	u.name, u.email, u.kind`

func scanMember(row interface{ Scan(...any) error }) (*atrium.Member, error) {
	var m atrium.Member
	var created int64
	ref := &atrium.UserRef{}
	if err := row.Scan(&m.BinderID, &m.UserID, &m.Role, &m.ReadSeq, &m.AddedBy, &created,
		&ref.Name, &ref.Email, &ref.Kind); err != nil {
		return nil, err
	}
	ref.ID = m.UserID
	m.User = ref
	m.CreatedAt = fromMS(created)
	return &m, nil
}

// GetMember returns one membership with the member's profile; ENotFound if
// the user is not a member.
func (q Queries) GetMember(ctx context.Context, binderID, userID string) (*atrium.Member, error) {
	m, err := scanMember(q.q.QueryRowContext(ctx, `SELECT `+memberCols+`
		FROM binder_members m JOIN users u ON u.id = m.user_id
		WHERE m.binder_id = $1 AND m.user_id = $2`, binderID, userID))
	if err != nil {
		return nil, notFound(err, "member", "store.GetMember")
	}
	return m, nil
}

// ListMembers returns a binder's members with user ids after `after`.
func (q Queries) ListMembers(ctx context.Context, binderID, after string, limit int) ([]*atrium.Member, error) {
	return queryAll(ctx, q.q, "store.ListMembers", scanMember, `SELECT `+memberCols+`
		FROM binder_members m JOIN users u ON u.id = m.user_id
		WHERE m.binder_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3`, binderID, after, limit)
}

// CountOwners returns how many owners a binder has.
func (q Queries) CountOwners(ctx context.Context, binderID string) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM binder_members
		WHERE binder_id = $1 AND role = 'owner'`, binderID).Scan(&n)
	return n, atrium.Internal("store.CountOwners", err)
}

// SetReadSeq moves a member's read position forward to seq (never back).
// It reports whether the position changed.
func (q Queries) SetReadSeq(ctx context.Context, binderID, userID string, seq int64) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE binder_members SET read_seq = $3
		WHERE binder_id = $1 AND user_id = $2 AND read_seq < $3`, binderID, userID, seq)
	if err != nil {
		return false, atrium.Internal("store.SetReadSeq", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// MemberIDsByEmails returns the ids of the binder's members whose
// addresses are listed, in the order listed, in one query.
func (q Queries) MemberIDsByEmails(ctx context.Context, binderID string, emails []string) ([]string, error) {
	if len(emails) == 0 {
		return []string{}, nil
	}
	args := []any{binderID}
	marks := make([]string, len(emails))
	for i, e := range emails {
		args = append(args, e)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := q.q.QueryContext(ctx, `SELECT u.email, u.id FROM binder_members m JOIN users u ON u.id = m.user_id
		WHERE m.binder_id = $1 AND u.email IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, atrium.Internal("store.MemberIDsByEmails", err)
	}
	defer rows.Close()
	byEmail := map[string]string{}
	for rows.Next() {
		var email, id string
		if err := rows.Scan(&email, &id); err != nil {
			return nil, atrium.Internal("store.MemberIDsByEmails", err)
		}
		byEmail[email] = id
	}
	if err := rows.Err(); err != nil {
		return nil, atrium.Internal("store.MemberIDsByEmails", err)
	}
	ids := []string{}
	for _, e := range emails {
		if id, ok := byEmail[e]; ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
