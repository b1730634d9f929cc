package atrium

import "time"

// Binder member roles.
const (
	BinderRoleOwner  = "owner"  // manages the binder and its members
	BinderRoleEditor = "editor" // posts and edits their own messages
	BinderRoleViewer = "viewer" // reads only
)

// Binder is a shared workspace of one organisation: a conversation now, and
// files, meetings and tasks as they come. Its JSON is its BinderInfo's
// fields and the per-viewer ones.
type Binder struct {
	BinderInfo
	// DeletedAt is set when the binder was deleted; deleted binders are
	// invisible through the API.
	DeletedAt *time.Time `json:"-"`
	// ACLVersion changes whenever the binder's membership does: a change
	// planned from a read of the binder checks it is still the same.
	ACLVersion int64 `json:"-"`

	// Per-viewer fields, filled when a binder is read for a member.
	MyRole  string `json:"my_role,omitempty"`
	ReadSeq int64  `json:"read_seq"`
	Unread  int64  `json:"unread"`
}

// Validate checks a binder's fields.
func (b *Binder) Validate() error { return ValidateTitle(b.Title) }

// ValidateTitle checks a binder's title.
func ValidateTitle(title string) error { return CheckText("title", title, MaxNameLen) }

// Member is a user's membership of a binder.
type Member struct {
	BinderID  string    `json:"binder_id"`
	UserID    string    `json:"user_id"`
	Role      string    `json:"role"`
	ReadSeq   int64     `json:"read_seq"`
	AddedBy   string    `json:"added_by"`
	CreatedAt time.Time `json:"created_at"`
	// User is the member's public profile, filled on reads.
	User *UserRef `json:"user,omitempty"`
}

// UserRef is the part of a user that fellow binder members may see.
type UserRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Kind  string `json:"kind"`
}

// ValidBinderRole reports whether r is a binder member role.
func ValidBinderRole(r string) bool {
	return r == BinderRoleOwner || r == BinderRoleEditor || r == BinderRoleViewer
}

// BinderInfo is a binder as every member sees it: without the fields that
// are about one viewer. Events carry it.
type BinderInfo struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	Title     string    `json:"title"`
	CreatedBy string    `json:"created_by"`
	LastSeq   int64     `json:"last_seq"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Info returns the binder without its per-viewer fields.
func (b *Binder) Info() BinderInfo { return b.BinderInfo }
