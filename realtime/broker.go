// Package realtime delivers outbox events to live subscribers.
//
// The outbox in the database is the only source of events: a change and
// its event commit together. Each node runs one Broker, which reads the
// outbox in order from where it last read and fans each event out to the
// node's subscribers. A commit on this node wakes the broker at once; on
// PostgreSQL a NOTIFY from any node wakes every broker, and a short poll
// catches anything a wake-up missed. A subscriber that falls too far behind
// is dropped and resumes from its cursor, so a slow consumer never holds
// up the others.
package realtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/atrium-dev/atrium"
)

// Source is the outbox the broker reads.
type Source interface {
	// EventsAfter returns up to limit final events after pos, in order.
	EventsAfter(ctx context.Context, pos atrium.Pos, limit int) ([]*atrium.Event, error)
	// LastEventPos returns the position of the newest final event.
	LastEventPos(ctx context.Context) (atrium.Pos, error)
}

// Options tune a Broker.
type Options struct {
	// Poll is how often the outbox is read without a wake-up.
	Poll time.Duration
	// Buffer is each subscriber's queue length; a subscriber whose queue is
	// full is dropped.
	Buffer int
	// OnControl is called, in order, for every control event read.
	OnControl func(*atrium.Event)
	// Delivered counts events handed to subscribers (for metrics).
	Delivered func(n int)
}

// Broker fans events out to this node's subscribers.
type Broker struct {
	src  Source
	log  *slog.Logger
	opts Options
	wake chan struct{}

	mu   sync.Mutex
	pos  atrium.Pos
	subs map[*Subscription]struct{}
	// stopped is set once Run has ended; no one may subscribe after.
	stopped bool
	// ready is closed once the start position is known.
	ready chan struct{}
}

// New returns a broker over src. Call Run to start it.
func New(src Source, log *slog.Logger, opts Options) *Broker {
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	if opts.OnControl == nil {
		opts.OnControl = func(*atrium.Event) {}
	}
	if opts.Delivered == nil {
		opts.Delivered = func(int) {}
	}
	return &Broker{src: src, log: log, opts: opts, wake: make(chan struct{}, 1),
		subs: map[*Subscription]struct{}{}, ready: make(chan struct{})}
}

// Notify wakes the broker to read the outbox. It never blocks.
func (b *Broker) Notify() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Run reads the outbox until ctx ends, starting from the newest event at
// the time it starts.
func (b *Broker) Run(ctx context.Context) error {
	for {
		pos, err := b.src.LastEventPos(ctx)
		if err == nil {
			b.mu.Lock()
			b.pos = pos
			b.mu.Unlock()
			close(b.ready)
			break
		}
		b.log.Error("event broker: read start position", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(b.opts.Poll):
		}
	}
	t := time.NewTicker(b.opts.Poll)
	defer t.Stop()
	defer b.closeAll("server shutting down")
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-b.wake:
		case <-t.C:
		}
		if err := b.drain(ctx); err != nil && ctx.Err() == nil {
			b.log.Error("event broker: read outbox", "err", err)
		}
	}
}

// drain reads and fans out every event after the broker's position.
func (b *Broker) drain(ctx context.Context) error {
	for {
		b.mu.Lock()
		pos := b.pos
		b.mu.Unlock()
		events, err := b.src.EventsAfter(ctx, pos, 500)
		if err != nil {
			return err
		}
		for _, e := range events {
			b.publish(e)
		}
		if len(events) < 500 {
			return nil
		}
	}
}

// publish hands one event to every subscriber of its organisation and
// advances the position, under one lock so that Subscribe sees a
// consistent split between replayed and live events.
func (b *Broker) publish(e *atrium.Event) {
	if e.Control() {
		b.opts.OnControl(e)
	}
	d := &Delivery{Event: e, Frame: Frame(e)}
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for s := range b.subs {
		if s.orgID != e.OrgID {
			continue
		}
		if e.Control() {
			if s.endedBy(e) {
				b.drop(s, "session ended")
			}
			continue
		}
		select {
		case s.ch <- d:
			n++
		default:
			b.drop(s, "too slow: reconnect with your last cursor")
		}
	}
	b.pos = e.Pos
	b.opts.Delivered(n)
}

// Delivery is one event and its encoded frame, shared by every subscriber.
type Delivery struct {
	Event *atrium.Event
	Frame []byte
}

// Subscribe registers a subscriber for an organisation's events and
// returns it with the position from which it will receive them: every
// final event after that position, and none before.
func (b *Broker) Subscribe(ctx context.Context, orgID, userID, sessionID string) (*Subscription, atrium.Pos, error) {
	select {
	case <-b.ready:
	case <-ctx.Done():
		return nil, atrium.Pos{}, ctx.Err()
	}
	s := &Subscription{orgID: orgID, userID: userID, sessionID: sessionID,
		ch: make(chan *Delivery, b.opts.Buffer), done: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return nil, atrium.Pos{}, ErrStopped
	}
	b.subs[s] = struct{}{}
	return s, b.pos, nil
}

// Unsubscribe removes a subscriber.
func (b *Broker) Unsubscribe(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drop(s, "")
}

// Subscribers returns the number of live subscribers.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// drop removes s with a reason; b.mu must be held.
func (b *Broker) drop(s *Subscription, reason string) {
	if _, ok := b.subs[s]; !ok {
		return
	}
	delete(b.subs, s)
	s.reason = reason
	close(s.done)
}

// ErrStopped is returned by Subscribe once the broker has stopped.
var ErrStopped = errors.New("realtime: broker stopped")

func (b *Broker) closeAll(reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	for s := range b.subs {
		b.drop(s, reason)
	}
}

// Subscription is one subscriber's queue.
type Subscription struct {
	orgID, userID, sessionID string
	ch                       chan *Delivery
	done                     chan struct{}
	reason                   string
}

// C delivers events in order.
func (s *Subscription) C() <-chan *Delivery { return s.ch }

// Done is closed when the broker dropped the subscriber; Reason says why.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Reason says why the subscription ended; valid after Done is closed.
func (s *Subscription) Reason() string { return s.reason }

// endedBy reports whether a control event ends this subscriber's session.
func (s *Subscription) endedBy(e *atrium.Event) bool {
	switch e.Type {
	case atrium.EventUserDeactivated:
		return e.UserID == s.userID
	case atrium.EventSessionRevoked:
		return e.UserID == s.userID && containsSession(e.Payload, s.sessionID)
	}
	return false
}
