// Package httpapi is Atrium's HTTP face: the JSON API under /api/v1, the
// WebSocket event stream, the one-time setup page, health checks, metrics
// and the OpenAPI document. Handlers decode and limit input, call the use
// cases in app, and render results; every error goes through one renderer.
// No permission logic lives here.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/oauthserver"
	"github.com/atrium-dev/atrium/realtime"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is what the HTTP layer needs to know about its deployment.
type Config struct {
	// BehindProxy trusts X-Forwarded-For and X-Forwarded-Proto from the
	// proxies in front: those whose address is in TrustedProxies (default
	// loopback only).
	BehindProxy    bool
	TrustedProxies []netip.Prefix
	// TLS says the server itself terminates TLS (HSTS is sent).
	TLS bool
	// AllowedOrigins are extra origins (host patterns, e.g.
	// "app.example.com") that may open the event stream, for embedding.
	AllowedOrigins []string
	// SetupToken, when set, enables the one-time setup page at
	// /setup?token=….
	SetupToken string
	// PublicURL is where users reach the server (e.g.
	// https://atrium.example.com), for links such as invitations, its
	// addresses at identity providers and the OAuth issuer; empty means the
	// scheme and host of the request.
	PublicURL string
	// DownloadStall is how long a download may wait for the client to take
	// the next bytes before it is cut, so that a client that stops reading
	// does not hold the connection and its buffers for ever; zero means
	// defaultDownloadStall.
	DownloadStall time.Duration
}

// defaultDownloadStall is the download stall allowed unless configured.
const defaultDownloadStall = time.Minute

// downloadStall is the configured download stall.
func (s *Server) downloadStall() time.Duration {
	if s.cfg.DownloadStall > 0 {
		return s.cfg.DownloadStall
	}
	return defaultDownloadStall
}

// Server serves the API.
type Server struct {
	app     *app.App
	broker  *realtime.Broker
	log     *slog.Logger
	cfg     Config
	metrics *metrics
	ready   atomic.Bool
	handler http.Handler
	// paths matches API paths whatever the method, to tell a wrong method
	// (405) from an unknown path (404).
	paths    *http.ServeMux
	gatherer prometheus.Gatherer
	// streams counts the event streams running on goroutines of their own.
	streams sync.WaitGroup
	// setupDone is set once the setup page has created the first org.
	setupDone atomic.Bool
	// oauth is the OAuth authorization server, made at first use.
	oauthMu     sync.Mutex
	oauth       *oauthserver.Server
	oauthFailed time.Time // when it last failed to start
}

// New returns a Server. reg receives the server's metrics and is served
// at /metrics.
func New(a *app.App, broker *realtime.Broker, log *slog.Logger, cfg Config, reg *prometheus.Registry) *Server {
	s := &Server{app: a, broker: broker, log: log, cfg: cfg, gatherer: reg}
	s.metrics = newMetrics(reg, a.Store(), broker)
	s.handler = s.routes()
	return s
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// WaitStreams waits until every event stream has ended; streams end when
// the broker stops.
func (s *Server) WaitStreams() { s.streams.Wait() }

// SetReady marks the server ready (or not) for /readyz.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// EventsDelivered counts events handed to WebSocket subscribers; the broker
// reports to it.
func (s *Server) EventsDelivered(n int) { s.metrics.eventsDelivered.Add(float64(n)) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2e9)
	defer cancel()
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		return
	}
	if err := s.app.Store().Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
