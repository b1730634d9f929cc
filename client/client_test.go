package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
)

// arrival is one request as the fake server saw it.
type arrival struct {
	method, path, rawPath, query, auth, key, body string
}

// fake is a scripted API server: handle answers the n-th request (from 0).
type fake struct {
	mu       sync.Mutex
	arrivals []arrival
	handle   func(n int, w http.ResponseWriter, r *http.Request)
}

func newFake(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) (*fake, *client.Client) {
	t.Helper()
	f := &fake{handle: handle}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL+"/", client.WithToken("tok"), client.WithRetries(3, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	n := len(f.arrivals)
	f.arrivals = append(f.arrivals, arrival{method: r.Method, path: r.URL.Path, rawPath: r.URL.EscapedPath(),
		query: r.URL.RawQuery, auth: r.Header.Get("Authorization"), key: r.Header.Get("Idempotency-Key"), body: string(body)})
	f.mu.Unlock()
	f.handle(n, w, r)
}

func (f *fake) seen() []arrival {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]arrival(nil), f.arrivals...)
}

// hangUp drops the connection without an answer, as a failing network would
// after the server did the work.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "localhost:8080", "http://"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}

func TestErrorsAreTyped(t *testing.T) {
	_, c := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/binders/b1":
			apiError(w, 404, atrium.ENotFound, "binder not found")
		case "/api/v1/auth/login":
			w.Header().Set("Retry-After", "7")
			apiError(w, 429, atrium.ERateLimited, "slow down")
		default:
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "<html>not json</html>")
		}
	})
	ctx := context.Background()
	_, err := c.GetBinder(ctx, "b1")
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 404 || e.Code != atrium.ENotFound || e.Message != "binder not found" {
		t.Fatalf("GetBinder: %#v", err)
	}
	if client.ErrorCode(err) != atrium.ENotFound || client.ErrorCode(errors.New("x")) != "" {
		t.Errorf("ErrorCode does not find the code")
	}
	_, err = c.Login(ctx, "a@example.com", "pw", "dev")
	if !errors.As(err, &e) || e.Status != 429 || e.RetryAfter != 7*time.Second {
		t.Fatalf("Login: %#v", err)
	}
	if c.Token() != "tok" {
		t.Errorf("a failed login changed the token")
	}
	_, err = c.Me(ctx)
	if !errors.As(err, &e) || e.Status != http.StatusTeapot || e.Code != "" {
		t.Fatalf("Me: %#v", err)
	}
}

func TestCreatingPostIsRetriedWithTheSameKey(t *testing.T) {
	f, c := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			hangUp(w)
			return
		}
		writeJSON(w, 201, atrium.Message{ID: "m1", Seq: 1, Text: "hi"})
	})
	m, err := c.PostMessage(context.Background(), "b1", client.PostMessageInput{Text: "hi"})
	if err != nil || m.ID != "m1" {
		t.Fatalf("PostMessage = %v, %v", m, err)
	}
	seen := f.seen()
	if len(seen) < 2 {
		t.Fatalf("sent %d times, want a retry", len(seen))
	}
	for _, a := range seen {
		if a.key == "" || a.key != seen[0].key || a.body != seen[0].body {
			t.Fatalf("attempts differ: %+v", seen)
		}
	}
	if seen[0].body != `{"text":"hi"}` || seen[0].auth != "Bearer tok" {
		t.Errorf("request: %+v", seen[0])
	}
}

func TestCallerKeyIsSentAndFreshKeysDiffer(t *testing.T) {
	f, c := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 201, atrium.Binder{BinderInfo: atrium.BinderInfo{ID: "b"}})
	})
	ctx := context.Background()
	for _, in := range []client.CreateBinderInput{{Title: "a", IdempotencyKey: "mine"}, {Title: "a"}, {Title: "a"}} {
		if _, err := c.CreateBinder(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	seen := f.seen()
	if seen[0].key != "mine" || seen[1].key == "" || seen[1].key == seen[2].key {
		t.Errorf("keys: %q %q %q", seen[0].key, seen[1].key, seen[2].key)
	}
	if seen[0].body != `{"title":"a"}` {
		t.Errorf("the key leaked into the body: %s", seen[0].body)
	}
}

func TestWhatIsNotRetried(t *testing.T) {
	cases := []struct {
		name string
		call func(c *client.Client) error
		fail func(w http.ResponseWriter)
	}{
		{"edit after a network failure", func(c *client.Client) error {
			_, err := c.EditMessage(context.Background(), "b", "m", "x")
			return err
		}, hangUp},
		{"delete after a network failure", func(c *client.Client) error {
			return c.DeleteBinder(context.Background(), "b")
		}, hangUp},
		{"login after a network failure", func(c *client.Client) error {
			_, err := c.Login(context.Background(), "a@example.com", "p", "d")
			return err
		}, hangUp},
		{"create refused with a conflict", func(c *client.Client) error {
			_, err := c.AddMember(context.Background(), "b", client.AddMemberInput{UserID: "u"})
			return err
		}, func(w http.ResponseWriter) { apiError(w, 409, atrium.EConflict, "already") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { tc.fail(w) })
			if err := tc.call(c); err == nil {
				t.Fatal("no error")
			}
			if n := len(f.seen()); n != 1 {
				t.Errorf("sent %d times, want once", n)
			}
		})
	}
}

