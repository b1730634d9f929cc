// Package integration_test drives real Atrium servers, on SQLite and on
// PostgreSQL, through the Go SDK: the HTTP API, the event stream, restarts,
// several nodes on one database, and the ending of sessions.
package integration_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
	"github.com/atrium-dev/atrium/internal/testserver"
	"github.com/coder/websocket"
)

const password = "correct horse battery staple"

// wait bounds every wait for something the server should do promptly.
const wait = 10 * time.Second

// eachDialect runs f as a parallel subtest on SQLite and on PostgreSQL.
func eachDialect(t *testing.T, f func(t *testing.T, dialect string)) {
	t.Parallel()
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}

// world is a server with one organisation: Ana, its owner, and Kai, a
// client user, both signed in and both members of the lobby binder.
type world struct {
	srv      *testserver.Server
	org      *atrium.Org
	ana, kai *atrium.User
	anaC     *client.Client
	kaiC     *client.Client
	lobby    *atrium.Binder
}

func newWorld(t *testing.T, dialect string) *world {
	t.Helper()
	srv := testserver.New(t, dialect)
	w := &world{srv: srv}
	w.org, w.ana = srv.Bootstrap(t, "Acme", "ana@example.com", password)
	w.kai = srv.CreateUser(t, w.org.ID, "kai@example.com", atrium.KindClient, password)
	w.anaC = login(t, srv.URL, "ana@example.com")
	w.kaiC = login(t, srv.URL, "kai@example.com")
	w.lobby = newBinder(t, w.anaC, "Lobby", w.kai)
	return w
}

// sync brings streams of lobby members to a known point: Ana posts a
// marker in the lobby and each stream is read up to it. Afterwards each
// stream is running with its audience settled and the server's broker is
// past every earlier change, so the events that follow are exactly those
// of the changes the test makes next.
func (w *world) sync(t *testing.T, streams ...*client.Stream) {
	t.Helper()
	marker := post(t, w.anaC, w.lobby.ID, "sync "+atrium.NewID())
	for _, s := range streams {
		for {
			ev := next(t, s)
			if ev.Type == atrium.EventMessageCreated && ev.Message.ID == marker.ID {
				break
			}
		}
	}
}

// login signs in through the SDK and returns the signed-in client.
func login(t *testing.T, baseURL, email string, opts ...client.Option) *client.Client {
	t.Helper()
	c := newClient(t, baseURL, opts...)
	if _, err := c.Login(ctxT(t), email, password, "integration test"); err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return c
}

func newClient(t *testing.T, baseURL string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(baseURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ctxT is a context bounded by the wait, ended with the test.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// outcome is an SDK call's result and error, checked by must.
type outcome[T any] struct {
	v   T
	err error
}

// call captures the two results of an SDK call.
func call[T any](v T, err error) outcome[T] { return outcome[T]{v, err} }

// must fails the test on the call's error and returns its result.
func (o outcome[T]) must(t *testing.T) T {
	t.Helper()
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.v
}

// wantError checks err is an API error with the given status and code.
func wantError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("got error %v, want %d %s", err, status, code)
	}
}

