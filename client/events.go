package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/coder/websocket"
)

// CursorHeader is the handshake response header carrying the position the
// event stream starts from.
const CursorHeader = "Atrium-Cursor"

// Close codes of the event stream.
const (
	// CloseTooSlow: the client fell behind; it may reconnect and resume.
	CloseTooSlow websocket.StatusCode = 4000
	// CloseSessionEnded: the session was ended (logout, revocation,
	// deactivation); reconnecting with the same token is pointless.
	CloseSessionEnded websocket.StatusCode = 4001
	// CloseWiped: the device was asked to wipe itself: erase its local
	// data (Cache.Erase) and confirm (Client.ConfirmWipe).
	CloseWiped websocket.StatusCode = 4003
)

// ErrDeviceWiped is in the chain of a stream's terminal error when the
// server gave the device the wipe command. See Client.Wipe.
var ErrDeviceWiped = errors.New("atrium: this device was asked to wipe itself")

// ErrSessionEnded is in the chain of a stream's terminal error when the
// server closed it with code 4001 or refused its token (401) on
// reconnection.
var ErrSessionEnded = errors.New("atrium: session ended")

// ErrStreamClosed is what Next returns once the stream was closed by its
// owner.
var ErrStreamClosed = errors.New("atrium: event stream closed")

// Event is one change delivered on the event stream. The changed object is
// in the field named for its kind; binder.deleted carries a Binder with
// only its ID. Binder events carry the binder as every member sees it,
// without the reader's role, read position and unread count.
type Event struct {
	// Cursor is the event's position; pass it as SubscribeOptions.Since to
	// resume after this event.
	Cursor    string    `json:"cursor"`
	Type      string    `json:"type"` // one of the atrium.Event* constants
	BinderID  string    `json:"binder_id"`
	CreatedAt time.Time `json:"created_at"`

	Message *atrium.Message    `json:"message,omitempty"`
	Member  *atrium.Member     `json:"member,omitempty"`
	Binder  *atrium.BinderInfo `json:"binder,omitempty"`
	Read    *ReadState         `json:"read,omitempty"`

	// Raw is the event as received, for kinds this package does not know.
	Raw json.RawMessage `json:"-"`
}

// SubscribeOptions tune an event stream. The zero value streams from now.
type SubscribeOptions struct {
	// Since resumes after the event with this cursor instead of starting
	// from now.
	Since string
	// Buffer is how many received events wait for the reader (default 64).
	// While it is full the stream stops reading from the server, which
	// after a while closes it as too slow; the stream then reconnects and
	// resumes, so a slow reader loses nothing.
	Buffer int
	// MinBackoff and MaxBackoff bound the wait before a reconnection
	// (defaults 250ms and 15s); it doubles after each failed attempt.
	MinBackoff, MaxBackoff time.Duration
	// IdleTimeout ends a connection on which nothing, not even the
	// server's heartbeat ping, arrived for this long, and reconnects
	// (default 75s).
	IdleTimeout time.Duration
}

func (o SubscribeOptions) withDefaults() SubscribeOptions {
	if o.Buffer <= 0 {
		o.Buffer = 64
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(15*time.Second, o.MinBackoff)
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 75 * time.Second
	}
	return o
}

// maxFrame bounds one event frame: a 64 KiB message whose text is escaped
// in JSON can take several times that.
const maxFrame = 4 << 20

// Subscribe opens the event stream with the client's token. It returns once
// the server has accepted the connection: without Since, the stream starts
// after the newest event committed when the server accepted it, so every
// event committed after Subscribe returns will be delivered; a refused
// handshake is
// returned as an *Error. The stream runs until ctx ends, Close is called,
// or it meets a terminal error (see Stream.Err).
func (c *Client) Subscribe(ctx context.Context, opts SubscribeOptions) (*Stream, error) {
	opts = opts.withDefaults()
	sctx, cancel := context.WithCancel(ctx)
	s := &Stream{c: c, opts: opts, cursor: opts.Since, events: make(chan Event, opts.Buffer),
		cancel: cancel, done: make(chan struct{})}
	conn, err := s.dial(sctx)
	if err != nil {
		cancel()
		return nil, err
	}
	go s.run(sctx, conn)
	return s, nil
}

// dial opens one connection, resuming after the stream's cursor. A stream
// that has no cursor yet takes the one the handshake names.
func (s *Stream) dial(ctx context.Context) (*conn, error) {
	q := url.Values{}
	if cur := s.resumeCursor(); cur != "" {
		q.Set("since", cur)
	}
	h := http.Header{}
	s.c.setHeaders(h)
	cn := &conn{idle: s.opts.IdleTimeout}
	ws, resp, err := websocket.Dial(ctx, s.c.url("/api/v1/events", q), &websocket.DialOptions{
		HTTPClient: s.c.hc, HTTPHeader: h, OnPingReceived: cn.pinged,
	})
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 {
			return nil, errorFromResponse(resp)
		}
		return nil, fmt.Errorf("atrium: open event stream: %w", err)
	}
	ws.SetReadLimit(maxFrame)
	cn.ws = ws
	if s.resumeCursor() == "" {
		s.setCursor(resp.Header.Get(CursorHeader))
	}
	return cn, nil
}
