package app

import (
	"context"

	"github.com/atrium-dev/atrium"
)

// StreamFrom validates where a client asks its event stream to resume.
// An empty cursor means "from now" (ok is false); a malformed cursor, or
// one naming no event the server issued, gets EInvalid.
func (a *App) StreamFrom(ctx context.Context, cursor string) (pos atrium.Pos, ok bool, err error) {
	if _, err := actor(ctx); err != nil {
		return pos, false, err
	}
	if cursor == "" {
		return pos, false, nil
	}
	if len(cursor) > 64 {
		return pos, false, atrium.Errorf(atrium.EInvalid, "malformed cursor")
	}
	if pos, err = atrium.ParseCursor(cursor); err != nil {
		return pos, false, err
	}
	if pos.IsZero() {
		return pos, true, nil
	}
	exists, err := a.store.EventExists(ctx, pos)
	if err != nil {
		return pos, false, err
	}
	if !exists {
		first, any, err := a.store.FirstEventPos(ctx)
		if err != nil {
			return pos, false, err
		}
		if any && pos.Less(first) {
			return pos, false, atrium.Errorf(atrium.EGone,
				"this cursor is older than the events the server keeps: reload, then stream from now")
		}
		return pos, false, atrium.Errorf(atrium.EInvalid, "unknown cursor: it was not issued by this server")
	}
	return pos, true, nil
}

// MyBindersAt returns the binders the actor belonged to just after the
// event at pos, for filtering an event stream that starts there.
func (a *App) MyBindersAt(ctx context.Context, pos atrium.Pos) ([]string, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return a.store.MembershipAt(ctx, act.User.ID, pos)
}

// LastEventPos returns the position of the newest final event: where a
// stream that starts "now" begins.
func (a *App) LastEventPos(ctx context.Context) (atrium.Pos, error) {
	return a.store.LastEventPos(ctx)
}

// EventsAfter reads up to limit final outbox events of the actor's
// organisation after pos, for replaying a resumed stream. The caller
// filters them for the actor.
func (a *App) EventsAfter(ctx context.Context, pos atrium.Pos, limit int) ([]*atrium.Event, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return a.store.OrgEventsAfter(ctx, act.User.OrgID, pos, limit)
}
