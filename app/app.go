// Package app holds Atrium's use cases. Every way in (the HTTP API, the
// WebSocket stream, the command line, later mail and the SDK) calls these
// methods, so each rule is enforced once.
//
// A use case validates its input, opens one transaction, loads what the
// policy needs, checks the policy, writes the change together with its
// audit entry and its outbox event, and commits. Only after the commit does
// it wake the event broker. A refused attempt is audited in a small
// transaction of its own.
package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/auth"
	"github.com/atrium-dev/atrium/keyring"
	"github.com/atrium-dev/atrium/store"
)

// Config holds the use cases' tunables.
type Config struct {
	// SessionTTL is how long a session lives without use.
	SessionTTL time.Duration
	// InvitationTTL is how long an invitation can be accepted.
	InvitationTTL time.Duration
	// EventRetention is how long outbox events are kept: how far back an
	// event stream can resume.
	EventRetention time.Duration
	// AccountFailures and IPFailures bound failed logins per account and per
	// IP address within FailureWindow.
	AccountFailures int
	IPFailures      int
	FailureWindow   time.Duration
	// FileRetention is how long a deleted file can be restored.
	FileRetention time.Duration
	// Files is where file bodies are kept and how their keys are wrapped;
	// without it, file operations answer EUnavailable.
	Files FileStorage
	// AuditKey signs the audit log's checkpoints; without it none are
	// written.
	AuditKey *keyring.SigningKey
	// ExportWorker prepares requested data exports on this node (on by
	// default); with it off, another node, or PrepareExports, does.
	ExportWorker bool
	// IdPClient talks to identity providers (discovery, tokens, keys);
	// nil means a client bounded in time and response size that reaches
	// only public addresses.
	IdPClient *http.Client
	// IdPAllowPrivate lets identity providers be on private addresses, or
	// on plain http on loopback: for trials and tests only.
	IdPAllowPrivate bool
	// WebAuthn names the server as a relying party, for passkeys.
	WebAuthn WebAuthnConfig
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		SessionTTL:      30 * 24 * time.Hour,
		InvitationTTL:   7 * 24 * time.Hour,
		EventRetention:  30 * 24 * time.Hour,
		FileRetention:   30 * 24 * time.Hour,
		AccountFailures: 10,
		IPFailures:      50,
		FailureWindow:   15 * time.Minute,
		ExportWorker:    true,
	}
}

// App is the set of use cases over one store.
type App struct {
	store  *store.Store
	hasher *auth.Hasher
	log    *slog.Logger
	cfg    Config
	now    func() time.Time
	notify func()

	// thumbs queues thumbnails to make in the background; decodeSlot lets
	// one image be decoded at a time.
	thumbs     chan thumbnailJob
	decodeSlot chan struct{}
	noThumb    versionSet // versions found to yield no thumbnail
	exports    chan struct{}

	acctThrottle *auth.Throttle
	ipThrottle   *auth.Throttle
	// oauthStarts bounds the OAuth authorization requests an address may
	// start (each is kept until it expires).
	oauthStarts *auth.Throttle
	sessions    *sessionCache
	idps        *idpCache
	webauthn    *webauthn.WebAuthn // nil: passkeys not configured
}

// New returns the use cases over s. notify is called after every commit
// that wrote events (it wakes this node's broker); it may be nil. The other
// nodes are told through the store.
func New(s *store.Store, hasher *auth.Hasher, log *slog.Logger, cfg Config, notify func()) *App {
	if notify == nil {
		notify = func() {}
	}
	now := func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
	rp, err := newWebAuthn(cfg.WebAuthn)
	if err != nil {
		log.Error("passkeys are off: the WebAuthn settings are not valid", "err", err)
	}
	return &App{
		webauthn: rp,
		store:    s, hasher: hasher, log: log, cfg: cfg, now: now, notify: notify,
		acctThrottle: auth.NewThrottle(cfg.AccountFailures, cfg.FailureWindow, now),
		ipThrottle:   auth.NewThrottle(cfg.IPFailures, cfg.FailureWindow, now),
		oauthStarts:  auth.NewThrottle(oauthStartsPerWindow, OAuthRequestTTL, now),
		sessions:     newSessionCache(),
		idps:         newIdPCache(cfg.IdPClient, cfg.IdPAllowPrivate),
		thumbs:       make(chan thumbnailJob, 64),
		exports:      make(chan struct{}, 1),
		decodeSlot:   make(chan struct{}, 1),
	}
}

