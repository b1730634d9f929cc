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

	// Wipe is the remote wipe asked of this device, if any.
	Wipe *DeviceWipe `json:"wipe,omitempty"`

	// TokenHash is the SHA-256 of the session token; never serialised.
	TokenHash []byte `json:"-"`
	// DeviceKey encrypts the device's local cache; it is released to the
	// device and destroyed at logout, revocation and wipe. Never
	// serialised but by the endpoints that release it.
	DeviceKey []byte `json:"-"`
}

// Wipe statuses.
const (
	WipePending   = "pending"   // asked; the device has not confirmed
	WipeConfirmed = "confirmed" // the device erased its local data and said so
	// WipeEnded: the session ended (logout, deactivation) before the
	// device confirmed. It cannot confirm any more, but its key is
	// destroyed, so its local cache cannot be read.
	WipeEnded = "ended"
)

// DeviceWipe is the state of a remote wipe of one device.
type DeviceWipe struct {
	Status      string     `json:"status"`
	RequestedAt time.Time  `json:"requested_at"`
	RequestedBy string     `json:"requested_by"`
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
}

// WipePending reports whether the device was asked to wipe and has not
// confirmed.
func (s *Session) WipePending() bool { return s.Wipe != nil && s.Wipe.Status == WipePending }

// Live reports whether the session may still be used at t.
func (s *Session) Live(t time.Time) bool {
	return s.RevokedAt == nil && t.Before(s.ExpiresAt)
}
