package atrium

import (
	"strings"
)

// Identity provider protocols.
const (
	ProtocolOIDC = "oidc" // OpenID Connect
	ProtocolSAML = "saml" // SAML 2.0
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
	// CallbackURL is this server's OpenID Connect redirect URI for the
	// provider, fixed when the provider is registered.
	CallbackURL string `json:"callback_url,omitempty"`
	// LinkByEmail signs in the organisation's existing user with the
	// address the provider vouches for (email_verified) on a first
	// sign-in, instead of refusing it. Only for providers whose addresses
	// the organisation controls.
	LinkByEmail bool `json:"link_by_email"`

	// IDPMetadataXML is a SAML IdP's metadata (its endpoints and signing
	// certificates); IDPMetadataURL where it was read from, if anywhere.
	IDPMetadataXML string `json:"idp_metadata_xml,omitempty"`
	IDPMetadataURL string `json:"idp_metadata_url,omitempty"`
	// IDPEntityID is the SAML IdP's entity id, from its metadata.
	IDPEntityID string `json:"idp_entity_id,omitempty"`
	// SPEntityID, ACSURL and SLOURL are this server's entity id (its
	// metadata address), assertion consumer service and single logout
	// service for the IdP, fixed when the provider is registered;
	// SPCertificate is its certificate (PEM).
	SPEntityID    string `json:"sp_entity_id,omitempty"`
	ACSURL        string `json:"acs_url,omitempty"`
	SLOURL        string `json:"slo_url,omitempty"`
	SPCertificate string `json:"sp_certificate,omitempty"`
	// AllowIDPInitiated accepts SAML sign-ins started at the IdP, which
	// answer no request of this server.
	AllowIDPInitiated bool `json:"allow_idp_initiated,omitempty"`
}

// maxClaimName bounds a claim's name.
const maxClaimName = 256

// Normalize fills in the defaults of a protocol.
func (s *IdPSettings) Normalize(protocol string) {
	s.Issuer = strings.TrimSpace(s.Issuer)
	s.ClientID = strings.TrimSpace(s.ClientID)
	if protocol == ProtocolSAML {
		if s.Claims.Email == "" {
			s.Claims.Email = "mail"
		}
		if s.Claims.Name == "" {
			s.Claims.Name = "cn"
		}
		return
	}
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

// Validate checks the sizes and characters of the settings of a protocol.
func (s IdPSettings) Validate(protocol string) error {
	switch protocol {
	case ProtocolOIDC:
		if s.Issuer == "" || len(s.Issuer) > 2048 {
			return Errorf(EInvalid, "issuer is required, at most 2048 bytes")
		}
		if err := CheckText("client_id", s.ClientID, 512); err != nil {
			return err
		}
	case ProtocolSAML:
		if s.Issuer != "" || s.ClientID != "" || len(s.Scopes) > 0 {
			return Errorf(EInvalid, "issuer, client_id and scopes are OpenID Connect settings, not SAML ones")
		}
		if len(s.IDPMetadataURL) > 2048 {
			return Errorf(EInvalid, "idp_metadata_url is at most 2048 bytes")
		}
	default:
		return Errorf(EInvalid, "protocol must be \"oidc\" or \"saml\"")
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
