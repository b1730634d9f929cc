package store

import (
	"context"
	"sort"
	"time"

	"github.com/atrium-dev/atrium"
)

// GetPermissions returns a user's feature overrides (none: an empty map).
func (q Queries) GetPermissions(ctx context.Context, userID string) (atrium.Permissions, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT feature, allowed FROM user_permissions WHERE user_id = $1`, userID)
	if err != nil {
		return nil, atrium.Internal("store.GetPermissions", err)
	}
	defer rows.Close()
	p := atrium.Permissions{}
	for rows.Next() {
		var name string
		var on bool
		if err := rows.Scan(&name, &on); err != nil {
			return nil, atrium.Internal("store.GetPermissions", err)
		}
		p[name] = on
	}
	return p, atrium.Internal("store.GetPermissions", rows.Err())
}

// SetPermissions replaces a user's feature overrides.
func (q Queries) SetPermissions(ctx context.Context, userID string, p atrium.Permissions, now time.Time) error {
	if _, err := q.q.ExecContext(ctx, `DELETE FROM user_permissions WHERE user_id = $1`, userID); err != nil {
		return atrium.Internal("store.SetPermissions", err)
	}
	names := make([]string, 0, len(p))
	for name := range p {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := q.q.ExecContext(ctx, `INSERT INTO user_permissions (user_id, feature, allowed, updated_at)
			VALUES ($1, $2, $3, $4)`, userID, name, p[name], ms(now)); err != nil {
			return atrium.Internal("store.SetPermissions", err)
		}
	}
	return nil
}
