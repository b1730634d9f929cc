package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/atrium-dev/atrium"
)

// AppendEvent adds an event to the outbox. It must run in the transaction
// of the change it describes.
func (q Queries) AppendEvent(ctx context.Context, e *atrium.Event) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO events
		(org_id, binder_id, user_id, type, kind, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.OrgID, e.BinderID, e.UserID, e.Type, e.Kind, string(e.Payload), ms(e.CreatedAt))
	return atrium.Internal("store.AppendEvent", err)
}

// EventsAfter returns up to limit final events after pos, in order. An
// event is final when its transaction and every one before it have ended.
func (q Queries) EventsAfter(ctx context.Context, pos atrium.Pos, limit int) ([]*atrium.Event, error) {
	return q.eventsAfter(ctx, "", pos, limit)
}

// OrgEventsAfter is EventsAfter for one organisation's events.
func (q Queries) OrgEventsAfter(ctx context.Context, orgID string, pos atrium.Pos, limit int) ([]*atrium.Event, error) {
	return q.eventsAfter(ctx, orgID, pos, limit)
}

func (q Queries) eventsAfter(ctx context.Context, orgID string, pos atrium.Pos, limit int) ([]*atrium.Event, error) {
	horizon, err := q.d.eventHorizon(ctx, q.q)
	if err != nil {
		return nil, atrium.Internal("store.EventsAfter", err)
	}
	orgCond := ""
	args := []any{pos.Tx, pos.ID, horizon, limit}
	if orgID != "" {
		orgCond, args = " AND org_id = $5", append(args, orgID)
	}
	rows, err := q.q.QueryContext(ctx, `SELECT tx, id, org_id, binder_id, user_id, type, kind, payload, created_at
		FROM events WHERE `+q.d.afterPos("$1", "$2")+` AND tx < $3`+orgCond+`
		ORDER BY tx, id LIMIT $4`, args...)
	if err != nil {
		return nil, atrium.Internal("store.EventsAfter", err)
	}
	defer rows.Close()
	var out []*atrium.Event
	for rows.Next() {
		var e atrium.Event
		var payload string
		var created int64
		if err := rows.Scan(&e.Pos.Tx, &e.Pos.ID, &e.OrgID, &e.BinderID, &e.UserID, &e.Type,
			&e.Kind, &payload, &created); err != nil {
			return nil, atrium.Internal("store.EventsAfter", err)
		}
		e.Payload, e.CreatedAt = []byte(payload), fromMS(created)
		out = append(out, &e)
	}
	return out, atrium.Internal("store.EventsAfter", rows.Err())
}

// LastEventPos returns the position of the newest final event, or the zero
// position when there is none.
func (q Queries) LastEventPos(ctx context.Context) (atrium.Pos, error) {
	var p atrium.Pos
	horizon, err := q.d.eventHorizon(ctx, q.q)
	if err != nil {
		return p, atrium.Internal("store.LastEventPos", err)
	}
	err = q.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(tx), 0) FROM events WHERE tx < $1`, horizon).Scan(&p.Tx)
	if err != nil {
		return p, atrium.Internal("store.LastEventPos", err)
	}
	err = q.q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events WHERE tx = $1`, p.Tx).Scan(&p.ID)
	return p, atrium.Internal("store.LastEventPos", err)
}

// PruneEvents deletes the events created before t, returning how many.
// Cursors older than the oldest event left can no longer resume.
func (q Queries) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.q.ExecContext(ctx, `DELETE FROM events WHERE created_at < $1`, ms(before))
	if err != nil {
		return 0, atrium.Internal("store.PruneEvents", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// FirstEventPos returns the position of the oldest event kept; ok is
// false when the outbox is empty.
func (q Queries) FirstEventPos(ctx context.Context) (p atrium.Pos, ok bool, err error) {
	err = q.q.QueryRowContext(ctx, `SELECT tx, id FROM events ORDER BY tx, id LIMIT 1`).Scan(&p.Tx, &p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	return p, err == nil, atrium.Internal("store.FirstEventPos", err)
}

// EventExists reports whether an event is at exactly pos.
func (q Queries) EventExists(ctx context.Context, pos atrium.Pos) (bool, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE tx = $1 AND id = $2`,
		pos.Tx, pos.ID).Scan(&n)
	return n > 0, atrium.Internal("store.EventExists", err)
}

// MembershipAt returns the binders a user belonged to just after the event
// at pos: the current memberships, with the user's later joins and leaves
// undone. Both are read in one snapshot, so they agree with each other.
// Deleted binders are included: their members still see the deletion.
func (s *Store) MembershipAt(ctx context.Context, userID string, pos atrium.Pos) ([]string, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect.name() == "postgres" {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, atrium.Internal("store.MembershipAt", err)
	}
	defer tx.Rollback()
	set, err := currentMemberships(ctx, tx, userID)
	if err != nil {
		return nil, atrium.Internal("store.MembershipAt", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT type, binder_id FROM events
		WHERE user_id = $1 AND type IN ($2, $3, $4) AND `+s.dialect.afterPos("$5", "$6")+`
		ORDER BY tx DESC, id DESC`, userID, atrium.EventMemberAdded, atrium.EventBinderCreated,
		atrium.EventMemberRemoved, pos.Tx, pos.ID)
	if err != nil {
		return nil, atrium.Internal("store.MembershipAt", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, binderID string
		if err := rows.Scan(&typ, &binderID); err != nil {
			return nil, atrium.Internal("store.MembershipAt", err)
		}
		if typ == atrium.EventMemberRemoved {
			set[binderID] = true
		} else {
			delete(set, binderID)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, atrium.Internal("store.MembershipAt", err)
	}
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	return ids, nil
}

func currentMemberships(ctx context.Context, tx *sql.Tx, userID string) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT binder_id FROM binder_members WHERE user_id = $1`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	set := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		set[id] = true
	}
	return set, rows.Err()
}
