package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/realtime"
	"github.com/coder/websocket"
)

// Stream tunables.
const (
	heartbeat    = 25 * time.Second
	writeTimeout = 10 * time.Second
	replayBatch  = 500
)

// WebSocket close codes of the event stream (the 4000 range is for
// applications).
const (
	closeTooSlow      websocket.StatusCode = 4000
	closeSessionEnded websocket.StatusCode = 4001
	// closeWiped tells a device to erase its local data and confirm
	// (POST /api/v1/me/wipe): the remote wipe command.
	closeWiped websocket.StatusCode = 4003
)

// wipeReason is the close reason of the wipe command.
const wipeReason = "device wiped: erase local data, then confirm"

// CursorHeader carries, on the handshake response, the position the stream
// starts from, so a client that sees no event can still resume from there.
const CursorHeader = "Atrium-Cursor"

// events upgrades to the WebSocket event stream. It first replays every
// event after ?since= that the user may see, then delivers live events,
// never one twice. Refusals (bad cursor, bad origin) happen before the
// upgrade, as JSON errors.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q, err := query(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	since, resume, err := s.app.StreamFrom(ctx, q.Get("since"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if !isWebSocketUpgrade(r) {
		writeError(w, r, s.log, atrium.Errorf(atrium.EInvalid, "this endpoint takes a WebSocket upgrade"))
		return
	}
	if !s.originAllowed(r) {
		writeError(w, r, s.log, atrium.Errorf(atrium.EForbidden, "this origin may not open the event stream"))
		return
	}
	act := atrium.ActorFrom(ctx)
	if act.WipePending {
		s.sendWipe(w, r)
		return
	}
	sub, live, err := s.broker.Subscribe(ctx, act.User.OrgID, act.User.ID, act.SessionID)
	if errors.Is(err, realtime.ErrTooManyStreams) {
		writeError(w, r, s.log, &atrium.Error{Code: atrium.ERateLimited, RetryAfter: 5,
			Message: "this session has too many event streams open; close one first"})
		return
	}
	if err != nil {
		writeError(w, r, s.log, atrium.Errorf(atrium.EUnavailable, "the event stream is not ready"))
		return
	}
	c, start, err := s.accept(w, r, sub, resume, since, live)
	if err != nil {
		s.broker.Unsubscribe(sub)
		return
	}
	// The stream runs on a goroutine of its own so that this handler's
	// goroutine, with the stack the request grew, ends: an idle stream then
	// holds only what it needs.
	s.metrics.websockets.Inc()
	s.streams.Add(1)
	go func() {
		defer s.streams.Done()
		defer s.metrics.websockets.Dec()
		defer s.broker.Unsubscribe(sub)
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("event stream failed", "panic", p)
				c.Close(websocket.StatusInternalError, "internal error")
			}
		}()
		st := &stream{s: s, c: c, sub: sub, last: start}
		code, reason := st.run(c.CloseRead(context.WithoutCancel(ctx)), resume, start, live)
		c.Close(code, reason)
	}()
}

// accept finishes the checks that need the subscription and upgrades the
// connection; on an error it has answered.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, sub *realtime.Subscription, resume bool, since, live atrium.Pos) (*websocket.Conn, atrium.Pos, error) {
	ctx := r.Context()
	// A revocation between authentication and subscription would have
	// been missed by the subscription: look once more, past the cache.
	wipe, err := s.app.CheckSession(ctx, ctx.Value(tokenKey{}).(string))
	if err != nil {
		writeError(w, r, s.log, err)
		return nil, atrium.Pos{}, err
	}
	if wipe {
		s.sendWipe(w, r)
		return nil, atrium.Pos{}, errors.New("device wiped")
	}
	start, err := streamStart(ctx, s, resume, since, live)
	if err != nil {
		writeError(w, r, s.log, err)
		return nil, atrium.Pos{}, err
	}
	w.Header().Set(CursorHeader, start.Cursor())
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.AllowedOrigins})
	if err != nil {
		return nil, atrium.Pos{}, err // Accept has answered (e.g. 403 for a foreign origin)
	}
	return c, start, nil
}

// sendWipe upgrades the connection of a device asked to wipe itself only
// to give it the wipe command, and closes it.
func (s *Server) sendWipe(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.AllowedOrigins})
	if err != nil {
		return // Accept has answered
	}
	c.Close(closeWiped, wipeReason)
}

