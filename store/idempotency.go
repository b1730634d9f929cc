package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/atrium-dev/atrium"
)

// IdempotentResult is the stored outcome of a write made under a client's
// idempotency key.
type IdempotentResult struct {
	Op          string
	RequestHash []byte
	Response    string
}

// GetIdempotent returns the stored result for a user's key, or nil.
func (q Queries) GetIdempotent(ctx context.Context, userID, key string) (*IdempotentResult, error) {
	var r IdempotentResult
	err := q.q.QueryRowContext(ctx, `SELECT op, request_hash, response FROM idempotency_keys
		WHERE user_id = $1 AND key = $2`, userID, key).Scan(&r.Op, &r.RequestHash, &r.Response)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, atrium.Internal("store.GetIdempotent", err)
	}
	return &r, nil
}

// PutIdempotent stores the result of a write under a user's key; EConflict
// if the key was stored meanwhile.
func (q Queries) PutIdempotent(ctx context.Context, userID, key string, r *IdempotentResult, now time.Time) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO idempotency_keys
		(user_id, key, op, request_hash, response, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		userID, key, r.Op, r.RequestHash, r.Response, ms(now))
	if q.d.isUnique(err) {
		return atrium.Errorf(atrium.EConflict, "idempotency key in use")
	}
	return atrium.Internal("store.PutIdempotent", err)
}

// DeleteIdempotentBefore removes stored results older than t.
func (q Queries) DeleteIdempotentBefore(ctx context.Context, t time.Time) error {
	_, err := q.q.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, ms(t))
	return atrium.Internal("store.DeleteIdempotentBefore", err)
}
