package store

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds what differs between the two databases.
type dialect interface {
	name() string
	// isUnique reports whether err is a unique-constraint violation.
	isUnique(err error) bool
	// retryable reports whether a transaction failed only because of
	// concurrency and may simply run again.
	retryable(err error) bool
	// eventHorizon returns a transaction number below which every
	// transaction of this database has ended, so events with a lower tx
	// are final. It must be called before the events are read.
	eventHorizon(ctx context.Context, q queryer) (int64, error)
}

type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

func (sqliteDialect) isUnique(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		c := e.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func (sqliteDialect) retryable(error) bool { return false }

// On SQLite writers are serialised and a reader sees only committed
// transactions, so every visible event is final.
func (sqliteDialect) eventHorizon(context.Context, queryer) (int64, error) { return math.MaxInt64, nil }

type postgresDialect struct{}

func (postgresDialect) name() string { return "postgres" }

func (postgresDialect) isUnique(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

func (postgresDialect) retryable(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

// On PostgreSQL, event ids are drawn before commit, so a transaction with a
// lower id can commit after one with a higher id. Events carry their
// transaction id; only those of transactions older than every transaction
// still running in this database are read, so a reader never skips an event
// that commits late.
//
// The horizon is the next transaction id to be assigned, lowered to the
// oldest transaction id still running in this database. The two are read
// in this order and in statements of their own, before the events are read
// with a newer snapshot: every transaction below the horizon had ended when
// it was read, so the later snapshot sees all its events. Transactions in
// other databases of the cluster are not waited for. Every node must
// connect as the same role, so each sees the others' transactions.
func (postgresDialect) eventHorizon(ctx context.Context, q queryer) (int64, error) {
	var next, oldest int64
	if err := q.QueryRowContext(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint`).Scan(&next); err != nil {
		return 0, err
	}
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MIN(backend_xid::text::bigint), 0) FROM pg_stat_activity
		WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()`).Scan(&oldest)
	if err != nil {
		return 0, err
	}
	if oldest > 0 && oldest < next {
		return oldest, nil
	}
	return next, nil
}

// isUniqueOn reports whether err is a unique violation mentioning column.
func isUniqueOn(d dialect, err error, column string) bool {
	return d.isUnique(err) && strings.Contains(err.Error(), column)
}
