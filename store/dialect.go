package store

import (
	"errors"
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
	// eventHorizon is a SQL condition on events.tx limiting a read to
	// events whose transactions (and all before them) have ended.
	eventHorizon() string
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
func (sqliteDialect) eventHorizon() string { return "1=1" }

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
// transaction id; only those of transactions older than every running one
// are read, so a reader never skips an event that commits late.
func (postgresDialect) eventHorizon() string {
	return "tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
}

// isUniqueOn reports whether err is a unique violation mentioning column.
func isUniqueOn(d dialect, err error, column string) bool {
	return d.isUnique(err) && strings.Contains(err.Error(), column)
}
