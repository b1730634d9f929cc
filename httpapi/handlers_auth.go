package httpapi

import (
	"net/http"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in app.LoginInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.app.Login(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.signedIn(w, r, res)
}

// signedIn answers a sign-in: the session, and its token in a cookie for
// browsers' event streams; or the second factor it still needs.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, res *app.LoginResult) {
	w.Header().Set("Cache-Control", "no-store")
	if res.Session != nil {
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: res.Token, Path: "/api/v1/events",
			Expires: res.Session.ExpiresAt, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) completeMFA(w http.ResponseWriter, r *http.Request) {
	var in app.CompleteMFAInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.app.CompleteMFA(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.signedIn(w, r, res)
}

// RecoveryCodes are one-time codes for when the authenticator is lost,
// shown only once.
type RecoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (s *Server) startTOTP(w http.ResponseWriter, r *http.Request) {
	e, err := s.app.StartTOTP(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	var in app.ConfirmTOTPInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	codes, err := s.app.ConfirmTOTP(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if codes == nil {
		codes = []string{} // not the first second factor: the codes stand
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, RecoveryCodes{RecoveryCodes: codes})
}

func (s *Server) disableMFA(w http.ResponseWriter, r *http.Request) {
	var in app.DisableMFAInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.app.DisableMFA(r.Context(), in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.app.Logout(r.Context()); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/api/v1/events", MaxAge: -1,
		Expires: time.Unix(0, 0), HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	var in app.AcceptInvitationInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	u, err := s.app.AcceptInvitation(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// MeResponse is the signed-in user and their organisation.
type MeResponse struct {
	User *atrium.User `json:"user"`
	Org  *atrium.Org  `json:"org"`
	// Features is what the user may use (feature name → on), so that
	// clients can hide what is off.
	Features map[string]bool `json:"features"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u, o, err := s.app.Me(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f, err := s.app.Features(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, MeResponse{User: u, Org: o, Features: f})
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var in app.ChangePasswordInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.app.ChangePassword(r.Context(), in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	items, next, err := s.app.ListSessions(r.Context(), p)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next))
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	if err := s.app.EndSession(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// EndedSessions counts the sessions ended.
type EndedSessions struct {
	Ended int `json:"ended"`
}

func (s *Server) endOtherSessions(w http.ResponseWriter, r *http.Request) {
	n, err := s.app.EndOtherSessions(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, EndedSessions{Ended: n})
}

func (s *Server) enrollMFA(w http.ResponseWriter, r *http.Request) {
	var in MFATokenInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	e, err := s.app.EnrollMFA(r.Context(), in.MFAToken)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) beginPasskeyRegistration(w http.ResponseWriter, r *http.Request) {
	opts, err := s.app.BeginPasskeyRegistration(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, opts)
}

func (s *Server) registerPasskey(w http.ResponseWriter, r *http.Request) {
	var in app.RegisterPasskeyInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	p, err := s.app.RegisterPasskey(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) listPasskeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.app.ListPasskeys(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, list(keys, ""))
}

func (s *Server) removePasskey(w http.ResponseWriter, r *http.Request) {
	var in app.RemovePasskeyInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.app.RemovePasskey(r.Context(), r.PathValue("id"), in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// MFATokenInput names a sign-in waiting for its second factor.
type MFATokenInput struct {
	MFAToken string `json:"mfa_token"`
}

func (s *Server) beginPasskeySignIn(w http.ResponseWriter, r *http.Request) {
	var in MFATokenInput
	if err := decode(r, maxBody, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	opts, err := s.app.BeginPasskeySignIn(r.Context(), in.MFAToken)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, opts)
}
