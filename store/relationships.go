package store

import (
	"context"
	"strings"

	"github.com/atrium-dev/atrium"
)

const relationshipCols = `id, org_id, client_id, internal_id, created_by, created_at`

// AddRelationship records a relationship; EConflict if the two are
// related already.
func (q Queries) AddRelationship(ctx context.Context, r *atrium.Relationship) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO relationships (`+relationshipCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.ID, r.OrgID, r.ClientID, r.InternalID, r.CreatedBy, ms(r.CreatedAt))
	if q.d.isUnique(err) {
		return atrium.Errorf(atrium.EConflict, "the internal user is already one of the client's relationship managers")
	}
	return atrium.Internal("store.AddRelationship", err)
}

// DeleteRelationship removes a relationship of an organisation and returns
// it; ENotFound if there is none.
func (q Queries) DeleteRelationship(ctx context.Context, orgID, id string) (*atrium.Relationship, error) {
	list, err := q.queryRelationships(ctx, "store.DeleteRelationship", `DELETE FROM relationships
		WHERE org_id = $1 AND id = $2 RETURNING `+relationshipCols, orgID, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, atrium.NotFound("relationship")
	}
	return list[0], nil
}

// ListRelationships returns an organisation's relationships after id
// after, in id order, optionally those of one client or one internal
// user.
func (q Queries) ListRelationships(ctx context.Context, orgID, clientID, internalID, after string, limit int) ([]*atrium.Relationship, error) {
	return q.queryRelationships(ctx, "store.ListRelationships", `SELECT `+relationshipCols+` FROM relationships
		WHERE org_id = $1 AND ($2 = '' OR client_id = $2) AND ($3 = '' OR internal_id = $3) AND id > $4
		ORDER BY id LIMIT $5`, orgID, clientID, internalID, after, limit)
}

// Related reports whether internalID is one of clientID's relationship
// managers.
func (q Queries) Related(ctx context.Context, clientID, internalID string) (bool, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM relationships WHERE client_id = $1 AND internal_id = $2`,
		clientID, internalID).Scan(&n)
	return n > 0, atrium.Internal("store.Related", err)
}

// ManagersOf returns the ids of a client's relationship managers.
func (q Queries) ManagersOf(ctx context.Context, clientID string) ([]string, error) {
	return q.queryStrings(ctx, "store.ManagersOf", `SELECT internal_id FROM relationships WHERE client_id = $1 ORDER BY internal_id`, clientID)
}

func (q Queries) queryRelationships(ctx context.Context, op, query string, args ...any) ([]*atrium.Relationship, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, atrium.Internal(op, err)
	}
	defer rows.Close()
	var out []*atrium.Relationship
	for rows.Next() {
		var r atrium.Relationship
		var created int64
		if err := rows.Scan(&r.ID, &r.OrgID, &r.ClientID, &r.InternalID, &r.CreatedBy, &created); err != nil {
			return nil, atrium.Internal(op, err)
		}
		r.CreatedAt = fromMS(created)
		out = append(out, &r)
	}
	return out, atrium.Internal(op, rows.Err())
}

// DirectoryFilter is what a user may see of their organisation's people
// (see atrium.DecideContact with ContactSee).
type DirectoryFilter struct {
	OrgID string
	// ViewerID is the user looking; they always see themselves.
	ViewerID string
	// AllInternal shows every internal user; otherwise only the viewer's
	// relationship managers.
	AllInternal bool
	// Clients shows client users other than the viewer.
	Clients bool
	// Text, if set, matches a part of the name or e-mail address.
	Text string
}

// Directory returns the active users f lets the viewer see, after id
// after, in id order.
func (q Queries) Directory(ctx context.Context, f DirectoryFilter, after string, limit int) ([]*atrium.User, error) {
	pat := ""
	if f.Text != "" {
		pat = "%" + likeEscape(strings.ToLower(f.Text)) + "%"
	}
	return queryAll(ctx, q.q, "store.Directory", scanUser, `SELECT `+userCols+` FROM users u
		WHERE org_id = $1 AND status = 'active' AND id > $2
		AND ($3 = '' OR LOWER(name) LIKE $3 ESCAPE '\' OR LOWER(email) LIKE $3 ESCAPE '\')
		AND (id = $4
			OR (kind = 'internal' AND ($5 OR id IN (SELECT internal_id FROM relationships WHERE client_id = $4)))
			OR (kind = 'client' AND $6))
		ORDER BY id LIMIT $7`, f.OrgID, after, pat, f.ViewerID, f.AllInternal, f.Clients, limit)
}
