package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
	"github.com/atrium-dev/atrium/oauthserver"
)

// oauthServer returns the authorization server, made at first use (it
// needs the server's key from the store).
func (s *Server) oauthServer(r *http.Request) (*oauthserver.Server, error) {
	s.oauthMu.Lock()
	defer s.oauthMu.Unlock()
	if s.oauth != nil {
		return s.oauth, nil
	}
	unavailable := &atrium.Error{Code: atrium.EUnavailable, Message: "the OAuth server is not available", RetryAfter: 30}
	if time.Since(s.oauthFailed) < 30*time.Second {
		return nil, unavailable // tried a moment ago: not again for every request
	}
	o, err := oauthserver.New(r.Context(), s.app, s.log, s.cfg.PublicURL)
	if err != nil {
		s.oauthFailed = time.Now()
		s.log.Error("the OAuth server cannot start", "err", err)
		return nil, unavailable
	}
	s.oauth = o
	return o, nil
}

// serveOAuth hands the OAuth endpoints (under /oauth) to the
// authorization server.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) {
	o, err := s.oauthServer(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	o.Handler().ServeHTTP(w, r)
}

// oauthMetadata serves the authorization server's metadata (RFC 8414).
func (s *Server) oauthMetadata(w http.ResponseWriter, r *http.Request) {
	o, err := s.oauthServer(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	o.Discovery().ServeHTTP(w, r)
}

// authenticateOAuth returns the actor of an OAuth access token, if token
// is one, checked against the scope the route needs.
func (s *Server) authenticateOAuth(w http.ResponseWriter, r *http.Request, token string) (*atrium.Actor, error) {
	o, err := s.oauthServer(r)
	if err != nil {
		return nil, err
	}
	id, ok := o.TokenID(token)
	if !ok {
		return nil, atrium.Errorf(atrium.EUnauthorized, "the access token is not valid, expired or was revoked")
	}
	act, err := s.app.AuthenticateOAuth(r.Context(), id)
	if err != nil {
		return nil, err
	}
	need := atrium.RouteScope(r.Pattern)
	if need == "" || !slices.Contains(act.Scopes, need) {
		s.app.AuditOAuthRefusal(r.Context(), act.AppID, r.Pattern, "insufficient_scope", "needs "+need)
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+need+`"`)
		if need == "" {
			return nil, atrium.Errorf(atrium.EScope, "this endpoint takes a signed-in session, not an app's token")
		}
		return nil, atrium.Errorf(atrium.EScope, "this needs the %s scope", need)
	}
	return act, nil
}

func (s *Server) createOAuthApp(w http.ResponseWriter, r *http.Request) {
	var in app.CreateOAuthAppInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	a, err := s.app.CreateOAuthApp(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) listOAuthApps(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, next, err := s.app.ListOAuthApps(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

func (s *Server) revokeOAuthApp(w http.ResponseWriter, r *http.Request) {
	if err := s.app.RevokeOAuthApp(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	lister := s.app.ListOrgGrants
	if strings.HasPrefix(r.URL.Path, "/api/v1/me/") {
		lister = s.app.ListMyGrants
	}
	items, next, err := lister(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request) {
	if err := s.app.RevokeGrant(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
