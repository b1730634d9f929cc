package atrium

import "time"

// Relationship assigns an internal user to a client user as one of their
// relationship managers.
type Relationship struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"org_id"`
	ClientID   string    `json:"client_id"`
	InternalID string    `json:"internal_id"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// Kinds of contact the organisation's policy decides.
const (
	ContactMessage   = "message"    // start a conversation: create a binder with them
	ContactAddMember = "add_member" // add them to a binder
	ContactMention   = "mention"    // @mention them in a binder both are in
	ContactSee       = "see"        // find them in the directory and user search
)

// ContactActions lists the kinds of contact.
var ContactActions = []string{ContactMessage, ContactAddMember, ContactMention, ContactSee}

// ContactDecision is whether one user may contact another, and the rule
// that decided.
type ContactDecision struct {
	Allowed bool   `json:"allowed"`
	Rule    string `json:"rule"`
	Reason  string `json:"reason"`
}

// DecideContact applies the organisation's relationship policy to contact
// of kind action from one user to another; related says whether the two
// are a client and one of their relationship managers. Internal users are
// never restricted; the policy governs what clients may do.
func DecideContact(s OrgSettings, from, to *User, related bool, action string) ContactDecision {
	switch {
	case from.OrgID != to.OrgID:
		return ContactDecision{false, "other_organisation", "the users are in different organisations"}
	case from.ID == to.ID:
		return ContactDecision{true, "self", "a user may always reach themselves"}
	case from.Kind == KindInternal:
		return ContactDecision{true, "internal_user", "internal users may reach anyone in their organisation"}
	case to.Kind == KindClient:
		if s.ClientToClientContact {
			return ContactDecision{true, "client_to_client_contact", "the organisation allows clients to reach other clients"}
		}
		return ContactDecision{false, "client_to_client_contact", "the organisation does not allow clients to reach other clients"}
	case related:
		return ContactDecision{true, "relationship_manager", "the internal user is one of the client's relationship managers"}
	case action == ContactSee:
		if s.ClientsSeeDirectory {
			return ContactDecision{true, "clients_see_directory", "the organisation shows clients its directory of internal users"}
		}
		return ContactDecision{false, "clients_see_directory", "clients see only their relationship managers in the directory"}
	case action == ContactMention:
		// Both are in the binder already: only sharing is restricted.
		return ContactDecision{true, "binder_member", "clients may mention the internal users of their binders"}
	case s.ClientsShareOnlyWithManagers:
		return ContactDecision{false, "clients_share_only_with_managers", "clients may share binders only with their relationship managers"}
	}
	return ContactDecision{true, "clients_share_only_with_managers", "the organisation lets clients share binders with any internal user"}
}
