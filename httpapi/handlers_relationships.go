package httpapi

import (
	"net/http"

	"github.com/atrium-dev/atrium/app"
)

func (s *Server) listRelationships(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q, _ := query(r) // checked by page
	items, next, err := s.app.ListRelationships(r.Context(), q.Get("client"), q.Get("internal"), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

func (s *Server) createRelationship(w http.ResponseWriter, r *http.Request) {
	var in app.RelationshipInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	rel, err := s.app.CreateRelationship(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, rel)
}

func (s *Server) deleteRelationship(w http.ResponseWriter, r *http.Request) {
	if err := s.app.DeleteRelationship(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) explainContact(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	d, err := s.app.ExplainContact(r.Context(), q.Get("from"), q.Get("to"), q.Get("action"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) directory(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q, _ := query(r)
	items, next, err := s.app.Directory(r.Context(), q.Get("q"), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}
