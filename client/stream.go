package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Stream is an open event stream. Read it with Next or from Events; it
// reconnects by itself and delivers each event once, in order.
type Stream struct {
	c      *Client
	opts   SubscribeOptions
	events chan Event
	cancel context.CancelFunc
	done   chan struct{}
	closed atomic.Bool

	mu     sync.Mutex
	cursor string // where a reconnection resumes: the last event put on the channel
	taken  string // the last event Next returned
	err    error
}

// Events returns the channel the events arrive on. It is closed when the
// stream ends; Err then says why.
func (s *Stream) Events() <-chan Event { return s.events }

// Done is closed when the stream has ended and its channel is closed.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Next returns the next event, waiting until one arrives, ctx ends (its
// error is returned, and no event is lost) or the stream ends (Err is
// returned, or ErrStreamClosed after Close).
func (s *Stream) Next(ctx context.Context) (Event, error) {
	select {
	case ev, ok := <-s.events:
		if !ok {
			if err := s.Err(); err != nil {
				return Event{}, err
			}
			return Event{}, ErrStreamClosed
		}
		s.mu.Lock()
		s.taken = ev.Cursor
		s.mu.Unlock()
		return ev, nil
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

// Err returns why the stream ended: nil while it runs or after Close; the
// context's error if the context given to Subscribe ended; an error
// matching ErrSessionEnded if the session was ended (websocket.CloseStatus
// of it gives 4001 when the server closed the stream); or the *Error of a
// refused reconnection (for example 400 for a cursor the server does not
// know).
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Cursor returns the cursor of the last event Next returned, or the
// position the stream started from if it returned none yet: resuming from
// it later (SubscribeOptions.Since) misses nothing that Next has not
// returned. A reader of Events keeps each event's own Cursor instead.
func (s *Stream) Cursor() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taken != "" {
		return s.taken
	}
	return s.cursor
}

// resumeCursor is where a reconnection resumes: after the last event put
// on the channel, since the channel keeps the ones not yet read.
func (s *Stream) resumeCursor() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}

func (s *Stream) setCursor(c string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor = c
}

// Close ends the stream and waits until it has stopped. Events still in the
// channel can be read afterwards.
func (s *Stream) Close() error {
	s.closed.Store(true)
	s.cancel()
	<-s.done
	return nil
}

// run delivers events, reconnecting after every recoverable failure, until
// the stream ends.
func (s *Stream) run(ctx context.Context, cn *conn) {
	defer close(s.done)
	defer close(s.events)
	b := &backoff{min: s.opts.MinBackoff, max: s.opts.MaxBackoff}
	for {
		start := time.Now()
		n, err := s.read(ctx, cn)
		if err = terminal(ctx, err); err != nil {
			s.end(err)
			return
		}
		if n > 0 || time.Since(start) > s.opts.MaxBackoff {
			b.reset()
		}
		if cn, err = s.redial(ctx, b); err != nil {
			s.end(err)
			return
		}
	}
}

// redial waits and dials until a connection opens or a terminal error.
func (s *Stream) redial(ctx context.Context, b *backoff) (*conn, error) {
	for {
		if err := sleep(ctx, b.next()); err != nil {
			return nil, err
		}
		cn, err := s.dial(ctx)
		if err == nil {
			return cn, nil
		}
		if err = terminal(ctx, err); err != nil {
			return nil, err
		}
	}
}

// end records why the stream ended; a stream closed by its owner ends
// without an error.
func (s *Stream) end(err error) {
	if s.closed.Load() {
		err = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// read hands the connection's events to the channel until the connection
// fails, and returns how many it delivered and the failure.
func (s *Stream) read(ctx context.Context, cn *conn) (int, error) {
	rctx, cancel := cn.watch(ctx)
	defer cancel()
	defer cn.ws.CloseNow()
	n := 0
	for {
		typ, data, err := cn.ws.Read(rctx)
		if err != nil {
			if ctx.Err() == nil && rctx.Err() != nil {
				err = errIdle
			}
			return n, err
		}
		cn.touch()
		if typ != websocket.MessageText {
			continue
		}
		ev, err := decodeEvent(data)
		if err != nil {
			return n, err
		}
		s.setCursor(ev.Cursor) // before the send: a reader may act on the event at once
		select {
		case s.events <- ev:
			cn.touch()
			n++
		case <-ctx.Done():
			return n, ctx.Err()
		}
	}
}

// errIdle ends a connection on which nothing arrived for too long.
var errIdle = errors.New("atrium: event stream idle")

// decodeError is a frame this client cannot read; resuming would only
// read it again, so it ends the stream.
type decodeError struct{ err error }

// Error implements the error interface.
func (e *decodeError) Error() string { return "atrium: malformed event: " + e.err.Error() }

// Unwrap returns the decoding failure.
func (e *decodeError) Unwrap() error { return e.err }

func decodeEvent(data []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return Event{}, &decodeError{err}
	}
	if ev.Cursor == "" {
		return Event{}, &decodeError{errors.New("no cursor")}
	}
	ev.Raw = data
	return ev, nil
}

// terminal returns the error that ends the stream, or nil when err is a
// failure to recover from by reconnecting: a dropped connection, a close
// for slowness or shutdown, a 5xx, 408 or 429 answer.
func terminal(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch websocket.CloseStatus(err) {
	case CloseSessionEnded:
		return fmt.Errorf("%w: %w", ErrSessionEnded, err)
	case CloseWiped:
		return fmt.Errorf("%w: %w", ErrDeviceWiped, err)
	}
	var ae *Error
	if errors.As(err, &ae) {
		switch {
		case ae.Status == http.StatusUnauthorized:
			return fmt.Errorf("%w: %w", ErrSessionEnded, ae)
		case ae.Status == http.StatusRequestTimeout || ae.Status == http.StatusTooManyRequests || ae.Status >= 500:
			return nil
		}
		return ae
	}
	var de *decodeError
	if errors.As(err, &de) {
		return err
	}
	return nil
}

// backoff is the growing wait between reconnection attempts.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	return jitter(b.cur)
}

func (b *backoff) reset() { b.cur = 0 }

// conn is one WebSocket connection of a stream, with a watchdog that ends
// it when nothing arrives, not even a ping, for the idle timeout.
type conn struct {
	ws    *websocket.Conn
	idle  time.Duration
	timer atomic.Pointer[time.Timer]
}

// watch starts the watchdog and returns the context to read with, which is
// cancelled when the connection goes idle, and the function that stops it.
func (c *conn) watch(ctx context.Context) (context.Context, context.CancelFunc) {
	rctx, cancel := context.WithCancel(ctx)
	t := time.AfterFunc(c.idle, cancel)
	c.timer.Store(t)
	return rctx, func() {
		t.Stop()
		cancel()
	}
}

// touch records that something arrived.
func (c *conn) touch() {
	if t := c.timer.Load(); t != nil {
		t.Reset(c.idle)
	}
}

// pinged is the connection's ping callback: a ping is a sign of life.
func (c *conn) pinged(context.Context, []byte) bool {
	c.touch()
	return true
}
