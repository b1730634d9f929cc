package store

import (
	"context"
	"time"

	"github.com/atrium-dev/atrium"
)

// Ref names one object in a binder.
type Ref struct{ BinderID, ID string }

// AnonymiseUser replaces a user's personal data (address, name, password)
// with placeholders and marks them deleted; what they wrote stays,
// attributed to "Deleted user". ENotFound if the user is gone already.
func (q Queries) AnonymiseUser(ctx context.Context, id string, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE users SET email = 'deleted-' || id || '@deleted.invalid', name = $2,
		status = 'deleted', password_hash = '', updated_at = $3 WHERE id = $1 AND status <> 'deleted'`,
		id, atrium.DeletedUserName, ms(now))
	return changedOne(res, err, "user", "store.AnonymiseUser")
}

// RemoveUserEverywhere deletes a user's memberships (returning the
// binders), relationships, permissions and pending invitations.
func (q Queries) RemoveUserEverywhere(ctx context.Context, id string) ([]string, error) {
	binders, err := q.queryStrings(ctx, "store.RemoveUserEverywhere",
		`DELETE FROM binder_members WHERE user_id = $1 RETURNING binder_id`, id)
	if err != nil {
		return nil, err
	}
	for _, b := range binders {
		if err := q.bumpACLVersion(ctx, b); err != nil {
			return nil, err
		}
	}
	for _, stmt := range []string{
		`DELETE FROM relationships WHERE client_id = $1 OR internal_id = $1`,
		`DELETE FROM user_permissions WHERE user_id = $1`,
		`DELETE FROM invitations WHERE user_id = $1`,
		// Second factors and the apps' ids for the user go with the user.
		`DELETE FROM mfa_challenges WHERE user_id = $1`,
		`DELETE FROM mfa_recovery WHERE user_id = $1`,
		`DELETE FROM user_mfa WHERE user_id = $1`,
		`DELETE FROM webauthn_ceremonies WHERE user_id = $1`,
		`DELETE FROM webauthn_credentials WHERE user_id = $1`,
		`DELETE FROM external_identities WHERE user_id = $1`,
		`DELETE FROM idp_identities WHERE user_id = $1`,
		`DELETE FROM login_codes WHERE user_id = $1`,
		// The apps the user authorised lose their tokens.
		`DELETE FROM oauth_tokens WHERE grant_id IN (SELECT id FROM oauth_grants WHERE user_id = $1)`,
		`DELETE FROM oauth_requests WHERE user_id = $1`,
		`DELETE FROM oauth_grants WHERE user_id = $1`,
		// The devices' names and addresses are personal data too.
		`UPDATE sessions SET device_name = '', platform = '', ip = '', user_agent = '', device_key = NULL WHERE user_id = $1`,
	} {
		if _, err := q.q.ExecContext(ctx, stmt, id); err != nil {
			return nil, atrium.Internal("store.RemoveUserEverywhere", err)
		}
	}
	return binders, nil
}

// BindersOwnedOnlyBy returns the live binders whose only owner is userID.
func (q Queries) BindersOwnedOnlyBy(ctx context.Context, userID string) ([]string, error) {
	return q.queryStrings(ctx, "store.BindersOwnedOnlyBy", `SELECT m.binder_id FROM binder_members m
		JOIN binders b ON b.id = m.binder_id
		WHERE m.user_id = $1 AND m.role = 'owner' AND b.deleted_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM binder_members o WHERE o.binder_id = m.binder_id AND o.role = 'owner' AND o.user_id <> $1)
		ORDER BY m.binder_id`, userID)
}

// MakeOwner makes userID an owner of a binder, adding them if they are
// not a member. It moves the binder's ACLVersion on.
func (q Queries) MakeOwner(ctx context.Context, binderID, userID, by string, now time.Time) error {
	if err := q.bumpACLVersion(ctx, binderID); err != nil {
		return err
	}
	_, err := q.q.ExecContext(ctx, `INSERT INTO binder_members (binder_id, user_id, role, read_seq, added_by, created_at)
		VALUES ($1, $2, 'owner', 0, $3, $4) ON CONFLICT (binder_id, user_id) DO UPDATE SET role = 'owner'`,
		binderID, userID, by, ms(now))
	return atrium.Internal("store.MakeOwner", err)
}

// EraseMessagesBy turns every live message a user sent into a tombstone
// and returns the tombstones.
func (q Queries) EraseMessagesBy(ctx context.Context, senderID string, now time.Time) ([]*atrium.Message, error) {
	return queryAll(ctx, q.q, "store.EraseMessagesBy", scanMessage, `UPDATE messages SET text = '', mentions = '[]', attachments = NULL,
		deleted_at = $2 WHERE sender_id = $1 AND deleted_at IS NULL RETURNING `+messageCols, senderID, ms(now))
}

// DeleteFilesBy soft-deletes every live file a user created whose every
// version is theirs (purged after the retention like any deleted file)
// and returns them; a file others added versions to stays theirs too.
func (q Queries) DeleteFilesBy(ctx context.Context, userID string, now time.Time) ([]Ref, error) {
	return q.queryRefs(ctx, "store.DeleteFilesBy", `UPDATE files SET deleted_at = $2, updated_at = $2
		WHERE created_by = $1 AND deleted_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM file_versions v WHERE v.file_id = files.id AND v.uploaded_by <> $1)
		RETURNING binder_id, id`, userID, ms(now))
}

func (q Queries) queryRefs(ctx context.Context, op, query string, args ...any) ([]Ref, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, atrium.Internal(op, err)
	}
	defer rows.Close()
	var out []Ref
	for rows.Next() {
		var r Ref
		if err := rows.Scan(&r.BinderID, &r.ID); err != nil {
			return nil, atrium.Internal(op, err)
		}
		out = append(out, r)
	}
	return out, atrium.Internal(op, rows.Err())
}
