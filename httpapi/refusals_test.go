package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/internal/testserver"
	"github.com/atrium-dev/atrium/store/storetest"
	"github.com/coder/websocket"
)

const refPassword = "correct horse battery"

// refWorld is a server with two organisations: Acme (owner, an editor, a
// viewer, an outsider) with one binder, and Other with a binder of its own.
type refWorld struct {
	srv                                *testserver.Server
	owner, editor, viewer, outsider    string // tokens
	otherOwner                         string
	binder, otherBinder                string
	outsiderID, viewerID, otherOwnerID string
	editorID                           string
}

type refResp struct {
	status int
	header http.Header
	body   []byte
	code   string
}

func refDo(t *testing.T, method, url, token string, body []byte, hdr ...string) refResp {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := refResp{status: resp.StatusCode, header: resp.Header, body: b}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil {
		r.code = e.Error.Code
	}
	return r
}

func refLogin(t *testing.T, base, email string) string {
	t.Helper()
	r := refDo(t, "POST", base+"/api/v1/auth/login", "", []byte(`{"email":"`+email+`","password":"`+refPassword+`"}`))
	var out struct{ Token string }
	if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
		t.Fatalf("login %s: %d %s", email, r.status, r.body)
	}
	return out.Token
}

func refID(t *testing.T, r refResp) string {
	t.Helper()
	var out struct{ ID string }
	if r.status >= 300 || json.Unmarshal(r.body, &out) != nil || out.ID == "" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return out.ID
}

func newRefWorld(t *testing.T, dialect string) *refWorld {
	cfg := app.DefaultConfig()
	cfg.AccountFailures = 3
	w := &refWorld{srv: testserver.New(t, dialect, testserver.Options{AppConfig: &cfg})}
	s := w.srv
	org, _ := s.Bootstrap(t, "Acme", "owner@acme.test", refPassword)
	w.editorID = s.CreateUser(t, org.ID, "editor@acme.test", atrium.KindInternal, refPassword).ID
	w.viewerID = s.CreateUser(t, org.ID, "viewer@client.test", atrium.KindClient, refPassword).ID
	w.outsiderID = s.CreateUser(t, org.ID, "outsider@acme.test", atrium.KindInternal, refPassword).ID
	other, _ := s.Bootstrap(t, "Other", "owner@other.test", refPassword)
	w.otherOwnerID = other.ID
	w.owner, w.editor = refLogin(t, s.URL, "owner@acme.test"), refLogin(t, s.URL, "editor@acme.test")
	w.viewer, w.outsider = refLogin(t, s.URL, "viewer@client.test"), refLogin(t, s.URL, "outsider@acme.test")
	w.otherOwner = refLogin(t, s.URL, "owner@other.test")
	api := s.URL + "/api/v1"
	w.binder = refID(t, refDo(t, "POST", api+"/binders", w.owner, []byte(`{"title":"Deal room"}`)))
	w.otherBinder = refID(t, refDo(t, "POST", api+"/binders", w.otherOwner, []byte(`{"title":"Secret"}`)))
	for _, m := range []string{`{"user_id":"` + w.editorID + `","role":"editor"}`, `{"user_id":"` + w.viewerID + `","role":"viewer"}`} {
		if r := refDo(t, "POST", api+"/binders/"+w.binder+"/members", w.owner, []byte(m)); r.status != 201 {
			t.Fatalf("add member: %d %s", r.status, r.body)
		}
	}
	refDo(t, "POST", api+"/binders/"+w.binder+"/messages", w.editor, []byte(`{"text":"first"}`))
	return w
}

