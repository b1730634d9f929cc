// Package node wires one Atrium server together — the use cases, the event
// broker and the HTTP API over a store — so that the command and the tests
// run the same assembly.
package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/httpapi"
	"github.com/atrium-dev/atrium/realtime"
	"github.com/atrium-dev/atrium/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is what a node is built from.
type Config struct {
	App    app.Config
	HTTP   httpapi.Config
	Hasher *auth.Hasher
	// Registry receives the node's metrics, served at /metrics.
	Registry *prometheus.Registry
	// DatabaseURL is the PostgreSQL URL the node listens on for other
	// nodes' events; empty on SQLite.
	DatabaseURL string
	// Housekeeping is how often periodic clean-up runs; zero for never.
	Housekeeping time.Duration
}

// Node is one server's parts.
type Node struct {
	App    *app.App
	Broker *realtime.Broker
	API    *httpapi.Server

	store *store.Store
	log   *slog.Logger
	cfg   Config
}

// New wires a node over st. Call Run to start its background work.
func New(st *store.Store, log *slog.Logger, cfg Config) *Node {
	n := &Node{store: st, log: log, cfg: cfg}
	n.Broker = realtime.New(st, log, realtime.Options{
		Poll:      PollInterval(st),
		OnControl: func(e *atrium.Event) { n.App.ControlEvent(e) },
		Delivered: func(count int) { n.API.EventsDelivered(count) },
	})
	n.App = app.New(st, cfg.Hasher, log, cfg.App, n.Broker.Notify)
	n.API = httpapi.New(n.App, n.Broker, log, cfg.HTTP, cfg.Registry)
	return n
}

// Run runs the broker, the listener for other nodes' events, the
// thumbnail maker and the housekeeping until ctx ends; it returns once the broker has stopped and
// every event stream has ended, so the store may then close.
func (n *Node) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() { n.Broker.Run(ctx); close(done) }()
	thumbs := make(chan struct{})
	go func() { n.App.RunThumbnails(ctx); close(thumbs) }()
	exports := make(chan struct{})
	go func() { n.App.RunExports(ctx); close(exports) }()
	usage := make(chan struct{})
	go func() { n.App.RunUsage(ctx, nil); close(usage) }()
	go n.store.ListenEvents(ctx, n.cfg.DatabaseURL, n.log, n.Broker.Notify)
	if n.cfg.Housekeeping > 0 {
		go n.App.Maintain(ctx, n.cfg.Housekeeping)
	}
	<-done
	<-thumbs
	<-exports
	<-usage
	n.API.WaitStreams()
}

// PollInterval is how often the broker reads the outbox without a wake-up:
// often on PostgreSQL, where another node's commit may be seen late, and
// rarely on SQLite, where every commit wakes the broker directly.
func PollInterval(st *store.Store) time.Duration {
	if st.Dialect() == "postgres" {
		return 200 * time.Millisecond
	}
	return time.Second
}
