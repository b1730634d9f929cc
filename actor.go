package atrium

import "context"

// Actor is who is making a request: the signed-in user and their session,
// plus where the request came from. Authentication middleware puts it in the
// context; the use cases read it from there.
type Actor struct {
	User      *User
	SessionID string
	IP        string
	UserAgent string
	// Features is what the user may use (EffectiveFeatures), computed at
	// authentication; nil when not computed.
	Features map[string]bool
	// WipePending: the session's device was asked to wipe itself; it may
	// only receive that command and confirm it.
	WipePending bool
	// Scopes are an OAuth access token's (nil for a session, which may do
	// all its user may); GrantID is the token's grant and AppID its app.
	Scopes  []string
	GrantID string
	AppID   string
}

type ctxKey int

const (
	actorKey ctxKey = iota
	clientKey
)

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFrom returns the actor in ctx, or nil for an anonymous request.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey).(*Actor)
	return a
}

// ClientInfo is where an anonymous request came from (used by login and
// audit before an actor exists).
type ClientInfo struct {
	IP        string
	UserAgent string
	// IdempotencyKey is the client's key for a retried write, if any.
	IdempotencyKey string
}

// WithClientInfo returns a context carrying the request's origin.
func WithClientInfo(ctx context.Context, c ClientInfo) context.Context {
	return context.WithValue(ctx, clientKey, c)
}

// ClientInfoFrom returns the request's origin from ctx.
func ClientInfoFrom(ctx context.Context) ClientInfo {
	c, _ := ctx.Value(clientKey).(ClientInfo)
	return c
}
