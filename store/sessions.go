package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-dev/atrium"
)

const sessionCols = `id, user_id, org_id, token_hash, device_name, platform, ip, user_agent,
	created_at, last_seen_at, expires_at, revoked_at, device_key, wipe_requested_at, wipe_requested_by, wipe_confirmed_at`

func scanSession(row interface{ Scan(...any) error }) (*atrium.Session, error) {
	var s atrium.Session
	var created, seen, expires int64
	var revoked, wipeAsked, wipeDone sql.NullInt64
	var wipeBy string
	err := row.Scan(&s.ID, &s.UserID, &s.OrgID, &s.TokenHash, &s.DeviceName, &s.Platform,
		&s.IP, &s.UserAgent, &created, &seen, &expires, &revoked, &s.DeviceKey, &wipeAsked, &wipeBy, &wipeDone)
	if err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
	s.RevokedAt = fromNullMS(revoked)
	if wipeAsked.Valid {
		s.Wipe = &atrium.DeviceWipe{Status: atrium.WipePending, RequestedAt: fromMS(wipeAsked.Int64), RequestedBy: wipeBy,
			ConfirmedAt: fromNullMS(wipeDone)}
		switch {
		case s.Wipe.ConfirmedAt != nil:
			s.Wipe.Status = atrium.WipeConfirmed
		case s.RevokedAt != nil:
			s.Wipe.Status = atrium.WipeEnded
		}
	}
	return &s, nil
}

// CreateSession inserts a session.
func (q Queries) CreateSession(ctx context.Context, s *atrium.Session) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, '', NULL)`,
		s.ID, s.UserID, s.OrgID, s.TokenHash, s.DeviceName, s.Platform, s.IP, s.UserAgent,
		ms(s.CreatedAt), ms(s.LastSeenAt), ms(s.ExpiresAt), nullMS(s.RevokedAt), s.DeviceKey)
	return atrium.Internal("store.CreateSession", err)
}

// GetSession returns a session by id; ENotFound if there is none.
func (q Queries) GetSession(ctx context.Context, id string) (*atrium.Session, error) {
	s, err := scanSession(q.q.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "session", "store.GetSession")
	}
	return s, nil
}

// ListDevices returns a user's devices: the sessions live at now and
// those asked to wipe (whose state an administrator follows), with ids
// after `after`.
func (q Queries) ListDevices(ctx context.Context, userID string, now time.Time, after string, limit int) ([]*atrium.Session, error) {
	return q.querySessions(ctx, "store.ListDevices", `SELECT `+sessionCols+` FROM sessions
		WHERE user_id = $1 AND ((revoked_at IS NULL AND expires_at > $2) OR wipe_requested_at IS NOT NULL) AND id > $3
		ORDER BY id LIMIT $4`, userID, ms(now), after, limit)
}

// RequestWipe asks a live session's device to wipe itself and destroys
// its device key; it returns the ids of the sessions asked (id, or every
// live session of the user when id is empty).
func (q Queries) RequestWipe(ctx context.Context, userID, id, by string, now time.Time) ([]string, error) {
	return q.queryStrings(ctx, "store.RequestWipe", `UPDATE sessions
		SET wipe_requested_at = $1, wipe_requested_by = $2, device_key = NULL
		WHERE user_id = $3 AND ($4 = '' OR id = $4) AND revoked_at IS NULL AND wipe_requested_at IS NULL
		RETURNING id`, ms(now), by, userID, id)
}

// ConfirmWipe records that a session's device wiped itself, and ends the
// session; false if no wipe was pending for it.
func (q Queries) ConfirmWipe(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := q.q.ExecContext(ctx, `UPDATE sessions SET wipe_confirmed_at = $2, revoked_at = $2, device_key = NULL
		WHERE id = $1 AND wipe_requested_at IS NOT NULL AND wipe_confirmed_at IS NULL AND revoked_at IS NULL`, id, ms(now))
	if err != nil {
		return false, atrium.Internal("store.ConfirmWipe", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (q Queries) querySessions(ctx context.Context, op, query string, args ...any) ([]*atrium.Session, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, atrium.Internal(op, err)
	}
	defer rows.Close()
	var out []*atrium.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, atrium.Internal(op, err)
		}
		out = append(out, s)
	}
	return out, atrium.Internal(op, rows.Err())
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
	return q.querySessions(ctx, "store.ListLiveSessions", `SELECT `+sessionCols+` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND id > $3
		ORDER BY id LIMIT $4`, userID, ms(now), after, limit)
}

// RevokeSessions revokes the user's live sessions: the one given by id, or
// all of them but `except` when id is empty. It returns the ids revoked.
func (q Queries) RevokeSessions(ctx context.Context, userID, id, except string, now time.Time) ([]string, error) {
	return q.queryStrings(ctx, "store.RevokeSessions", `UPDATE sessions SET revoked_at = $1, device_key = NULL
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
