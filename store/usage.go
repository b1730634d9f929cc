package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/atrium-dev/atrium"
)

// UsageCursor returns how far the usage aggregates have read the outbox,
// locking the cursor on PostgreSQL so that one node at a time advances it.
func (q Queries) UsageCursor(ctx context.Context) (atrium.Pos, error) {
	lock := ""
	if q.d.name() == "postgres" {
		lock = " FOR UPDATE"
	}
	var p atrium.Pos
	err := q.q.QueryRowContext(ctx, `SELECT tx, eid FROM usage_cursor WHERE id = 1`+lock).Scan(&p.Tx, &p.ID)
	return p, atrium.Internal("store.UsageCursor", err)
}

// SetUsageCursor records how far the aggregates have read.
func (q Queries) SetUsageCursor(ctx context.Context, p atrium.Pos) error {
	_, err := q.q.ExecContext(ctx, `UPDATE usage_cursor SET tx = $1, eid = $2 WHERE id = 1`, p.Tx, p.ID)
	return atrium.Internal("store.SetUsageCursor", err)
}

// UsageKey names one aggregate row.
type UsageKey struct {
	OrgID, BinderID, UserID string
	Day                     int64 // days since 1970-01-01, UTC
}

// UsageDelta is what to add to one aggregate row.
type UsageDelta struct {
	Client          bool
	Messages, Files int64
	Responses       map[int]int64 // response-time bucket → count
}

// AddUsage adds deltas to the aggregates.
func (q Queries) AddUsage(ctx context.Context, deltas map[UsageKey]*UsageDelta) error {
	for k, d := range deltas {
		if d.Messages > 0 || d.Files > 0 {
			if _, err := q.q.ExecContext(ctx, `INSERT INTO usage_daily (org_id, day, binder_id, user_id, client, messages, files)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (org_id, day, binder_id, user_id)
				DO UPDATE SET messages = usage_daily.messages + excluded.messages, files = usage_daily.files + excluded.files`,
				k.OrgID, k.Day, k.BinderID, k.UserID, d.Client, d.Messages, d.Files); err != nil {
				return atrium.Internal("store.AddUsage", err)
			}
		}
		for b, n := range d.Responses {
			if _, err := q.q.ExecContext(ctx, `INSERT INTO usage_responses (org_id, day, binder_id, user_id, bucket, n)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, day, binder_id, user_id, bucket)
				DO UPDATE SET n = usage_responses.n + excluded.n`, k.OrgID, k.Day, k.BinderID, k.UserID, b, n); err != nil {
				return atrium.Internal("store.AddUsage", err)
			}
		}
	}
	return nil
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

// UsageRow is one aggregate row read for a report.
type UsageRow struct {
	UsageKey
	Client          bool
	Messages, Files int64
}

// UsageResponse is one histogram cell read for a report.
type UsageResponse struct {
	UsageKey
	Bucket int
	N      int64
}

// UsageBetween returns an organisation's aggregate rows and response
// histograms for days from to to, inclusive.
func (q Queries) UsageBetween(ctx context.Context, orgID string, from, to int64) ([]UsageRow, []UsageResponse, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT day, binder_id, user_id, client, messages, files FROM usage_daily
		WHERE org_id = $1 AND day >= $2 AND day <= $3`, orgID, from, to)
	if err != nil {
		return nil, nil, atrium.Internal("store.UsageBetween", err)
	}
	var out []UsageRow
	for rows.Next() {
		r := UsageRow{UsageKey: UsageKey{OrgID: orgID}}
		if err := rows.Scan(&r.Day, &r.BinderID, &r.UserID, &r.Client, &r.Messages, &r.Files); err != nil {
			rows.Close()
			return nil, nil, atrium.Internal("store.UsageBetween", err)
		}
		out = append(out, r)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, atrium.Internal("store.UsageBetween", err)
	}
	rows, err = q.q.QueryContext(ctx, `SELECT day, binder_id, user_id, bucket, n FROM usage_responses
		WHERE org_id = $1 AND day >= $2 AND day <= $3`, orgID, from, to)
	if err != nil {
		return nil, nil, atrium.Internal("store.UsageBetween", err)
	}
	defer rows.Close()
	var resp []UsageResponse
	for rows.Next() {
		r := UsageResponse{UsageKey: UsageKey{OrgID: orgID}}
		if err := rows.Scan(&r.Day, &r.BinderID, &r.UserID, &r.Bucket, &r.N); err != nil {
			return nil, nil, atrium.Internal("store.UsageBetween", err)
		}
		resp = append(resp, r)
	}
	return out, resp, atrium.Internal("store.UsageBetween", rows.Err())
}
