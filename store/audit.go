package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
)

// appendAudit adds an audit entry that chainAudits placed in its chain.
func (q Queries) appendAudit(ctx context.Context, a *atrium.AuditEntry) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO audit_log
		(id, org_id, actor_id, action, target_type, target_id, ip, user_agent, outcome, detail, created_at,
		 seq, binder_id, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		a.ID, a.OrgID, a.ActorID, a.Action, a.TargetType, a.TargetID, a.IP, a.UserAgent,
		a.Outcome, a.Detail, ms(a.CreatedAt), a.Seq, a.BinderID, a.PrevHash, a.Hash)
	return atrium.Internal("store.appendAudit", err)
}

const auditCols = `id, org_id, seq, actor_id, action, target_type, target_id, binder_id, ip, user_agent,
	outcome, detail, created_at, prev_hash, hash`

func scanAudit(row interface{ Scan(...any) error }) (*atrium.AuditEntry, error) {
	var a atrium.AuditEntry
	var created int64
	if err := row.Scan(&a.ID, &a.OrgID, &a.Seq, &a.ActorID, &a.Action, &a.TargetType, &a.TargetID, &a.BinderID,
		&a.IP, &a.UserAgent, &a.Outcome, &a.Detail, &created, &a.PrevHash, &a.Hash); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMS(created)
	return &a, nil
}

// queryAudit runs a query of audit entries.
func (q Queries) queryAudit(ctx context.Context, op, query string, args ...any) ([]*atrium.AuditEntry, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, atrium.Internal(op, err)
	}
	defer rows.Close()
	var out []*atrium.AuditEntry
	for rows.Next() {
		a, err := scanAudit(rows)
		if err != nil {
			return nil, atrium.Internal(op, err)
		}
		out = append(out, a)
	}
	return out, atrium.Internal(op, rows.Err())
}

// ListAudit returns up to limit audit entries of an organisation (all
// organisations when orgID is "*") with ids after `after`, oldest first.
func (q Queries) ListAudit(ctx context.Context, orgID, after string, limit int) ([]*atrium.AuditEntry, error) {
	return q.queryAudit(ctx, "store.ListAudit", `SELECT `+auditCols+` FROM audit_log
		WHERE ($1 = '*' OR org_id = $1) AND id > $2 ORDER BY id LIMIT $3`, orgID, after, limit)
}

// AuditQuery selects an organisation's audit entries; empty fields do not
// filter.
type AuditQuery struct {
	OrgID    string
	ActorID  string
	Action   string // an action, or a prefix ending in "." (e.g. "file.")
	TargetID string
	BinderID string
	From, To time.Time // created at or after From, before To
	Text     string    // a substring of the detail, the target's id or the action
	// BeforeSeq pages newest first: entries with a smaller seq (0: from
	// the newest).
	BeforeSeq int64
	Limit     int
}

