package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"time"

	"github.com/atrium-dev/atrium"
)

// APIClient is an app registered for signature single sign-on.
type APIClient struct {
	ID        string     `json:"client_id"`
	OrgID     string     `json:"org_id"`
	Name      string     `json:"name"`
	Provision string     `json:"provision"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// SecretWrapped is the secret, encrypted under the organisation's key.
	SecretWrapped []byte `json:"-"`
}

const apiClientCols = `id, org_id, name, provision, secret_wrapped, created_by, created_at, revoked_at`

func scanAPIClient(row interface{ Scan(...any) error }) (*APIClient, error) {
	var c APIClient
	var wrapped string
	var created int64
	var revoked sql.NullInt64
	if err := row.Scan(&c.ID, &c.OrgID, &c.Name, &c.Provision, &wrapped, &c.CreatedBy, &created, &revoked); err != nil {
		return nil, err
	}
	c.SecretWrapped, _ = base64.StdEncoding.DecodeString(wrapped)
	c.CreatedAt, c.RevokedAt = fromMS(created), fromNullMS(revoked)
	return &c, nil
}

// AddAPIClient records an app.
func (q Queries) AddAPIClient(ctx context.Context, c *APIClient) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO api_clients (`+apiClientCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)`,
		c.ID, c.OrgID, c.Name, c.Provision, base64.StdEncoding.EncodeToString(c.SecretWrapped), c.CreatedBy, ms(c.CreatedAt))
	return atrium.Internal("store.AddAPIClient", err)
}

// GetAPIClient returns an app; ENotFound if there is none.
func (q Queries) GetAPIClient(ctx context.Context, id string) (*APIClient, error) {
	c, err := scanAPIClient(q.q.QueryRowContext(ctx, `SELECT `+apiClientCols+` FROM api_clients WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "API client", "store.GetAPIClient")
	}
	return c, nil
}

// ListAPIClients returns an organisation's apps after id after.
func (q Queries) ListAPIClients(ctx context.Context, orgID, after string, limit int) ([]*APIClient, error) {
	return queryAll(ctx, q.q, "store.ListAPIClients", scanAPIClient, `SELECT `+apiClientCols+` FROM api_clients WHERE org_id = $1 AND id > $2
		ORDER BY id LIMIT $3`, orgID, after, limit)
}

// RevokeAPIClient revokes an organisation's app; ENotFound if there is no
// such live app.
func (q Queries) RevokeAPIClient(ctx context.Context, orgID, id string, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE api_clients SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL`,
		orgID, id, ms(now))
	return changedOne(res, err, "API client", "store.RevokeAPIClient")
}

// UseNonce records a nonce of a client until expires; false if it was
// used already.
func (q Queries) UseNonce(ctx context.Context, clientID, nonce string, expires time.Time) (bool, error) {
	res, err := q.q.ExecContext(ctx, `INSERT INTO sso_nonces (client_id, nonce, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (client_id, nonce) DO NOTHING`, clientID, nonce, ms(expires))
	if err != nil {
		return false, atrium.Internal("store.UseNonce", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteNoncesBefore forgets nonces that can no longer be accepted.
func (q Queries) DeleteNoncesBefore(ctx context.Context, t time.Time) error {
	_, err := q.q.ExecContext(ctx, `DELETE FROM sso_nonces WHERE expires_at < $1`, ms(t))
	return atrium.Internal("store.DeleteNoncesBefore", err)
}

// ExternalUser returns the user an app's unique id signs in ("" if none).
func (q Queries) ExternalUser(ctx context.Context, clientID, uniqueID string) (string, error) {
	var id string
	err := q.q.QueryRowContext(ctx, `SELECT user_id FROM external_identities WHERE client_id = $1 AND unique_id = $2`,
		clientID, uniqueID).Scan(&id)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return id, atrium.Internal("store.ExternalUser", err)
}

// AddExternalIdentity maps an app's unique id to a user; EConflict if
// the id is mapped already.
func (q Queries) AddExternalIdentity(ctx context.Context, clientID, uniqueID, userID string, now time.Time) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO external_identities (client_id, unique_id, user_id, created_at)
		VALUES ($1, $2, $3, $4)`, clientID, uniqueID, userID, ms(now))
	if q.d.isUnique(err) {
		return atrium.Errorf(atrium.EConflict, "this unique_id signs in another user already")
	}
	return atrium.Internal("store.AddExternalIdentity", err)
}