// streamStart is where a stream begins: after the client's cursor when it
// resumes, else at the present — the newest committed event, which the
// broker may not have fanned out yet; events up to there are skipped.
func streamStart(ctx context.Context, s *Server, resume bool, since, live atrium.Pos) (atrium.Pos, error) {
	if resume {
		return since, nil
	}
	now, err := s.app.LastEventPos(ctx)
	if err != nil {
		return atrium.Pos{}, err
	}
	if live.Less(now) {
		return now, nil
	}
	return live, nil
}

// stream is one open event stream.
type stream struct {
	s        *Server
	c        *websocket.Conn
	sub      *realtime.Subscription
	audience *realtime.Audience
	last     atrium.Pos // the last position delivered or skipped
	buf      []*realtime.Delivery
}

// run replays, then relays live events until the connection or the
// subscription ends; it returns the close code and reason.
func (st *stream) run(ctx context.Context, resume bool, start, live atrium.Pos) (websocket.StatusCode, string) {
	ids, err := st.s.app.MyBindersAt(ctx, start)
	if err != nil {
		return websocket.StatusInternalError, "internal error"
	}
	st.audience = realtime.NewAudience(atrium.ActorFrom(ctx).User.ID, ids)
	if resume {
		if err := st.replay(ctx, live); err != nil {
			return closeFor(err)
		}
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return websocket.StatusNormalClosure, ""
		case <-st.sub.Done():
			return closeForReason(st.sub.Reason())
		case <-st.sub.Wake():
			if err := st.relay(ctx); err != nil {
				return closeFor(err)
			}
		case <-tick.C:
			wipe, err := st.s.app.CheckSession(ctx, ctx.Value(tokenKey{}).(string))
			if atrium.ErrorCode(err) == atrium.EUnauthorized {
				return closeSessionEnded, "session ended"
			}
			if wipe {
				return closeWiped, wipeReason
			}
			go st.ping(ctx)
		}
	}
}

// replay sends the stored events after st.last up to the live position.
func (st *stream) replay(ctx context.Context, live atrium.Pos) error {
	for st.last.Less(live) {
		events, err := st.s.app.EventsAfter(ctx, st.last, replayBatch)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		for _, e := range events {
			if live.Less(e.Pos) {
				cancel()
				return nil
			}
			if err := st.deliver(wctx, e, nil); err != nil {
				cancel()
				return err
			}
		}
		cancel()
		if len(events) < replayBatch {
			return nil
		}
	}
	return nil
}

// relay sends the live events waiting in the subscription, with one write
// deadline for the lot.
func (st *stream) relay(ctx context.Context) error {
	batch, ok := st.sub.Read(st.buf[:0])
	st.buf = batch[:0]
	if !ok || len(batch) == 0 {
		return nil // an ended subscription is seen on Done
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	for _, d := range batch {
		if err := st.deliver(wctx, d.Event, d.Frame); err != nil {
			return err
		}
	}
	clear(batch)
	return nil
}

// deliver writes one event if the user may see it and it is new; ctx
// carries the write deadline.
func (st *stream) deliver(ctx context.Context, e *atrium.Event, frame []byte) error {
	if !st.last.Less(e.Pos) {
		return nil
	}
	st.last = e.Pos
	if !st.audience.Sees(e) {
		return nil
	}
	if frame == nil {
		frame = realtime.Frame(e)
	}
	return st.c.Write(ctx, websocket.MessageText, frame)
}

func (st *stream) ping(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := st.c.Ping(pctx); err != nil && ctx.Err() == nil {
		st.c.Close(websocket.StatusPolicyViolation, "no pong")
	}
}

func closeFor(err error) (websocket.StatusCode, string) {
	if errors.Is(err, context.DeadlineExceeded) {
		return closeTooSlow, "too slow: reconnect with your last cursor"
	}
	if errors.Is(err, context.Canceled) {
		return websocket.StatusNormalClosure, ""
	}
	return websocket.StatusInternalError, "internal error"
}

func closeForReason(reason string) (websocket.StatusCode, string) {
	switch reason {
	case "session ended":
		return closeSessionEnded, reason
	case realtime.ReasonWiped:
		return closeWiped, wipeReason
	case "server shutting down":
		return websocket.StatusGoingAway, reason
	}
	return closeTooSlow, reason
}

// originAllowed reports whether a browser page's origin may open the
// stream: the server's own origin or a configured one. Clients that send
// no Origin (not browsers) are allowed; they hold a token, not a cookie.
// The WebSocket library checks the same again; this check answers first,
// in the API's error shape.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range s.cfg.AllowedOrigins {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Host)); ok {
			return true
		}
	}
	return false
}

// isWebSocketUpgrade reports whether r asks for a WebSocket upgrade.
func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
