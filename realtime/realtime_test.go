package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
)

// memSource is an in-memory outbox.
type memSource struct {
	mu     sync.Mutex
	events []*atrium.Event
}

func (m *memSource) add(e *atrium.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.Pos = atrium.Pos{ID: int64(len(m.events) + 1)}
	m.events = append(m.events, e)
}

func (m *memSource) EventsAfter(_ context.Context, pos atrium.Pos, limit int) ([]*atrium.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*atrium.Event
	for _, e := range m.events {
		if pos.Less(e.Pos) && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memSource) LastEventPos(context.Context) (atrium.Pos, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return atrium.Pos{ID: int64(len(m.events))}, nil
}

func startBroker(t *testing.T, src Source, opts Options) *Broker {
	t.Helper()
	opts.Poll = time.Hour // only explicit wake-ups
	b := New(src, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

func msgEvent(org, binder string) *atrium.Event {
	return &atrium.Event{Type: atrium.EventMessageCreated, OrgID: org, BinderID: binder, Kind: "message",
		Payload: json.RawMessage(`{"text":"hi"}`)}
}

// reader takes a subscriber's events one at a time.
type reader struct {
	s       *Subscription
	pending []*Delivery // read from the ring, not yet taken
}

// next returns the subscriber's next event, waiting for one.
func (r *reader) next(t *testing.T) *Delivery {
	t.Helper()
	for len(r.pending) == 0 {
		select {
		case <-r.s.Wake():
			batch, ok := r.s.Read(nil)
			if !ok {
				t.Fatalf("subscription ended: %s", r.s.Reason())
			}
			r.pending = batch
		case <-r.s.Done():
			t.Fatalf("subscription ended: %s", r.s.Reason())
		case <-time.After(5 * time.Second):
			t.Fatal("no event delivered")
		}
	}
	d := r.pending[0]
	r.pending = r.pending[1:]
	return d
}

func TestBrokerDeliversInOrderToItsOrganisationOnly(t *testing.T) {
	src := &memSource{}
	src.add(msgEvent("o1", "b1")) // before the broker starts: not delivered
	b := startBroker(t, src, Options{})
	ctx := context.Background()
	s1, pos, err := b.Subscribe(ctx, "o1", "u1", "s1")
	if err != nil || pos.ID != 1 {
		t.Fatalf("subscribe at %v: %v", pos, err)
	}
	s2, _, _ := b.Subscribe(ctx, "o2", "u2", "s2")
	r1, r2 := &reader{s: s1}, &reader{s: s2}
	src.add(msgEvent("o2", "x"))
	src.add(msgEvent("o1", "b1"))
	src.add(msgEvent("o1", "b2"))
	b.Notify()
	if d := r1.next(t); d.Event.Pos.ID != 3 {
		t.Fatalf("first event at %v", d.Event.Pos)
	}
	if d := r1.next(t); d.Event.Pos.ID != 4 {
		t.Fatalf("second event at %v", d.Event.Pos)
	}
	if d := r2.next(t); d.Event.OrgID != "o2" {
		t.Fatalf("other org got %v", d.Event.OrgID)
	}
	if rest, _ := s2.Read(r2.pending); len(rest) > 0 {
		t.Fatalf("another organisation's event leaked: %+v", rest[0].Event)
	}
}

func TestSlowSubscriberIsDroppedOthersContinue(t *testing.T) {
	src := &memSource{}
	b := startBroker(t, src, Options{Ring: 2})
	ctx := context.Background()
	slow, _, _ := b.Subscribe(ctx, "o", "u1", "s1")
	fast, _, _ := b.Subscribe(ctx, "o", "u2", "s2")
	rf := &reader{s: fast}
	for i := 0; i < 3; i++ {
		src.add(msgEvent("o", "b"))
		b.Notify()
		rf.next(t)
	}
	select {
	case <-slow.Done():
		if slow.Reason() == "" {
			t.Fatal("dropped without a reason")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("slow subscriber not dropped")
	}
	if b.Subscribers() != 1 {
		t.Fatalf("%d subscribers left", b.Subscribers())
	}
}

func TestControlEventsEndSessionsAndReachTheHook(t *testing.T) {
	src := &memSource{}
	var mu sync.Mutex
	var seen []string
	b := startBroker(t, src, Options{OnControl: func(e *atrium.Event) {
		mu.Lock()
		seen = append(seen, e.Type)
		mu.Unlock()
	}})
	ctx := context.Background()
	a1, _, _ := b.Subscribe(ctx, "o", "ua", "sa1")
	a2, _, _ := b.Subscribe(ctx, "o", "ua", "sa2")
	other, _, _ := b.Subscribe(ctx, "o", "ub", "sb")
	ro := &reader{s: other}
	src.add(&atrium.Event{Type: atrium.EventSessionRevoked, OrgID: "o", UserID: "ua", Payload: json.RawMessage(`{"session_ids":["sa1"]}`)})
	b.Notify()
	<-a1.Done()
	if a1.Reason() != "session ended" {
		t.Fatalf("reason %q", a1.Reason())
	}
	src.add(&atrium.Event{Type: atrium.EventUserDeactivated, OrgID: "o", UserID: "ua", Payload: json.RawMessage(`{}`)})
	src.add(msgEvent("o", "b"))
	b.Notify()
	<-a2.Done()
	if d := ro.next(t); d.Event.Type != atrium.EventMessageCreated {
		t.Fatalf("control event delivered to a client: %s", d.Event.Type)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("hook saw %v", seen)
	}
}

func TestAudienceFollowsMembership(t *testing.T) {
	a := NewAudience("me", []string{"b1"})
	ev := func(typ, binder, user string) *atrium.Event {
		return &atrium.Event{Type: typ, BinderID: binder, UserID: user}
	}
	steps := []struct {
		e    *atrium.Event
		sees bool
	}{
		{ev(atrium.EventMessageCreated, "b1", ""), true},
		{ev(atrium.EventMessageCreated, "b2", ""), false},
		{ev(atrium.EventMemberAdded, "b2", "other"), false},
		{ev(atrium.EventMemberAdded, "b2", "me"), true},
		{ev(atrium.EventMessageCreated, "b2", ""), true},
		{ev(atrium.EventReadUpdated, "b2", "other"), false},
		{ev(atrium.EventReadUpdated, "b2", "me"), true},
		{ev(atrium.EventMemberRemoved, "b2", "me"), true},
		{ev(atrium.EventMessageCreated, "b2", ""), false},
		{ev(atrium.EventBinderDeleted, "b1", ""), true},
		{ev(atrium.EventMessageEdited, "b1", ""), false},
		{ev(atrium.EventBinderCreated, "b3", "me"), true},
		{ev(atrium.EventSessionRevoked, "", "me"), false},
	}
	for i, s := range steps {
		if got := a.Sees(s.e); got != s.sees {
			t.Fatalf("step %d (%s in %s for %q): sees %v, want %v", i, s.e.Type, s.e.BinderID, s.e.UserID, got, s.sees)
		}
	}
}

func TestFrameShape(t *testing.T) {
	e := msgEvent("o", "b1")
	e.Pos = atrium.Pos{Tx: 7, ID: 9}
	e.CreatedAt = time.UnixMilli(1_800_000_000_000).UTC()
	var f map[string]any
	if err := json.Unmarshal(Frame(e), &f); err != nil {
		t.Fatalf("frame is not JSON: %v", err)
	}
	p, err := atrium.ParseCursor(f["cursor"].(string))
	if err != nil || p != e.Pos || f["type"] != "message.created" || f["binder_id"] != "b1" {
		t.Fatalf("frame %v (cursor %v %v)", f, p, err)
	}
	if m, ok := f["message"].(map[string]any); !ok || m["text"] != "hi" {
		t.Fatalf("object not under its kind: %v", f)
	}
}

func TestStreamsPerSessionAreBounded(t *testing.T) {
	b := startBroker(t, &memSource{}, Options{PerSession: 2})
	ctx := context.Background()
	s1, _, err1 := b.Subscribe(ctx, "o", "u", "sess")
	_, _, err2 := b.Subscribe(ctx, "o", "u", "sess")
	if err1 != nil || err2 != nil {
		t.Fatalf("first two streams: %v %v", err1, err2)
	}
	if _, _, err := b.Subscribe(ctx, "o", "u", "sess"); !errors.Is(err, ErrTooManyStreams) {
		t.Fatalf("third stream: %v", err)
	}
	if _, _, err := b.Subscribe(ctx, "o", "u", "other"); err != nil {
		t.Fatalf("another session's stream: %v", err)
	}
	b.Unsubscribe(s1)
	if _, _, err := b.Subscribe(ctx, "o", "u", "sess"); err != nil {
		t.Fatalf("a stream after one closed: %v", err)
	}
}