// SearchAudit returns the entries q selects, newest first.
func (q Queries) SearchAudit(ctx context.Context, f AuditQuery) ([]*atrium.AuditEntry, error) {
	where := []string{"org_id = $1", "seq > 0"}
	args := []any{f.OrgID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if strings.HasSuffix(f.Action, ".") {
		add("action LIKE ? ESCAPE '\\'", likeEscape(f.Action)+"%")
	} else if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if f.BinderID != "" {
		add("binder_id = ?", f.BinderID)
	}
	if !f.From.IsZero() {
		add("created_at >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		add("created_at < ?", ms(f.To))
	}
	if f.Text != "" {
		pat := "%" + likeEscape(strings.ToLower(f.Text)) + "%"
		args = append(args, pat)
		n := "$" + strconv.Itoa(len(args))
		where = append(where, "(LOWER(detail) LIKE "+n+" ESCAPE '\\' OR LOWER(target_id) LIKE "+n+" ESCAPE '\\' OR LOWER(action) LIKE "+n+" ESCAPE '\\')")
	}
	if f.BeforeSeq > 0 {
		add("seq < ?", f.BeforeSeq)
	}
	args = append(args, f.Limit)
	return q.queryAudit(ctx, "store.SearchAudit", `SELECT `+auditCols+` FROM audit_log WHERE `+
		strings.Join(where, " AND ")+` ORDER BY seq DESC LIMIT $`+strconv.Itoa(len(args)), args...)
}

// likeEscape escapes LIKE's wildcards in s.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// AuditChain returns up to limit entries of an organisation's chain after
// seq after, in chain order.
func (q Queries) AuditChain(ctx context.Context, orgID string, after int64, limit int) ([]*atrium.AuditEntry, error) {
	return q.queryAudit(ctx, "store.AuditChain", `SELECT `+auditCols+` FROM audit_log
		WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, orgID, after, limit)
}

// CountUnchainedAudit counts an organisation's entries written before the
// audit log was chained.
func (q Queries) CountUnchainedAudit(ctx context.Context, orgID string) (int64, error) {
	var n int64
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND seq = 0`, orgID).Scan(&n)
	return n, atrium.Internal("store.CountUnchainedAudit", err)
}

// AuditHead is the last entry of an organisation's chain, as its writers
// last left it.
type AuditHead struct {
	OrgID string
	Seq   int64
	Hash  string
	// Missing: the organisation has entries or checkpoints but no head.
	Missing bool
}

// AuditedOrgs returns the organisations that have chained audit entries
// or checkpoints (orgID "*"), or orgID if it has.
func (q Queries) AuditedOrgs(ctx context.Context, orgID string) ([]string, error) {
	return q.queryStrings(ctx, "store.AuditedOrgs", `SELECT DISTINCT org_id FROM (
		SELECT org_id FROM audit_log WHERE seq > 0 AND ($1 = '*' OR org_id = $1)
		UNION SELECT org_id FROM audit_checkpoints WHERE ($1 = '*' OR org_id = $1)) o ORDER BY org_id`, orgID)
}

// AuditChainUpTo is AuditChain for the entries up to seq upTo (all of
// them when upTo is 0 and the head is missing: see AuditHead).
func (q Queries) AuditChainUpTo(ctx context.Context, orgID string, after, upTo int64, limit int) ([]*atrium.AuditEntry, error) {
	return q.queryAudit(ctx, "store.AuditChainUpTo", `SELECT `+auditCols+` FROM audit_log
		WHERE org_id = $1 AND seq > $2 AND ($3 = 0 OR seq <= $3) ORDER BY seq LIMIT $4`, orgID, after, upTo, limit)
}

// AuditHeads returns every organisation's chain head (orgID "*"), or one.
func (q Queries) AuditHeads(ctx context.Context, orgID string) ([]AuditHead, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT org_id, seq, hash FROM audit_heads
		WHERE ($1 = '*' OR org_id = $1) ORDER BY org_id`, orgID)
	if err != nil {
		return nil, atrium.Internal("store.AuditHeads", err)
	}
	defer rows.Close()
	var out []AuditHead
	for rows.Next() {
		var h AuditHead
		if err := rows.Scan(&h.OrgID, &h.Seq, &h.Hash); err != nil {
			return nil, atrium.Internal("store.AuditHeads", err)
		}
		out = append(out, h)
	}
	return out, atrium.Internal("store.AuditHeads", rows.Err())
}

// AddAuditCheckpoint stores a signed checkpoint; one that exists already
// (the same organisation and seq) is left as it is.
func (q Queries) AddAuditCheckpoint(ctx context.Context, c *atrium.AuditCheckpoint) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO audit_checkpoints (org_id, seq, hash, key_id, signature, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, seq) DO NOTHING`,
		c.OrgID, c.Seq, c.Hash, c.KeyID, base64.StdEncoding.EncodeToString(c.Signature), ms(c.CreatedAt))
	return atrium.Internal("store.AddAuditCheckpoint", err)
}

// AuditCheckpoints returns an organisation's checkpoints in chain order.
func (q Queries) AuditCheckpoints(ctx context.Context, orgID string) ([]*atrium.AuditCheckpoint, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT org_id, seq, hash, key_id, signature, created_at
		FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq`, orgID)
	if err != nil {
		return nil, atrium.Internal("store.AuditCheckpoints", err)
	}
	defer rows.Close()
	var out []*atrium.AuditCheckpoint
	for rows.Next() {
		var c atrium.AuditCheckpoint
		var sig string
		var created int64
		if err := rows.Scan(&c.OrgID, &c.Seq, &c.Hash, &c.KeyID, &sig, &created); err != nil {
			return nil, atrium.Internal("store.AuditCheckpoints", err)
		}
		c.Signature, _ = base64.StdEncoding.DecodeString(sig) // a damaged one fails verification
		c.CreatedAt = fromMS(created)
		out = append(out, &c)
	}
	return out, atrium.Internal("store.AuditCheckpoints", rows.Err())
}

// AddAuditPrune stores a signed prune statement (see audit_prunes).
func (q Queries) AddAuditPrune(ctx context.Context, c *atrium.AuditCheckpoint) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO audit_prunes (org_id, seq, hash, key_id, signature, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, seq) DO NOTHING`,
		c.OrgID, c.Seq, c.Hash, c.KeyID, base64.StdEncoding.EncodeToString(c.Signature), ms(c.CreatedAt))
	return atrium.Internal("store.AddAuditPrune", err)
}

// AuditPrune returns the prune statement at seq, or nil.
func (q Queries) AuditPrune(ctx context.Context, orgID string, seq int64) (*atrium.AuditCheckpoint, error) {
	c := atrium.AuditCheckpoint{OrgID: orgID, Prune: true}
	var sig string
	var created int64
	err := q.q.QueryRowContext(ctx, `SELECT seq, hash, key_id, signature, created_at FROM audit_prunes
		WHERE org_id = $1 AND seq = $2`, orgID, seq).Scan(&c.Seq, &c.Hash, &c.KeyID, &sig, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, atrium.Internal("store.AuditPrune", err)
	}
	c.Signature, _ = base64.StdEncoding.DecodeString(sig)
	c.CreatedAt = fromMS(created)
	return &c, nil
}
