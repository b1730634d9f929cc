package httpapi

import (
	"net/http"

	"github.com/atrium-dev/atrium/app"
)

func (s *Server) createAPIClient(w http.ResponseWriter, r *http.Request) {
	var in app.CreateAPIClientInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	c, err := s.app.CreateAPIClient(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) listAPIClients(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, next, err := s.app.ListAPIClients(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

func (s *Server) revokeAPIClient(w http.ResponseWriter, r *http.Request) {
	if err := s.app.RevokeAPIClient(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) signatureLogin(w http.ResponseWriter, r *http.Request) {
	var in app.SignatureLoginInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.app.LoginWithSignature(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.signedIn(w, r, res)
}

func (s *Server) listIdentities(w http.ResponseWriter, r *http.Request) {
	items, err := s.app.ListIdentities(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, ""))
}

func (s *Server) linkIdentity(w http.ResponseWriter, r *http.Request) {
	var in app.LinkIdentityInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	e, err := s.app.LinkIdentity(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) unlinkIdentities(w http.ResponseWriter, r *http.Request) {
	if err := s.app.UnlinkIdentities(r.Context(), r.PathValue("id"), r.PathValue("source")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
