package atrium

import (
	"strings"
	"testing"
)

func TestRouteScope(t *testing.T) {
	for pattern, want := range map[string]string{
		"GET /api/v1/binders":                               ScopeBindersRead,
		"POST /api/v1/binders":                              ScopeBindersWrite,
		"DELETE /api/v1/binders/{id}/members/{user_id}":     ScopeBindersWrite,
		"GET /api/v1/binders/{id}/messages":                 ScopeMessagesRead,
		"POST /api/v1/binders/{id}/messages":                ScopeMessagesWrite,
		"PATCH /api/v1/binders/{id}/messages/{message_id}":  ScopeMessagesWrite,
		"POST /api/v1/binders/{id}/read":                    ScopeMessagesWrite,
		"GET /api/v1/events":                                "",
		"GET /api/v1/binders/{id}/files":                    ScopeFilesRead,
		"POST /api/v1/binders/{id}/files":                   ScopeFilesWrite,
		"POST /api/v1/binders/{id}/uploads":                 ScopeFilesWrite,
		"HEAD /api/v1/uploads/{id}":                         ScopeFilesRead,
		"PATCH /api/v1/uploads/{id}":                        ScopeFilesWrite,
		"GET /api/v1/files/{id}/versions/{version}/content": ScopeFilesRead,
		"POST /api/v1/files/{id}/restore":                   ScopeFilesWrite,
		"GET /api/v1/directory":                             ScopeBindersRead,
		"GET /api/v1/users":                                 ScopeAdmin,
		"PATCH /api/v1/org/settings":                        "",
		"GET /api/v1/org/settings":                          ScopeAdmin,
		"GET /api/v1/audit/export":                          ScopeAdmin,
		"POST /api/v1/api-clients":                          "",
		"POST /api/v1/users/{id}/identities":                "",
		"GET /api/v1/users/{id}/devices":                    ScopeAdmin,
		"POST /api/v1/identity-providers":                   "",
		"GET /api/v1/me":                                    ScopeProfile,
		"GET /api/v1/me/sessions":                           "",
		"POST /api/v1/me/mfa/webauthn":                      "",
		"POST /api/v1/me/password":                          "",
		"GET /api/v1/me/oauth-grants":                       "",
		"POST /api/v1/auth/login":                           "",
		"GET /api/v1/oauth-apps":                            "",
		"DELETE /api/v1/oauth-grants/{id}":                  "",
		"GET /api/v1/openapi.json":                          "",
	} {
		if got := RouteScope(pattern); got != want {
			t.Errorf("RouteScope(%q) = %q, want %q", pattern, got, want)
		}
	}
}

// No route that changes anything may be reached with a read scope.
func TestRouteScopeWritesNeedWriteScopes(t *testing.T) {
	for _, method := range []string{"POST", "PATCH", "PUT", "DELETE"} {
		for _, path := range []string{"/api/v1/binders/{id}", "/api/v1/files/{id}", "/api/v1/uploads/{id}", "/api/v1/binders/{id}/messages",
			"/api/v1/users/{id}", "/api/v1/relationships", "/api/v1/directory"} {
			if s := RouteScope(method + " " + path); strings.HasSuffix(s, ":read") || s == ScopeProfile {
				t.Errorf("%s %s needs only %q", method, path, s)
			}
		}
	}
}
