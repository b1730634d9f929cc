package httpapi

import (
	"strings"
	"testing"

	"github.com/atrium-dev/atrium"
)

// Every route is either reachable with an OAuth scope or deliberately
// kept for sessions: a new route that matches no rule is caught here.
func TestEveryRouteHasAScopeDecision(t *testing.T) {
	s := &Server{}
	sessionsOnly := []string{"/api/v1/auth/", "/api/v1/me/", "/api/v1/oauth-apps", "/api/v1/oauth-grants", "/api/v1/openapi.json",
		"/api/v1/events", "/api/v1/api-clients", "/api/v1/identity-providers", "/api/v1/users/{id}/identities", "/api/v1/org/settings"}
	for _, r := range s.Routes() {
		_, path, _ := strings.Cut(r.Pattern, " ")
		if atrium.RouteScope(r.Pattern) != "" {
			continue
		}
		ok := false
		for _, p := range sessionsOnly {
			ok = ok || strings.HasPrefix(path, p)
		}
		if !ok {
			t.Errorf("%s takes no OAuth scope and is not a sessions-only route", r.Pattern)
		}
	}
}
