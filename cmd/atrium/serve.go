package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/clamd"
	"github.com/atrium-dev/atrium/httpapi"
	"github.com/atrium-dev/atrium/internal/node"
	"github.com/atrium-dev/atrium/keyring"
	"github.com/atrium-dev/atrium/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func cmdServe(ctx context.Context, e env, args []string) error {
	cfg, err := parseServe(args, e)
	if err != nil {
		return err
	}
	log := newLogger(e, cfg.logLevel)
	// Libraries that log through the default logger (the OAuth server's)
	// write the same structured lines.
	slog.SetDefault(log)
	st, err := openStore(ctx, cfg.db.config())
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "versions", applied)
	}
	return serve(ctx, e, cfg, st, log)
}

// openStore opens the database and says which one in errors.
func openStore(ctx context.Context, cfg store.Config) (*store.Store, error) {
	st, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return st, nil
}

func newLogger(e env, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: l}))
}

// serve wires the server together and runs it until ctx ends.
func serve(ctx context.Context, e env, cfg *serveConfig, st *store.Store, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	setupToken, err := setupTokenIfNeeded(ctx, st)
	if err != nil {
		return err
	}
	files, _, err := cfg.db.fileStorage(ctx)
	if err != nil {
		return err
	}
	if cfg.clamd != "" {
		if files.Scanner, err = clamd.New(cfg.clamd); err != nil {
			return err
		}
		if err := files.Scanner.Ping(ctx); err != nil {
			// Uploads are refused (503) until it answers.
			log.Error("the malware scanner does not answer; uploads are refused until it does", "clamd", cfg.clamd, "err", err)
		}
	}
	acfg := app.DefaultConfig()
	acfg.Files = files
	acfg.IdPAllowPrivate = cfg.idpPrivate
	acfg.WebAuthn = cfg.webAuthn()
	if err := os.MkdirAll(filepath.Dir(cfg.db.auditKeyPath()), 0o700); err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	if acfg.AuditKey, _, err = keyring.LoadOrCreateSigningKey(cfg.db.auditKeyPath()); err != nil {
		return err
	}
	proxies, _ := cfg.trustedProxies() // checked by validate
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n := node.New(st, log, node.Config{
		App:    acfg,
		Hasher: auth.NewHasher(auth.OWASPParams, runtime.GOMAXPROCS(0)*2),
		HTTP: httpapi.Config{BehindProxy: cfg.behindProxy, TrustedProxies: proxies, TLS: cfg.tls(),
			AllowedOrigins: cfg.origins, SetupToken: setupToken, PublicURL: cfg.publicURL},
		Registry: reg, DatabaseURL: cfg.db.databaseURL, Housekeeping: time.Hour,
	})
	if err := n.App.CheckMasterKeys(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: n.API.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	scheme := "http"
	if cfg.tls() {
		if srv.TLSConfig, err = tlsConfig(cfg, log); err != nil {
			ln.Close()
			return err
		}
		scheme = "https"
	}
	nodeDone := make(chan struct{})
	go func() { n.Run(ctx); close(nodeDone) }()
	if cfg.debugListen != "" {
		go serveDebug(ctx, cfg.debugListen, log)
	}
	base := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	log.Info("atrium serving", "url", base, "database", st.Dialect(), "version", version)
	fmt.Fprintf(e.stdout, "Atrium is serving at %s\n", base)
	if setupToken != "" {
		fmt.Fprintf(e.stdout, "No organisation yet. Open this URL once to create the first one:\n  %s/setup?token=%s\n", base, setupToken)
	}
	n.API.SetReady(true)
	err = runHTTP(ctx, srv, ln, cfg.tls(), log)
	// Close the streams (the broker ends them) before the store closes.
	cancel()
	<-nodeDone
	return err
}

// runHTTP serves until ctx ends, then shuts down gracefully.
func runHTTP(ctx context.Context, srv *http.Server, ln net.Listener, useTLS bool, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() {
		if useTLS {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// serveDebug serves Go's profiler on a loopback address until ctx ends.
func serveDebug(ctx context.Context, addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	log.Info("profiler listening", "addr", addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("profiler", "err", err)
	}
}

// setupTokenIfNeeded returns a fresh one-time setup token when the server
// has no organisation yet.
func setupTokenIfNeeded(ctx context.Context, st *store.Store) (string, error) {
	orgs, err := st.CountOrgs(ctx)
	if err != nil || orgs > 0 {
		return "", err
	}
	token, _ := auth.NewToken()
	return token, nil
}
