package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
)

// Many concurrent transactions, some failing and one panicking, on both
// databases: each succeeds or fails alone, and exactly the successful ones
// are stored.
func TestConcurrentTransactionsSucceedOrFailAlone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		const n = 60
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				errs[i] = s.Tx(ctx, func(tx *store.Tx) error {
					seq, err := tx.NextSeq(ctx, f.binder.ID, t0)
					if err != nil {
						return err
					}
					if err := tx.CreateMessage(ctx, &atrium.Message{ID: atrium.NewID(), BinderID: f.binder.ID, Seq: seq,
						SenderID: f.owner.ID, Text: fmt.Sprint(i), CreatedAt: t0}); err != nil {
						return err
					}
					switch {
					case i%10 == 3:
						return atrium.Errorf(atrium.EInvalid, "job %d fails", i)
					case i == 7:
						panic("job 7 panics")
					}
					return nil
				})
			}(i)
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case i%10 == 3:
				if atrium.ErrorCode(err) != atrium.EInvalid {
					t.Errorf("job %d: %v", i, err)
				}
			case i == 7:
				if atrium.ErrorCode(err) != atrium.EInternal {
					t.Errorf("panicking job: %v", err)
				}
			case err != nil:
				t.Errorf("job %d: %v", i, err)
			default:
				ok++
			}
		}
		msgs, err := s.ListMessages(ctx, f.binder.ID, 0, 0, 200)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != ok {
			t.Fatalf("%d messages stored, %d transactions succeeded", len(msgs), ok)
		}
		for i, m := range msgs {
			if m.Seq != int64(i+1) {
				t.Fatalf("sequence has a gap or repeat at %d: %d", i, m.Seq)
			}
		}
	})
}

func TestCancelledCallerWritesNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := s.Tx(ctx, func(tx *store.Tx) error {
			return tx.CreateOrg(ctx, &atrium.Org{ID: atrium.NewID(), Name: "x", Settings: atrium.DefaultOrgSettings()})
		})
		if !errors.Is(err, context.Canceled) && atrium.ErrorCode(err) != atrium.EInternal {
			t.Fatalf("cancelled Tx: %v", err)
		}
		if n, _ := s.CountOrgs(context.Background()); n != 0 {
			t.Fatalf("cancelled transaction stored %d orgs", n)
		}
	})
}

func TestClosedStoreRefusesWrites(t *testing.T) {
	s, err := store.Open(context.Background(), storetest.NewConfig(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	err = s.Tx(context.Background(), func(tx *store.Tx) error { return nil })
	if err == nil {
		t.Fatal("write on a closed store succeeded")
	}
}
