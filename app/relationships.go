package app

import (
	"context"
	"slices"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// RelationshipInput assigns an internal user to a client user.
type RelationshipInput struct {
	ClientID   string `json:"client_id"`
	InternalID string `json:"internal_id"`
}

// CreateRelationship makes an internal user one of a client's
// relationship managers (administrators only).
func (a *App) CreateRelationship(ctx context.Context, in RelationshipInput) (*atrium.Relationship, error) {
	act, err := a.adminOf(ctx, "relationship.create")
	if err != nil {
		return nil, err
	}
	r := &atrium.Relationship{ID: atrium.NewID(), OrgID: act.User.OrgID, ClientID: in.ClientID, InternalID: in.InternalID, CreatedBy: act.User.ID}
	err = a.write(ctx, func(w *writer) error {
		for _, c := range []struct{ field, id, kind string }{
			{"client_id", in.ClientID, atrium.KindClient}, {"internal_id", in.InternalID, atrium.KindInternal}} {
			u, err := a.orgUserForUpdate(w, r.OrgID, c.id)
			if atrium.ErrorCode(err) == atrium.ENotFound || err == nil && u.Status == atrium.StatusDeleted {
				return atrium.Errorf(atrium.EInvalid, "%s is not a user of this organisation", c.field)
			}
			if err != nil {
				return err
			}
			if u.Kind != c.kind {
				return atrium.Errorf(atrium.EInvalid, "%s must be a user of kind %s", c.field, c.kind)
			}
		}
		r.CreatedAt = w.now
		if err := w.AddRelationship(w.ctx, r); err != nil {
			return err
		}
		return w.audit(r.OrgID, "relationship.create", "relationship", r.ID, "client "+r.ClientID+", manager "+r.InternalID)
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "relationship.create", "user", in.ClientID)
	}
	return r, nil
}

// DeleteRelationship ends a relationship (administrators only).
func (a *App) DeleteRelationship(ctx context.Context, id string) error {
	act, err := a.adminOf(ctx, "relationship.delete")
	if err != nil {
		return err
	}
	if !atrium.ValidID(id) {
		return atrium.NotFound("relationship")
	}
	err = a.write(ctx, func(w *writer) error {
		r, err := w.DeleteRelationship(w.ctx, act.User.OrgID, id)
		if err != nil {
			return err
		}
		return w.audit(r.OrgID, "relationship.delete", "relationship", r.ID, "client "+r.ClientID+", manager "+r.InternalID)
	})
	return a.deny(ctx, err, act.User.OrgID, "relationship.delete", "relationship", id)
}

// ListRelationships returns a page of the organisation's relationships,
// optionally of one client or one internal user (administrators only).
func (a *App) ListRelationships(ctx context.Context, clientID, internalID string, p Page) ([]*atrium.Relationship, string, error) {
	act, err := a.adminOf(ctx, "relationship.list")
	if err != nil {
		return nil, "", err
	}
	for _, id := range []string{clientID, internalID} {
		if id != "" && !atrium.ValidID(id) {
			return nil, "", atrium.Errorf(atrium.EInvalid, "client and internal must be user ids")
		}
	}
	return pageAfterID(p, func(after string, limit int) ([]*atrium.Relationship, error) {
		return a.store.ListRelationships(ctx, act.User.OrgID, clientID, internalID, after, limit)
	}, func(r *atrium.Relationship) string { return r.ID })
}

// ExplainContact says whether one user may contact another in the given
// way, and which rule decided (administrators only), so that a policy can
// be checked before a client meets it.
func (a *App) ExplainContact(ctx context.Context, fromID, toID, action string) (*atrium.ContactDecision, error) {
	act, err := a.adminOf(ctx, "relationship.explain")
	if err != nil {
		return nil, err
	}
	if !slices.Contains(atrium.ContactActions, action) {
		return nil, atrium.Errorf(atrium.EInvalid, "action must be one of %v", atrium.ContactActions)
	}
	var users [2]*atrium.User
	for i, c := range []struct{ field, id string }{{"from", fromID}, {"to", toID}} {
		u, err := a.orgUser(ctx, a.store.Queries, act.User.OrgID, c.id)
		if atrium.ErrorCode(err) == atrium.ENotFound {
			return nil, atrium.Errorf(atrium.EInvalid, "%s is not a user of this organisation", c.field)
		}
		if err != nil {
			return nil, err
		}
		users[i] = u
	}
	d, err := a.decideContact(ctx, a.store.Queries, users[0], users[1], action)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// adminOf returns the actor if they administer their organisation;
// others are refused (and the refusal audited as action).
func (a *App) adminOf(ctx context.Context, action string) (*atrium.Actor, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !atrium.CanManageUsers(act.User, act.User.OrgID) {
		return nil, a.deny(ctx, atrium.Errorf(atrium.EForbidden, "only organisation administrators can do this"),
			act.User.OrgID, action, "org", act.User.OrgID)
	}
	return act, nil
}

// decideContact applies the organisation's policy to contact from one
// user to another.
func (a *App) decideContact(ctx context.Context, q store.Queries, from, to *atrium.User, action string) (atrium.ContactDecision, error) {
	o, err := q.GetOrg(ctx, from.OrgID)
	if err != nil {
		return atrium.ContactDecision{}, err
	}
	related := false
	if from.Kind != to.Kind {
		client, internal := from, to
		if from.Kind == atrium.KindInternal {
			client, internal = to, from
		}
		if related, err = q.Related(ctx, client.ID, internal.ID); err != nil {
			return atrium.ContactDecision{}, err
		}
	}
	return atrium.DecideContact(o.Settings, from, to, related, action), nil
}

// mayReach refuses contact of kind action from one user to another that
// the organisation's policy forbids. A user the policy hides from the
// actor is reported as hidden (so that nothing tells them apart from a
// user who does not exist); one they may see but not reach gets 403.
func (a *App) mayReach(ctx context.Context, q store.Queries, from, to *atrium.User, action string) (hidden bool, err error) {
	if from.Kind == atrium.KindInternal {
		return false, nil // the policy governs clients only
	}
	see, err := a.decideContact(ctx, q, from, to, atrium.ContactSee)
	if err != nil {
		return false, err
	}
	if !see.Allowed && action != atrium.ContactMention {
		return true, nil
	}
	d, err := a.decideContact(ctx, q, from, to, action)
	if err != nil {
		return false, err
	}
	if !d.Allowed {
		return false, atrium.Errorf(atrium.EForbidden, "%s", d.Reason)
	}
	return false, nil
}

// Directory returns a page of the people the actor may see in their
// organisation: every active user for internal users; for clients, what
// the organisation's relationship policy shows them.
func (a *App) Directory(ctx context.Context, text string, p Page) ([]*atrium.UserRef, string, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	if len(text) > 200 {
		return nil, "", atrium.Errorf(atrium.EInvalid, "q is longer than 200 bytes")
	}
	after, err := p.afterID()
	if err != nil {
		return nil, "", err
	}
	o, err := a.store.GetOrg(ctx, act.User.OrgID)
	if err != nil {
		return nil, "", err
	}
	f := store.DirectoryFilter{OrgID: o.ID, ViewerID: act.User.ID, AllInternal: true, Clients: true, Text: text}
	if act.User.Kind == atrium.KindClient {
		f.AllInternal, f.Clients = o.Settings.ClientsSeeDirectory, o.Settings.ClientToClientContact
	}
	users, err := a.store.Directory(ctx, f, after, p.limit()+1)
	if err != nil {
		return nil, "", err
	}
	users, next := trimPage(users, p.limit(), func(u *atrium.User) string { return u.ID })
	refs := make([]*atrium.UserRef, len(users))
	for i, u := range users {
		refs[i] = userRef(u)
	}
	return refs, next, nil
}
