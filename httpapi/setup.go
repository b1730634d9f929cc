package httpapi

import (
	"crypto/subtle"
	"html/template"
	"net/http"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/app"
)

// The one-time setup page creates the first organisation and its owner. It
// exists only while the server has no organisation, and only for whoever
// holds the token printed at start.
var setupTmpl = template.Must(template.New("setup").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Set up Atrium</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Set up Atrium</h1>
{{if .Done}}<p>Your organisation <strong>{{.OrgName}}</strong> is ready. Sign in as {{.Email}} through the API (POST /api/v1/auth/login).</p>
{{else}}{{if .Error}}<p role="alert"><strong>{{.Error}}</strong></p>{{end}}
<p>Create your organisation and its owner account.</p>
<form method="post" action="/setup">
<input type="hidden" name="token" value="{{.Token}}">
<p><label>Organisation name<br><input name="org_name" required maxlength="200" value="{{.OrgName}}"></label></p>
<p><label>Your name<br><input name="owner_name" maxlength="200" value="{{.Name}}"></label></p>
<p><label>Your email<br><input name="owner_email" type="email" required value="{{.Email}}"></label></p>
<p><label>Password (at least 10 characters)<br><input name="owner_password" type="password" required minlength="10"></label></p>
<p><button type="submit">Create organisation</button></p>
</form>{{end}}
</body></html>
`))

type setupView struct {
	Token, OrgName, Name, Email, Error string
	Done                               bool
}

// setupAllowed reports whether the setup page may be used with token.
func (s *Server) setupAllowed(r *http.Request, token string) bool {
	if s.cfg.SetupToken == "" || s.setupDone.Load() {
		return false
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.SetupToken)) != 1 {
		return false
	}
	need, err := s.app.NeedsSetup(r.Context())
	return err == nil && need
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if !s.setupAllowed(r, token) {
		http.Error(w, "setup is not available", http.StatusNotFound)
		return
	}
	s.renderSetup(w, http.StatusOK, setupView{Token: token})
}

func (s *Server) setupSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	v := setupView{Token: r.PostForm.Get("token"), OrgName: r.PostForm.Get("org_name"),
		Name: r.PostForm.Get("owner_name"), Email: r.PostForm.Get("owner_email")}
	if !s.setupAllowed(r, v.Token) {
		http.Error(w, "setup is not available", http.StatusNotFound)
		return
	}
	_, u, err := s.app.CreateOrg(r.Context(), app.CreateOrgInput{Name: v.OrgName, OwnerName: v.Name,
		OwnerEmail: v.Email, OwnerPassword: r.PostForm.Get("owner_password")})
	if err != nil {
		v.Error = atrium.ErrorMessage(err)
		s.renderSetup(w, http.StatusBadRequest, v)
		return
	}
	s.setupDone.Store(true)
	s.log.Info("setup: organisation created", "org", v.OrgName, "owner", u.ID)
	v.Done, v.Email = true, u.Email
	s.renderSetup(w, http.StatusCreated, v)
}

func (s *Server) renderSetup(w http.ResponseWriter, status int, v setupView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = setupTmpl.Execute(w, v)
}

// home says what this server is; the web app will live here.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Atrium</title></head>
<body><h1>Atrium</h1><p>This Atrium server is running. The API is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></body></html>
`))
}
