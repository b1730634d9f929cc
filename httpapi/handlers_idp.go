package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/auth/samllogin"
	"github.com/atrium-dev/atrium/store"
)

// authPrefix is where the sign-in endpoints of providers are: each under
// its protocol and id (e.g. /api/v1/auth/oidc/{id}/callback).
const authPrefix = "/api/v1/auth/"

// oidcCookiePath covers every OpenID provider's callback.
const oidcCookiePath = "/api/v1/auth/oidc/"

// loginStateCookie binds an OpenID Connect sign-in to the browser that
// started it. SameSite=Lax: the provider's redirect back is a top-level
// navigation from another site.
const loginStateCookie = "atrium_login_state"

// samlStateCookie does the same for SAML, whose IdP posts the response
// back from another site: SameSite=None (which browsers keep only with
// Secure, so SAML sign-ins need TLS, or localhost).
const (
	samlStateCookie = "atrium_saml_state"
	samlCookiePath  = "/api/v1/auth/saml/"
)

// maxProviderBody bounds a provider's registration: inline metadata XML
// up to about half a megabyte (larger metadata comes by idp_metadata_url).
const maxProviderBody = 512 << 10

// IdentityProviderView is a provider as administrators see it, with the
// addresses to give the provider and users.
type IdentityProviderView struct {
	*store.IdentityProvider
	// RedirectURI is what to register at the provider: the OpenID Connect
	// callback, or the SAML assertion consumer service.
	RedirectURI string `json:"redirect_uri"`
	// MetadataURL is this server's SAML metadata for the IdP (its entity id).
	MetadataURL string `json:"metadata_url,omitempty"`
	StartURL    string `json:"start_url"`
}

func (s *Server) idpView(r *http.Request, p *store.IdentityProvider) IdentityProviderView {
	start := s.baseURL(r) + authPrefix + p.Protocol + "/" + p.ID + "/start"
	if p.Protocol == atrium.ProtocolSAML {
		return IdentityProviderView{IdentityProvider: p, RedirectURI: p.Settings.ACSURL, MetadataURL: p.Settings.SPEntityID, StartURL: start}
	}
	return IdentityProviderView{IdentityProvider: p, RedirectURI: p.Settings.CallbackURL, StartURL: start}
}

func (s *Server) createIdentityProvider(w http.ResponseWriter, r *http.Request) {
	var in app.CreateIdentityProviderInput
	if err := decode(r, maxProviderBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	in.AuthBase = s.baseURL(r) + authPrefix
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

// startOIDC and startSAML send the browser to the provider, with the
// sign-in's state in a cookie (which the OpenID Connect callback checks).
func (s *Server) startOIDC(w http.ResponseWriter, r *http.Request) {
	s.startLogin(w, r, atrium.ProtocolOIDC)
}
func (s *Server) startSAML(w http.ResponseWriter, r *http.Request) {
	s.startLogin(w, r, atrium.ProtocolSAML)
}

func (s *Server) startLogin(w http.ResponseWriter, r *http.Request, protocol string) {
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
	start, err := s.app.StartProviderLogin(r.Context(), protocol, r.PathValue("id"), returnTo, q.Get("code_challenge"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if protocol == atrium.ProtocolOIDC {
		http.SetCookie(w, &http.Cookie{Name: loginStateCookie, Value: start.State, Path: oidcCookiePath, MaxAge: 600,
			HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	} else {
		http.SetCookie(w, &http.Cookie{Name: samlStateCookie, Value: start.State, Path: samlCookiePath, MaxAge: 600,
			HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteNoneMode})
	}
	w.Header().Set("Cache-Control", "no-store")
	redirect(w, start.AuthURL)
}

// samlMetadata serves this server's SAML metadata for an IdP.
func (s *Server) samlMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := s.app.SAMLMetadata(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(md)
}

// samlACS takes an IdP's response (HTTP-POST binding) and sends the
// browser on with a login code, as the OpenID Connect callback does.
func (s *Server) samlACS(w http.ResponseWriter, r *http.Request) {
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		writeError(w, r, s.log, atrium.Errorf(atrium.EUnsupported, "an IdP posts its response as application/x-www-form-urlencoded"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, samllogin.MaxResponse+4096)
	if err := r.ParseForm(); err != nil {
		err = formError(err)
		s.app.RefuseSAMLPost(r.Context(), r.PathValue("id"), err.Error())
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	in := app.SAMLResponse{ProviderID: r.PathValue("id"), SAMLResponse: r.PostForm.Get("SAMLResponse"), RelayState: r.PostForm.Get("RelayState")}
	if c, err := r.Cookie(samlStateCookie); err == nil {
		in.BrowserState = c.Value
	}
	done, err := s.app.FinishSAMLLogin(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	redirect(w, done.ReturnTo+"#login_code="+url.QueryEscape(done.LoginCode))
}

// formError maps a form that could not be read to its refusal.
func formError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return atrium.Errorf(atrium.ETooLarge, "the form is larger than %d bytes", tooBig.Limit)
	}
	return atrium.Errorf(atrium.EInvalid, "the form is malformed")
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
	in := app.ProviderCallback{ProviderID: r.PathValue("id"), State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error")}
	if c, err := r.Cookie(loginStateCookie); err == nil {
		in.BrowserState = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: loginStateCookie, Value: "", Path: oidcCookiePath, MaxAge: -1,
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
// path on this server, or an http(s) URL of this server's host, or an
// https URL of a configured origin named exactly (patterns with wildcards,
// fine for the event stream, are not trusted with login codes); the
// default is "/". Anything else would let a link send login codes to
// another site.
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
	if own != nil && strings.EqualFold(u.Host, own.Host) && u.Scheme == own.Scheme {
		return v, nil
	}
	for _, p := range s.cfg.AllowedOrigins {
		if !strings.ContainsAny(p, "*?[\\") && strings.EqualFold(p, u.Host) && u.Scheme == "https" {
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

// samlLogout takes an IdP's single-logout request (HTTP-Redirect or
// HTTP-POST) and answers the IdP through the browser.
func (s *Server) samlLogout(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, samllogin.MaxResponse+4096)
		if err := r.ParseForm(); err != nil {
			writeError(w, r, s.log, formError(err))
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	back, err := s.app.SAMLLogout(r.Context(), r.PathValue("id"), r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	redirect(w, back)
}
