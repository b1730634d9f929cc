package httpapi

import (
	"net/http"
)

func (s *Server) requestExport(w http.ResponseWriter, r *http.Request) {
	e, err := s.app.RequestExport(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, e)
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request) {
	e, err := s.app.GetExport(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) downloadExport(w http.ResponseWriter, r *http.Request) {
	e, c, err := s.app.OpenExport(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	name := "atrium-export-" + e.CreatedAt.UTC().Format("2006-01-02") + ".zip"
	s.serveContent(w, r, c, name, "application/zip", e.ID, *e.FinishedAt)
}
