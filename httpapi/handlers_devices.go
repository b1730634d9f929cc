package httpapi

import (
	"net/http"

	"github.com/atrium-dev/atrium"
)

// DeviceKey carries the current session's device key.
type DeviceKey struct {
	DeviceKey string `json:"device_key"`
}

func (s *Server) deviceKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.app.DeviceKey(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, DeviceKey{DeviceKey: k})
}

func (s *Server) confirmWipe(w http.ResponseWriter, r *http.Request) {
	if err := s.app.ConfirmWipe(r.Context()); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, next, err := s.app.ListDevices(r.Context(), r.PathValue("id"), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

func (s *Server) logoutDevices(w http.ResponseWriter, r *http.Request) {
	n, err := s.app.LogoutDevices(r.Context(), r.PathValue("id"), "")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, EndedSessions{Ended: n})
}

func (s *Server) logoutDevice(w http.ResponseWriter, r *http.Request) {
	if _, err := s.app.LogoutDevices(r.Context(), r.PathValue("id"), r.PathValue("session_id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) wipeDevice(w http.ResponseWriter, r *http.Request) {
	sess, err := s.app.WipeDevice(r.Context(), r.PathValue("id"), r.PathValue("session_id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusAccepted, sess)
}

// wipeRoutes are what a device asked to wipe itself may still call: the
// event stream, which gives it the wipe command, and the confirmation.
var wipeRoutes = map[string]bool{"GET /api/v1/events": true, "POST /api/v1/me/wipe": true}

// refuseWiped refuses a wiped device's request to anything else.
func refuseWiped(act *atrium.Actor, pattern string) error {
	if act.WipePending && !wipeRoutes[pattern] {
		return atrium.Errorf(atrium.EUnauthorized, "this device was asked to wipe itself: erase local data, then confirm with POST /api/v1/me/wipe")
	}
	return nil
}
