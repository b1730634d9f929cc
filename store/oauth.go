package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/atrium-dev/atrium"
)

// OAuthApp is a third-party app registered with the OAuth server.
type OAuthApp struct {
	ID           string   `json:"client_id"`
	OrgID        string   `json:"org_id"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes"`
	// ServiceGrantID is, for a server-to-server app (client credentials),
	// the grant its tokens act under.
	ServiceGrantID string     `json:"service_grant_id,omitempty"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
	SecretHash     string     `json:"-"`
}

const oauthAppCols = `id, org_id, name, public, secret_hash, redirect_uris, scopes, service_grant_id, created_by, created_at, revoked_at`

func scanOAuthApp(row interface{ Scan(...any) error }) (*OAuthApp, error) {
	var a OAuthApp
	var uris, scopes string
	var service sql.NullString
	var created int64
	var revoked sql.NullInt64
	if err := row.Scan(&a.ID, &a.OrgID, &a.Name, &a.Public, &a.SecretHash, &uris, &scopes, &service, &a.CreatedBy, &created, &revoked); err != nil {
		return nil, err
	}
	a.ServiceGrantID = service.String
	if err := json.Unmarshal([]byte(uris), &a.RedirectURIs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &a.Scopes); err != nil {
		return nil, err
	}
	a.CreatedAt, a.RevokedAt = fromMS(created), fromNullMS(revoked)
	return &a, nil
}

func jsonList(v []string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// AddOAuthApp records an app.
func (q Queries) AddOAuthApp(ctx context.Context, a *OAuthApp) error {
	var service any
	if a.ServiceGrantID != "" {
		service = a.ServiceGrantID
	}
	_, err := q.q.ExecContext(ctx, `INSERT INTO oauth_apps (`+oauthAppCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)`,
		a.ID, a.OrgID, a.Name, a.Public, a.SecretHash, jsonList(a.RedirectURIs), jsonList(a.Scopes), service, a.CreatedBy, ms(a.CreatedAt))
	return atrium.Internal("store.AddOAuthApp", err)
}

// GetOAuthApp returns an app; ENotFound if there is none.
func (q Queries) GetOAuthApp(ctx context.Context, id string) (*OAuthApp, error) {
	a, err := scanOAuthApp(q.q.QueryRowContext(ctx, `SELECT `+oauthAppCols+` FROM oauth_apps WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "app", "store.GetOAuthApp")
	}
	return a, nil
}

// ListOAuthApps returns an organisation's apps after id after.
func (q Queries) ListOAuthApps(ctx context.Context, orgID, after string, limit int) ([]*OAuthApp, error) {
	return queryAll(ctx, q.q, "store.ListOAuthApps", scanOAuthApp, `SELECT `+oauthAppCols+` FROM oauth_apps WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		orgID, after, limit)
}

// RevokeOAuthApp revokes an organisation's app and every grant to it;
// ENotFound if there is no such live app.
func (q Queries) RevokeOAuthApp(ctx context.Context, orgID, id string, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE oauth_apps SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL`,
		orgID, id, ms(now))
	if err := changedOne(res, err, "app", "store.RevokeOAuthApp"); err != nil {
		return err
	}
	_, err = q.q.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = $2 WHERE app_id = $1 AND revoked_at IS NULL`, id, ms(now))
	return atrium.Internal("store.RevokeOAuthApp", err)
}

// OAuthRequest is an authorization request: the parameters the app sent
// (Request, JSON), and once the user approved, the grant and the hash of
// its code.
type OAuthRequest struct {
	ID          string
	AppID       string
	Request     []byte
	UserID      string
	GrantID     string
	Scopes      []string // granted
	CodeHash    string
	CodeUsedAt  *time.Time
	BrowserHash string
	AuthTime    *time.Time
	ExpiresAt   time.Time
}

const oauthRequestCols = `id, app_id, request, user_id, grant_id, scopes, code_hash, code_used_at, browser_hash, auth_time, expires_at`

func scanOAuthRequest(row interface{ Scan(...any) error }) (*OAuthRequest, error) {
	var r OAuthRequest
	var req, scopes string
	var user, grant, code, browser sql.NullString
	var authTime, used sql.NullInt64
	var expires int64
	if err := row.Scan(&r.ID, &r.AppID, &req, &user, &grant, &scopes, &code, &used, &browser, &authTime, &expires); err != nil {
		return nil, err
	}
	r.Request, r.UserID, r.GrantID, r.CodeHash, r.BrowserHash = []byte(req), user.String, grant.String, code.String, browser.String
	r.CodeUsedAt = fromNullMS(used)
	r.AuthTime, r.ExpiresAt = fromNullMS(authTime), fromMS(expires)
	return &r, json.Unmarshal([]byte(scopes), &r.Scopes)
}