// subscribe opens an event stream that reconnects quickly, closed with the
// test.
func subscribe(t *testing.T, c *client.Client, since string) *client.Stream {
	t.Helper()
	s, err := c.Subscribe(context.Background(), client.SubscribeOptions{Since: since,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// next returns the stream's next event, failing the test if none arrives
// within the wait.
func next(t *testing.T, s *client.Stream) client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("waiting for an event: %v", err)
	}
	return ev
}

// step is an event expected on a stream: its type and binder.
type step struct{ typ, binder string }

func (s step) String() string { return s.typ + "@" + s.binder }

// expect reads exactly len(want) events and checks their types and binders,
// that each carries a fresh cursor and a time, and that each has its
// object under its kind's key.
func expect(t *testing.T, s *client.Stream, want ...step) []client.Event {
	t.Helper()
	got := make([]client.Event, 0, len(want))
	seen := map[string]bool{}
	for i, w := range want {
		ev := next(t, s)
		got = append(got, ev)
		if ev.Type != w.typ || ev.BinderID != w.binder {
			t.Fatalf("event %d is %s@%s, want %s; so far %v", i, ev.Type, ev.BinderID, w, steps(got))
		}
		if ev.Cursor == "" || seen[ev.Cursor] || ev.CreatedAt.IsZero() {
			t.Fatalf("event %d has cursor %q (seen before: %v), time %v", i, ev.Cursor, seen[ev.Cursor], ev.CreatedAt)
		}
		seen[ev.Cursor] = true
		checkObject(t, ev)
	}
	return got
}

func steps(evs []client.Event) []step {
	out := make([]step, len(evs))
	for i, e := range evs {
		out[i] = step{e.Type, e.BinderID}
	}
	return out
}

// checkObject checks an event carries the object its type names.
func checkObject(t *testing.T, ev client.Event) {
	t.Helper()
	ok := false
	switch ev.Type {
	case atrium.EventMessageCreated, atrium.EventMessageEdited, atrium.EventMessageDeleted:
		ok = ev.Message != nil && ev.Message.BinderID == ev.BinderID && ev.Message.ID != ""
	case atrium.EventMemberAdded, atrium.EventMemberRemoved:
		ok = ev.Member != nil && ev.Member.BinderID == ev.BinderID && ev.Member.UserID != ""
	case atrium.EventBinderCreated, atrium.EventBinderUpdated, atrium.EventBinderDeleted:
		ok = ev.Binder != nil && ev.Binder.ID == ev.BinderID
	case atrium.EventReadUpdated:
		ok = ev.Read != nil && ev.Read.BinderID == ev.BinderID
	}
	if !ok {
		t.Fatalf("event %s lacks its object: %s", ev.Type, ev.Raw)
	}
}

// ended waits for the stream to end and returns why.
func ended(t *testing.T, s *client.Stream) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		ev, err := s.Next(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatal("the stream did not end")
		}
		if err != nil {
			return err
		}
		t.Logf("event before the end: %s", ev.Raw)
	}
}

// wantSessionEnded waits for the stream to be closed with code 4001.
func wantSessionEnded(t *testing.T, s *client.Stream) {
	t.Helper()
	err := ended(t, s)
	if !errors.Is(err, client.ErrSessionEnded) || websocket.CloseStatus(err) != client.CloseSessionEnded {
		t.Fatalf("stream ended with %v (close status %d), want close code 4001", err, websocket.CloseStatus(err))
	}
}

// wantWiped checks a stream ended with the wipe command.
func wantWiped(t *testing.T, s *client.Stream) {
	t.Helper()
	err := ended(t, s)
	if !errors.Is(err, client.ErrDeviceWiped) || websocket.CloseStatus(err) != client.CloseWiped {
		t.Fatalf("stream ended with %v (close status %d), want the wipe command (4003)", err, websocket.CloseStatus(err))
	}
}

// wantUnauthorized checks a request with c's token gets 401.
func wantUnauthorized(t *testing.T, c *client.Client) {
	t.Helper()
	_, err := c.Me(ctxT(t))
	wantError(t, err, http.StatusUnauthorized, atrium.EUnauthorized)
}

// post posts text to a binder and returns the message.
func post(t *testing.T, c *client.Client, binderID, text string) *atrium.Message {
	t.Helper()
	return call(c.PostMessage(ctxT(t), binderID, client.PostMessageInput{Text: text})).must(t)
}

// newBinder creates a binder as c, with the given members as editors.
func newBinder(t *testing.T, c *client.Client, title string, members ...*atrium.User) *atrium.Binder {
	t.Helper()
	b := call(c.CreateBinder(ctxT(t), client.CreateBinderInput{Title: title})).must(t)
	for _, u := range members {
		call(c.AddMember(ctxT(t), b.ID, client.AddMemberInput{UserID: u.ID, Role: atrium.BinderRoleEditor})).must(t)
	}
	return b
}

// allMessages lists a binder's whole conversation, oldest first.
func allMessages(t *testing.T, c *client.Client, binderID string) []*atrium.Message {
	t.Helper()
	var out []*atrium.Message
	for m, err := range client.All(func(cursor string) (*client.Page[*atrium.Message], error) {
		return c.ListMessages(ctxT(t), binderID, client.MessageListOptions{Cursor: cursor, Limit: 200})
	}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// scenarioWait bounds a whole multi-step scenario (sign-ins through real
// identity providers, many requests), which under -race on a loaded
// machine takes longer than one wait.
const scenarioWait = 2 * time.Minute

// ctxScenario is a context bounded by scenarioWait, ended with the test.
func ctxScenario(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), scenarioWait)
	t.Cleanup(cancel)
	return ctx
}
