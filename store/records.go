package store

import (
	"context"
	"slices"
	"sort"

	"github.com/atrium-dev/atrium"
)

// AppendRecords adds a change's audit entries and outbox events to its
// transaction. They are written once the change's function has returned
// without error, just before the commit, together with those of the other
// changes committed with it (on PostgreSQL in one statement); a change
// that fails leaves none.
func (tx *Tx) AppendRecords(audits []*atrium.AuditEntry, events []*atrium.Event) {
	tx.records.audits = append(tx.records.audits, audits...)
	tx.records.events = append(tx.records.events, events...)
}

// records are the audit entries and events of one or more changes, in
// order.
type records struct {
	audits []*atrium.AuditEntry
	events []*atrium.Event
}

func (r *records) add(o *records) {
	r.audits = append(r.audits, o.audits...)
	r.events = append(r.events, o.events...)
}

// appendRecords writes audit entries and events; on PostgreSQL in one
// statement whatever their number.
func (q Queries) appendRecords(ctx context.Context, r *records) error {
	if len(r.audits)+len(r.events) == 0 {
		return nil
	}
	heads, err := q.chainAudits(ctx, r.audits)
	if err != nil {
		return err
	}
	if q.d.name() != "postgres" {
		for _, a := range r.audits {
			if err := q.appendAudit(ctx, a); err != nil {
				return err
			}
		}
		for _, h := range heads {
			if _, err := q.q.ExecContext(ctx, `UPDATE audit_heads SET seq = $2, hash = $3 WHERE org_id = $1`,
				h.orgID, h.seq, h.hash); err != nil {
				return atrium.Internal("store.appendRecords", err)
			}
		}
		for _, e := range r.events {
			if err := q.AppendEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}
	const auditCols, eventCols, headCols = 15, 7, 3
	cols := make([]any, auditCols+eventCols+headCols)
	for i := range cols {
		switch i {
		case 10, 11, auditCols + eventCols - 1, auditCols + eventCols + 1:
			cols[i] = make([]int64, 0, len(r.audits)+len(r.events))
		default:
			cols[i] = make([]string, 0, len(r.audits)+len(r.events))
		}
	}
	push := func(first int, vals ...any) {
		for i, v := range vals {
			switch v := v.(type) {
			case string:
				cols[first+i] = append(cols[first+i].([]string), v)
			case int64:
				cols[first+i] = append(cols[first+i].([]int64), v)
			}
		}
	}
	for _, a := range r.audits {
		push(0, a.ID, a.OrgID, a.ActorID, a.Action, a.TargetType, a.TargetID, a.IP, a.UserAgent,
			a.Outcome, a.Detail, ms(a.CreatedAt), a.Seq, a.BinderID, a.PrevHash, a.Hash)
	}
	for _, e := range r.events {
		push(auditCols, e.OrgID, e.BinderID, e.UserID, e.Type, e.Kind, string(e.Payload), ms(e.CreatedAt))
	}
	for _, h := range heads {
		push(auditCols+eventCols, h.orgID, h.seq, h.hash)
	}
	// Events take their ids in the order the changes made them: the rows
	// are inserted in the arrays' order.
	_, err = q.q.ExecContext(ctx, `WITH a AS (INSERT INTO audit_log
			(id, org_id, actor_id, action, target_type, target_id, ip, user_agent, outcome, detail, created_at,
			 seq, binder_id, prev_hash, hash)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
				$7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::text[],
				$14::text[], $15::text[])),
		h AS (UPDATE audit_heads SET seq = v.s, hash = v.h
			FROM unnest($23::text[], $24::bigint[], $25::text[]) AS v(o, s, h) WHERE audit_heads.org_id = v.o)
		INSERT INTO events (org_id, binder_id, user_id, type, kind, payload, created_at)
		SELECT o, b, u, t, k, p, c FROM unnest($16::text[], $17::text[], $18::text[], $19::text[], $20::text[],
			$21::text[], $22::bigint[]) WITH ORDINALITY AS e(o, b, u, t, k, p, c, n) ORDER BY n`, cols...)
	return atrium.Internal("store.appendRecords", err)
}

// chainHead is the last entry of an organisation's audit chain.
type chainHead struct {
	orgID string
	seq   int64
	hash  string
}

// chainAudits gives each audit entry its place in its organisation's
// chain (Seq, PrevHash, Hash) and returns the chains' new heads. Each head
// is read with a lock held until commit (PostgreSQL; SQLite has one
// writer), taken in the order of the organisations' ids so that writers
// on several nodes wait for each other rather than deadlock.
func (q Queries) chainAudits(ctx context.Context, audits []*atrium.AuditEntry) ([]chainHead, error) {
	if len(audits) == 0 {
		return nil, nil
	}
	var orgs []string
	for _, a := range audits {
		if !slices.Contains(orgs, a.OrgID) {
			orgs = append(orgs, a.OrgID)
		}
	}
	sort.Strings(orgs)
	heads := make(map[string]*chainHead, len(orgs))
	for _, org := range orgs {
		h := &chainHead{orgID: org}
		// The no-op update locks an existing head and returns it.
		err := q.q.QueryRowContext(ctx, `INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, 0, '')
			ON CONFLICT (org_id) DO UPDATE SET seq = audit_heads.seq RETURNING seq, hash`, org).Scan(&h.seq, &h.hash)
		if err != nil {
			return nil, atrium.Internal("store.chainAudits", err)
		}
		heads[org] = h
	}
	for _, a := range audits {
		h := heads[a.OrgID]
		a.Seq, a.PrevHash = h.seq+1, h.hash
		a.Hash = a.ChainHash(a.PrevHash)
		h.seq, h.hash = a.Seq, a.Hash
	}
	out := make([]chainHead, 0, len(orgs))
	for _, org := range orgs {
		out = append(out, *heads[org])
	}
	return out, nil
}

// CreateMessageNextSeq gives a message its binder's next sequence number
// and inserts it; ENotFound if the binder is gone, EConflict if the sender
// already used its client key in this binder. On PostgreSQL it is one
// statement.
func (q Queries) CreateMessageNextSeq(ctx context.Context, m *atrium.Message) error {
	return q.createMessageNextSeq(ctx, m, nil)
}

// CreateMessageIfACL is CreateMessageNextSeq for a message planned from a
// read of the binder: it inserts the message only while the binder's
// ACLVersion is still aclVersion, and reports whether it did. When it did
// not, nothing was written: the binder is gone, or its membership changed.
func (q Queries) CreateMessageIfACL(ctx context.Context, m *atrium.Message, aclVersion int64) (bool, error) {
	err := q.createMessageNextSeq(ctx, m, &aclVersion)
	if atrium.ErrorCode(err) == atrium.ENotFound {
		return false, nil
	}
	return err == nil, err
}

// createMessageNextSeq inserts m with the binder's next sequence number,
// if aclVersion is nil or the binder's.
func (q Queries) createMessageNextSeq(ctx context.Context, m *atrium.Message, aclVersion *int64) error {
	if q.d.name() != "postgres" {
		err := q.q.QueryRowContext(ctx, `UPDATE binders SET last_seq = last_seq + 1, updated_at = $2
			WHERE id = $1 AND deleted_at IS NULL AND ($3 IS NULL OR acl_version = $3) RETURNING last_seq`,
			m.BinderID, ms(m.CreatedAt), aclVersion).Scan(&m.Seq)
		if err != nil {
			return notFound(err, "binder", "store.CreateMessageNextSeq")
		}
		return q.CreateMessage(ctx, m)
	}
	err := q.q.QueryRowContext(ctx, `WITH s AS (
			UPDATE binders SET last_seq = last_seq + 1, updated_at = $9
			WHERE id = $2 AND deleted_at IS NULL AND ($10::bigint IS NULL OR acl_version = $10) RETURNING last_seq)
		INSERT INTO messages (`+messageCols+`)
		SELECT $1, $2, s.last_seq, $3, $4, $5, $6, $7, $8, NULL, NULL, $11 FROM s
		RETURNING seq`,
		m.ID, m.BinderID, m.SenderID, m.Text, nullString(m.ReplyTo), mentionsJSON(m.Mentions),
		nullString(m.ClientKey), ms(m.CreatedAt), ms(m.CreatedAt), aclVersion, attachmentsJSON(m.Attachments)).Scan(&m.Seq)
	switch {
	case err == nil:
		return nil
	case q.d.isUnique(err):
		return atrium.Errorf(atrium.EConflict, "a message with this client key exists")
	}
	return notFound(err, "binder", "store.CreateMessageNextSeq")
}
