package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-dev/atrium"
)

const sessionCols = `id, user_id, org_id, token_hash, device_name, platform, ip, user_agent,
	created_at, last_seen_at, expires_at, revoked_at`

func scanSession(row interface{ Scan(...any) error }) (*atrium.Session, error) {
	var s atrium.Session
	var created, seen, expires int64
	var revoked sql.NullInt64
	err := row.Scan(&s.ID, &s.UserID, &s.OrgID, &s.TokenHash, &s.DeviceName, &s.Platform,
		&s.IP, &s.UserAgent, &created, &seen, &expires, &revoked)
	if err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
	s.RevokedAt = fromNullMS(revoked)
	return &s, nil
}

// CreateSession inserts a session.
func (q Queries) CreateSession(ctx context.Context, s *atrium.Session) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		s.ID, s.UserID, s.OrgID, s.TokenHash, s.DeviceName, s.Platform, s.IP, s.UserAgent,
		ms(s.CreatedAt), ms(s.LastSeenAt), ms(s.ExpiresAt), nullMS(s.RevokedAt))
	return atrium.Internal("store.CreateSession", err)
}

// GetSessionByTokenHash returns the session whose token hashes to h, live
// or not; ENotFound if there is none.
func (q Queries) GetSessionByTokenHash(ctx context.Context, h []byte) (*atrium.Session, error) {
	s, err := scanSession(q.q.QueryRowContext(ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE token_hash = $1`, h))
	if err != nil {
		return nil, notFound(err, "session", "store.GetSessionByTokenHash")
	}
	return s, nil
}

// ListLiveSessions returns a user's sessions that are neither revoked nor
// expired at now, with ids after `after`.
func (q Queries) ListLiveSessions(ctx context.Context, userID string, now time.Time, after string, limit int) ([]*atrium.Session, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND id > $3
		ORDER BY id LIMIT $4`, userID, ms(now), after, limit)
	if err != nil {
		return nil, atrium.Internal("store.ListLiveSessions", err)
	}
	defer rows.Close()
	var out []*atrium.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, atrium.Internal("store.ListLiveSessions", err)
		}
		out = append(out, s)
	}
	return out, atrium.Internal("store.ListLiveSessions", rows.Err())
}

// RevokeSessions revokes the user's live sessions: the one given by id, or
// all of them but `except` when id is empty. It returns the ids revoked.
func (q Queries) RevokeSessions(ctx context.Context, userID, id, except string, now time.Time) ([]string, error) {
	return q.queryStrings(ctx, "store.RevokeSessions", `UPDATE sessions SET revoked_at = $1
		WHERE user_id = $2 AND revoked_at IS NULL AND ($3 = '' OR id = $3) AND id <> $4
		RETURNING id`, ms(now), userID, id, except)
}

// TouchSession records that a session was used, extending its life.
func (q Queries) TouchSession(ctx context.Context, id string, seen, expires time.Time) error {
	_, err := q.q.ExecContext(ctx,
		`UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id = $1 AND revoked_at IS NULL`,
		id, ms(seen), ms(expires))
	return atrium.Internal("store.TouchSession", err)
}
