package realtime

import "github.com/atrium-dev/atrium"

// Audience decides which events one user sees: those of the binders they
// belong to. It follows membership as events arrive, so a user added to a
// binder starts seeing it, and a user removed sees their removal and then
// nothing more. It is used by one goroutine only.
type Audience struct {
	userID  string
	binders map[string]bool
}

// NewAudience returns the audience of a user who belongs to binderIDs.
func NewAudience(userID string, binderIDs []string) *Audience {
	a := &Audience{userID: userID, binders: make(map[string]bool, len(binderIDs))}
	for _, id := range binderIDs {
		a.binders[id] = true
	}
	return a
}

// Sees reports whether the user is shown e, updating the membership it
// follows. Call it for every event in order.
func (a *Audience) Sees(e *atrium.Event) bool {
	if e.Control() || e.BinderID == "" {
		return false
	}
	switch e.Type {
	case atrium.EventMemberAdded, atrium.EventBinderCreated:
		if e.UserID == a.userID {
			a.binders[e.BinderID] = true
		}
	case atrium.EventMemberRemoved:
		if e.UserID == a.userID {
			delete(a.binders, e.BinderID)
			return true
		}
	case atrium.EventBinderDeleted:
		seen := a.binders[e.BinderID]
		delete(a.binders, e.BinderID)
		return seen
	case atrium.EventReadUpdated:
		return e.UserID == a.userID && a.binders[e.BinderID]
	}
	return a.binders[e.BinderID]
}