// Store returns the store the use cases run on.
func (a *App) Store() *store.Store { return a.store }

// SetClock replaces the clock (tests only).
func (a *App) SetClock(now func() time.Time) { a.now = now }

// SetAuditKey sets the key that signs audit checkpoints (for tests and
// tools that build an App before loading the key).
func (a *App) SetAuditKey(k *keyring.SigningKey) { a.cfg.AuditKey = k }

// writer is one write transaction of a use case: the store's transaction
// plus the audit entries and events it records.
type writer struct {
	*store.Tx
	ctx    context.Context
	app    *App
	now    time.Time
	audits []*atrium.AuditEntry
	events []*atrium.Event
}

// write runs fn in a transaction; after a successful commit that wrote
// events, the broker is woken.
func (a *App) write(ctx context.Context, fn func(w *writer) error) error {
	var events int
	err := a.store.Tx(ctx, func(tx *store.Tx) error {
		w := &writer{Tx: tx, ctx: ctx, app: a, now: a.now()}
		if err := fn(w); err != nil {
			return err
		}
		events = len(w.events)
		tx.AppendRecords(w.audits, w.events)
		return nil
	})
	if err == nil && events > 0 {
		a.notify()
		a.store.NotifyEvents()
	}
	return err
}

// audit records a successful change made by the actor in ctx. Audit
// entries and events are written when the change's function returns, in
// its transaction.
func (w *writer) audit(orgID, action, targetType, targetID, detail string) error {
	w.record(w.app.auditEntry(w.ctx, orgID, action, targetType, targetID, atrium.OutcomeSuccess, detail, w.now))
	return nil
}

// auditIn is audit for a change in binder binderID, which searches of the
// audit log can then select.
func (w *writer) auditIn(orgID, binderID, action, targetType, targetID, detail string) error {
	e := w.app.auditEntry(w.ctx, orgID, action, targetType, targetID, atrium.OutcomeSuccess, detail, w.now)
	e.BinderID = binderID
	w.record(e)
	return nil
}

// record adds an audit entry to the change.
func (w *writer) record(e *atrium.AuditEntry) { w.audits = append(w.audits, e) }

// event adds to the change an outbox event carrying obj under its kind.
func (w *writer) event(typ, orgID, binderID, userID, kind string, obj any) error {
	payload, err := marshal(obj)
	if err != nil {
		return atrium.Internal("app.event", err)
	}
	w.events = append(w.events, &atrium.Event{Type: typ, OrgID: orgID, BinderID: binderID, UserID: userID,
		Kind: kind, Payload: payload, CreatedAt: w.now})
	return nil
}

func (a *App) auditEntry(ctx context.Context, orgID, action, targetType, targetID, outcome, detail string, now time.Time) *atrium.AuditEntry {
	e := &atrium.AuditEntry{ID: atrium.NewID(), OrgID: orgID, Action: action, TargetType: targetType,
		TargetID: targetID, Outcome: outcome, Detail: detail, CreatedAt: now}
	if act := atrium.ActorFrom(ctx); act != nil {
		e.ActorID, e.IP, e.UserAgent = act.User.ID, act.IP, act.UserAgent
	} else {
		ci := atrium.ClientInfoFrom(ctx)
		e.IP, e.UserAgent = ci.IP, ci.UserAgent
	}
	e.UserAgent = truncate(e.UserAgent, 512)
	e.Detail = truncate(e.Detail, 1024)
	if len(e.TargetID) > 64 {
		e.TargetID = "(malformed)" // an id from a URL path, not worth keeping whole
	}
	if targetType == "binder" {
		e.BinderID = e.TargetID
	}
	return e
}

