package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// api speaks the parts of Atrium's HTTP API the benchmark needs.
type api struct {
	base string
	hc   *http.Client
}

// newAPI returns a client of the server at base that opens at most conns
// connections; requests beyond that wait for a free connection (and the
// wait counts in their latency), as behind a proxy's connection limit.
func newAPI(base string, conns int) *api {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &api{base: base, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// session is a signed-in simulated user.
type session struct {
	UserID string
	Token  string
}

// call sends in as JSON and decodes the answer into out; any status other
// than want is an error.
func (a *api) call(ctx context.Context, method, path, token string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(msg))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (a *api) login(ctx context.Context, email, password string) (session, error) {
	in := map[string]string{"email": email, "password": password, "device_name": "atrium bench"}
	var out struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	err := a.call(ctx, "POST", "/api/v1/auth/login", "", in, &out, http.StatusOK)
	return session{UserID: out.User.ID, Token: out.Token}, err
}

func (a *api) createBinder(ctx context.Context, s session, title string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := a.call(ctx, "POST", "/api/v1/binders", s.Token, map[string]string{"title": title}, &out, http.StatusCreated)
	return out.ID, err
}

func (a *api) addMember(ctx context.Context, owner session, binderID, userID, role string) error {
	in := map[string]string{"user_id": userID, "role": role}
	return a.call(ctx, "POST", "/api/v1/binders/"+binderID+"/members", owner.Token, in, nil, http.StatusCreated)
}

// post posts one message and discards the answer.
func (a *api) post(ctx context.Context, s session, binderID, text string) error {
	in := struct {
		Text string `json:"text"`
	}{text}
	return a.call(ctx, "POST", "/api/v1/binders/"+binderID+"/messages", s.Token, in, nil, http.StatusCreated)
}

// metrics scrapes the server's /metrics and returns the samples without
// labels, by name.
func (a *api) metrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", a.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return parseMetrics(string(b)), nil
}

// parseMetrics reads the unlabelled samples of the Prometheus text format.
func parseMetrics(text string) map[string]float64 {
	out := map[string]float64{}
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "#") || strings.Contains(line, "{") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(f[1], &v); err == nil {
			out[f[0]] = v
		}
	}
	return out
}

// openStream opens the event stream as s.
func (a *api) openStream(ctx context.Context, s session) (*websocket.Conn, error) {
	u := "ws" + strings.TrimPrefix(a.base, "http") + "/api/v1/events"
	hdr := http.Header{"Authorization": {"Bearer " + s.Token}}
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		return nil, fmt.Errorf("open event stream: %w", err)
	}
	if resp.Header.Get("Atrium-Cursor") == "" {
		c.CloseNow()
		return nil, fmt.Errorf("open event stream: no Atrium-Cursor header")
	}
	c.SetReadLimit(1 << 20)
	return c, nil
}
