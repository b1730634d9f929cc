package integration_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
)

// TestIdempotencyKeys: a creating POST repeated with the same
// Idempotency-Key returns the first result and creates one object; the
// same key with another body is refused with 422.
func TestIdempotencyKeys(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)

		in := client.CreateBinderInput{Title: "Once", IdempotencyKey: "binder-1"}
		b1 := call(w.anaC.CreateBinder(ctx, in)).must(t)
		b2 := call(w.anaC.CreateBinder(ctx, in)).must(t)
		if b1.ID != b2.ID || b1.Title != b2.Title {
			t.Fatalf("repeat created another binder: %s, %s", b1.ID, b2.ID)
		}
		if n := countBinders(t, w.anaC, "Once"); n != 1 {
			t.Fatalf("%d binders titled Once", n)
		}
		_, err := w.anaC.CreateBinder(ctx, client.CreateBinderInput{Title: "Twice", IdempotencyKey: "binder-1"})
		wantError(t, err, http.StatusUnprocessableEntity, atrium.EPrecondition)

		msg := client.PostMessageInput{Text: "only once", IdempotencyKey: "message-1"}
		m1 := call(w.kaiC.PostMessage(ctx, w.lobby.ID, msg)).must(t)
		m2 := call(w.kaiC.PostMessage(ctx, w.lobby.ID, msg)).must(t)
		if m1.ID != m2.ID || m1.Seq != m2.Seq {
			t.Fatalf("repeat posted another message: %+v, %+v", m1, m2)
		}
		_, err = w.kaiC.PostMessage(ctx, w.lobby.ID, client.PostMessageInput{Text: "another", IdempotencyKey: "message-1"})
		wantError(t, err, http.StatusUnprocessableEntity, atrium.EPrecondition)
		_, err = w.kaiC.PostMessage(ctx, b1.ID, client.PostMessageInput{Text: "only once", IdempotencyKey: "message-1"})
		if err == nil {
			t.Fatal("the key was accepted for another binder")
		}

		lee := client.CreateUserInput{Email: "lee@example.com", Kind: atrium.KindClient, Password: password, IdempotencyKey: "user-1"}
		u1 := call(w.anaC.CreateUser(ctx, lee)).must(t)
		u2 := call(w.anaC.CreateUser(ctx, lee)).must(t)
		if u1.ID != u2.ID {
			t.Fatalf("repeat created another user: %s, %s", u1.ID, u2.ID)
		}

		add := client.AddMemberInput{UserID: u1.ID, IdempotencyKey: "member-1"}
		a1 := call(w.anaC.AddMember(ctx, w.lobby.ID, add)).must(t)
		a2 := call(w.anaC.AddMember(ctx, w.lobby.ID, add)).must(t)
		if a1.UserID != a2.UserID || a1.CreatedAt != a2.CreatedAt {
			t.Fatalf("repeat added again: %+v, %+v", a1, a2)
		}
		_, err = w.anaC.AddMember(ctx, w.lobby.ID, client.AddMemberInput{UserID: u1.ID})
		wantError(t, err, http.StatusConflict, atrium.EConflict)

		// Kai's key is his own: Ana may use the same one.
		mine := call(w.anaC.PostMessage(ctx, w.lobby.ID, client.PostMessageInput{Text: "Ana's", IdempotencyKey: "message-1"})).must(t)
		if mine.ID == m1.ID {
			t.Fatal("Ana got Kai's message back for the same key")
		}
		if list := allMessages(t, w.anaC, w.lobby.ID); len(list) != 2 {
			t.Fatalf("the lobby has %d messages, want 2", len(list))
		}
	})
}

// TestConcurrentRepeatsCreateOnce: the same request sent several times at
// once with one key creates one message, and every copy gets it.
func TestConcurrentRepeatsCreateOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		burst(t, w, dialect, client.PostMessageInput{Text: "at once", IdempotencyKey: "burst"})
		if list := allMessages(t, w.kaiC, w.lobby.ID); len(list) != 1 {
			t.Fatalf("%d messages, want 1", len(list))
		}
	})
}