// TestBadInputIsRefusedPreciselyAndWritesNothing sends every kind of bad
// input and checks each gets its 4xx JSON error, that no event was written,
// and that the server still serves.
func TestBadInputIsRefusedPreciselyAndWritesNothing(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			w := newRefWorld(t, d)
			api := w.srv.URL + "/api/v1"
			msgs := api + "/binders/" + w.binder + "/messages"
			ctx := context.Background()
			before, err := w.srv.Store.LastEventPos(ctx)
			if err != nil {
				t.Fatal(err)
			}
			big := strings.Repeat("a", atrium.MaxMessageBytes+1)
			cases := []struct {
				name        string
				method, url string
				token       string
				body        []byte
				hdr         []string
				status      int
				code        string
			}{
				{"malformed JSON", "POST", msgs, w.editor, []byte(`{"text":`), nil, 400, "invalid"},
				{"not an object", "POST", msgs, w.editor, []byte(`["text"]`), nil, 400, "invalid"},
				{"trailing data", "POST", msgs, w.editor, []byte(`{"text":"a"} {}`), nil, 400, "invalid"},
				{"empty body", "POST", msgs, w.editor, []byte(``), nil, 400, "invalid"},
				{"unknown field", "POST", msgs, w.editor, []byte(`{"text":"a","html":"<b>"}`), nil, 400, "invalid"},
				{"wrong type", "POST", msgs, w.editor, []byte(`{"text":42}`), nil, 400, "invalid"},
				{"invalid UTF-8", "POST", msgs, w.editor, []byte("{\"text\":\"\xff\xfe\"}"), nil, 400, "invalid"},
				{"blank text", "POST", msgs, w.editor, []byte(`{"text":"   "}`), nil, 400, "invalid"},
				{"text over 64 KiB", "POST", msgs, w.editor, []byte(`{"text":"` + big + `"}`), nil, 413, "too_large"},
				{"body over the limit", "POST", msgs, w.editor, []byte(`{"text":"` + strings.Repeat("a", 600<<10) + `"}`), nil, 413, "too_large"},
				{"wrong media type", "POST", msgs, w.editor, []byte(`{"text":"a"}`), []string{"Content-Type", "text/xml"}, 415, "unsupported"},
				{"form media type", "POST", msgs, w.editor, []byte(`{"text":"a"}`), []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported"},
				{"reply to another binder's message", "POST", msgs, w.editor, []byte(`{"text":"a","reply_to":"` + atrium.NewID() + `"}`), nil, 400, "invalid"},
				{"viewer posts", "POST", msgs, w.viewer, []byte(`{"text":"hi"}`), nil, 403, "forbidden"},
				{"outsider posts", "POST", msgs, w.outsider, []byte(`{"text":"hi"}`), nil, 404, "not_found"},
				{"other org posts", "POST", msgs, w.otherOwner, []byte(`{"text":"hi"}`), nil, 404, "not_found"},
				{"no token", "POST", msgs, "", []byte(`{"text":"hi"}`), nil, 401, "unauthorized"},
				{"garbage token", "POST", msgs, "not-a-token", []byte(`{"text":"hi"}`), nil, 401, "unauthorized"},
				{"unknown token", "POST", msgs, strings.Repeat("A", 43), []byte(`{"text":"hi"}`), nil, 401, "unauthorized"},
				{"bad binder title", "POST", api + "/binders", w.owner, []byte(`{"title":"a\u0000b"}`), nil, 400, "invalid"},
				{"title too long", "POST", api + "/binders", w.owner, []byte(`{"title":"` + strings.Repeat("x", 201) + `"}`), nil, 400, "invalid"},
				{"viewer renames", "PATCH", api + "/binders/" + w.binder, w.viewer, []byte(`{"title":"mine"}`), nil, 403, "forbidden"},
				{"outsider renames", "PATCH", api + "/binders/" + w.binder, w.outsider, []byte(`{"title":"mine"}`), nil, 404, "not_found"},
				{"editor deletes binder", "DELETE", api + "/binders/" + w.binder, w.editor, nil, nil, 403, "forbidden"},
				{"other org deletes binder", "DELETE", api + "/binders/" + w.binder, w.otherOwner, nil, nil, 404, "not_found"},
				{"add other org's user", "POST", api + "/binders/" + w.binder + "/members", w.owner, []byte(`{"user_id":"` + w.otherOwnerID + `"}`), nil, 400, "invalid"},
				{"add with bad role", "POST", api + "/binders/" + w.binder + "/members", w.owner, []byte(`{"user_id":"` + w.outsiderID + `","role":"god"}`), nil, 400, "invalid"},
				{"add member twice", "POST", api + "/binders/" + w.binder + "/members", w.owner, []byte(`{"user_id":"` + w.editorID + `"}`), nil, 409, "conflict"},
				{"editor adds member", "POST", api + "/binders/" + w.binder + "/members", w.editor, []byte(`{"user_id":"` + w.outsiderID + `"}`), nil, 403, "forbidden"},
				{"viewer removes editor", "DELETE", api + "/binders/" + w.binder + "/members/" + w.editorID, w.viewer, nil, nil, 403, "forbidden"},
				{"read past the end", "POST", api + "/binders/" + w.binder + "/read", w.editor, []byte(`{"seq":99}`), nil, 400, "invalid"},
				{"negative limit", "GET", msgs + "?limit=-1", w.editor, nil, nil, 400, "invalid"},
				{"huge limit", "GET", msgs + "?limit=100000", w.editor, nil, nil, 400, "invalid"},
				{"after and before", "GET", msgs + "?after=1&before=3", w.editor, nil, nil, 400, "invalid"},
				{"malformed query", "GET", api + "/binders?cursor=%%%", w.owner, nil, nil, 400, "invalid"},
				{"bad list cursor", "GET", api + "/binders?cursor=AAAA", w.owner, nil, nil, 400, "invalid"},
				{"bad message cursor", "GET", msgs + "?cursor=AAAA", w.editor, nil, nil, 400, "invalid"},
				{"member creates user", "POST", api + "/users", w.editor, []byte(`{"email":"x@acme.test","kind":"internal"}`), nil, 403, "forbidden"},
				{"bad email", "POST", api + "/users", w.owner, []byte(`{"email":"not an email","kind":"internal"}`), nil, 400, "invalid"},
				{"bad kind", "POST", api + "/users", w.owner, []byte(`{"email":"x@acme.test","kind":"robot"}`), nil, 400, "invalid"},
				{"duplicate email", "POST", api + "/users", w.owner, []byte(`{"email":"editor@acme.test","kind":"internal","password":"` + refPassword + `"}`), nil, 409, "conflict"},
				{"short password", "POST", api + "/users", w.owner, []byte(`{"email":"y@acme.test","kind":"internal","password":"short"}`), nil, 400, "invalid"},
				{"member changes org", "PATCH", api + "/org", w.editor, []byte(`{"name":"Mine"}`), nil, 403, "forbidden"},
				{"unknown org setting", "PATCH", api + "/org", w.owner, []byte(`{"settings":{"default_locale":"en","colour":"red"}}`), nil, 400, "invalid"},
				{"bad locale", "PATCH", api + "/org", w.owner, []byte(`{"settings":{"default_locale":"xx"}}`), nil, 400, "invalid"},
				{"deactivate other org's user", "PATCH", api + "/users/" + w.otherOwnerID, w.owner, []byte(`{"status":"deactivated"}`), nil, 404, "not_found"},
				{"end someone else's session", "DELETE", api + "/me/sessions/" + atrium.NewID(), w.editor, nil, nil, 404, "not_found"},
				{"events: malformed cursor", "GET", api + "/events?since=%21%21", w.editor, nil, nil, 400, "invalid"},
				{"events: cursor never issued", "GET", api + "/events?since=" + atrium.Pos{Tx: before.Tx + 1000, ID: before.ID + 1000}.Cursor(), w.editor, nil, nil, 400, "invalid"},
				{"events: no token", "GET", api + "/events", "", nil, nil, 401, "unauthorized"},
				{"unknown endpoint", "GET", api + "/nothing", w.owner, nil, nil, 404, "not_found"},
				{"wrong method", "PUT", api + "/binders/" + w.binder, w.owner, nil, nil, 405, "method_not_allowed"},
			}
			for _, c := range cases {
				r := refDo(t, c.method, c.url, c.token, c.body, c.hdr...)
				if r.status != c.status || r.code != c.code {
					t.Errorf("%s: got %d %q (%s), want %d %q", c.name, r.status, r.code, r.body, c.status, c.code)
				}
				if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
					t.Errorf("%s: Content-Type %q", c.name, r.header.Get("Content-Type"))
				}
			}
			after, _ := w.srv.Store.LastEventPos(ctx)
			if after != before {
				t.Fatalf("refused requests wrote events: %v -> %v", before, after)
			}
			list := refDo(t, "GET", msgs, w.editor, nil)
			if n := strings.Count(string(list.body), `"seq":`); list.status != 200 || n != 1 {
				t.Fatalf("refused posts wrote messages: %d messages (%s)", n, list.body)
			}
			if r := refDo(t, "POST", msgs, w.editor, []byte(`{"text":"still serving"}`)); r.status != 201 {
				t.Fatalf("server stopped serving: %d %s", r.status, r.body)
			}
		})
	}
}

