// Package testserver starts real Atrium servers for tests: the whole stack
// (store, use cases, broker, HTTP API) on a free loopback port, over SQLite
// or PostgreSQL, so tests speak HTTP and WebSocket to the real thing.
package testserver

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/blob"
	"github.com/atrium-dev/atrium/httpapi"
	"github.com/atrium-dev/atrium/internal/node"
	"github.com/atrium-dev/atrium/keyring"
	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/store/storetest"
	"github.com/prometheus/client_golang/prometheus"
)

// Server is a running Atrium server.
type Server struct {
	URL   string // e.g. http://127.0.0.1:41234
	App   *app.App
	Store *store.Store
	API   *httpapi.Server

	cfg      store.Config
	srv      *http.Server
	cancel   context.CancelFunc
	done     chan struct{} // the HTTP server has stopped
	nodeDone chan struct{} // the broker has stopped and every stream ended
}

// Options change how a server is started.
type Options struct {
	// AppConfig overrides the use cases' configuration.
	AppConfig *app.Config
	// HTTP overrides the HTTP layer's configuration.
	HTTP httpapi.Config
	// Addr is the address to listen on; default a free loopback port.
	Addr string
}

// New starts a server on a fresh database of the dialect ("sqlite" or
// "postgres"); it stops when the test ends.
func New(t testing.TB, dialect string, opts ...Options) *Server {
	t.Helper()
	return Start(t, storetest.NewConfig(t, dialect), opts...)
}

// Start starts a server on the database cfg names (migrating it), so a
// test can start a second node on the same database, or restart one.
func Start(t testing.TB, cfg store.Config, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	st := storetest.OpenConfig(t, cfg)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	acfg := app.DefaultConfig()
	if o.AppConfig != nil {
		acfg = *o.AppConfig
	}
	// Test identity providers run on loopback; test passkeys sign for
	// localhost.
	acfg.IdPAllowPrivate = true
	if acfg.WebAuthn.RPID == "" {
		acfg.WebAuthn = app.WebAuthnConfig{RPID: "localhost", Origins: []string{"http://localhost", "https://localhost"}}
	}
	if acfg.Files.Blobs == nil {
		limit, scanner := acfg.Files.MaxFileSize, acfg.Files.Scanner
		acfg.Files = localFiles(t, cfg.DataDir)
		acfg.Files.MaxFileSize, acfg.Files.Scanner = limit, scanner
	}
	s := &Server{Store: st, cfg: cfg, done: make(chan struct{})}
	n := node.New(st, log, node.Config{App: acfg, HTTP: o.HTTP, Hasher: auth.NewHasher(auth.TestParams, 4),
		Registry: prometheus.NewRegistry(), DatabaseURL: cfg.URL})
	s.App, s.API = n.App, n.API
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("testserver: listen: %v", err)
	}
	s.URL = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.srv = &http.Server{Handler: s.API.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.nodeDone = make(chan struct{})
	go func() { n.Run(ctx); close(s.nodeDone) }()
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	s.API.SetReady(true)
	t.Cleanup(s.Stop)
	return s
}

// Config returns the database configuration, to start another node or a
// restarted server on the same database.
func (s *Server) Config() store.Config { return s.cfg }

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.URL[len("http://"):] }

// Stop stops the server: open streams are closed and the port is freed.
// It is safe to call more than once.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	<-s.done
	<-s.nodeDone
	s.Store.Close()
}

// Bootstrap creates an organisation with an owner whose password is
// password, as the command line does, and returns both.
func (s *Server) Bootstrap(t testing.TB, orgName, email, password string) (*atrium.Org, *atrium.User) {
	t.Helper()
	o, u, err := s.App.CreateOrg(context.Background(), app.CreateOrgInput{Name: orgName, OwnerEmail: email, OwnerPassword: password})
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return o, u
}

// CreateUser adds a user with a password to an organisation.
func (s *Server) CreateUser(t testing.TB, orgID, email, kind, password string) *atrium.User {
	t.Helper()
	u, err := s.App.CreateUserAsSystem(context.Background(), orgID, app.CreateUserInput{Email: email, Kind: kind, Password: password})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u.User
}

// localFiles keeps a test server's files in its data dir, as serve does.
func localFiles(t testing.TB, dir string) app.FileStorage {
	t.Helper()
	keys, _, err := keyring.LoadOrCreate(filepath.Join(dir, "master.keys"))
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	blobs, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	return app.FileStorage{Blobs: blobs, Keys: keys}
}
