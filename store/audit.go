package store

import (
	"context"

	"github.com/atrium-dev/atrium"
)

// AppendAudit adds an audit entry. It must run in the transaction of the
// change it records.
func (q Queries) AppendAudit(ctx context.Context, a *atrium.AuditEntry) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO audit_log
		(id, org_id, actor_id, action, target_type, target_id, ip, user_agent, outcome, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		a.ID, a.OrgID, a.ActorID, a.Action, a.TargetType, a.TargetID, a.IP, a.UserAgent,
		a.Outcome, a.Detail, ms(a.CreatedAt))
	return atrium.Internal("store.AppendAudit", err)
}

// ListAudit returns up to limit audit entries of an organisation (all
// organisations when orgID is "*") with ids after `after`, oldest first.
func (q Queries) ListAudit(ctx context.Context, orgID, after string, limit int) ([]*atrium.AuditEntry, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, org_id, actor_id, action, target_type, target_id,
		ip, user_agent, outcome, detail, created_at FROM audit_log
		WHERE ($1 = '*' OR org_id = $1) AND id > $2 ORDER BY id LIMIT $3`, orgID, after, limit)
	if err != nil {
		return nil, atrium.Internal("store.ListAudit", err)
	}
	defer rows.Close()
	var out []*atrium.AuditEntry
	for rows.Next() {
		var a atrium.AuditEntry
		var created int64
		if err := rows.Scan(&a.ID, &a.OrgID, &a.ActorID, &a.Action, &a.TargetType, &a.TargetID,
			&a.IP, &a.UserAgent, &a.Outcome, &a.Detail, &created); err != nil {
			return nil, atrium.Internal("store.ListAudit", err)
		}
		a.CreatedAt = fromMS(created)
		out = append(out, &a)
	}
	return out, atrium.Internal("store.ListAudit", rows.Err())
}
