package httpapi

import (
	"net/http"
	"net/url"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, next, err := s.app.ListUsers(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var in app.CreateUserInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	u, err := s.app.CreateUser(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if u.Invitation != nil {
		u.Invitation.Link = s.baseURL(r) + "/invite?token=" + url.QueryEscape(u.Invitation.Token)
	}
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	var in app.UpdateUserInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	u, err := s.app.UpdateUser(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) getPermissions(w http.ResponseWriter, r *http.Request) {
	p, err := s.app.GetPermissions(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) setPermissions(w http.ResponseWriter, r *http.Request) {
	var in atrium.Permissions
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if in == nil {
		writeError(w, r, s.log, atrium.Errorf(atrium.EInvalid, "the body must be a JSON object of feature name → true or false"))
		return
	}
	p, err := s.app.SetPermissions(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	if err := s.app.DeleteUser(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
