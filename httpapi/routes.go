package httpapi

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Route is one entry of the route table.
type Route struct {
	Pattern string // a net/http ServeMux pattern, "METHOD /path/{param}"
	Handler http.HandlerFunc
}

// Routes is the API's route table. The OpenAPI test checks every pattern
// here is documented.
func (s *Server) Routes() []Route {
	a := func(h http.HandlerFunc) http.HandlerFunc { return s.authed(h, false) }
	return []Route{
		{"POST /api/v1/auth/login", s.login},
		{"POST /api/v1/auth/logout", a(s.logout)},
		{"POST /api/v1/auth/accept-invitation", s.acceptInvitation},
		{"POST /api/v1/auth/sso/signature", s.signatureLogin},
		{"POST /api/v1/auth/mfa", s.completeMFA},
		{"POST /api/v1/auth/mfa/enroll", s.enrollMFA},
		{"POST /api/v1/auth/mfa/webauthn", s.beginPasskeySignIn},
		{"GET /api/v1/api-clients", a(s.listAPIClients)},
		{"POST /api/v1/api-clients", a(s.createAPIClient)},
		{"DELETE /api/v1/api-clients/{id}", a(s.revokeAPIClient)},
		{"GET /api/v1/oauth-apps", a(s.listOAuthApps)},
		{"POST /api/v1/oauth-apps", a(s.createOAuthApp)},
		{"DELETE /api/v1/oauth-apps/{id}", a(s.revokeOAuthApp)},
		{"GET /api/v1/oauth-grants", a(s.listGrants)},
		{"DELETE /api/v1/oauth-grants/{id}", a(s.revokeGrant)},
		{"GET /api/v1/me/oauth-grants", a(s.listGrants)},
		{"DELETE /api/v1/me/oauth-grants/{id}", a(s.revokeGrant)},
		{"GET /api/v1/identity-providers", a(s.listIdentityProviders)},
		{"POST /api/v1/identity-providers", a(s.createIdentityProvider)},
		{"DELETE /api/v1/identity-providers/{id}", a(s.disableIdentityProvider)},
		{"GET /api/v1/auth/oidc/{id}/start", s.startOIDC},
		{"GET /api/v1/auth/oidc/{id}/callback", s.oidcCallback},
		{"GET /api/v1/auth/saml/{id}/start", s.startSAML},
		{"GET /api/v1/auth/saml/{id}/metadata", s.samlMetadata},
		{"POST /api/v1/auth/saml/{id}/acs", s.samlACS},
		{"GET /api/v1/auth/saml/{id}/slo", s.samlLogout},
		{"POST /api/v1/auth/saml/{id}/slo", s.samlLogout},
		{"POST /api/v1/auth/login-code", s.exchangeLoginCode},

		{"GET /api/v1/me", a(s.me)},
		{"POST /api/v1/me/password", a(s.changePassword)},
		{"GET /api/v1/me/sessions", a(s.listSessions)},
		{"DELETE /api/v1/me/sessions", a(s.endOtherSessions)},
		{"DELETE /api/v1/me/sessions/{id}", a(s.endSession)},
		{"GET /api/v1/me/device-key", a(s.deviceKey)},
		{"POST /api/v1/me/wipe", a(s.confirmWipe)},
		{"POST /api/v1/me/mfa/totp", a(s.startTOTP)},
		{"POST /api/v1/me/mfa/totp/confirm", a(s.confirmTOTP)},
		{"POST /api/v1/me/mfa/disable", a(s.disableMFA)},
		{"POST /api/v1/me/mfa/webauthn/register", a(s.beginPasskeyRegistration)},
		{"GET /api/v1/me/mfa/webauthn", a(s.listPasskeys)},
		{"POST /api/v1/me/mfa/webauthn", a(s.registerPasskey)},
		{"POST /api/v1/me/mfa/webauthn/{id}/remove", a(s.removePasskey)},
		{"POST /api/v1/me/exports", a(s.requestExport)},
		{"GET /api/v1/me/exports/{id}", a(s.getExport)},
		{"GET /api/v1/me/exports/{id}/content", a(s.downloadExport)},

		{"GET /api/v1/org", a(s.getOrg)},
		{"PATCH /api/v1/org", a(s.updateOrg)},
		{"GET /api/v1/org/settings", a(s.getOrgSettings)},
		{"PATCH /api/v1/org/settings", a(s.patchOrgSettings)},

		{"GET /api/v1/users", a(s.listUsers)},
		{"POST /api/v1/users", a(s.createUser)},
		{"PATCH /api/v1/users/{id}", a(s.updateUser)},
		{"DELETE /api/v1/users/{id}", a(s.deleteUser)},
		{"GET /api/v1/users/{id}/permissions", a(s.getPermissions)},
		{"PUT /api/v1/users/{id}/permissions", a(s.setPermissions)},
		{"GET /api/v1/users/{id}/devices", a(s.listDevices)},
		{"DELETE /api/v1/users/{id}/devices", a(s.logoutDevices)},
		{"DELETE /api/v1/users/{id}/devices/{session_id}", a(s.logoutDevice)},
		{"POST /api/v1/users/{id}/devices/{session_id}/wipe", a(s.wipeDevice)},
		{"GET /api/v1/users/{id}/identities", a(s.listIdentities)},
		{"POST /api/v1/users/{id}/identities", a(s.linkIdentity)},
		{"DELETE /api/v1/users/{id}/identities/{source}", a(s.unlinkIdentities)},

		{"GET /api/v1/directory", a(s.directory)},
		{"GET /api/v1/relationships", a(s.listRelationships)},
		{"POST /api/v1/relationships", a(s.createRelationship)},
		{"GET /api/v1/relationships/explain", a(s.explainContact)},
		{"DELETE /api/v1/relationships/{id}", a(s.deleteRelationship)},

		{"GET /api/v1/reports/usage", a(s.usageReport)},
		{"GET /api/v1/audit", a(s.searchAudit)},
		{"GET /api/v1/audit/export", a(s.exportAudit)},

		{"GET /api/v1/binders", a(s.listBinders)},
		{"POST /api/v1/binders", a(s.createBinder)},
		{"GET /api/v1/binders/{id}", a(s.getBinder)},
		{"PATCH /api/v1/binders/{id}", a(s.updateBinder)},
		{"DELETE /api/v1/binders/{id}", a(s.deleteBinder)},
		{"GET /api/v1/binders/{id}/members", a(s.listMembers)},
		{"POST /api/v1/binders/{id}/members", a(s.addMember)},
		{"DELETE /api/v1/binders/{id}/members/{user_id}", a(s.removeMember)},
		{"GET /api/v1/binders/{id}/messages", a(s.listMessages)},
		{"POST /api/v1/binders/{id}/messages", a(s.postMessage)},
		{"PATCH /api/v1/binders/{id}/messages/{message_id}", a(s.editMessage)},
		{"DELETE /api/v1/binders/{id}/messages/{message_id}", a(s.deleteMessage)},
		{"POST /api/v1/binders/{id}/read", a(s.markRead)},
		{"GET /api/v1/binders/{id}/files", a(s.listFiles)},
		{"POST /api/v1/binders/{id}/files", a(s.uploadFile)},
		{"GET /api/v1/files/{id}", a(s.getFile)},
		{"PATCH /api/v1/files/{id}", a(s.renameFile)},
		{"DELETE /api/v1/files/{id}", a(s.deleteFile)},
		{"GET /api/v1/files/{id}/content", a(s.downloadFile)},
		{"GET /api/v1/files/{id}/thumbnail", a(s.thumbnail)},
		{"GET /api/v1/files/{id}/versions", a(s.listVersions)},
		{"POST /api/v1/files/{id}/versions", a(s.uploadVersion)},
		{"GET /api/v1/files/{id}/versions/{version}/content", a(s.downloadVersion)},
		{"POST /api/v1/files/{id}/restore", a(s.restoreFile)},
		{"POST /api/v1/binders/{id}/uploads", a(s.startUpload)},
		{"POST /api/v1/files/{id}/uploads", a(s.startVersionUpload)},
		{"HEAD /api/v1/uploads/{id}", a(s.uploadStatus)},
		{"PATCH /api/v1/uploads/{id}", a(s.continueUpload)},
		{"DELETE /api/v1/uploads/{id}", a(s.cancelUpload)},

		{"GET /api/v1/events", s.authed(s.events, true)},
		{"GET /api/v1/openapi.json", s.openAPI},
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, r := range s.Routes() {
		mux.Handle(r.Pattern, s.route(r.Pattern, r.Handler))
		method, path, _ := strings.Cut(r.Pattern, " ")
		allowed[path] = append(allowed[path], method)
	}
	s.paths = http.NewServeMux()
	for path, methods := range allowed {
		s.paths.Handle(path, allowHeader(methods))
	}
	mux.Handle("GET /healthz", s.route("GET /healthz", s.healthz))
	mux.Handle("GET /readyz", s.route("GET /readyz", s.readyz))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	mux.Handle("GET /setup", s.route("GET /setup", s.setupPage))
	mux.Handle("POST /setup", s.route("POST /setup", s.setupSubmit))
	mux.Handle("/oauth/", s.route("* /oauth/", s.serveOAuth))
	mux.Handle("GET /.well-known/oauth-authorization-server", s.route("GET /.well-known/oauth-authorization-server", s.oauthMetadata))
	mux.Handle("GET /.well-known/oauth-authorization-server/oauth", s.route("GET /.well-known/oauth-authorization-server", s.oauthMetadata))
	mux.Handle("GET /invite", s.route("GET /invite", s.invitePage))
	mux.Handle("POST /invite", s.route("POST /invite", s.inviteSubmit))
	mux.Handle("/api/", s.route("* /api/", s.notFound))
	mux.Handle("GET /{$}", s.route("GET /", s.home))
	return s.withSecurityHeaders(mux)
}

// notFound answers unknown API paths with 404, and known paths with a
// method they do not take with 405 and an Allow header, in the API's error
// shape.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if h, pattern := s.paths.Handler(r); pattern != "" {
		h.ServeHTTP(w, r)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody("method_not_allowed", "this endpoint does not take "+r.Method))
		return
	}
	writeJSON(w, http.StatusNotFound, errorBody("not_found", "no such endpoint"))
}

// allowHeader sets the Allow header for a path's methods.
type allowHeader []string

func (a allowHeader) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", strings.Join(a, ", "))
}

func errorBody(code, msg string) ErrorBody {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, msg
	return b
}
