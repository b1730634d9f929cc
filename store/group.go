package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/atrium-dev/atrium"
)

// groupCommitter runs write transactions through one goroutine and commits
// the transactions that queue up meanwhile together: one fsync serves a
// whole batch, and every caller is answered only after the commit that
// makes its change durable. A caller's function that fails is rolled back
// alone (see run), so its function may run more than once.
type groupCommitter struct {
	db    *sql.DB
	d     dialect
	jobs  chan *groupJob
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	batch int
	// stmts, when set, keeps the writes' statements prepared on the write
	// connection (SQLite: parsing is a sixth of a post's cost; pgx caches
	// its own).
	stmts *stmtCache
}

type groupJob struct {
	ctx context.Context
	fn  func(*Tx) error
	err chan error
}

func newGroupCommitter(db *sql.DB, d dialect, batch int) *groupCommitter {
	g := &groupCommitter{db: db, d: d, jobs: make(chan *groupJob, batch), stop: make(chan struct{}),
		done: make(chan struct{}), batch: batch}
	go g.loop()
	return g
}

// do runs fn in the next group transaction and returns once it committed
// (nil) or failed.
func (g *groupCommitter) do(ctx context.Context, fn func(*Tx) error) error {
	j := &groupJob{ctx: ctx, fn: fn, err: make(chan error, 1)}
	select {
	case g.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stop:
		return errClosed
	}
	select {
	case err := <-j.err:
		return err
	case <-g.done:
		// The loop has ended; it answered j if it took it.
		select {
		case err := <-j.err:
			return err
		default:
			return errClosed
		}
	}
}

var errClosed = atrium.Errorf(atrium.EUnavailable, "the database is closed")

func (g *groupCommitter) close() {
	g.once.Do(func() { close(g.stop) })
	<-g.done
}

func (g *groupCommitter) loop() {
	defer close(g.done)
	for {
		var first *groupJob
		select {
		case first = <-g.jobs:
		case <-g.stop:
			g.failQueued()
			return
		}
		batch := []*groupJob{first}
	fill:
		for len(batch) < g.batch {
			select {
			case j := <-g.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		g.stmts.prepareWanted()
		g.run(batch)
	}
}

func (g *groupCommitter) failQueued() {
	for {
		select {
		case j := <-g.jobs:
			j.err <- errClosed
		default:
			return
		}
	}
}

// run executes a batch and answers every job. It first runs the jobs one
// after another in one plain transaction (runShared). A job that fails
// before writing anything is simply left out of it; one that fails after
// writing (or with a database error) aborts the attempt, and the batch is
// run again with a savepoint per job (runSavepoints), so that job is rolled
// back alone. Failures are rare on the hot path, and a savepoint costs a
// statement per job (on PostgreSQL a round trip, and a subtransaction).
// A job's function may therefore run more than once; it must keep no
// effects but its result from a run whose transaction is rolled back.
func (g *groupCommitter) run(batch []*groupJob) {
	for len(batch) > 0 {
		rest, ok := g.runShared(batch)
		if ok {
			return
		}
		if len(rest) == len(batch) {
			g.runSavepoints(batch)
			return
		}
		batch = rest
	}
}

// runShared runs batch in one transaction without savepoints. It returns
// ok when every job is answered. Otherwise a job failed after changing
// something and the transaction was rolled back: if it was the first job,
// its error stands (it saw only committed data), it is answered, and rest
// is the batch after it; if not, nothing is answered and rest is the whole
// batch.
func (g *groupCommitter) runShared(batch []*groupJob) (rest []*groupJob, ok bool) {
	errs := make([]error, len(batch))
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		g.answer(batch, errs, atrium.Internal("store.begin", err))
		return nil, true
	}
	var recs records
	for i, j := range batch {
		var st jobState
		errs[i] = g.runOne(tx, j, &st)
		if errs[i] == nil {
			recs.add(&st.records)
			continue
		}
		if st.clean(errs[i]) {
			continue
		}
		_ = tx.Rollback()
		if i > 0 {
			return batch, false
		}
		j.err <- g.jobError(errs[0])
		return batch[1:], false
	}
	if err := g.appendRecords(tx, &recs); err != nil {
		// Perhaps one change's records are at fault: each job writes its
		// own in a savepoint.
		_ = tx.Rollback()
		return batch, false
	}
	if err := tx.Commit(); err != nil {
		g.answer(batch, errs, atrium.Internal("store.commit", err))
		return nil, true
	}
	g.answer(batch, errs, nil)
	return nil, true
}

// runSavepoints runs batch in one transaction, each job inside the
// savepoint "job"; moving from one job to the next is one statement
// ("RELEASE job; SAVEPOINT job", after a rollback to it if the job failed).
func (g *groupCommitter) runSavepoints(batch []*groupJob) {
	errs := make([]error, len(batch))
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		g.answer(batch, errs, atrium.Internal("store.begin", err))
		return
	}
	broken := func(err error) {
		_ = tx.Rollback()
		g.answer(batch, errs, atrium.Internal("store.group", err))
	}
	if _, err := tx.Exec("SAVEPOINT job"); err != nil {
		broken(err)
		return
	}
	for i, j := range batch {
		var st jobState
		errs[i] = g.runOne(tx, j, &st)
		if errs[i] == nil {
			errs[i] = g.appendRecords(tx, &st.records)
		}
		errs[i] = g.jobError(errs[i])
		if _, err := tx.Exec(nextJob(errs[i] != nil, i == len(batch)-1)); err != nil {
			broken(err)
			return
		}
	}
	if err := tx.Commit(); err != nil {
		g.answer(batch, errs, atrium.Internal("store.commit", err))
		return
	}
	g.answer(batch, errs, nil)
}

