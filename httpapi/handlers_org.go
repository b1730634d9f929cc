package httpapi

import (
	"net/http"

	"github.com/atrium-dev/atrium/app"
)

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request) {
	o, err := s.app.GetOrg(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) updateOrg(w http.ResponseWriter, r *http.Request) {
	var in app.UpdateOrgInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	o, err := s.app.UpdateOrg(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}