// AddOAuthRequest records an authorization request.
func (q Queries) AddOAuthRequest(ctx context.Context, r *OAuthRequest) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO oauth_requests (`+oauthRequestCols+`) VALUES ($1, $2, $3, NULL, NULL, '[]', NULL, NULL, NULL, NULL, $4)`,
		r.ID, r.AppID, string(r.Request), ms(r.ExpiresAt))
	return atrium.Internal("store.AddOAuthRequest", err)
}

// GetOAuthRequest returns a live authorization request; ENotFound if
// there is none (or it expired).
func (q Queries) GetOAuthRequest(ctx context.Context, id string, now time.Time) (*OAuthRequest, error) {
	r, err := scanOAuthRequest(q.q.QueryRowContext(ctx, `SELECT `+oauthRequestCols+` FROM oauth_requests WHERE id = $1 AND expires_at > $2`,
		id, ms(now)))
	if err != nil {
		return nil, notFound(err, "authorization request", "store.GetOAuthRequest")
	}
	return r, nil
}

// OAuthRequestByCode returns the approved request a code was issued for.
func (q Queries) OAuthRequestByCode(ctx context.Context, codeHash string, now time.Time) (*OAuthRequest, error) {
	r, err := scanOAuthRequest(q.q.QueryRowContext(ctx, `SELECT `+oauthRequestCols+` FROM oauth_requests
		WHERE code_hash = $1 AND expires_at > $2`, codeHash, ms(now)))
	if err != nil {
		return nil, notFound(err, "authorization code", "store.OAuthRequestByCode")
	}
	return r, nil
}

// ApproveOAuthRequest records the user's consent: the grant and the
// scopes given. ENotFound if the request is gone or was decided already.
func (q Queries) ApproveOAuthRequest(ctx context.Context, id, userID, grantID string, scopes []string, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE oauth_requests SET user_id = $2, grant_id = $3, scopes = $4, auth_time = $5
		WHERE id = $1 AND user_id IS NULL AND expires_at > $5`, id, userID, grantID, jsonList(scopes), ms(now))
	return changedOne(res, err, "authorization request", "store.ApproveOAuthRequest")
}

