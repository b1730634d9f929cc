package atrium

import (
	"strings"
)

// Identity provider protocols.
const (
	ProtocolOIDC = "oidc" // OpenID Connect
)

// ClaimMapping names the claims (or attributes) of a provider that give a
// user's details. Empty Kind or Role means the provider does not say: the
// provider's provisioning kind and the member role are used.
type ClaimMapping struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Kind  string `json:"kind,omitempty"`
	Role  string `json:"role,omitempty"`
}

// IdPSettings are an identity provider's settings, apart from secrets.
type IdPSettings struct {
	// Issuer is the OpenID provider's issuer URL (https).
	Issuer string `json:"issuer,omitempty"`
	// ClientID is this server's client id at the provider.
	ClientID string `json:"client_id,omitempty"`
	// Scopes are asked for besides openid (default: email, profile).
	Scopes []string `json:"scopes,omitempty"`
	// Claims maps the provider's claims to a user's details.
	Claims ClaimMapping `json:"claims"`
	// LinkByEmail signs in the organisation's existing user with the
	// address the provider vouches for (email_verified) on a first
	// sign-in, instead of refusing it. Only for providers whose addresses
	// the organisation controls.
	LinkByEmail bool `json:"link_by_email"`
}

// maxClaimName bounds a claim's name.
const maxClaimName = 256

// Normalize fills in defaults.
func (s *IdPSettings) Normalize() {
	s.Issuer = strings.TrimSpace(s.Issuer)
	s.ClientID = strings.TrimSpace(s.ClientID)
	if s.Scopes == nil {
		s.Scopes = []string{"email", "profile"}
	}
	if s.Claims.Email == "" {
		s.Claims.Email = "email"
	}
	if s.Claims.Name == "" {
		s.Claims.Name = "name"
	}
}

// Validate checks the sizes and characters of the settings.
func (s IdPSettings) Validate() error {
	if s.Issuer == "" || len(s.Issuer) > 2048 {
		return Errorf(EInvalid, "issuer is required, at most 2048 bytes")
	}
	if err := CheckText("client_id", s.ClientID, 512); err != nil {
		return err
	}
	if len(s.Scopes) > 20 {
		return Errorf(EInvalid, "at most 20 scopes")
	}
	for _, sc := range s.Scopes {
		if sc == "" || len(sc) > 128 || strings.ContainsAny(sc, " \t\r\n\"\\") {
			return Errorf(EInvalid, "scope %q is not a scope token", sc)
		}
	}
	for name, c := range map[string]string{"claims.email": s.Claims.Email, "claims.name": s.Claims.Name,
		"claims.kind": s.Claims.Kind, "claims.role": s.Claims.Role} {
		if len(c) > maxClaimName || strings.ContainsAny(c, "\r\n") {
			return Errorf(EInvalid, "%s is at most %d bytes, on one line", name, maxClaimName)
		}
	}
	return nil
}
