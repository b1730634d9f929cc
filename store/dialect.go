package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
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
	// retryable reports whether a write failed only because of concurrency
	// (a deadlock) and may simply be tried again.
	retryable(err error) bool
	// eventHorizon returns a transaction number below which every
	// transaction of this database has ended, so events with a lower tx
	// are final. It must be called before the events are read.
	eventHorizon(ctx context.Context, q queryer) (int64, error)
	// afterPos is a condition on events "after the position (tx, id)" that
	// the database answers with a seek in the events_pos index.
	afterPos(tx, id string) string
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

// On SQLite every event's tx is 0 (see eventHorizon), and SQLite does not
// seek an index on a row-value comparison.
func (sqliteDialect) afterPos(tx, id string) string { return "tx = " + tx + " AND id > " + id }

type postgresDialect struct{}

func (postgresDialect) afterPos(tx, id string) string { return "(tx, id) > (" + tx + ", " + id + ")" }

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
// The horizon is the snapshot's xmax (one past the newest finished
// transaction id), lowered to the oldest transaction id still running in
// this database. One statement reads both: its snapshot is taken when it
// starts, and pg_stat_activity, which is not versioned, is read after, so
// every transaction below the horizon had ended by then; the events are
// read afterwards with a newer snapshot, which sees all of theirs.
// Transactions in other databases of the cluster are not waited for; a
// transaction left open in Atrium's own database holds delivery back until
// it ends.
func (postgresDialect) eventHorizon(ctx context.Context, q queryer) (int64, error) {
	var xmax int64
	var running string // "xid,xid,…"
	err := q.QueryRowContext(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
		COALESCE((SELECT string_agg(backend_xid::text, ',') FROM pg_stat_activity
			WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()), '')`).
		Scan(&xmax, &running)
	if err != nil {
		return 0, err
	}
	horizon := xmax
	for _, f := range strings.Split(running, ",") {
		if f == "" {
			continue
		}
		x, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("store: running transaction id %q: %w", f, err)
		}
		horizon = min(horizon, fullXID(x, xmax))
	}
	return horizon, nil
}

// fullXID widens a 32-bit transaction id, as pg_stat_activity shows it, to
// the 64-bit id with its wraparound epoch that events.tx holds: the one
// nearest to ref, a 64-bit id read at about the same time. A running
// transaction's id is always within 2^31 of the cluster's current ids (the
// wraparound protection guarantees it), on either side of ref: ref is one
// past the newest finished id, and a running id can be above it.
func fullXID(x32, ref int64) int64 {
	return ref + int64(int32(uint32(x32)-uint32(ref)))
}
