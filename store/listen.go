package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// eventsChannel is the PostgreSQL notification channel that tells every
// node new events have committed.
const eventsChannel = "atrium_events"

// NotifyEvents tells the other nodes that events have committed. It never
// blocks: notifications are sent after the commit, outside any write
// transaction (a NOTIFY inside one would serialise every commit of the
// cluster), and those that pile up are sent as one. A lost notification
// only delays delivery until the brokers' next poll. On SQLite there is one
// node, whose broker the caller wakes itself.
func (s *Store) NotifyEvents() {
	if s.notify == nil {
		return
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// notifier sends the notifications NotifyEvents asks for until the store
// closes.
func (s *Store) notifier() {
	for {
		select {
		case <-s.closing:
			return
		case <-s.notify:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = s.read.ExecContext(ctx, `SELECT pg_notify('`+eventsChannel+`', $1)`, s.node)
		cancel()
	}
}

// ListenEvents calls wake whenever another node commits events, until ctx
// ends. (The node that commits wakes its own broker.)
// It reconnects after failures. On SQLite it returns at once.
func (s *Store) ListenEvents(ctx context.Context, url string, log *slog.Logger, wake func()) {
	if s.dialect.name() != "postgres" {
		return
	}
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, url, wake)
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

func (s *Store) listenOnce(ctx context.Context, url string, wake func()) error {
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
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != s.node {
			wake()
		}
	}
}
