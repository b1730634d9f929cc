package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/jackc/pgx/v5"
)

// eventsChannel is the PostgreSQL notification channel that tells every
// node new events have committed.
const eventsChannel = "atrium_events"

// NotifyEvents tells every node, when the transaction commits, that it
// wrote events. PostgreSQL delivers the notification only on commit; on
// SQLite there is one node and the caller wakes its broker itself.
func (q Queries) NotifyEvents(ctx context.Context) error {
	if q.d.name() != "postgres" {
		return nil
	}
	_, err := q.q.ExecContext(ctx, `SELECT pg_notify('`+eventsChannel+`', '')`)
	return atrium.Internal("store.NotifyEvents", err)
}

// ListenEvents calls wake whenever any node commits events, until ctx ends.
// It reconnects after failures. On SQLite it returns at once.
func (s *Store) ListenEvents(ctx context.Context, url string, log *slog.Logger, wake func()) {
	if s.dialect.name() != "postgres" {
		return
	}
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, wake)
		if ctx.Err() != nil {
			return
		}
		log.Warn("event listener: reconnecting", "err", err)
		wake() // catch up on anything missed while disconnected
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func listenOnce(ctx context.Context, url string, wake func()) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+eventsChannel); err != nil {
		return err
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}
