package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/atrium-dev/atrium"
)

// groupCommitter runs write transactions through one goroutine and commits
// the transactions that queue up meanwhile together. Each caller's
// function runs inside a savepoint of the shared transaction, so one that
// fails is rolled back alone, and every caller is answered only after the
// commit that makes its change durable: one fsync serves a whole batch.
type groupCommitter struct {
	db    *sql.DB
	d     dialect
	jobs  chan *groupJob
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	batch int
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

// run executes a batch in one transaction and answers every job.
func (g *groupCommitter) run(batch []*groupJob) {
	errs := make([]error, len(batch))
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		g.answer(batch, errs, atrium.Internal("store.begin", err))
		return
	}
	for i, j := range batch {
		errs[i] = g.runOne(tx, j)
		for try := 1; try < 3 && g.d.retryable(errs[i]); try++ {
			errs[i] = g.runOne(tx, j) // a deadlock with another node: its savepoint was undone
		}
		if errors.Is(errs[i], errBatchBroken) {
			_ = tx.Rollback()
			g.answer(batch, errs, atrium.Internal("store.group", errs[i]))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		g.answer(batch, errs, atrium.Internal("store.commit", err))
		return
	}
	g.answer(batch, errs, nil)
}

var errBatchBroken = errors.New("store: group transaction broken")

// runOne runs one job inside a savepoint, rolling back to it on failure.
func (g *groupCommitter) runOne(tx *sql.Tx, j *groupJob) (err error) {
	if err := j.ctx.Err(); err != nil {
		return err
	}
	if _, err := tx.Exec("SAVEPOINT job"); err != nil {
		return fmt.Errorf("%w: %v", errBatchBroken, err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = atrium.Internal("store.Tx", fmt.Errorf("panic: %v", p))
		}
		if err != nil {
			if _, rerr := tx.Exec("ROLLBACK TO job"); rerr != nil {
				err = fmt.Errorf("%w: %v", errBatchBroken, rerr)
				return
			}
		}
		if _, rerr := tx.Exec("RELEASE job"); rerr != nil {
			err = fmt.Errorf("%w: %v", errBatchBroken, rerr)
		}
	}()
	return j.fn(&Tx{Queries: Queries{q: uncancelable{tx}, d: g.d}})
}

// answer sends each job its own error, or the batch's error to every job
// that had succeeded when the batch as a whole failed.
func (g *groupCommitter) answer(batch []*groupJob, errs []error, batchErr error) {
	for i, j := range batch {
		err := errs[i]
		if err == nil || errors.Is(err, errBatchBroken) {
			err = batchErr
		}
		j.err <- err
	}
}

// uncancelable runs a job's statements in the shared transaction without
// their caller's cancellation: an interrupted statement can abort the whole
// transaction (SQLite rolls it back; database/sql discards the
// connection), which would fail every other job of the batch. A cancelled
// caller is noticed before its job starts.
type uncancelable struct{ tx *sql.Tx }

func (u uncancelable) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return u.tx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (u uncancelable) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return u.tx.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (u uncancelable) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return u.tx.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}
