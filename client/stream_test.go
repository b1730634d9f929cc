package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
	"github.com/coder/websocket"
)

// wsFake is a scripted event stream: script serves the n-th connection
// attempt (from 0).
type wsFake struct {
	mu     sync.Mutex
	since  []string
	auth   []string
	script func(n int, w http.ResponseWriter, r *http.Request)
}

func newWSFake(t *testing.T, script func(n int, w http.ResponseWriter, r *http.Request)) (*wsFake, *client.Client) {
	t.Helper()
	f := &wsFake{script: script}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		n := len(f.since)
		f.since = append(f.since, r.URL.Query().Get("since"))
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		script(n, w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, client.WithToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func (f *wsFake) sinces() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.since...)
}

// accept upgrades, announcing cursor as the starting position.
func accept(t *testing.T, w http.ResponseWriter, r *http.Request, cursor string) *websocket.Conn {
	w.Header().Set(client.CursorHeader, cursor)
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		t.Errorf("accept: %v", err)
		return nil
	}
	return c
}

func send(c *websocket.Conn, cursor, typ string) {
	frame := fmt.Sprintf(`{"cursor":%q,"type":%q,"binder_id":"b1","created_at":"2026-01-02T03:04:05Z","message":{"id":%q,"seq":1}}`,
		cursor, typ, "m-"+cursor)
	_ = c.Write(context.Background(), websocket.MessageText, []byte(frame))
}

// hold keeps a connection open until the client goes away.
func hold(c *websocket.Conn, r *http.Request) {
	<-c.CloseRead(r.Context()).Done()
}

func subscribe(t *testing.T, c *client.Client, opts client.SubscribeOptions) *client.Stream {
	t.Helper()
	opts.MinBackoff, opts.MaxBackoff = time.Millisecond, 5*time.Millisecond
	s, err := c.Subscribe(context.Background(), opts)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func next(t *testing.T, s *client.Stream) client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	return ev
}

func end(t *testing.T, s *client.Stream) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := s.Next(ctx)
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stream did not end: %+v, %v", ev, err)
	}
	return err
}

func TestStreamResumesAfterEveryRecoverableFailure(t *testing.T) {
	f, c := newWSFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 0: // no event, then too slow: resume from the handshake's cursor
			accept(t, w, r, "c0").Close(client.CloseTooSlow, "too slow")
		case 1: // one event, then going away
			ws := accept(t, w, r, "c0")
			send(ws, "c1", atrium.EventMessageCreated)
			ws.Close(websocket.StatusGoingAway, "shutting down")
		case 2: // one event, then the connection drops
			ws := accept(t, w, r, "c1")
			send(ws, "c2", atrium.EventMessageEdited)
			ws.CloseNow()
		case 3: // the server is not ready
			http.Error(w, `{"error":{"code":"unavailable","message":"starting"}}`, 503)
		case 4:
			ws := accept(t, w, r, "c2")
			send(ws, "c3", atrium.EventMessageDeleted)
			ws.Close(client.CloseSessionEnded, "session ended")
		default:
			t.Errorf("connection %d after the session ended", n)
		}
	})
	s := subscribe(t, c, client.SubscribeOptions{})
	for _, want := range []string{"c1", "c2", "c3"} {
		ev := next(t, s)
		if ev.Cursor != want || ev.BinderID != "b1" || ev.Message == nil || ev.Message.ID != "m-"+want || len(ev.Raw) == 0 {
			t.Fatalf("event %+v, want cursor %s", ev, want)
		}
	}
	err := end(t, s)
	if !errors.Is(err, client.ErrSessionEnded) || websocket.CloseStatus(err) != client.CloseSessionEnded {
		t.Fatalf("end: %v", err)
	}
	if s.Err() != err || s.Cursor() != "c3" {
		t.Errorf("Err = %v, Cursor = %q", s.Err(), s.Cursor())
	}
	want := []string{"", "c0", "c1", "c2", "c2"}
	if got := f.sinces(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("since per connection = %q, want %q", got, want)
	}
	if f.auth[0] != "Bearer tok" {
		t.Errorf("auth %q", f.auth[0])
	}
}

