package store

import (
	"context"
)

// SetReadSeqForTest moves a read position in its own transaction.
func (s *Store) SetReadSeqForTest(ctx context.Context, binderID, userID string, seq int64) (moved bool, err error) {
	err = s.Tx(ctx, func(tx *Tx) error {
		moved, err = tx.SetReadSeq(ctx, binderID, userID, seq)
		return err
	})
	return moved, err
}

// EventHorizonForTest returns the store's current event horizon.
func (s *Store) EventHorizonForTest(ctx context.Context) (int64, error) {
	return s.dialect.eventHorizon(ctx, s.read)
}

// QueuedWritesForTest returns how many write transactions wait for the
// writer to take them.
func (s *Store) QueuedWritesForTest() int { return len(s.group.jobs) }
