package integration_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/atrium-dev/atrium/realtime"
	"github.com/atrium-dev/atrium/store/storetest"
)

// TestStoppedBrokerTakesNoSubscribers: once a node's broker has stopped
// (the node is shutting down) it closes its subscribers, and it must not
// take new ones: an event stream opened in that moment would otherwise
// stay open without ever receiving an event or being closed. The window
// is too short to hit through HTTP at will, so the broker is driven
// directly.
func TestStoppedBrokerTakesNoSubscribers(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		b := realtime.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)), realtime.Options{})
		ctx, stop := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			b.Run(ctx)
		}()
		before, _, err := b.Subscribe(ctxT(t), "org", "user", "session")
		if err != nil {
			t.Fatal(err)
		}
		stop()
		<-stopped
		<-before.Done() // closed by the stopping broker

		after, _, err := b.Subscribe(ctxT(t), "org", "user", "session")
		if err != nil {
			return // refused: the stream answers 503 and the client retries elsewhere
		}
		select {
		case <-after.Done():
		default:
			t.Fatalf("a stopped broker took a subscriber and will never close it (%d subscribers)", b.Subscribers())
		}
	})
}
