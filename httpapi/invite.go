package httpapi

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

// The invitation page lets an invited user choose their password: the link
// an administrator sends them (CreatedUser.Invitation.Link) opens it. The
// invitation's secret token, in the link, is what authorises it.
var inviteTmpl = template.Must(template.New("invite").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Join Atrium</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Join Atrium</h1>
{{if .Done}}<p>Your account <strong>{{.Email}}</strong> is ready. Sign in with your new password.</p>
{{else}}{{if .Error}}<p role="alert"><strong>{{.Error}}</strong></p>{{end}}
<p>Choose the password of your account.</p>
<form method="post" action="/invite">
<input type="hidden" name="token" value="{{.Token}}">
<p><label>Password (at least 10 characters)<br><input name="password" type="password" required minlength="10" autocomplete="new-password"></label></p>
<p><button type="submit">Create my account</button></p>
</form>{{end}}
</body></html>
`))

type inviteView struct {
	Token, Email, Error string
	Done                bool
}

func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	s.renderInvite(w, http.StatusOK, inviteView{Token: r.URL.Query().Get("token")})
}

func (s *Server) inviteSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	v := inviteView{Token: r.PostForm.Get("token")}
	u, err := s.app.AcceptInvitation(r.Context(), app.AcceptInvitationInput{Token: v.Token, Password: r.PostForm.Get("password")})
	if err != nil {
		v.Error = atrium.ErrorMessage(err)
		status := http.StatusBadRequest
		if atrium.ErrorCode(err) == atrium.ENotFound {
			status = http.StatusNotFound
			v.Error = "This invitation link is not valid: it was used already, it expired, or it is mistyped. Ask for a new one."
		}
		s.renderInvite(w, status, v)
		return
	}
	v.Done, v.Email, v.Token = true, u.Email, ""
	s.renderInvite(w, http.StatusOK, v)
}

func (s *Server) renderInvite(w http.ResponseWriter, status int, v inviteView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = inviteTmpl.Execute(w, v)
}

// baseURL is where users reach the server: the configured public URL, or
// the request's scheme and host.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if s.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
