package atrium

import (
	"slices"
	"strings"
)

// OAuth scopes: what a third-party app's access token may do. A session
// (a user signed in themselves) may do everything its user may; a token
// only what its scopes name, and never more than its user may.
const (
	ScopeBindersRead   = "binders:read"
	ScopeBindersWrite  = "binders:write"
	ScopeMessagesRead  = "messages:read"
	ScopeMessagesWrite = "messages:write"
	ScopeFilesRead     = "files:read"
	ScopeFilesWrite    = "files:write"
	ScopeAdmin         = "admin"
	ScopeProfile       = "profile" // GET /api/v1/me
)

// Scopes lists the OAuth scopes.
var Scopes = []string{ScopeBindersRead, ScopeBindersWrite, ScopeMessagesRead, ScopeMessagesWrite,
	ScopeFilesRead, ScopeFilesWrite, ScopeAdmin, ScopeProfile}

// RouteScope is the scope an OAuth access token needs for an API route
// ("METHOD /api/v1/…" pattern); "" means the route takes sessions only
// (signing in, the user's own security settings, sessions and devices).
func RouteScope(pattern string) string {
	method, path, _ := strings.Cut(pattern, " ")
	read := method == "GET" || method == "HEAD"
	pick := func(r, w string) string {
		if read {
			return r
		}
		return w
	}
	p := strings.TrimPrefix(path, "/api/v1/")
	switch {
	case p == "me" && read:
		return ScopeProfile
	case strings.HasPrefix(p, "auth/"), strings.HasPrefix(p, "me"), p == "openapi.json",
		// The login policy and second-factor rules are changed by a person.
		p == "org/settings" && !read,
		// The event stream carries every kind of binder event; credentials
		// and identity links outlive a grant: sessions only.
		p == "events", strings.HasPrefix(p, "api-clients"), strings.HasPrefix(p, "identity-providers"),
		strings.HasSuffix(p, "/identities"), strings.Contains(p, "/identities/"):
		return ""
	case strings.Contains(p, "/messages"), strings.HasSuffix(p, "/read"):
		return pick(ScopeMessagesRead, ScopeMessagesWrite)
	case strings.HasPrefix(p, "files"), strings.HasPrefix(p, "uploads"), strings.Contains(p, "/files"), strings.Contains(p, "/uploads"):
		return pick(ScopeFilesRead, ScopeFilesWrite)
	case strings.HasPrefix(p, "binders"), p == "directory":
		return pick(ScopeBindersRead, ScopeBindersWrite)
	case strings.HasPrefix(p, "users"), strings.HasPrefix(p, "org"), strings.HasPrefix(p, "relationships"),
		strings.HasPrefix(p, "reports"), strings.HasPrefix(p, "audit"):
		return ScopeAdmin
	}
	return ""
}

// ValidScopes reports whether every scope is one of Scopes.
func ValidScopes(scopes []string) bool {
	for _, s := range scopes {
		if !slices.Contains(Scopes, s) {
			return false
		}
	}
	return true
}