// TestRetriedPostsCreateOnce: when the network loses the server's answer,
// the SDK sends the POST again under the same key and the server creates
// the object once: one binder, one message, one event.
func TestRetriedPostsCreateOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)
		flaky := newFlaky()
		ana := newClient(t, w.srv.URL, client.WithToken(w.anaC.Token()),
			client.WithHTTPClient(&http.Client{Transport: flaky}))
		s := subscribe(t, w.kaiC, "")
		w.sync(t, s)

		b := call(ana.CreateBinder(ctx, client.CreateBinderInput{Title: "Retried"})).must(t)
		m := call(ana.PostMessage(ctx, w.lobby.ID, client.PostMessageInput{Text: "retried"})).must(t)
		for key, n := range flaky.attempts() {
			if n != 2 {
				t.Fatalf("key %q was sent %d times, want 2 (one lost answer, one retry)", key, n)
			}
		}
		if n := len(flaky.attempts()); n != 2 {
			t.Fatalf("%d keys used, want one per call", n)
		}
		if n := countBinders(t, w.anaC, "Retried"); n != 1 {
			t.Fatalf("%d binders titled Retried, want 1 (%s)", n, b.ID)
		}
		list := allMessages(t, w.anaC, w.lobby.ID)
		if len(list) != 2 || list[1].ID != m.ID {
			t.Fatalf("lobby has %d messages, want the marker and %s", len(list), m.ID)
		}
		after := post(t, w.anaC, w.lobby.ID, "after")
		got := expect(t, s, step{atrium.EventMessageCreated, w.lobby.ID}, step{atrium.EventMessageCreated, w.lobby.ID})
		if got[0].Message.ID != m.ID || got[1].Message.ID != after.ID {
			t.Fatalf("events: %s, %s", got[0].Raw, got[1].Raw)
		}
	})
}

// countBinders counts c's binders with the given title.
func countBinders(t *testing.T, c *client.Client, title string) int {
	t.Helper()
	n := 0
	for b, err := range client.All(func(cursor string) (*client.Page[*atrium.Binder], error) {
		return c.ListBinders(ctxT(t), client.ListOptions{Cursor: cursor})
	}) {
		if err != nil {
			t.Fatal(err)
		}
		if b.Title == title {
			n++
		}
	}
	return n
}

// TestClientKeyRepeatsReturnTheFirstMessage: posting again with the same
// client_key (each attempt under its own Idempotency-Key) returns the first
// message, also when the copies arrive at once.
func TestClientKeyRepeatsReturnTheFirstMessage(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		first := call(w.kaiC.PostMessage(ctxT(t), w.lobby.ID, client.PostMessageInput{Text: "draft 1", ClientKey: "k1"})).must(t)
		again := call(w.kaiC.PostMessage(ctxT(t), w.lobby.ID, client.PostMessageInput{Text: "draft 1", ClientKey: "k1"})).must(t)
		if again.ID != first.ID {
			t.Fatalf("a repeat with the same client_key posted %s, want %s", again.ID, first.ID)
		}
		_, err := w.kaiC.PostMessage(ctxT(t), w.lobby.ID, client.PostMessageInput{Text: "draft 2", ClientKey: "k1"})
		wantError(t, err, http.StatusUnprocessableEntity, atrium.EPrecondition)

		burst(t, w, dialect, client.PostMessageInput{Text: "burst", ClientKey: "k2"})
		if list := allMessages(t, w.kaiC, w.lobby.ID); len(list) != 2 {
			t.Fatalf("%d messages, want 2", len(list))
		}
	})
}

// burst has Kai post copies of one message to the lobby at once and
// checks every copy gets the same message. On PostgreSQL the binder's row
// is locked until the server's writer waits for it, so the copies are all
// in flight together; the server commits queued writes together, one after
// another inside one transaction.
func burst(t *testing.T, w *world, dialect string, in client.PostMessageInput) {
	t.Helper()
	const copies = 4
	release := func() {}
	if dialect == "postgres" {
		release = lockBinderRow(t, w, w.lobby.ID)
	}
	ids := make([]string, copies)
	errs := make([]error, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() {
			m, err := w.kaiC.PostMessage(ctxT(t), w.lobby.ID, in)
			if err == nil {
				ids[i] = m.ID
			}
			errs[i] = err
		})
	}
	if dialect == "postgres" {
		waitForLockWaiters(t, w, 1)
	}
	release()
	wg.Wait()
	for i := range copies {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("copy %d: %q, %v (copy 0: %q)", i, ids[i], errs[i], ids[0])
		}
	}
}

// lockBinderRow locks a binder's row in PostgreSQL, as a slow writer
// would, until the returned function is called (or the test ends).
func lockBinderRow(t *testing.T, w *world, binderID string) (release func()) {
	t.Helper()
	_, db := w.srv.Store.Pools()
	tx, err := db.BeginTx(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctxT(t), `SELECT id FROM binders WHERE id = $1 FOR UPDATE`, binderID); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// waitForLockWaiters polls PostgreSQL until n sessions wait for a lock.
func waitForLockWaiters(t *testing.T, w *world, n int) {
	t.Helper()
	_, db := w.srv.Store.Pools()
	deadline := time.Now().Add(wait)
	for {
		var waiting int
		err := db.QueryRowContext(ctxT(t), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests wait for the binder's lock", waiting, n)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}
