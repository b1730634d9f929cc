package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/atrium-dev/atrium"
)

// UsageCursor returns how far the usage aggregates have read the outbox,
// locking the cursor on PostgreSQL so that one node at a time advances it;
// ok is false when another node holds it (this one then leaves the work
// to it rather than wait, which would hold up its other writes).
func (q Queries) UsageCursor(ctx context.Context) (p atrium.Pos, ok bool, err error) {
	lock := ""
	if q.d.name() == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	err = q.q.QueryRowContext(ctx, `SELECT tx, eid FROM usage_cursor WHERE id = 1`+lock).Scan(&p.Tx, &p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	return p, err == nil, atrium.Internal("store.UsageCursor", err)
}

// SetUsageCursor records how far the aggregates have read.
func (q Queries) SetUsageCursor(ctx context.Context, p atrium.Pos) error {
	_, err := q.q.ExecContext(ctx, `UPDATE usage_cursor SET tx = $1, eid = $2 WHERE id = 1`, p.Tx, p.ID)
	return atrium.Internal("store.SetUsageCursor", err)
}

// PendingSince returns when the binder's earliest unanswered client
// message was posted, if any.
func (q Queries) PendingSince(ctx context.Context, binderID string) (time.Time, bool, error) {
	var since int64
	err := q.q.QueryRowContext(ctx, `SELECT since FROM usage_pending WHERE binder_id = $1`, binderID).Scan(&since)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, atrium.Internal("store.PendingSince", err)
	}
	return fromMS(since), true, nil
}

// SetPending records (or, with a zero time, clears) a binder's earliest
// unanswered client message.
func (q Queries) SetPending(ctx context.Context, binderID string, since time.Time) error {
	var err error
	if since.IsZero() {
		_, err = q.q.ExecContext(ctx, `DELETE FROM usage_pending WHERE binder_id = $1`, binderID)
	} else {
		_, err = q.q.ExecContext(ctx, `INSERT INTO usage_pending (binder_id, since) VALUES ($1, $2)
			ON CONFLICT (binder_id) DO UPDATE SET since = excluded.since`, binderID, ms(since))
	}
	return atrium.Internal("store.SetPending", err)
}
