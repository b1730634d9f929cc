package integration_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
	"github.com/atrium-dev/atrium/internal/testserver"
)

// revocationDeadline is how soon a session ended through one node must be
// refused by another. Sessions are cached for 5s per node, so a node that
// missed the revocation would still accept the token well past it.
const revocationDeadline = 1500 * time.Millisecond

// cluster is two nodes, A and B, on one PostgreSQL database (several nodes
// need PostgreSQL: it carries the wake-ups between them).
type cluster struct {
	*world
	a, b *testserver.Server
	anaB *client.Client // Ana signed in through node B
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	w := newWorld(t, "postgres")
	b := testserver.Start(t, w.srv.Config())
	return &cluster{world: w, a: w.srv, b: b, anaB: login(t, b.URL, "ana@example.com")}
}

// TestTwoNodesShareEvents: a client subscribed on node A sees changes made
// through node B, and the other way round.
func TestTwoNodesShareEvents(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ctx := ctxT(t)
	kaiA := subscribe(t, c.kaiC, "")
	anaB := subscribe(t, c.anaB, "")
	c.sync(t, kaiA, anaB)

	m := post(t, c.anaB, c.lobby.ID, "posted through B")
	if ev := expect(t, kaiA, step{atrium.EventMessageCreated, c.lobby.ID})[0]; ev.Message.ID != m.ID {
		t.Fatalf("node A delivered %s", ev.Raw)
	}
	reply := call(c.kaiC.PostMessage(ctx, c.lobby.ID, client.PostMessageInput{Text: "answered through A", ReplyTo: m.ID})).must(t)
	got := expect(t, anaB, step{atrium.EventMessageCreated, c.lobby.ID}, step{atrium.EventMessageCreated, c.lobby.ID})
	if got[0].Message.ID != m.ID || got[1].Message.ID != reply.ID {
		t.Fatalf("node B delivered %s then %s", got[0].Raw, got[1].Raw)
	}
	if ev := expect(t, kaiA, step{atrium.EventMessageCreated, c.lobby.ID})[0]; ev.Message.ID != reply.ID {
		t.Fatalf("node A delivered %s", ev.Raw)
	}
}

// TestRevocationReachesTheOtherNode: a session ended, or a user
// deactivated, through node B has its stream on node A closed with 4001
// and its token refused by node A within about a second.
func TestRevocationReachesTheOtherNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ctx := ctxT(t)

	kaiB := login(t, c.b.URL, "kai@example.com")
	streamA := subscribe(t, c.kaiC, "")
	call(c.kaiC.Me(ctx)).must(t) // node A now holds the session in its cache
	start := time.Now()
	if err := kaiB.EndSession(ctx, currentSession(t, c.kaiC).ID); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, c.kaiC, start)
	wantSessionEnded(t, streamA)
	if _, err := kaiB.Me(ctx); err != nil {
		t.Fatalf("the session on B was ended too: %v", err)
	}

	lee := c.a.CreateUser(t, c.org.ID, "lee@example.com", atrium.KindClient, password)
	leeA := login(t, c.a.URL, "lee@example.com")
	call(c.anaB.AddMember(ctx, c.lobby.ID, client.AddMemberInput{UserID: lee.ID})).must(t)
	leeS := subscribe(t, leeA, "")
	call(leeA.Me(ctx)).must(t)
	start = time.Now()
	call(c.anaB.UpdateUser(ctx, lee.ID, client.UpdateUserInput{Status: client.String(atrium.StatusDeactivated)})).must(t)
	refusedWithin(t, leeA, start)
	wantWiped(t, leeS) // deactivation wipes the devices, on the other node too
}

// refusedWithin polls c's token on its node until it is refused, failing
// if that takes longer than the revocation deadline from start.
func refusedWithin(t *testing.T, c *client.Client, start time.Time) {
	t.Helper()
	for {
		_, err := c.Me(ctxT(t))
		var e *client.Error
		if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			t.Logf("refused after %v", time.Since(start).Round(time.Millisecond))
			return
		}
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		if time.Since(start) > revocationDeadline {
			t.Fatalf("the token was still accepted %v after the revocation", time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
}
