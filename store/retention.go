package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/atrium-dev/atrium"
)

// OrgsWithRetention returns, of up to limit organisations after id after,
// those whose settings keep messages, files or audit entries for a
// limited time, and the last id it looked at ("" once there are no more).
func (q Queries) OrgsWithRetention(ctx context.Context, after string, limit int) ([]*atrium.Org, string, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, name, settings, created_at, updated_at FROM orgs
		WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, "", atrium.Internal("store.OrgsWithRetention", err)
	}
	defer rows.Close()
	var out []*atrium.Org
	last, n := "", 0
	for rows.Next() {
		var o atrium.Org
		var settings string
		var created, updated int64
		if err := rows.Scan(&o.ID, &o.Name, &settings, &created, &updated); err != nil {
			return nil, "", atrium.Internal("store.OrgsWithRetention", err)
		}
		n++
		last = o.ID
		o.Settings = atrium.DefaultOrgSettings()
		if err := json.Unmarshal([]byte(settings), &o.Settings); err != nil {
			return nil, "", atrium.Internal("store.OrgsWithRetention", err)
		}
		o.CreatedAt, o.UpdatedAt = fromMS(created), fromMS(updated)
		s := o.Settings
		if s.MessageRetentionDays > 0 || s.FileRetentionDays > 0 || s.AuditRetentionDays > 0 {
			out = append(out, &o)
		}
	}
	if n < limit {
		last = ""
	}
	return out, last, atrium.Internal("store.OrgsWithRetention", rows.Err())
}

// ExpireMessages erases up to limit live messages of an organisation
// created before t, and returns the tombstones.
func (q Queries) ExpireMessages(ctx context.Context, orgID string, t, now time.Time, limit int) ([]*atrium.Message, error) {
	ids, err := q.queryStrings(ctx, "store.ExpireMessages", `SELECT m.id FROM messages m JOIN binders b ON b.id = m.binder_id
		WHERE b.org_id = $1 AND m.deleted_at IS NULL AND m.created_at < $2 ORDER BY m.created_at LIMIT $3`, orgID, ms(t), limit)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var out []*atrium.Message
	for _, id := range ids {
		rows, err := q.q.QueryContext(ctx, `UPDATE messages SET text = '', mentions = '[]', attachments = NULL, deleted_at = $2
			WHERE id = $1 AND deleted_at IS NULL RETURNING `+messageCols, id, ms(now))
		if err != nil {
			return nil, atrium.Internal("store.ExpireMessages", err)
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return nil, atrium.Internal("store.ExpireMessages", err)
			}
			out = append(out, m)
		}
		if err := rows.Close(); err != nil {
			return nil, atrium.Internal("store.ExpireMessages", err)
		}
	}
	return out, nil
}

// ExpireFiles deletes up to limit live files of an organisation not
// changed since t, and returns them.
func (q Queries) ExpireFiles(ctx context.Context, orgID string, t, now time.Time, limit int) ([]Ref, error) {
	return q.queryRefs(ctx, "store.ExpireFiles", `UPDATE files SET deleted_at = $3, updated_at = $3
		WHERE id IN (SELECT id FROM files WHERE org_id = $1 AND deleted_at IS NULL AND updated_at < $2 ORDER BY updated_at LIMIT $4)
		AND deleted_at IS NULL RETURNING binder_id, id`, orgID, ms(t), ms(now), limit)
}

// PruneAudit removes an organisation's chained audit entries up to and
// including seq upTo; the caller has a signed checkpoint at upTo.
func (q Queries) PruneAudit(ctx context.Context, orgID string, upTo int64) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM audit_log WHERE org_id = $1 AND seq > 0 AND seq <= $2`, orgID, upTo)
	if err != nil {
		return 0, atrium.Internal("store.PruneAudit", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// LastAuditBefore returns the seq of an organisation's newest chained
// audit entry created before t (0 if none).
func (q Queries) LastAuditBefore(ctx context.Context, orgID string, t time.Time) (int64, error) {
	var seq int64
	err := q.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE org_id = $1 AND seq > 0 AND created_at < $2`,
		orgID, ms(t)).Scan(&seq)
	return seq, atrium.Internal("store.LastAuditBefore", err)
}
