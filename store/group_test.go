package store_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
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
					if err := tx.CreateMessageNextSeq(ctx, &atrium.Message{ID: atrium.NewID(), BinderID: f.binder.ID,
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

// batchJob is one write of a batch test: it adds a message and then
// succeeds or fails, and counts how often it ran.
type batchJob struct {
	name  string
	write bool   // adds a message before returning
	fail  string // the error code it returns, or "" to succeed
	// badRecords makes its audit entries clash (same id), which fails it
	// with an internal error when they are written.
	badRecords bool
	want       string // the error code expected, if not fail
	runs       int
	err        error
}

// runBatch queues jobs behind a blocked write, in order, so that the
// writer takes them as one batch, and returns once all are answered.
func runBatch(t *testing.T, s *store.Store, f *fixture, jobs []*batchJob) {
	t.Helper()
	ctx := context.Background()
	release := make(chan struct{})
	blocked := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1 + len(jobs))
	go func() {
		defer wg.Done()
		_ = s.Tx(ctx, func(*store.Tx) error { close(blocked); <-release; return nil })
	}()
	<-blocked
	for i, j := range jobs {
		go func() {
			defer wg.Done()
			j.err = s.Tx(ctx, func(tx *store.Tx) error {
				j.runs++
				if _, _, err := tx.GetBinderForUser(ctx, f.binder.ID, f.owner.ID); err != nil {
					return err
				}
				if j.write {
					if err := tx.CreateMessageNextSeq(ctx, &atrium.Message{ID: atrium.NewID(), BinderID: f.binder.ID,
						SenderID: f.owner.ID, Text: j.name, CreatedAt: t0}); err != nil {
						return err
					}
				}
				entry := &atrium.AuditEntry{ID: atrium.NewID(), OrgID: f.org.ID, Action: j.name, CreatedAt: t0}
				if j.badRecords {
					tx.AppendRecords([]*atrium.AuditEntry{entry}, nil)
				}
				tx.AppendRecords([]*atrium.AuditEntry{entry},
					[]*atrium.Event{{Type: atrium.EventMessageCreated, OrgID: f.org.ID, BinderID: f.binder.ID,
						Kind: "test", Payload: []byte(`"` + j.name + `"`), CreatedAt: t0}})
				if j.fail != "" {
					return atrium.Errorf(j.fail, "%s fails", j.name)
				}
				return nil
			})
		}()
		for s.QueuedWritesForTest() < i+1 {
			runtime.Gosched()
		}
	}
	close(release)
	wg.Wait()
}

// A batch runs without savepoints while its failing writes change nothing;
// a write that fails after changing something is rolled back alone, the
// others of its batch running again. Either way exactly the successful
// writes are stored, in order.
func TestBatchFailuresAreRolledBackAlone(t *testing.T) {
	ok := func(name string) *batchJob { return &batchJob{name: name, write: true} }
	refused := func(name string) *batchJob { return &batchJob{name: name, fail: atrium.EForbidden} }
	undone := func(name string) *batchJob { return &batchJob{name: name, write: true, fail: atrium.EConflict} }
	cases := []struct {
		name string
		jobs []*batchJob
		runs []int // how often each job's function ran
	}{
		{"refusals before writing", []*batchJob{ok("a"), refused("b"), ok("c"), refused("d")}, []int{1, 1, 1, 1}},
		{"first job undone", []*batchJob{undone("a"), ok("b"), refused("c"), ok("d")}, []int{1, 1, 1, 1}},
		{"later job undone", []*batchJob{ok("a"), refused("b"), undone("c"), ok("d")}, []int{2, 2, 2, 1}},
		{"every job undone", []*batchJob{undone("a"), undone("b"), undone("c")}, []int{1, 1, 1}},
		{"records refused", []*batchJob{ok("a"), {name: "b", write: true, badRecords: true, want: atrium.EInternal}, ok("c")}, []int{2, 2, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, s *store.Store) {
				f := newFixture(t, s)
				// Fresh copies: each dialect runs the jobs anew.
				jobs := make([]*batchJob, len(c.jobs))
				for i, j := range c.jobs {
					jobs[i] = &batchJob{name: j.name, write: j.write, fail: j.fail, badRecords: j.badRecords, want: j.want}
				}
				runBatch(t, s, f, jobs)
				var want []string
				for i, j := range jobs {
					if j.want == "" {
						j.want = j.fail
					}
					if got := atrium.ErrorCode(j.err); got != j.want {
						t.Errorf("job %s: error %v, want code %q", j.name, j.err, j.want)
					}
					if j.runs != c.runs[i] {
						t.Errorf("job %s ran %d times, want %d", j.name, j.runs, c.runs[i])
					}
					if j.want == "" {
						want = append(want, j.name)
					}
				}
				msgs, err := s.ListMessages(context.Background(), f.binder.ID, 0, 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for i, m := range msgs {
					got = append(got, m.Text)
					if m.Seq != int64(i+1) {
						t.Errorf("message %q has seq %d, want %d", m.Text, m.Seq, i+1)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("stored %v, want %v", got, want)
				}
				// Each successful write's event, in order, and its audit entry.
				events, err := s.EventsAfter(context.Background(), atrium.Pos{}, 100)
				if err != nil {
					t.Fatal(err)
				}
				got = nil
				for _, e := range events {
					if e.Kind == "test" {
						got = append(got, strings.Trim(string(e.Payload), `"`))
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("events %v, want %v", got, want)
				}
				audit, err := s.ListAudit(context.Background(), f.org.ID, "", 100)
				if err != nil {
					t.Fatal(err)
				}
				got = nil
				for _, a := range audit {
					if len(a.Action) == 1 {
						got = append(got, a.Action)
					}
				}
				sort.Strings(got)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("audit entries %v, want %v", got, want)
				}
			})
		})
	}
}
