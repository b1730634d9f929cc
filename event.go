package atrium

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"time"
)

// Event types delivered on the event stream.
const (
	EventMessageCreated = "message.created"
	EventMessageEdited  = "message.edited"
	EventMessageDeleted = "message.deleted"
	EventMemberAdded    = "member.added"
	EventMemberRemoved  = "member.removed"
	EventBinderCreated  = "binder.created"
	EventBinderUpdated  = "binder.updated"
	EventBinderDeleted  = "binder.deleted"
	EventReadUpdated    = "read.updated"
	EventFileCreated    = "file.created"
	EventFileUpdated    = "file.updated"
	EventFileDeleted    = "file.deleted"
	EventFileRestored   = "file.restored"
)

// Control events travel through the outbox to every node but are never
// shown to clients: they end sessions and WebSockets everywhere at once.
const (
	EventSessionRevoked  = "session.revoked"  // Payload: {"session_ids":[…]}
	EventUserDeactivated = "user.deactivated" // Payload: {"user_id":…}
	// EventPermissionsChanged and EventOrgSettingsChanged make every node
	// recompute the features of the users concerned.
	EventPermissionsChanged = "user.permissions_changed" // Payload: {"user_id":…}
	EventOrgSettingsChanged = "org.settings_changed"     // Payload: {"org_id":…}
	// EventDeviceWipe closes the event streams of the sessions named with
	// the wipe command.
	EventDeviceWipe = "device.wipe" // Payload: {"session_ids":[…]}
)

// Event is one change, stored in the outbox in the same transaction as the
// change itself, and delivered in order to the members of its binder.
type Event struct {
	// Pos is the event's position in the outbox; its encoding is the cursor.
	Pos      Pos    `json:"-"`
	Type     string `json:"type"`
	OrgID    string `json:"-"`
	BinderID string `json:"binder_id,omitempty"`
	// UserID is the user an event is about, when it concerns one user only
	// (read positions, a member removed, control events).
	UserID string `json:"-"`
	// Payload is the changed object as JSON, delivered under a key named
	// for its kind (Kind).
	Kind      string          `json:"-"`
	Payload   json.RawMessage `json:"-"`
	CreatedAt time.Time       `json:"created_at"`
}

// Control reports whether the event is for the servers only.
func (e *Event) Control() bool {
	switch e.Type {
	case EventSessionRevoked, EventUserDeactivated, EventPermissionsChanged, EventOrgSettingsChanged, EventDeviceWipe:
		return true
	}
	return false
}

// Pos is a position in the event outbox. Events are ordered by (Tx, ID):
// Tx orders transactions in a way every node agrees on, ID orders the events
// of one transaction.
type Pos struct {
	Tx int64
	ID int64
}

// Less reports whether p comes before q.
func (p Pos) Less(q Pos) bool {
	if p.Tx != q.Tx {
		return p.Tx < q.Tx
	}
	return p.ID < q.ID
}

// IsZero reports whether p is the position before every event.
func (p Pos) IsZero() bool { return p.Tx == 0 && p.ID == 0 }

// Cursor encodes the position as the opaque cursor clients resume from.
func (p Pos) Cursor() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(p.Tx))
	binary.BigEndian.PutUint64(b[8:], uint64(p.ID))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseCursor decodes a cursor made by Pos.Cursor. It checks the shape
// only; whether the server issued it is for the caller to check.
func ParseCursor(s string) (Pos, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return Pos{}, Errorf(EInvalid, "malformed cursor")
	}
	p := Pos{Tx: int64(binary.BigEndian.Uint64(b[:8])), ID: int64(binary.BigEndian.Uint64(b[8:]))}
	if p.Tx < 0 || p.ID < 0 {
		return Pos{}, Errorf(EInvalid, "malformed cursor")
	}
	return p, nil
}
