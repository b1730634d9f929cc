package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	var in app.PostMessageInput
	if err := decode(r, maxMessageBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	m, err := s.app.PostMessage(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

// messagePage reads ?after=SEQ or ?before=SEQ, or the opaque ?cursor= a
// previous page returned, and ?limit=.
func messagePage(r *http.Request) (app.MessagePage, error) {
	var p app.MessagePage
	q, err := query(r)
	if err != nil {
		return p, err
	}
	limit, err := intParam(q.Get("limit"), "limit", atrium.MaxListLimit)
	if err != nil {
		return p, err
	}
	p.Limit = int(limit)
	if c := q.Get("cursor"); c != "" {
		return decodeMessageCursor(c, p)
	}
	if p.After, err = intParam(q.Get("after"), "after", 0); err != nil {
		return p, err
	}
	p.Before, err = intParam(q.Get("before"), "before", 0)
	return p, err
}

// A message cursor is "a:SEQ" (continue after) or "b:SEQ" (continue before).
func encodeMessageCursor(p app.MessagePage, next int64) string {
	if next == 0 {
		return ""
	}
	dir := "a:"
	if p.Before > 0 {
		dir = "b:"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(dir + strconv.FormatInt(next, 10)))
}

func decodeMessageCursor(c string, p app.MessagePage) (app.MessagePage, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	dir, num, ok := strings.Cut(string(raw), ":")
	seq, perr := strconv.ParseInt(num, 10, 64)
	if err != nil || !ok || perr != nil || seq < 1 || (dir != "a" && dir != "b") {
		return p, atrium.Errorf(atrium.EInvalid, "malformed cursor")
	}
	if dir == "a" {
		p.After = seq
	} else {
		p.Before = seq
	}
	return p, nil
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	p, err := messagePage(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, next, err := s.app.ListMessages(r.Context(), r.PathValue("id"), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, encodeMessageCursor(p, next)))
}

func (s *Server) editMessage(w http.ResponseWriter, r *http.Request) {
	var in app.EditMessageInput
	if err := decode(r, maxMessageBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	m, err := s.app.EditMessage(r.Context(), r.PathValue("id"), r.PathValue("message_id"), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	m, err := s.app.DeleteMessage(r.Context(), r.PathValue("id"), r.PathValue("message_id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request) {
	var in app.MarkReadInput
	if r.ContentLength != 0 {
		if err := decode(r, maxBody, &in); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	st, err := s.app.MarkRead(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
