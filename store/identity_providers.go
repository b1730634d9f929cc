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

// IdentityProvider is an organisation's identity provider (OpenID
// Connect or SAML 2.0), through which its users sign in.
type IdentityProvider struct {
	ID         string             `json:"id"`
	OrgID      string             `json:"org_id"`
	Protocol   string             `json:"protocol"`
	Name       string             `json:"name"`
	Provision  string             `json:"provision"`
	Settings   atrium.IdPSettings `json:"settings"`
	CreatedBy  string             `json:"created_by"`
	CreatedAt  time.Time          `json:"created_at"`
	DisabledAt *time.Time         `json:"disabled_at,omitempty"`
	// SecretWrapped is the OpenID client secret (empty for a public
	// client) or this server's SAML key (PEM), encrypted under the
	// organisation's key.
	SecretWrapped []byte `json:"-"`
}

const idpCols = `id, org_id, protocol, name, provision, settings, secret_wrapped, created_by, created_at, disabled_at`

func scanIdP(row interface{ Scan(...any) error }) (*IdentityProvider, error) {
	var p IdentityProvider
	var settings, wrapped string
	var created int64
	var disabled sql.NullInt64
	if err := row.Scan(&p.ID, &p.OrgID, &p.Protocol, &p.Name, &p.Provision, &settings, &wrapped, &p.CreatedBy, &created, &disabled); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(settings), &p.Settings); err != nil {
		return nil, err
	}
	p.SecretWrapped, _ = base64.StdEncoding.DecodeString(wrapped)
	p.CreatedAt, p.DisabledAt = fromMS(created), fromNullMS(disabled)
	return &p, nil
}

// AddIdentityProvider records a provider.
func (q Queries) AddIdentityProvider(ctx context.Context, p *IdentityProvider) error {
	settings, err := json.Marshal(p.Settings)
	if err != nil {
		return atrium.Internal("store.AddIdentityProvider", err)
	}
	_, err = q.q.ExecContext(ctx, `INSERT INTO identity_providers (`+idpCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)`,
		p.ID, p.OrgID, p.Protocol, p.Name, p.Provision, string(settings), base64.StdEncoding.EncodeToString(p.SecretWrapped),
		p.CreatedBy, ms(p.CreatedAt))
	return atrium.Internal("store.AddIdentityProvider", err)
}

// GetIdentityProvider returns a provider; ENotFound if there is none.
func (q Queries) GetIdentityProvider(ctx context.Context, id string) (*IdentityProvider, error) {
	p, err := scanIdP(q.q.QueryRowContext(ctx, `SELECT `+idpCols+` FROM identity_providers WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "identity provider", "store.GetIdentityProvider")
	}
	return p, nil
}

// ListIdentityProviders returns an organisation's providers after id after.
func (q Queries) ListIdentityProviders(ctx context.Context, orgID, after string, limit int) ([]*IdentityProvider, error) {
	return queryAll(ctx, q.q, "store.ListIdentityProviders", scanIdP, `SELECT `+idpCols+` FROM identity_providers WHERE org_id = $1 AND id > $2
		ORDER BY id LIMIT $3`, orgID, after, limit)
}

// DisableIdentityProvider turns an organisation's provider off; ENotFound
// if there is no such enabled provider.
func (q Queries) DisableIdentityProvider(ctx context.Context, orgID, id string, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE identity_providers SET disabled_at = $3 WHERE org_id = $1 AND id = $2 AND disabled_at IS NULL`,
		orgID, id, ms(now))
	return changedOne(res, err, "identity provider", "store.DisableIdentityProvider")
}

// IdPUser returns the user a provider's subject signs in ("" if none).
func (q Queries) IdPUser(ctx context.Context, providerID, subject string) (string, error) {
	var id string
	err := q.q.QueryRowContext(ctx, `SELECT user_id FROM idp_identities WHERE provider_id = $1 AND subject = $2`,
		providerID, subject).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, atrium.Internal("store.IdPUser", err)
}

// AddIdPIdentity maps a provider's subject to a user; EConflict if the
// subject is mapped already.
func (q Queries) AddIdPIdentity(ctx context.Context, providerID, subject, userID string, now time.Time) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO idp_identities (provider_id, subject, user_id, created_at)
		VALUES ($1, $2, $3, $4)`, providerID, subject, userID, ms(now))
	if q.d.isUnique(err) {
		return atrium.Errorf(atrium.EConflict, "this identity signs in another user already")
	}
	return atrium.Internal("store.AddIdPIdentity", err)
}

// LoginFlow is a sign-in sent to a provider and not back yet.
type LoginFlow struct {
	StateHash   string
	ProviderID  string
	Nonce       string
	Verifier    string
	RedirectURI string
	ReturnTo    string
	// CodeChallenge is the app's S256 challenge, or "": the login code
	// will need its verifier.
	CodeChallenge string
	ExpiresAt     time.Time
}

// AddLoginFlow records a sign-in in flight.
func (q Queries) AddLoginFlow(ctx context.Context, f *LoginFlow) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO login_flows (state_hash, provider_id, nonce, verifier, redirect_uri, return_to,
		code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		f.StateHash, f.ProviderID, f.Nonce, f.Verifier, f.RedirectURI, f.ReturnTo, f.CodeChallenge, ms(f.ExpiresAt))
	return atrium.Internal("store.AddLoginFlow", err)
}

