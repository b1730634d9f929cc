package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/atrium-dev/atrium"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Config says which database to open.
type Config struct {
	// URL is a postgres:// or postgresql:// URL; empty means the embedded
	// SQLite database in DataDir.
	URL string
	// DataDir holds atrium.db when URL is empty.
	DataDir string
	// Synchronous is SQLite's synchronous pragma: "full" (the default: a
	// commit survives power loss) or "normal" (a commit survives a crash of
	// the process but the last ones may be lost on power loss).
	Synchronous string
	// MaxOpenConns bounds the PostgreSQL pool and SQLite's read pool.
	MaxOpenConns int
}

// Store is an open database. It is safe for concurrent use.
type Store struct {
	// Queries runs reads on the read pool.
	Queries
	dialect dialect
	write   *sql.DB
	read    *sql.DB
	// group batches write transactions into shared commits.
	group *groupCommitter
	// notify queues a notification to the other nodes (PostgreSQL only);
	// closing stops its sender.
	notify chan struct{}
	// node names this store in its notifications, so that its own listener
	// can leave them out (its broker is woken directly).
	node      string
	closing   chan struct{}
	closeOnce sync.Once
}

// Open opens (creating if needed) the database Config names. It does not
// migrate; call Migrate or CheckSchema.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.MaxOpenConns <= 0 {
		cfg.MaxOpenConns = 16
	}
	var s *Store
	var err error
	switch {
	case cfg.URL == "":
		s, err = openSQLite(cfg)
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		s, err = openPostgres(cfg)
	default:
		return nil, atrium.Errorf(atrium.EInvalid, "database URL must start with postgres:// (or be empty for SQLite)")
	}
	if err != nil {
		return nil, err
	}
	if err := s.write.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if cfg.URL == "" {
		restrictFiles(filepath.Join(cfg.DataDir, "atrium.db"))
	}
	return s, nil
}

// restrictFiles makes the SQLite database and its journals readable by
// Atrium's user only, whatever the umask.
func restrictFiles(db string) {
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		_ = os.Chmod(f, 0o600)
	}
}

func openSQLite(cfg Config) (*Store, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("store: a data dir is required for SQLite")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: restrict data dir: %w", err)
	}
	sync := strings.ToUpper(cfg.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, atrium.Errorf(atrium.EInvalid, "sqlite synchronous must be full or normal")
	}
	path := filepath.Join(cfg.DataDir, "atrium.db")
	// temp_store=MEMORY keeps the savepoints' sub-journals of the group
	// commit in memory instead of temporary files.
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(" + sync + ")&_pragma=temp_store(MEMORY)"
	write, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	read.SetMaxOpenConns(cfg.MaxOpenConns)
	read.SetMaxIdleConns(cfg.MaxOpenConns)
	read.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{dialect: sqliteDialect{}, write: write, read: read}
	s.Queries = Queries{q: read, d: s.dialect}
	s.group = newGroupCommitter(write, s.dialect, 128)
	s.group.stmts = newStmtCache(write)
	return s, nil
}

func openPostgres(cfg Config) (*Store, error) {
	// The group commit has a connection of its own, so a batch never
	// waits for the pool, and always finds the same backend with its
	// statements prepared.
	write, err := sql.Open("pgx", cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	read, err := sql.Open("pgx", cfg.URL)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	read.SetMaxOpenConns(cfg.MaxOpenConns)
	read.SetMaxIdleConns(cfg.MaxOpenConns)
	read.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{dialect: postgresDialect{}, write: write, read: read,
		notify: make(chan struct{}, 1), closing: make(chan struct{}), node: atrium.NewID()}
	s.Queries = Queries{q: read, d: s.dialect}
	s.group = newGroupCommitter(write, s.dialect, 128)
	go s.notifier()
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if s.group != nil {
		s.group.close()
	}
	if s.closing != nil {
		s.closeOnce.Do(func() { close(s.closing) })
	}
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect.name() }

// Pools returns the write pool (the group commit's one connection) and the
// read pool, for pool metrics.
func (s *Store) Pools() (write, read *sql.DB) {
	return s.write, s.read
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.write.PingContext(ctx)
}

// Tx runs fn in a write transaction and commits if fn returns nil. Errors
// from fn are returned as they are; failures of the database are wrapped,
// and a deadlock with another node's writes (PostgreSQL) is EUnavailable:
// nothing of fn was kept, and the caller may try again.
//
// Transactions that queue while one commits are committed together: fn
// sees the effects of those before it, a failing fn is rolled back alone,
// and Tx returns only once the shared commit is durable. One commit (one
// fsync) then serves a whole batch, and on PostgreSQL a binder's row lock
// is held once per batch rather than once per post. To roll one fn back
// alone, the batch may be run again, so fn may run more than once: it must
// have no effects outside the transaction but its results, which each run
// sets afresh. fn must not call Tx itself.
func (s *Store) Tx(ctx context.Context, fn func(*Tx) error) error {
	return s.group.do(ctx, fn)
}

// Tx is an open write transaction. Its Queries read and write inside it.
type Tx struct {
	Queries
	records *records // the change's audit entries and events, written at its end
}

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Queries are the statements of the store, run on a pool or in a
// transaction.
type Queries struct {
	q queryer
	d dialect
}

// ms converts a time to Unix milliseconds for storage.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts stored Unix milliseconds to a time in UTC.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// fromNullMS converts a nullable stored time.
func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// nullMS converts an optional time for storage.
func nullMS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(*t), Valid: true}
}

// notFound maps sql.ErrNoRows to an atrium not-found error for kind.
func notFound(err error, kind, op string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return atrium.NotFound(kind)
	}
	return atrium.Internal(op, err)
}

// queryAll runs query and scans each of its rows with scan; op names the
// caller in its errors.
func queryAll[T any](ctx context.Context, q queryer, op string, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, atrium.Internal(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, atrium.Internal(op, err)
		}
		out = append(out, v)
	}
	return out, atrium.Internal(op, rows.Err())
}

// ExecRaw runs a statement in the transaction. It is for tests and
// maintenance commands that need SQL the store has no method for.
func (tx *Tx) ExecRaw(ctx context.Context, query string, args ...any) error {
	_, err := tx.q.ExecContext(ctx, query, args...)
	return atrium.Internal("store.ExecRaw", err)
}
