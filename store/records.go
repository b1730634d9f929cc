package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/atrium-dev/atrium"
)

// AppendRecords adds a change's audit entries and outbox events. It must
// run in the transaction of the change. On PostgreSQL all of them go in
// one statement, saving round trips on the write path.
func (q Queries) AppendRecords(ctx context.Context, audits []*atrium.AuditEntry, events []*atrium.Event) error {
	if q.d.name() != "postgres" {
		for _, a := range audits {
			if err := q.AppendAudit(ctx, a); err != nil {
				return err
			}
		}
		for _, e := range events {
			if err := q.AppendEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}
	if len(audits)+len(events) == 0 {
		return nil
	}
	var sb strings.Builder
	var args []any
	values := func(n int) string {
		var v strings.Builder
		v.WriteByte('(')
		for i := 0; i < n; i++ {
			if i > 0 {
				v.WriteByte(',')
			}
			fmt.Fprintf(&v, "$%d", len(args)-n+i+1)
		}
		v.WriteByte(')')
		return v.String()
	}
	if len(audits) > 0 {
		sb.WriteString(`WITH a AS (INSERT INTO audit_log
		(id, org_id, actor_id, action, target_type, target_id, ip, user_agent, outcome, detail, created_at) VALUES `)
		for i, a := range audits {
			args = append(args, a.ID, a.OrgID, a.ActorID, a.Action, a.TargetType, a.TargetID, a.IP, a.UserAgent,
				a.Outcome, a.Detail, ms(a.CreatedAt))
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(values(11))
		}
		sb.WriteString(") ")
	}
	if len(events) == 0 {
		sb.WriteString(`SELECT 1`)
	} else {
		sb.WriteString(`INSERT INTO events (org_id, binder_id, user_id, type, kind, payload, created_at) VALUES `)
		for i, e := range events {
			args = append(args, e.OrgID, e.BinderID, e.UserID, e.Type, e.Kind, string(e.Payload), ms(e.CreatedAt))
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(values(7))
		}
	}
	_, err := q.q.ExecContext(ctx, sb.String(), args...)
	return atrium.Internal("store.AppendRecords", err)
}

// CreateMessageNextSeq gives a message its binder's next sequence number
// and inserts it; ENotFound if the binder is gone, EConflict if the sender
// already used its client key in this binder. On PostgreSQL it is one
// statement.
func (q Queries) CreateMessageNextSeq(ctx context.Context, m *atrium.Message) error {
	if q.d.name() != "postgres" {
		seq, err := q.NextSeq(ctx, m.BinderID, m.CreatedAt)
		if err != nil {
			return err
		}
		m.Seq = seq
		return q.CreateMessage(ctx, m)
	}
	err := q.q.QueryRowContext(ctx, `WITH s AS (
			UPDATE binders SET last_seq = last_seq + 1, updated_at = $9
			WHERE id = $2 AND deleted_at IS NULL RETURNING last_seq)
		INSERT INTO messages (`+messageCols+`)
		SELECT $1, $2, s.last_seq, $3, $4, $5, $6, $7, $8, NULL, NULL FROM s
		RETURNING seq`,
		m.ID, m.BinderID, m.SenderID, m.Text, nullString(m.ReplyTo), mentionsJSON(m.Mentions),
		nullString(m.ClientKey), ms(m.CreatedAt), ms(m.CreatedAt)).Scan(&m.Seq)
	switch {
	case err == nil:
		return nil
	case q.d.isUnique(err):
		return atrium.Errorf(atrium.EConflict, "a message with this client key exists")
	}
	return notFound(err, "binder", "store.CreateMessageNextSeq")
}