// TestOutsidersCannotTellABinderExists compares what an outsider, another
// organisation and a random id get: the same 404 body, never a title.
func TestOutsidersCannotTellABinderExists(t *testing.T) {
	w := newRefWorld(t, "sqlite")
	api := w.srv.URL + "/api/v1"
	var bodies []string
	for _, probe := range []struct{ token, binder string }{
		{w.outsider, w.binder}, {w.otherOwner, w.binder}, {w.outsider, atrium.NewID()}, {w.outsider, "not-an-id"},
	} {
		for _, path := range []string{"", "/members", "/messages"} {
			r := refDo(t, "GET", api+"/binders/"+probe.binder+path, probe.token, nil)
			if r.status != 404 || strings.Contains(string(r.body), "Deal room") {
				t.Fatalf("probe %s%s: %d %s", probe.binder, path, r.status, r.body)
			}
			bodies = append(bodies, path+string(r.body))
		}
	}
	for i := 3; i < len(bodies); i++ {
		if bodies[i] != bodies[i%3] {
			t.Fatalf("404 bodies differ, so existence leaks: %q vs %q", bodies[i], bodies[i%3])
		}
	}
	r := refDo(t, "GET", api+"/binders", w.outsider, nil)
	if strings.Contains(string(r.body), w.binder) {
		t.Fatal("an outsider's binder list shows the binder")
	}
}