// deny audits a refused attempt in its own transaction and returns err.
// Only refusals (forbidden, not found) are audited; invalid input is not an
// attempt on anything.
func (a *App) deny(ctx context.Context, err error, orgID, action, targetType, targetID string) error {
	code := atrium.ErrorCode(err)
	if code != atrium.EForbidden && code != atrium.ENotFound && code != atrium.EFeatureDisabled {
		return err
	}
	entry := a.auditEntry(ctx, orgID, action, targetType, targetID, atrium.OutcomeDenied, code, a.now())
	bg := context.WithoutCancel(ctx) // a client that hung up is still audited
	if aerr := a.store.Tx(bg, func(tx *store.Tx) error { tx.AppendRecords([]*atrium.AuditEntry{entry}, nil); return nil }); aerr != nil {
		a.log.Error("audit a refusal", "action", action, "err", aerr)
	}
	return err
}

// actor returns the actor in ctx or EUnauthorized.
func actor(ctx context.Context) (*atrium.Actor, error) {
	a := atrium.ActorFrom(ctx)
	if a == nil || a.User == nil {
		return nil, atrium.Errorf(atrium.EUnauthorized, "authentication required")
	}
	return a, nil
}

// truncate cuts s to at most n bytes without splitting a UTF-8 character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// idempotencyRetention is how long a write's result is kept to answer a
// retry with the same Idempotency-Key.
const idempotencyRetention = 24 * time.Hour

// Maintain does the housekeeping every so often until ctx ends.
func (a *App) Maintain(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.Housekeep(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("housekeeping", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Housekeep purges deleted files and quarantined uploads past their
// retention, applies the retention of messages and audit entries, signs
// audit checkpoints, and forgets what has expired: uploads, exports,
// sign-in nonces, second-factor challenges and passkey ceremonies,
// provider sign-ins and login codes, OAuth requests and tokens, stored
// idempotent results and outbox events.
func (a *App) Housekeep(ctx context.Context) error {
	now := a.now()
	// A failure here must not keep the rest from being cleaned up.
	if _, err := a.PurgeDeletedFiles(ctx); err != nil {
		a.log.Warn("housekeeping: purging deleted files", "err", err)
	}
	if _, err := a.PurgeQuarantined(ctx); err != nil {
		a.log.Warn("housekeeping: purging quarantined uploads", "err", err)
	}
	if err := a.ApplyRetention(ctx); err != nil {
		a.log.Warn("housekeeping: retention", "err", err)
	}
	if _, err := a.CheckpointAudit(ctx); err != nil {
		a.log.Warn("housekeeping: signing audit checkpoints", "err", err)
	}
	if err := a.expireUploads(ctx); err != nil {
		a.log.Warn("housekeeping: forgetting expired uploads", "err", err)
	}
	if err := a.expireExports(ctx); err != nil {
		a.log.Warn("housekeeping: expiring exports", "err", err)
	}
	if err := a.expireNonces(ctx); err != nil {
		a.log.Warn("housekeeping: forgetting sign-in nonces", "err", err)
	}
	if err := a.store.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteChallenge(ctx, "", now) }); err != nil {
		a.log.Warn("housekeeping: forgetting expired sign-in challenges", "err", err)
	}
	if err := a.store.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteCeremoniesBefore(ctx, now) }); err != nil {
		a.log.Warn("housekeeping: forgetting expired passkey ceremonies", "err", err)
	}
	if err := a.store.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteExpiredOAuth(ctx, now) }); err != nil {
		a.log.Warn("housekeeping: forgetting expired OAuth requests and tokens", "err", err)
	}
	if err := a.store.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteLoginFlowsBefore(ctx, now) }); err != nil {
		a.log.Warn("housekeeping: forgetting expired provider sign-ins", "err", err)
	}
	return a.store.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteIdempotentBefore(ctx, now.Add(-idempotencyRetention)); err != nil {
			return err
		}
		if a.cfg.EventRetention <= 0 {
			return nil
		}
		_, err := tx.PruneEvents(ctx, now.Add(-a.cfg.EventRetention))
		return err
	})
}