// TakeLoginFlow removes and returns a live sign-in in flight, so that its
// state is accepted once; ENotFound if there is none (or it expired).
func (q Queries) TakeLoginFlow(ctx context.Context, stateHash string, now time.Time) (*LoginFlow, error) {
	var f LoginFlow
	var expires int64
	err := q.q.QueryRowContext(ctx, `DELETE FROM login_flows WHERE state_hash = $1
		RETURNING state_hash, provider_id, nonce, verifier, redirect_uri, return_to, code_challenge, expires_at`, stateHash).
		Scan(&f.StateHash, &f.ProviderID, &f.Nonce, &f.Verifier, &f.RedirectURI, &f.ReturnTo, &f.CodeChallenge, &expires)
	if err != nil {
		return nil, notFound(err, "sign-in", "store.TakeLoginFlow")
	}
	if f.ExpiresAt = fromMS(expires); !f.ExpiresAt.After(now) {
		return nil, atrium.NotFound("sign-in")
	}
	return &f, nil
}

// LoginCode is a finished sign-in waiting to be exchanged for a session.
type LoginCode struct {
	CodeHash      string
	UserID        string
	ProviderID    string
	Method        string
	CodeChallenge string // the app's S256 challenge, or ""
	ExpiresAt     time.Time
}

// AddLoginCode records a finished sign-in's one-time code.
func (q Queries) AddLoginCode(ctx context.Context, c *LoginCode) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO login_codes (code_hash, user_id, provider_id, method, code_challenge, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.CodeHash, c.UserID, c.ProviderID, c.Method, c.CodeChallenge, ms(c.ExpiresAt))
	return atrium.Internal("store.AddLoginCode", err)
}

// TakeLoginCode removes and returns a live login code, so that it is
// exchanged once; ENotFound if there is none (or it expired).
func (q Queries) TakeLoginCode(ctx context.Context, codeHash string, now time.Time) (*LoginCode, error) {
	var c LoginCode
	var expires int64
	err := q.q.QueryRowContext(ctx, `DELETE FROM login_codes WHERE code_hash = $1
		RETURNING code_hash, user_id, provider_id, method, code_challenge, expires_at`, codeHash).
		Scan(&c.CodeHash, &c.UserID, &c.ProviderID, &c.Method, &c.CodeChallenge, &expires)
	if err != nil {
		return nil, notFound(err, "login code", "store.TakeLoginCode")
	}
	if c.ExpiresAt = fromMS(expires); !c.ExpiresAt.After(now) {
		return nil, atrium.NotFound("login code")
	}
	return &c, nil
}

// DeleteLoginFlowsBefore forgets sign-ins in flight and login codes that
// expired before t.
func (q Queries) DeleteLoginFlowsBefore(ctx context.Context, t time.Time) error {
	for _, stmt := range []string{`DELETE FROM login_flows WHERE expires_at < $1`, `DELETE FROM login_codes WHERE expires_at < $1`} {
		if _, err := q.q.ExecContext(ctx, stmt, ms(t)); err != nil {
			return atrium.Internal("store.DeleteLoginFlowsBefore", err)
		}
	}
	return nil
}

// ExternalIdentity is one way an app or an identity provider names a
// user: Source is the API client's or the provider's id, ExternalID the
// app's unique id or the provider's subject.
type ExternalIdentity struct {
	Source     string    `json:"source"`
	Kind       string    `json:"kind"` // "api_client" or "identity_provider"
	ExternalID string    `json:"external_id"`
	UserID     string    `json:"user_id"`
	CreatedAt  time.Time `json:"created_at"`
}

// UserIdentities returns the external identities that sign a user in.
func (q Queries) UserIdentities(ctx context.Context, userID string) ([]*ExternalIdentity, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT client_id, 'api_client', unique_id, user_id, created_at FROM external_identities WHERE user_id = $1
		UNION ALL SELECT provider_id, 'identity_provider', subject, user_id, created_at FROM idp_identities WHERE user_id = $1
		ORDER BY 5, 1, 3`, userID)
	if err != nil {
		return nil, atrium.Internal("store.UserIdentities", err)
	}
	defer rows.Close()
	var out []*ExternalIdentity
	for rows.Next() {
		var e ExternalIdentity
		var created int64
		if err := rows.Scan(&e.Source, &e.Kind, &e.ExternalID, &e.UserID, &created); err != nil {
			return nil, atrium.Internal("store.UserIdentities", err)
		}
		e.CreatedAt = fromMS(created)
		out = append(out, &e)
	}
	return out, atrium.Internal("store.UserIdentities", rows.Err())
}

// UnlinkIdentities removes a user's identities from one source (an API
// client or a provider); ENotFound if there were none.
func (q Queries) UnlinkIdentities(ctx context.Context, userID, source string) error {
	var n int64
	for _, stmt := range []string{`DELETE FROM external_identities WHERE user_id = $1 AND client_id = $2`,
		`DELETE FROM idp_identities WHERE user_id = $1 AND provider_id = $2`} {
		res, err := q.q.ExecContext(ctx, stmt, userID, source)
		if err != nil {
			return atrium.Internal("store.UnlinkIdentities", err)
		}
		m, _ := res.RowsAffected()
		n += m
	}
	if n == 0 {
		return atrium.NotFound("identity")
	}
	return nil
}