func TestReadsAreRetriedOnUnavailable(t *testing.T) {
	f, c := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 2 {
			apiError(w, 503, atrium.EUnavailable, "starting")
			return
		}
		writeJSON(w, 200, map[string]any{"user": atrium.User{ID: "u1"}, "org": atrium.Org{ID: "o1"}})
	})
	acc, err := c.Me(context.Background())
	if err != nil || acc.User.ID != "u1" || acc.Org.ID != "o1" {
		t.Fatalf("Me = %+v, %v", acc, err)
	}
	if n := len(f.seen()); n != 3 {
		t.Errorf("sent %d times, want 3", n)
	}
}

func TestRetriesGiveUp(t *testing.T) {
	f, c := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		apiError(w, 503, atrium.EUnavailable, "down")
	})
	_, err := c.ListBinders(context.Background(), client.ListOptions{})
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 503 {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.seen()); n != 4 {
		t.Errorf("sent %d times, want 1 + 3 retries", n)
	}
}

func TestTokenLifecycle(t *testing.T) {
	f, c := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/auth/login":
			writeJSON(w, 200, map[string]any{"token": "new", "user": atrium.User{ID: "u"}, "session": atrium.Session{ID: "s"}})
		case "/api/v1/auth/logout":
			w.WriteHeader(204)
		default:
			writeJSON(w, 200, map[string]any{"items": []any{}})
		}
	})
	ctx := context.Background()
	res, err := c.Login(ctx, "a@example.com", "pw", "laptop")
	if err != nil || res.Token != "new" || res.Session.ID != "s" || c.Token() != "new" {
		t.Fatalf("Login = %+v, %v; token %q", res, err, c.Token())
	}
	if _, err := c.ListSessions(ctx, client.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(ctx); err != nil || c.Token() != "" {
		t.Fatalf("Logout: %v; token %q", err, c.Token())
	}
	seen := f.seen()
	if seen[0].body != `{"device_name":"laptop","email":"a@example.com","password":"pw"}` {
		t.Errorf("login body %s", seen[0].body)
	}
	if seen[1].auth != "Bearer new" || seen[2].auth != "Bearer new" {
		t.Errorf("auth after login: %q, %q", seen[1].auth, seen[2].auth)
	}
}

func TestPathsAndQueries(t *testing.T) {
	f, c := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.WriteHeader(204)
			return
		}
		writeJSON(w, 200, map[string]any{"items": []any{}, "read_seq": 3})
	})
	ctx := context.Background()
	c.ListMessages(ctx, "b/1", client.MessageListOptions{Before: 9, Limit: 2})
	c.ListMessages(ctx, "b1", client.MessageListOptions{After: 4, Cursor: "YTo0"})
	c.ListMembers(ctx, "b1", client.ListOptions{Cursor: "x y", Limit: 5})
	c.RemoveMember(ctx, "b1", "u1")
	c.MarkRead(ctx, "b1", 0)
	c.MarkRead(ctx, "b1", 3)
	want := []arrival{
		{method: "GET", rawPath: "/api/v1/binders/b%2F1/messages", query: "before=9&limit=2"},
		{method: "GET", rawPath: "/api/v1/binders/b1/messages", query: "after=4&cursor=YTo0"},
		{method: "GET", rawPath: "/api/v1/binders/b1/members", query: "cursor=x+y&limit=5"},
		{method: "DELETE", rawPath: "/api/v1/binders/b1/members/u1"},
		{method: "POST", rawPath: "/api/v1/binders/b1/read", body: "{}"},
		{method: "POST", rawPath: "/api/v1/binders/b1/read", body: `{"seq":3}`},
	}
	seen := f.seen()
	if len(seen) != len(want) {
		t.Fatalf("%d requests, want %d", len(seen), len(want))
	}
	for i, w := range want {
		g := seen[i]
		if g.method != w.method || g.rawPath != w.rawPath || g.query != w.query || g.body != w.body {
			t.Errorf("request %d = %s %s?%s %s, want %s %s?%s %s", i, g.method, g.rawPath, g.query, g.body,
				w.method, w.rawPath, w.query, w.body)
		}
	}
}

func TestAllFollowsCursors(t *testing.T) {
	pages := map[string]*client.Page[int]{
		"":  {Items: []int{1, 2}, NextCursor: "a"},
		"a": {Items: []int{3, 4}, NextCursor: "b"},
		"b": {Items: []int{5}},
	}
	var got []int
	for v, err := range client.All(func(cursor string) (*client.Page[int], error) { return pages[cursor], nil }) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if len(got) != 5 || got[4] != 5 {
		t.Errorf("got %v", got)
	}
	boom := errors.New("boom")
	calls := 0
	for _, err := range client.All(func(cursor string) (*client.Page[int], error) {
		calls++
		if cursor == "a" {
			return nil, boom
		}
		return pages[cursor], nil
	}) {
		if err != nil {
			if !errors.Is(err, boom) {
				t.Errorf("err = %v", err)
			}
			break
		}
	}
	if calls != 2 {
		t.Errorf("fetched %d pages, want 2", calls)
	}
}