// appendRecords writes the audit entries and events of the changes made in
// tx.
func (g *groupCommitter) appendRecords(tx *sql.Tx, r *records) error {
	q := Queries{q: uncancelable{tx: tx, stmts: g.stmts, st: &jobState{}}, d: g.d}
	return q.appendRecords(context.Background(), r)
}

// jobError is what a job's caller is told of its failure.
func (g *groupCommitter) jobError(err error) error {
	if err != nil && g.d.retryable(err) {
		// A deadlock with another node's batch: this job is undone (the
		// other batch goes on); the client may simply try again.
		return &atrium.Error{Code: atrium.EUnavailable, Message: "a concurrent write conflicted with this one; try again", Err: err}
	}
	return err
}

// nextJob is the statement that closes a job's savepoint and opens the
// next job's.
func nextJob(failed, last bool) string {
	switch {
	case failed && last:
		return "ROLLBACK TO job"
	case failed:
		return "ROLLBACK TO job; RELEASE job; SAVEPOINT job"
	case last:
		return "RELEASE job"
	}
	return "RELEASE job; SAVEPOINT job"
}

// jobState is what the store saw of one run of a job.
type jobState struct {
	// touched: a statement other than a plain SELECT ran, or a statement
	// failed (which aborts a PostgreSQL transaction).
	touched bool
	// records are the audit entries and events the job added.
	records records
}

// clean reports whether a job that returned err left the transaction as it
// found it: it only read, and failed for a reason of its own (a refusal, a
// missing object, its caller gone) rather than a fault of the database.
func (st *jobState) clean(err error) bool {
	if st.touched {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	code := atrium.ErrorCode(err)
	return code != atrium.EInternal && code != atrium.EUnavailable
}

// runOne runs one job's function, turning a panic into an error.
func (g *groupCommitter) runOne(tx *sql.Tx, j *groupJob, st *jobState) (err error) {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = atrium.Internal("store.Tx", fmt.Errorf("panic: %v", p))
		}
	}()
	return j.fn(&Tx{Queries: Queries{q: uncancelable{tx: tx, stmts: g.stmts, st: st}, d: g.d}, records: &st.records})
}

// answer sends each job its own error, or the batch's error to every job
// that had succeeded when the batch as a whole failed.
func (g *groupCommitter) answer(batch []*groupJob, errs []error, batchErr error) {
	for i, j := range batch {
		err := errs[i]
		if err == nil {
			err = batchErr
		}
		j.err <- err
	}
}

// uncancelable runs a job's statements in the shared transaction without
// their caller's cancellation: an interrupted statement can abort the whole
// transaction (SQLite rolls it back; database/sql discards the
// connection), which would fail every other job of the batch. A cancelled
// caller is noticed before its job starts. With a statement cache, the
// statements are prepared once and reused. What may have changed the
// transaction is noted in st.
type uncancelable struct {
	tx    *sql.Tx
	stmts *stmtCache
	st    *jobState
}

func (u uncancelable) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	u.st.touched = true
	ctx = context.WithoutCancel(ctx)
	if st := u.stmts.get(ctx, query); st != nil {
		return u.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return u.tx.ExecContext(ctx, query, args...)
}

func (u uncancelable) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	var rows *sql.Rows
	var err error
	if st := u.stmts.get(ctx, query); st != nil {
		rows, err = u.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		rows, err = u.tx.QueryContext(ctx, query, args...)
	}
	u.note(query, err)
	return rows, err
}

func (u uncancelable) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	var row *sql.Row
	if st := u.stmts.get(ctx, query); st != nil {
		row = u.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	} else {
		row = u.tx.QueryRowContext(ctx, query, args...)
	}
	u.note(query, row.Err())
	return row
}

// note marks the job as having touched the transaction unless query is a
// plain SELECT that succeeded. (An error met while reading rows reaches
// the job as an internal error, which is never taken as clean.)
func (u uncancelable) note(query string, err error) {
	if err != nil || !isSelect(query) {
		u.st.touched = true
	}
}

// isSelect reports whether query starts with SELECT: it reads, and at most
// locks rows (a lock kept until the commit is harmless).
func isSelect(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}

// stmtCache keeps prepared statements by their SQL. A statement is first
// run unprepared and noted; the group loop prepares the noted ones between
// batches, when the write connection is free. A nil cache prepares nothing.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

// maxCachedStmts bounds the cache; the store's SQL is a fixed set.
const maxCachedStmts = 256

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// get returns the prepared statement for query, or nil to run it
// unprepared this time.
func (c *stmtCache) get(_ context.Context, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if len(c.m)+len(c.wanted) < maxCachedStmts {
		c.wanted[query] = true
	}
	return nil
}

// prepareWanted prepares the statements noted since the last call. It must
// run while no transaction holds the write connection.
func (c *stmtCache) prepareWanted() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.wanted {
		if st, err := c.db.Prepare(q); err == nil {
			c.m[q] = st
		}
		delete(c.wanted, q)
	}
}
