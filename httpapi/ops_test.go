package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/atrium-dev/atrium/internal/testserver"
	"github.com/coder/websocket"
)

func TestHealthReadinessAndMetrics(t *testing.T) {
	w := newRefWorld(t, "sqlite")
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := refDo(t, "GET", w.srv.URL+path, "", nil); r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
	}
	ws := "ws" + strings.TrimPrefix(w.srv.URL, "http") + "/api/v1/events"
	c, _, err := websocket.Dial(context.Background(), ws, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + w.editor}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(websocket.StatusNormalClosure, "")
	refDo(t, "POST", w.srv.URL+"/api/v1/binders/"+w.binder+"/messages", w.owner, []byte(`{"text":"counted"}`))
	if _, _, err := c.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(w.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`atrium_http_requests_total{method="POST",route="/api/v1/binders/{id}/messages",status="201"}`,
		`atrium_http_request_duration_seconds_bucket{method="POST",route="/api/v1/binders/{id}/messages"`,
		`atrium_websockets_open 1`,
		`atrium_event_subscribers 1`,
		`go_sql_max_open_connections{db_name="atrium_sqlite_write"} 1`,
		`go_sql_open_connections{db_name="atrium_sqlite_read"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(string(body), "atrium_events_delivered_total") || strings.Contains(string(body), "atrium_events_delivered_total 0\n") {
		t.Error("delivered events not counted")
	}
}

func TestReadinessWaitsForTheServer(t *testing.T) {
	srv := testserver.New(t, "sqlite")
	srv.API.SetReady(false)
	if r := refDo(t, "GET", srv.URL+"/readyz", "", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz while starting: %d", r.status)
	}
	srv.Store.Close()
	srv.API.SetReady(true)
	if r := refDo(t, "GET", srv.URL+"/readyz", "", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz without a database: %d", r.status)
	}
	if r := refDo(t, "GET", srv.URL+"/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
}
