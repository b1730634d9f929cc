package atrium

import "time"

// User kinds.
const (
	KindInternal = "internal" // the organisation's staff
	KindClient   = "client"   // an external person the organisation works with
)

// Organisation roles.
const (
	OrgRoleOwner  = "owner"
	OrgRoleAdmin  = "admin"
	OrgRoleMember = "member"
)

// User statuses.
const (
	StatusActive      = "active"
	StatusDeactivated = "deactivated"
	StatusInvited     = "invited" // created without a password; becomes active on accepting
	StatusDeleted     = "deleted" // personal data removed; what they wrote stays, as DeletedUserName's
)

// DeletedUserName is the name a deleted user's remaining content is
// attributed to.
const DeletedUserName = "Deleted user"

// User is a person in one organisation.
type User struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Role      string    `json:"role"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// PasswordHash is the PHC string of the password; never serialised.
	PasswordHash string `json:"-"`
}

// Validate checks a user's fields, normalising the e-mail address.
func (u *User) Validate() error {
	email, err := NormalizeEmail(u.Email)
	if err != nil {
		return err
	}
	u.Email = email
	if err := CheckText("name", u.Name, MaxNameLen); err != nil {
		return err
	}
	if u.Kind != KindInternal && u.Kind != KindClient {
		return Errorf(EInvalid, "kind must be \"internal\" or \"client\"")
	}
	if !ValidOrgRole(u.Role) {
		return Errorf(EInvalid, "role must be \"owner\", \"admin\" or \"member\"")
	}
	if u.Kind == KindClient && u.Role != OrgRoleMember {
		return Errorf(EInvalid, "a client user can only have the member role")
	}
	switch u.Status {
	case StatusActive, StatusDeactivated, StatusInvited, StatusDeleted:
	default:
		return Errorf(EInvalid, "status must be \"active\", \"deactivated\" or \"invited\"")
	}
	return nil
}

// ValidOrgRole reports whether r is an organisation role.
func ValidOrgRole(r string) bool {
	return r == OrgRoleOwner || r == OrgRoleAdmin || r == OrgRoleMember
}

// IsAdmin reports whether the user administers the organisation.
func (u *User) IsAdmin() bool {
	return u.Kind == KindInternal && (u.Role == OrgRoleOwner || u.Role == OrgRoleAdmin)
}