func TestStreamStopsOnRefusedReconnection(t *testing.T) {
	for _, tc := range []struct {
		status       int
		code         string
		sessionEnded bool
	}{
		{401, atrium.EUnauthorized, true},
		{400, atrium.EInvalid, false},
		{403, atrium.EForbidden, false},
	} {
		t.Run(tc.code, func(t *testing.T) {
			f, c := newWSFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 0 {
					ws := accept(t, w, r, "c0")
					send(ws, "c1", atrium.EventMemberAdded)
					ws.CloseNow()
					return
				}
				apiError(w, tc.status, tc.code, "no")
			})
			s := subscribe(t, c, client.SubscribeOptions{Since: "c0"})
			if ev := next(t, s); ev.Cursor != "c1" {
				t.Fatalf("event %+v", ev)
			}
			err := end(t, s)
			var e *client.Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Code != tc.code {
				t.Fatalf("end: %v", err)
			}
			if errors.Is(err, client.ErrSessionEnded) != tc.sessionEnded {
				t.Errorf("errors.Is(ErrSessionEnded) = %v", !tc.sessionEnded)
			}
			if got := f.sinces(); len(got) != 2 || got[0] != "c0" || got[1] != "c1" {
				t.Errorf("since per connection = %q", got)
			}
		})
	}
}

func TestSubscribeReturnsARefusedHandshake(t *testing.T) {
	_, c := newWSFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		apiError(w, 401, atrium.EUnauthorized, "invalid or expired token")
	})
	_, err := c.Subscribe(context.Background(), client.SubscribeOptions{})
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 401 || e.Code != atrium.EUnauthorized {
		t.Fatalf("Subscribe: %v", err)
	}
}

func TestStreamClose(t *testing.T) {
	_, c := newWSFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		ws := accept(t, w, r, "c0")
		send(ws, "c1", atrium.EventBinderUpdated)
		hold(ws, r)
	})
	s := subscribe(t, c, client.SubscribeOptions{})
	if ev := next(t, s); ev.Type != atrium.EventBinderUpdated {
		t.Fatalf("event %+v", ev)
	}
	s.Close()
	if _, err := s.Next(context.Background()); !errors.Is(err, client.ErrStreamClosed) || s.Err() != nil {
		t.Fatalf("after Close: Next %v, Err %v", err, s.Err())
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done is open after Close")
	}
}

func TestStreamEndsWithItsContext(t *testing.T) {
	_, c := newWSFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		hold(accept(t, w, r, "c0"), r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.Subscribe(ctx, client.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := end(t, s); !errors.Is(err, context.Canceled) {
		t.Fatalf("end: %v", err)
	}
}

func TestIdleConnectionIsReplaced(t *testing.T) {
	f, c := newWSFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		ws := accept(t, w, r, "c0")
		if n == 1 {
			send(ws, "c1", atrium.EventReadUpdated)
		}
		hold(ws, r)
	})
	s := subscribe(t, c, client.SubscribeOptions{IdleTimeout: 50 * time.Millisecond})
	if ev := next(t, s); ev.Cursor != "c1" {
		t.Fatalf("event %+v", ev)
	}
	if got := f.sinces(); len(got) < 2 || got[1] != "c0" {
		t.Errorf("since per connection = %q", got)
	}
}

func TestMalformedEventEndsTheStream(t *testing.T) {
	_, c := newWSFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		ws := accept(t, w, r, "c0")
		ws.Write(context.Background(), websocket.MessageText, []byte(`{"type":`))
		hold(ws, r)
	})
	s := subscribe(t, c, client.SubscribeOptions{})
	if err := end(t, s); err == nil || errors.Is(err, client.ErrSessionEnded) {
		t.Fatalf("end: %v", err)
	}
}
