package atrium

import (
	"encoding/json"
	"time"
)

// Org is an organisation: the business that owns binders and users.
type Org struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Settings  OrgSettings `json:"settings"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// OrgSettings are an organisation's choices. Unknown keys are refused when
// settings are written, so a typo never silently does nothing.
type OrgSettings struct {
	// DefaultLocale is the language of mails and pages for users who have
	// not chosen one: "en" or "ja".
	DefaultLocale string `json:"default_locale"`
	// ClientsCanCreateBinders lets client users create binders of their own.
	ClientsCanCreateBinders bool `json:"clients_can_create_binders"`
	// SessionTTLHours is how long a session lives without use; 0 means the
	// server default.
	SessionTTLHours int `json:"session_ttl_hours"`
}

// DefaultOrgSettings are the settings of a new organisation.
func DefaultOrgSettings() OrgSettings {
	return OrgSettings{DefaultLocale: "en"}
}

// Validate checks the settings' values.
func (s OrgSettings) Validate() error {
	switch s.DefaultLocale {
	case "en", "ja":
	default:
		return Errorf(EInvalid, "settings.default_locale must be \"en\" or \"ja\"")
	}
	if s.SessionTTLHours < 0 || s.SessionTTLHours > 24*365 {
		return Errorf(EInvalid, "settings.session_ttl_hours must be between 0 and 8760")
	}
	return nil
}

// MarshalSettings encodes settings for storage.
func (s OrgSettings) Marshal() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Validate checks an organisation's fields.
func (o *Org) Validate() error {
	if err := CheckText("name", o.Name, MaxNameLen); err != nil {
		return err
	}
	return o.Settings.Validate()
}
