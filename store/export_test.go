package store

import (
	"context"

	"github.com/atrium-dev/atrium"
)

// ExecForTest runs a raw statement in the transaction (tests only).
func (tx *Tx) ExecForTest(ctx context.Context, query string, args ...any) error {
	_, err := tx.q.ExecContext(ctx, query, args...)
	return atrium.Internal("store.ExecForTest", err)
}

// SetReadSeqForTest moves a read position in its own transaction.
func (s *Store) SetReadSeqForTest(ctx context.Context, binderID, userID string, seq int64) (moved bool, err error) {
	err = s.Tx(ctx, func(tx *Tx) error {
		moved, err = tx.SetReadSeq(ctx, binderID, userID, seq)
		return err
	})
	return moved, err
}
