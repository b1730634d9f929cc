package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/atrium-dev/atrium"
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

func (s *Server) getOrgSettings(w http.ResponseWriter, r *http.Request) {
	o, err := s.app.GetOrgSettings(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) patchOrgSettings(w http.ResponseWriter, r *http.Request) {
	var patch json.RawMessage
	if err := decode(r, maxBody, &patch); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if len(patch) == 0 || patch[0] != '{' {
		writeError(w, r, s.log, atrium.Errorf(atrium.EInvalid, "the body must be a JSON object of settings"))
		return
	}
	o, err := s.app.PatchOrgSettings(r.Context(), patch)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}
