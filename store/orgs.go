package store

import (
	"context"
	"encoding/json"

	"github.com/atrium-dev/atrium"
)

// CreateOrg inserts an organisation.
func (q Queries) CreateOrg(ctx context.Context, o *atrium.Org) error {
	_, err := q.q.ExecContext(ctx,
		`INSERT INTO orgs (id, name, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)`,
		o.ID, o.Name, o.Settings.Marshal(), ms(o.CreatedAt), ms(o.UpdatedAt))
	return atrium.Internal("store.CreateOrg", err)
}

// GetOrg returns an organisation; ENotFound if there is none.
func (q Queries) GetOrg(ctx context.Context, id string) (*atrium.Org, error) {
	var o atrium.Org
	var settings string
	var created, updated int64
	err := q.q.QueryRowContext(ctx,
		`SELECT id, name, settings, created_at, updated_at FROM orgs WHERE id = $1`, id).
		Scan(&o.ID, &o.Name, &settings, &created, &updated)
	if err != nil {
		return nil, notFound(err, "organisation", "store.GetOrg")
	}
	o.Settings = atrium.DefaultOrgSettings()
	if err := json.Unmarshal([]byte(settings), &o.Settings); err != nil {
		return nil, atrium.Internal("store.GetOrg", err)
	}
	o.CreatedAt, o.UpdatedAt = fromMS(created), fromMS(updated)
	return &o, nil
}

// UpdateOrg writes an organisation's name and settings.
func (q Queries) UpdateOrg(ctx context.Context, o *atrium.Org) error {
	_, err := q.q.ExecContext(ctx,
		`UPDATE orgs SET name = $2, settings = $3, updated_at = $4 WHERE id = $1`,
		o.ID, o.Name, o.Settings.Marshal(), ms(o.UpdatedAt))
	return atrium.Internal("store.UpdateOrg", err)
}

// CountOrgs returns how many organisations exist (zero on a new server).
func (q Queries) CountOrgs(ctx context.Context) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n)
	return n, atrium.Internal("store.CountOrgs", err)
}