func TestLoginAnswersAlikeAndThrottles(t *testing.T) {
	w := newRefWorld(t, "sqlite")
	login := w.srv.URL + "/api/v1/auth/login"
	wrong := refDo(t, "POST", login, "", []byte(`{"email":"editor@acme.test","password":"wrong password"}`))
	unknown := refDo(t, "POST", login, "", []byte(`{"email":"nobody@acme.test","password":"wrong password"}`))
	if wrong.status != 401 || unknown.status != 401 || string(wrong.body) != string(unknown.body) {
		t.Fatalf("wrong password %d %s; unknown email %d %s", wrong.status, wrong.body, unknown.status, unknown.body)
	}
	// The account allows 3 failures in this test server; two were spent above on two accounts.
	refDo(t, "POST", login, "", []byte(`{"email":"editor@acme.test","password":"wrong password"}`))
	refDo(t, "POST", login, "", []byte(`{"email":"editor@acme.test","password":"wrong password"}`))
	r := refDo(t, "POST", login, "", []byte(`{"email":"editor@acme.test","password":"`+refPassword+`"}`))
	if r.status != 429 || r.code != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("throttled login: %d %s Retry-After=%q", r.status, r.body, r.header.Get("Retry-After"))
	}
	// Other accounts are not affected.
	if tok := refLogin(t, w.srv.URL, "viewer@client.test"); tok == "" {
		t.Fatal("no token")
	}
}

func TestRevokedExpiredAndDeactivatedTokensAreRefused(t *testing.T) {
	w := newRefWorld(t, "sqlite")
	api := w.srv.URL + "/api/v1"
	if r := refDo(t, "POST", api+"/auth/logout", w.editor, nil); r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if r := refDo(t, "GET", api+"/me", w.editor, nil); r.status != 401 {
		t.Fatalf("after logout: %d", r.status)
	}
	if r := refDo(t, "PATCH", api+"/users/"+w.viewerID, w.owner, []byte(`{"status":"deactivated"}`)); r.status != 200 {
		t.Fatalf("deactivate: %d %s", r.status, r.body)
	}
	if r := refDo(t, "GET", api+"/me", w.viewer, nil); r.status != 401 {
		t.Fatalf("deactivated user's token: %d", r.status)
	}
	r := refDo(t, "POST", api+"/auth/login", "", []byte(`{"email":"viewer@client.test","password":"`+refPassword+`"}`))
	if r.status != 401 || r.code != "unauthorized" {
		t.Fatalf("deactivated user's login: %d %s", r.status, r.body)
	}
	w.srv.App.SetClock(func() time.Time { return time.Now().Add(31 * 24 * time.Hour) })
	if r := refDo(t, "GET", api+"/me", w.outsider, nil); r.status != 401 {
		t.Fatalf("expired token: %d", r.status)
	}
}

func TestEventStreamRefusesForeignOrigins(t *testing.T) {
	w := newRefWorld(t, "sqlite")
	ws := "ws" + strings.TrimPrefix(w.srv.URL, "http") + "/api/v1/events"
	hdr := http.Header{"Authorization": {"Bearer " + w.editor}, "Origin": {"https://evil.example"}}
	_, resp, err := websocket.Dial(context.Background(), ws, &websocket.DialOptions{HTTPHeader: hdr})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("foreign origin: err %v resp %v", err, resp)
	}
	hdr.Set("Origin", w.srv.URL)
	c, resp, err := websocket.Dial(context.Background(), ws, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("own origin: %v", err)
	}
	if resp.Header.Get("Atrium-Cursor") == "" {
		t.Fatal("no Atrium-Cursor header on the handshake")
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestStreamsPerSessionAreLimited(t *testing.T) {
	w := newRefWorld(t, "sqlite")
	ws := "ws" + strings.TrimPrefix(w.srv.URL, "http") + "/api/v1/events"
	dial := func() (*websocket.Conn, *http.Response, error) {
		return websocket.Dial(context.Background(), ws, &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer " + w.editor}}})
	}
	var open []*websocket.Conn
	defer func() {
		for _, c := range open {
			c.Close(websocket.StatusNormalClosure, "")
		}
	}()
	for i := 0; i < 16; i++ {
		c, _, err := dial()
		if err != nil {
			t.Fatalf("stream %d: %v", i+1, err)
		}
		open = append(open, c)
	}
	_, resp, err := dial()
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("seventeenth stream: %v %v", err, resp)
	}
	if _, _, err := websocket.Dial(context.Background(), ws, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + w.owner}}}); err != nil {
		t.Fatalf("another session's stream: %v", err)
	}
}