// SetOAuthCode records the hash of the code issued for an approved
// request.
func (q Queries) SetOAuthCode(ctx context.Context, id, codeHash string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE oauth_requests SET code_hash = $2 WHERE id = $1 AND grant_id IS NOT NULL AND code_hash IS NULL`,
		id, codeHash)
	return changedOne(res, err, "authorization request", "store.SetOAuthCode")
}

// UseOAuthCode spends a request's code; false if it was spent before.
func (q Queries) UseOAuthCode(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE oauth_requests SET code_used_at = $2 WHERE id = $1 AND code_used_at IS NULL`, id, ms(now))
	if err != nil {
		return false, atrium.Internal("store.UseOAuthCode", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// BindOAuthRequest records the hash of the cookie of the browser that
// started a request, once.
func (q Queries) BindOAuthRequest(ctx context.Context, id, browserHash string) error {
	res, err := q.q.ExecContext(ctx, `UPDATE oauth_requests SET browser_hash = $2 WHERE id = $1 AND browser_hash IS NULL`, id, browserHash)
	return changedOne(res, err, "authorization request", "store.BindOAuthRequest")
}

// DeleteOAuthRequest removes a request (a denied one).
func (q Queries) DeleteOAuthRequest(ctx context.Context, id string) error {
	_, err := q.q.ExecContext(ctx, `DELETE FROM oauth_requests WHERE id = $1`, id)
	return atrium.Internal("store.DeleteOAuthRequest", err)
}

// DeleteExpiredOAuth forgets requests that expired, and tokens that
// expired before t (revoked or used ones too, once expired: until then
// a used refresh token must still be recognised).
func (q Queries) DeleteExpiredOAuth(ctx context.Context, t time.Time) error {
	for _, stmt := range []string{`DELETE FROM oauth_requests WHERE expires_at < $1`, `DELETE FROM oauth_tokens WHERE expires_at < $1`} {
		if _, err := q.q.ExecContext(ctx, stmt, ms(t)); err != nil {
			return atrium.Internal("store.DeleteExpiredOAuth", err)
		}
	}
	return nil
}

// RevokeUserGrants revokes every live grant a user gave an app through a
// consent (not the grants server-to-server apps act under, which go with
// their app).
func (q Queries) RevokeUserGrants(ctx context.Context, userID string, now time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL
		AND id NOT IN (SELECT service_grant_id FROM oauth_apps WHERE service_grant_id IS NOT NULL)`, userID, ms(now))
	return atrium.Internal("store.RevokeUserGrants", err)
}

// OAuthGrant is a user's authorisation of an app.
type OAuthGrant struct {
	ID        string     `json:"id"`
	AppID     string     `json:"client_id"`
	AppName   string     `json:"app_name"`
	UserID    string     `json:"user_id"`
	OrgID     string     `json:"org_id"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// AddOAuthGrant records a grant.
func (q Queries) AddOAuthGrant(ctx context.Context, g *OAuthGrant) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO oauth_grants (id, app_id, user_id, org_id, scopes, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, NULL)`, g.ID, g.AppID, g.UserID, g.OrgID, jsonList(g.Scopes), ms(g.CreatedAt))
	return atrium.Internal("store.AddOAuthGrant", err)
}

const grantSelect = `SELECT g.id, g.app_id, a.name, g.user_id, g.org_id, g.scopes, g.created_at, g.revoked_at
	FROM oauth_grants g JOIN oauth_apps a ON a.id = g.app_id`

func scanGrant(row interface{ Scan(...any) error }) (*OAuthGrant, error) {
	var g OAuthGrant
	var scopes string
	var created int64
	var revoked sql.NullInt64
	if err := row.Scan(&g.ID, &g.AppID, &g.AppName, &g.UserID, &g.OrgID, &scopes, &created, &revoked); err != nil {
		return nil, err
	}
	g.CreatedAt, g.RevokedAt = fromMS(created), fromNullMS(revoked)
	return &g, json.Unmarshal([]byte(scopes), &g.Scopes)
}

// GetOAuthGrant returns a grant; ENotFound if there is none.
func (q Queries) GetOAuthGrant(ctx context.Context, id string) (*OAuthGrant, error) {
	g, err := scanGrant(q.q.QueryRowContext(ctx, grantSelect+` WHERE g.id = $1`, id))
	if err != nil {
		return nil, notFound(err, "grant", "store.GetOAuthGrant")
	}
	return g, nil
}

// ListOAuthGrants returns live grants, of a user (userID set) or of an
// organisation, after id after.
func (q Queries) ListOAuthGrants(ctx context.Context, orgID, userID, after string, limit int) ([]*OAuthGrant, error) {
	return queryAll(ctx, q.q, "store.ListOAuthGrants", scanGrant, grantSelect+` WHERE g.org_id = $1 AND ($2 = '' OR g.user_id = $2) AND g.id > $3
		AND g.revoked_at IS NULL ORDER BY g.id LIMIT $4`, orgID, userID, after, limit)
}

// RevokeOAuthGrant revokes a live grant (with every token it issued);
// ENotFound if there is no such live grant.
func (q Queries) RevokeOAuthGrant(ctx context.Context, id string, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE oauth_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, ms(now))
	return changedOne(res, err, "grant", "store.RevokeOAuthGrant")
}

// OAuthToken is an access or refresh token.
type OAuthToken struct {
	ID        string
	GrantID   string
	Kind      string // "access" or "refresh"
	TokenHash string // refresh tokens
	Scopes    []string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
}

const oauthTokenCols = `id, grant_id, kind, token_hash, scopes, created_at, expires_at, used_at, revoked_at`

func scanOAuthToken(row interface{ Scan(...any) error }) (*OAuthToken, error) {
	var t OAuthToken
	var hash sql.NullString
	var scopes string
	var created, expires int64
	var used, revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.GrantID, &t.Kind, &hash, &scopes, &created, &expires, &used, &revoked); err != nil {
		return nil, err
	}
	t.TokenHash, t.CreatedAt, t.ExpiresAt, t.UsedAt, t.RevokedAt = hash.String, fromMS(created), fromMS(expires), fromNullMS(used), fromNullMS(revoked)
	return &t, json.Unmarshal([]byte(scopes), &t.Scopes)
}

// AddOAuthToken records a token.
func (q Queries) AddOAuthToken(ctx context.Context, t *OAuthToken) error {
	var hash any
	if t.TokenHash != "" {
		hash = t.TokenHash
	}
	_, err := q.q.ExecContext(ctx, `INSERT INTO oauth_tokens (`+oauthTokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)`,
		t.ID, t.GrantID, t.Kind, hash, jsonList(t.Scopes), ms(t.CreatedAt), ms(t.ExpiresAt))
	return atrium.Internal("store.AddOAuthToken", err)
}

// GetOAuthToken returns a token by id; ENotFound if there is none.
func (q Queries) GetOAuthToken(ctx context.Context, id string) (*OAuthToken, error) {
	t, err := scanOAuthToken(q.q.QueryRowContext(ctx, `SELECT `+oauthTokenCols+` FROM oauth_tokens WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "token", "store.GetOAuthToken")
	}
	return t, nil
}

// OAuthTokenByHash returns a refresh token by its hash; ENotFound if
// there is none.
func (q Queries) OAuthTokenByHash(ctx context.Context, hash string) (*OAuthToken, error) {
	t, err := scanOAuthToken(q.q.QueryRowContext(ctx, `SELECT `+oauthTokenCols+` FROM oauth_tokens WHERE token_hash = $1`, hash))
	if err != nil {
		return nil, notFound(err, "token", "store.OAuthTokenByHash")
	}
	return t, nil
}

// UseRefreshToken marks a refresh token used; false if it was used (or
// revoked) already.
func (q Queries) UseRefreshToken(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE oauth_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL`,
		id, ms(now))
	if err != nil {
		return false, atrium.Internal("store.UseRefreshToken", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RevokeOAuthToken revokes one token.
func (q Queries) RevokeOAuthToken(ctx context.Context, id string, now time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE oauth_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, ms(now))
	return atrium.Internal("store.RevokeOAuthToken", err)
}

// ServerSecret is one of the server's own keys, wrapped under a master key.
type ServerSecret struct {
	Name    string
	KEKID   string
	Wrapped []byte
}

// GetServerSecret returns a server key; ENotFound if there is none.
func (q Queries) GetServerSecret(ctx context.Context, name string) (*ServerSecret, error) {
	var s ServerSecret
	var wrapped string
	err := q.q.QueryRowContext(ctx, `SELECT name, kek_id, wrapped FROM server_secrets WHERE name = $1`, name).Scan(&s.Name, &s.KEKID, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, atrium.NotFound("server secret")
	}
	if err != nil {
		return nil, atrium.Internal("store.GetServerSecret", err)
	}
	s.Wrapped, err = base64.StdEncoding.DecodeString(wrapped)
	return &s, atrium.Internal("store.GetServerSecret", err)
}

// AddServerSecret records a server key unless one of that name exists.
func (q Queries) AddServerSecret(ctx context.Context, s *ServerSecret, now time.Time) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO server_secrets (name, kek_id, wrapped, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO NOTHING`, s.Name, s.KEKID, base64.StdEncoding.EncodeToString(s.Wrapped), ms(now))
	return atrium.Internal("store.AddServerSecret", err)
}

// ServerSecretsNotUnder returns the server keys not wrapped under kekID.
func (q Queries) ServerSecretsNotUnder(ctx context.Context, kekID string) ([]*ServerSecret, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT name, kek_id, wrapped FROM server_secrets WHERE kek_id <> $1 ORDER BY name`, kekID)
	if err != nil {
		return nil, atrium.Internal("store.ServerSecretsNotUnder", err)
	}
	defer rows.Close()
	var out []*ServerSecret
	for rows.Next() {
		var s ServerSecret
		var wrapped string
		if err := rows.Scan(&s.Name, &s.KEKID, &wrapped); err != nil {
			return nil, atrium.Internal("store.ServerSecretsNotUnder", err)
		}
		if s.Wrapped, err = base64.StdEncoding.DecodeString(wrapped); err != nil {
			return nil, atrium.Internal("store.ServerSecretsNotUnder", err)
		}
		out = append(out, &s)
	}
	return out, atrium.Internal("store.ServerSecretsNotUnder", rows.Err())
}

// RewrapServerSecret replaces a server key's wrapping if it is still
// under oldKEK.
func (q Queries) RewrapServerSecret(ctx context.Context, name, oldKEK, newKEK string, wrapped []byte) error {
	_, err := q.q.ExecContext(ctx, `UPDATE server_secrets SET kek_id = $3, wrapped = $4 WHERE name = $1 AND kek_id = $2`,
		name, oldKEK, newKEK, base64.StdEncoding.EncodeToString(wrapped))
	return atrium.Internal("store.RewrapServerSecret", err)
}
