package integration_test

import (
	"fmt"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
	"github.com/atrium-dev/atrium/internal/testserver"
)

// TestResumeAfterRestart: a client that stopped at a cursor, while the
// server was stopped and restarted on the same database and changes were
// made through the restarted server, resumes with since= and gets exactly
// the events it missed, once each, then live ones.
func TestResumeAfterRestart(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		s := subscribe(t, w.kaiC, "")
		w.sync(t, s)
		b := w.lobby
		m1 := post(t, w.anaC, b.ID, "one")
		post(t, w.anaC, b.ID, "two")
		got := expect(t, s, step{atrium.EventMessageCreated, b.ID}, step{atrium.EventMessageCreated, b.ID})
		last := got[1].Cursor
		s.Close()

		w.srv.Stop()
		srv := testserver.Start(t, w.srv.Config())
		ana := newClient(t, srv.URL, client.WithToken(w.anaC.Token()))
		kai := newClient(t, srv.URL, client.WithToken(w.kaiC.Token()))
		m3 := post(t, ana, b.ID, "three")
		call(ana.EditMessage(ctxT(t), b.ID, m1.ID, "one, edited")).must(t)
		m4 := post(t, ana, b.ID, "four")

		s = subscribe(t, kai, last)
		if s.Cursor() != last {
			t.Fatalf("resumed stream starts at %q, want %q", s.Cursor(), last)
		}
		missed := expect(t, s,
			step{atrium.EventMessageCreated, b.ID},
			step{atrium.EventMessageEdited, b.ID},
			step{atrium.EventMessageCreated, b.ID},
		)
		if missed[0].Message.ID != m3.ID || missed[1].Message.ID != m1.ID || missed[2].Message.ID != m4.ID {
			t.Fatalf("missed events carry %s, %s, %s", missed[0].Raw, missed[1].Raw, missed[2].Raw)
		}
		m5 := post(t, ana, b.ID, "five")
		if ev := expect(t, s, step{atrium.EventMessageCreated, b.ID})[0]; ev.Message.ID != m5.ID {
			t.Fatalf("after the missed events came %s, want message %d", ev.Raw, m5.Seq)
		}
	})
}

// TestStreamFollowsARestart: an open stream survives its server stopping
// (which closes it as going away) and starting again, reconnecting by
// itself and delivering what happened meanwhile once. The stream goes
// through a relay that stays closed until the changes are made, so they
// can only reach it by resuming.
func TestStreamFollowsARestart(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		p := newProxy(t, w.srv.Addr())
		s := subscribe(t, newClient(t, p.URL(), client.WithToken(w.kaiC.Token())), "")
		w.sync(t, s)
		m1 := post(t, w.anaC, w.lobby.ID, "before")
		if ev := expect(t, s, step{atrium.EventMessageCreated, w.lobby.ID})[0]; ev.Message.ID != m1.ID {
			t.Fatalf("first event %s", ev.Raw)
		}

		w.srv.Stop()
		p.cut()
		srv := testserver.Start(t, w.srv.Config())
		ana := newClient(t, srv.URL, client.WithToken(w.anaC.Token()))
		var want []string
		for _, text := range []string{"after 1", "after 2", "after 3"} {
			want = append(want, post(t, ana, w.lobby.ID, text).ID)
		}
		p.retarget(srv.Addr())
		p.reopen()
		for i, ev := range expect(t, s,
			step{atrium.EventMessageCreated, w.lobby.ID},
			step{atrium.EventMessageCreated, w.lobby.ID},
			step{atrium.EventMessageCreated, w.lobby.ID},
		) {
			if ev.Message.ID != want[i] {
				t.Fatalf("event %d after the restart is %s", i, ev.Raw)
			}
		}
		live := post(t, ana, w.lobby.ID, "live")
		if ev := expect(t, s, step{atrium.EventMessageCreated, w.lobby.ID})[0]; ev.Message.ID != live.ID {
			t.Fatalf("live event %s", ev.Raw)
		}
	})
}

// TestStreamResumesAfterADroppedConnection: when the network drops the
// stream, events committed while it is down arrive after it reconnects,
// once each, both before any event was received (resuming from the
// handshake's Atrium-Cursor) and after (resuming from the last event).
func TestStreamResumesAfterADroppedConnection(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		// Once a first stream has seen the marker, the server's broker is
		// past it: the stream below starts after it and, until the cut,
		// receives nothing.
		first := subscribe(t, w.kaiC, "")
		w.sync(t, first)
		first.Close()
		b := w.lobby
		p := newProxy(t, w.srv.Addr())
		kai := newClient(t, p.URL(), client.WithToken(w.kaiC.Token()))
		s := subscribe(t, kai, "")
		start := s.Cursor()
		if start == "" {
			t.Fatal("the handshake named no starting cursor")
		}

		for round := range 3 {
			p.cut()
			var want []string
			for i := range 2 {
				want = append(want, post(t, w.anaC, b.ID, fmt.Sprintf("while down %d.%d", round, i)).ID)
			}
			p.reopen()
			for i, ev := range expect(t, s, step{atrium.EventMessageCreated, b.ID}, step{atrium.EventMessageCreated, b.ID}) {
				if ev.Message.ID != want[i] {
					t.Fatalf("round %d: event %d is %s", round, i, ev.Raw)
				}
			}
		}
		live := post(t, w.anaC, b.ID, "live again")
		if ev := expect(t, s, step{atrium.EventMessageCreated, b.ID})[0]; ev.Message.ID != live.ID {
			t.Fatalf("live event %s", ev.Raw)
		}
	})
}
