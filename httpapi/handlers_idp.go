package httpapi

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/store"
)

// The callback every OpenID provider sends browsers back to; register it
// at the provider.
const oidcCallbackPath = "/api/v1/auth/oidc/callback"

// loginStateCookie binds a provider sign-in to the browser that started
// it. SameSite=Lax: the provider's redirect back is a top-level
// navigation from another site.
const loginStateCookie = "atrium_login_state"

// IdentityProviderView is a provider as administrators see it, with the
// addresses to give the provider and users.
type IdentityProviderView struct {
	*store.IdentityProvider
	RedirectURI string `json:"redirect_uri"`
	StartURL    string `json:"start_url"`
}

func (s *Server) idpView(r *http.Request, p *store.IdentityProvider) IdentityProviderView {
	base := s.baseURL(r)
	return IdentityProviderView{IdentityProvider: p, RedirectURI: base + oidcCallbackPath,
		StartURL: base + "/api/v1/auth/oidc/" + p.ID + "/start"}
}

func (s *Server) createIdentityProvider(w http.ResponseWriter, r *http.Request) {
	var in app.CreateIdentityProviderInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	in.RedirectURL = s.baseURL(r) + oidcCallbackPath
	p, err := s.app.CreateIdentityProvider(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.idpView(r, p))
}

func (s *Server) listIdentityProviders(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, next, err := s.app.ListIdentityProviders(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	views := make([]IdentityProviderView, len(items))
	for i, it := range items {
		views[i] = s.idpView(r, it)
	}
	writeJSON(w, http.StatusOK, list(views, next))
}

func (s *Server) disableIdentityProvider(w http.ResponseWriter, r *http.Request) {
	if err := s.app.DisableIdentityProvider(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// startOIDC sends the browser to the provider, with the sign-in's state in
// a cookie.
func (s *Server) startOIDC(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	returnTo, err := s.checkReturnTo(r, q.Get("return_to"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	start, err := s.app.StartProviderLogin(r.Context(), r.PathValue("id"), s.baseURL(r)+oidcCallbackPath, returnTo)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginStateCookie, Value: start.State, Path: oidcCallbackPath, MaxAge: 600,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	redirect(w, start.AuthURL)
}

// oidcCallback finishes a provider sign-in and sends the browser back to
// where it started, with a one-time login code in the fragment (which
// browsers never send to servers or in Referer).
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	in := app.ProviderCallback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error")}
	if c, err := r.Cookie(loginStateCookie); err == nil {
		in.BrowserState = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: loginStateCookie, Value: "", Path: oidcCallbackPath, MaxAge: -1,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	done, err := s.app.FinishProviderLogin(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	redirect(w, done.ReturnTo+"#login_code="+url.QueryEscape(done.LoginCode))
}

func (s *Server) exchangeLoginCode(w http.ResponseWriter, r *http.Request) {
	var in app.LoginCodeInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.app.ExchangeLoginCode(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.signedIn(w, r, res)
}

// checkReturnTo accepts where a sign-in may send the browser back to: a
// path on this server, or an http(s) URL of this server's host or of a
// configured origin; the default is "/". Anything else would let a link
// send login codes to another site.
func (s *Server) checkReturnTo(r *http.Request, v string) (string, error) {
	if v == "" {
		return "/", nil
	}
	bad := atrium.Errorf(atrium.EInvalid, "return_to must be a path on this server or an address of an allowed origin, without a fragment")
	u, err := url.Parse(v)
	if err != nil || u.Fragment != "" || strings.Contains(v, "#") || strings.ContainsAny(v, "\\\r\n\t") || u.User != nil {
		return "", bad
	}
	if u.Scheme == "" && u.Host == "" {
		if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") {
			return "", bad
		}
		return v, nil
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", bad
	}
	own, _ := url.Parse(s.baseURL(r))
	if own != nil && strings.EqualFold(u.Host, own.Host) {
		return v, nil
	}
	for _, p := range s.cfg.AllowedOrigins {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Host)); ok && u.Scheme == "https" {
			return v, nil
		}
	}
	return "", bad
}

// redirect answers 302 to loc, with no body.
func redirect(w http.ResponseWriter, loc string) {
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}
