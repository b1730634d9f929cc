// Package oauthserver is Atrium's OAuth 2.0 authorization server for
// third-party apps, on github.com/zitadel/oidc's op package: the
// authorization code flow with PKCE, refresh-token rotation, revocation
// (RFC 7009), introspection (RFC 7662) and discovery metadata, under
// /oauth. The protocol is the library's; this package gives it Atrium's
// apps, users' consent and tokens (from package app), and the consent page.
package oauthserver

import (
	"context"
	"crypto/ed25519"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

// Where the server is: the issuer is the public URL with Prefix, and the
// consent page is at ConsentPath.
const (
	Prefix      = "/oauth"
	ConsentPath = Prefix + "/consent"
)

// Server is the authorization server.
type Server struct {
	app      *app.App
	provider *op.Provider
	log      *slog.Logger
	consent  http.Handler
}

// New makes the server. publicURL fixes the issuer; empty, the issuer
// follows each request's host (then plain http is allowed, for trials).
func New(ctx context.Context, a *app.App, log *slog.Logger, publicURL string) (*Server, error) {
	key, err := a.ServerKey(ctx, "oauth")
	if err != nil {
		return nil, err
	}
	seed, err := a.ServerKey(ctx, "oauth-signing")
	if err != nil {
		return nil, err
	}
	sk := signingKey{id: "atrium-oauth-ed25519-1", key: ed25519.NewKeyFromSeed(seed[:])}
	cfg := &op.Config{CryptoKey: key, CryptoKeyId: "atrium-oauth-1", CodeMethodS256: true, AuthMethodPost: true, GrantTypeRefreshToken: true,
		SupportedScopes: append(append([]string{}, atrium.Scopes...), oidc.ScopeOfflineAccess)}
	issuer := op.IssuerFromHost(Prefix)
	var opts []op.Option
	if publicURL != "" {
		issuer = op.StaticIssuer(strings.TrimRight(publicURL, "/") + Prefix)
	}
	if publicURL == "" || strings.HasPrefix(publicURL, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	opts = append(opts, op.WithLogger(log.With("component", "oauth")))
	p, err := op.NewProvider(cfg, &storage{app: a, signing: sk}, issuer, opts...)
	if err != nil {
		return nil, err
	}
	s := &Server{app: a, provider: p, log: log}
	s.consent = op.NewIssuerInterceptor(p.IssuerFromRequest).Handler(http.HandlerFunc(s.serveConsent))
	return s, nil
}

// Handler serves the protocol's endpoints (authorize, token, revoke,
// introspect, discovery, keys) and the consent page, under Prefix.
func (s *Server) Handler() http.Handler {
	proto := http.StripPrefix(Prefix, s.provider)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ConsentPath {
			s.consent.ServeHTTP(w, r)
			return
		}
		proto.ServeHTTP(w, r)
	})
}

// Discovery serves the authorization server's metadata (RFC 8414).
func (s *Server) Discovery() http.Handler {
	return op.NewIssuerInterceptor(s.provider.IssuerFromRequest).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op.Discover(w, op.CreateDiscoveryConfig(r.Context(), s.provider, s.provider.Storage()))
	}))
}

// TokenID returns the id an access token carries, or false for a string
// that is not one of this server's access tokens.
func (s *Server) TokenID(token string) (string, bool) {
	v, err := s.provider.Crypto().Decrypt(token)
	if err != nil {
		return "", false
	}
	id, _, ok := strings.Cut(v, ":")
	return id, ok && atrium.ValidID(id)
}

//go:embed consent.html
var pages embed.FS

var consentTmpl = template.Must(template.ParseFS(pages, "consent.html"))

// consentView is what the consent page shows.
type consentView struct {
	ID, App, Email, Error string
	Scopes                []string
	NeedCode              bool
}

// serveConsent shows the app and the scopes it asks for, and takes the
// user's credentials and decision.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	id := r.URL.Query().Get("authRequestID")
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "the form is malformed", http.StatusBadRequest)
			return
		}
		id = r.PostForm.Get("id")
	}
	req, err := s.app.OAuthRequest(r.Context(), id)
	if err != nil {
		http.Error(w, "this authorization request expired or is unknown; start again from the app", http.StatusBadRequest)
		return
	}
	a, err := s.app.OAuthApp(r.Context(), req.AppID)
	if err != nil {
		http.Error(w, "this app is not registered any more", http.StatusBadRequest)
		return
	}
	ar, err := newAuthRequest(req)
	if err != nil {
		http.Error(w, "the authorization request cannot be read", http.StatusInternalServerError)
		return
	}
	v := consentView{ID: id, App: a.Name, Scopes: ar.p.Scopes}
	if r.Method != http.MethodPost {
		s.render(w, http.StatusOK, v)
		return
	}
	in := app.ConsentInput{RequestID: id, Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password"),
		Code: r.PostForm.Get("code"), Allow: r.PostForm.Get("decision") == "allow"}
	err = s.app.ConsentToOAuth(r.Context(), in)
	switch {
	case err == app.ErrSecondFactorNeeded:
		v.Email, v.NeedCode, v.Error = in.Email, true, atrium.ErrorMessage(err)
		s.render(w, http.StatusUnauthorized, v)
		return
	case err != nil:
		v.Email, v.Error = in.Email, atrium.ErrorMessage(err)
		if atrium.ErrorCode(err) == atrium.EInternal {
			v.Error = "something went wrong; try again"
		}
		s.render(w, http.StatusUnauthorized, v)
		return
	case !in.Allow:
		op.AuthRequestError(w, r, ar, oidc.ErrAccessDenied().WithDescription("the user refused"), s.provider)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(s.provider)(r.Context(), id), http.StatusFound)
}

func (s *Server) render(w http.ResponseWriter, status int, v consentView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := consentTmpl.Execute(w, v); err != nil {
		s.log.Warn("rendering the consent page", "err", err)
	}
}
