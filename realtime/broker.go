// Package realtime delivers outbox events to live subscribers.
//
// The outbox in the database is the only source of events: a change and
// its event commit together. Each node runs one Broker, which reads the
// outbox in order from where it last read and appends each event to a ring
// shared by the node's subscribers; each subscriber reads the ring from its
// own place. A commit on this node wakes the broker at once; on PostgreSQL
// a NOTIFY from any node wakes every broker, and a short poll catches
// anything a wake-up missed. A subscriber that falls a whole ring behind is
// dropped and resumes from its cursor, so a slow consumer never holds up
// the others, and a burst costs no memory per subscriber.
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
	// Ring is how many events the subscribers share (default 8192); a
	// subscriber more than Ring events behind is dropped. Rounded up to a
	// power of two; keep it well above the outbox read batch (500).
	Ring int
	// PerSession bounds the streams one session may hold open at once
	// (default 16).
	PerSession int
	// OnControl is called, in order, for every control event read.
	OnControl func(*atrium.Event)
	// Delivered counts events handed to subscribers (for metrics).
	Delivered func(n int)
}

// readBatch is how many events the broker reads from the outbox at once.
const readBatch = 500

// Broker fans events out to this node's subscribers.
type Broker struct {
	src  Source
	log  *slog.Logger
	opts Options
	wake chan struct{}

	mu   sync.Mutex
	pos  atrium.Pos
	ring []*Delivery // ring[i & mask] holds delivery number i
	mask uint64
	head uint64 // deliveries appended so far
	subs map[*Subscription]struct{}
	// perSession counts the open subscriptions of each session.
	perSession map[string]int
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
	want := opts.Ring
	if want <= 0 {
		want = 8192
	}
	size := 1
	for size < want {
		size <<= 1
	}
	if opts.PerSession <= 0 {
		opts.PerSession = 16
	}
	if opts.OnControl == nil {
		opts.OnControl = func(*atrium.Event) {}
	}
	if opts.Delivered == nil {
		opts.Delivered = func(int) {}
	}
	return &Broker{src: src, log: log, opts: opts, wake: make(chan struct{}, 1),
		ring: make([]*Delivery, size), mask: uint64(size - 1),
		subs: map[*Subscription]struct{}{}, perSession: map[string]int{}, ready: make(chan struct{})}
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
		events, err := b.src.EventsAfter(ctx, pos, readBatch)
		if err != nil {
			return err
		}
		if len(events) > 0 {
			b.publish(events)
		}
		if len(events) < readBatch {
			return nil
		}
	}
}

// publish appends events to the ring, handles control events, wakes the
// subscribers and drops those that have been lapped — all under one lock,
// so Subscribe sees a consistent split between replayed and live events.
func (b *Broker) publish(events []*atrium.Event) {
	batch := make([]*Delivery, 0, len(events))
	for _, e := range events {
		if e.Control() {
			b.opts.OnControl(e)
			batch = append(batch, &Delivery{Event: e})
			continue
		}
		batch = append(batch, &Delivery{Event: e, Frame: Frame(e)})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range batch {
		if d.Event.Control() {
			b.endSessions(d.Event)
		} else {
			b.ring[b.head&b.mask] = d
			b.head++
		}
		b.pos = d.Event.Pos
	}
	for s := range b.subs {
		if b.head-s.next > uint64(len(b.ring)) {
			b.drop(s, "too slow: reconnect with your last cursor")
			continue
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// endSessions drops the subscribers a control event ends; b.mu is held.
func (b *Broker) endSessions(e *atrium.Event) {
	reason := "session ended"
	if e.Type == atrium.EventDeviceWipe {
		reason = ReasonWiped
	}
	for s := range b.subs {
		if s.orgID == e.OrgID && s.endedBy(e) {
			b.drop(s, reason)
		}
	}
}

// ReasonWiped is the reason a subscription ends when its device is asked
// to wipe itself.
const ReasonWiped = "device wiped"

// Delivery is one event and its encoded frame, shared by every subscriber.
type Delivery struct {
	Event *atrium.Event
	Frame []byte
}

// ErrStopped is returned by Subscribe once the broker has stopped.
var ErrStopped = errors.New("realtime: broker stopped")

// ErrTooManyStreams is returned by Subscribe when the session already has
// as many streams open as it may.
var ErrTooManyStreams = errors.New("realtime: too many streams for this session")

// Subscribe registers a subscriber for an organisation's events and
// returns it with the position from which it will receive them: every
// final event after that position, and none before.
func (b *Broker) Subscribe(ctx context.Context, orgID, userID, sessionID string) (*Subscription, atrium.Pos, error) {
	select {
	case <-b.ready:
	case <-ctx.Done():
		return nil, atrium.Pos{}, ctx.Err()
	}
	s := &Subscription{b: b, orgID: orgID, userID: userID, sessionID: sessionID,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return nil, atrium.Pos{}, ErrStopped
	}
	if b.perSession[sessionID] >= b.opts.PerSession {
		return nil, atrium.Pos{}, ErrTooManyStreams
	}
	b.perSession[sessionID]++
	s.next = b.head
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
	if b.perSession[s.sessionID]--; b.perSession[s.sessionID] <= 0 {
		delete(b.perSession, s.sessionID)
	}
	s.reason = reason
	close(s.done)
}

func (b *Broker) closeAll(reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	for s := range b.subs {
		b.drop(s, reason)
	}
}

// Subscription is one subscriber's place in the broker's ring.
type Subscription struct {
	b                        *Broker
	orgID, userID, sessionID string
	next                     uint64 // the next delivery to read; guarded by b.mu
	wake                     chan struct{}
	done                     chan struct{}
	reason                   string
}

// Wake receives a value when new events may be waiting; call Read then.
func (s *Subscription) Wake() <-chan struct{} { return s.wake }

// Read appends to buf the subscriber's organisation's events published
// since its last Read, in order, and returns it; ok is false once the
// subscription has ended (Done is closed).
func (s *Subscription) Read(buf []*Delivery) (_ []*Delivery, ok bool) {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; !ok {
		return buf, false
	}
	for ; s.next < b.head; s.next++ {
		if d := b.ring[s.next&b.mask]; d.Event.OrgID == s.orgID {
			buf = append(buf, d)
		}
	}
	b.opts.Delivered(len(buf))
	return buf, true
}

// Done is closed when the broker dropped the subscriber; Reason says why.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Reason says why the subscription ended; valid after Done is closed.
func (s *Subscription) Reason() string { return s.reason }

// endedBy reports whether a control event ends this subscriber's session.
func (s *Subscription) endedBy(e *atrium.Event) bool {
	switch e.Type {
	case atrium.EventUserDeactivated:
		return e.UserID == s.userID
	case atrium.EventSessionRevoked, atrium.EventDeviceWipe:
		return e.UserID == s.userID && containsSession(e.Payload, s.sessionID)
	}
	return false
}
