package atrium

import "time"

// Session is a signed-in device: one per successful login. Its token is
// shown once, at login, and stored only as a hash.
type Session struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	OrgID      string     `json:"org_id"`
	DeviceName string     `json:"device_name"`
	Platform   string     `json:"platform"`
	IP         string     `json:"ip"`
	UserAgent  string     `json:"user_agent"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"-"`
	// Current is true for the session making the request.
	Current bool `json:"current"`

	// TokenHash is the SHA-256 of the session token; never serialised.
	TokenHash []byte `json:"-"`
}

// Live reports whether the session may still be used at t.
func (s *Session) Live(t time.Time) bool {
	return s.RevokedAt == nil && t.Before(s.ExpiresAt)
}
