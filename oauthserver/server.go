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
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/auth"
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
	// secure: the public URL is https (behind a proxy too), so cookies
	// are marked Secure.
	secure bool
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
	// Tokens and codes are sealed with AES-256-GCM only (no fallback to the
	// library's older unauthenticated format).
	opts = append(opts, op.WithCrypto(op.NewAES256GCMCrypto(key, "atrium-oauth-1")))
	p, err := op.NewProvider(cfg, &storage{app: a, signing: sk}, issuer, opts...)
	if err != nil {
		return nil, err
	}
	s := &Server{app: a, provider: p, log: log, secure: strings.HasPrefix(publicURL, "https://")}
	s.consent = op.NewIssuerInterceptor(p.IssuerFromRequest).Handler(http.HandlerFunc(s.serveConsent))
	return s, nil
}

// maxForm bounds the form of a protocol request.
const maxForm = 64 << 10

// Handler serves the protocol's endpoints (authorize, token, revoke,
// introspect, discovery, keys) and the consent page, under Prefix. Every
// request the protocol refuses is audited.
func (s *Server) Handler() http.Handler {
	proto := http.StripPrefix(Prefix, s.provider)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case ConsentPath:
			s.consent.ServeHTTP(w, r)
			return
		case Prefix + "/authorize/callback":
			// Codes are minted by the consent page itself, in the answer to
			// the browser that consented: never for whoever knows a
			// request's id.
			http.NotFound(w, r)
			return
		}
		// The form is read here, once, so that the refusal can name its
		// client; the protocol reads the same parsed form.
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "the form is malformed or too large", http.StatusBadRequest)
			return
		}
		rec := &recorder{ResponseWriter: w, bind: func(id string) (*http.Cookie, error) { return s.bindBrowser(r, id) }}
		proto.ServeHTTP(rec, r)
		if code, desc, refused := rec.refusal(); refused {
			clientID := r.Form.Get("client_id")
			if id, _, ok := r.BasicAuth(); ok && clientID == "" {
				clientID, _ = url.QueryUnescape(id)
			}
			s.app.AuditOAuthRefusal(r.Context(), clientID, strings.TrimPrefix(r.URL.Path, Prefix), code, desc)
		}
	})
}

// browserCookie binds an authorization request to the browser that
// started it, for the consent page.
const browserCookie = "atrium_oauth_browser"

// bindBrowser makes the cookie of a new request (its value's hash kept
// with the request).
func (s *Server) bindBrowser(r *http.Request, id string) (*http.Cookie, error) {
	token, _ := auth.NewToken()
	if err := s.app.BindOAuthRequest(r.Context(), id, token); err != nil {
		return nil, err
	}
	return &http.Cookie{Name: browserCookie, Value: token, Path: ConsentPath, MaxAge: int(app.OAuthRequestTTL.Seconds()),
		HttpOnly: true, Secure: r.TLS != nil || s.secure, SameSite: http.SameSiteLaxMode}, nil
}

// recorder keeps what tells a refusal apart: the status, the Location of
// a redirect, and the start of the body. A redirect to the consent page
// gets the cookie that binds the request to the browser.
type recorder struct {
	http.ResponseWriter
	status int
	body   []byte
	bind   func(id string) (*http.Cookie, error)
}

func (r *recorder) WriteHeader(status int) {
	if loc, err := url.Parse(r.Header().Get("Location")); err == nil && status/100 == 3 && loc.Path == ConsentPath {
		c, err := r.bind(loc.Query().Get("authRequestID"))
		if err != nil {
			r.Header().Del("Location")
			status = http.StatusServiceUnavailable
		} else {
			http.SetCookie(r.ResponseWriter, c)
		}
	}
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if room := 2048 - len(r.body); room > 0 {
		r.body = append(r.body, b[:min(room, len(b))]...)
	}
	return r.ResponseWriter.Write(b)
}

// refusal returns the OAuth error of a refused request: an error status
// (its JSON error, or the page's text), or a redirect carrying error=.
func (r *recorder) refusal() (code, description string, refused bool) {
	if loc, err := url.Parse(r.Header().Get("Location")); err == nil && loc.Query().Get("error") != "" {
		return loc.Query().Get("error"), loc.Query().Get("error_description"), true
	}
	if r.status < 400 {
		return "", "", false
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(r.body, &e) == nil && e.Error != "" {
		return e.Error, e.Description, true
	}
	return http.StatusText(r.status), strings.TrimSpace(string(r.body[:min(len(r.body), 200)])), true
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

// serveConsent shows the app and the scopes it may be given, and takes
// the user's credentials and decision. Approved, it answers with the code,
// to this browser only.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
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
	if err != nil || req.GrantID != "" {
		http.Error(w, "this authorization request expired, was answered, or is unknown; start again from the app", http.StatusBadRequest)
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
	// The page's form posts here, and its answer leads on to the app.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "+
		cspSource(ar.p.RedirectURI)+"; frame-ancestors 'none'")
	var shown []string
	for _, sc := range ar.p.Scopes {
		if slices.Contains(a.Scopes, sc) {
			shown = append(shown, sc)
		}
	}
	v := consentView{ID: id, App: a.Name, Scopes: shown}
	if r.Method != http.MethodPost {
		s.render(w, http.StatusOK, v)
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		if err := s.app.DenyOAuthRequest(r.Context(), id); err != nil {
			http.Error(w, "the refusal could not be recorded; try again", http.StatusServiceUnavailable)
			return
		}
		op.AuthRequestError(w, r, ar, oidc.ErrAccessDenied().WithDescription("the user refused"), s.provider)
		return
	}
	in := app.ConsentInput{RequestID: id, Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password"), Code: r.PostForm.Get("code")}
	if c, err := r.Cookie(browserCookie); err == nil {
		in.BrowserToken = c.Value
	}
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
	}
	approved, err := s.app.OAuthRequest(r.Context(), id)
	if err != nil {
		http.Error(w, "the authorization request expired; start again from the app", http.StatusBadRequest)
		return
	}
	done, err := newAuthRequest(approved)
	if err != nil {
		http.Error(w, "the authorization request cannot be read", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: "", Path: ConsentPath, MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil || s.secure})
	op.AuthResponse(done, s.provider, w, r)
}

// cspSource is a redirect URI as a Content-Security-Policy source: its
// scheme, host and path, with characters that would end the source
// escaped away.
func cspSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host + strings.Map(func(r rune) rune {
		if r == ';' || r == ',' || r == ' ' || r == '\'' {
			return -1
		}
		return r
	}, u.EscapedPath())
}

func (s *Server) render(w http.ResponseWriter, status int, v consentView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := consentTmpl.Execute(w, v); err != nil {
		s.log.Warn("rendering the consent page", "err", err)
	}
}
