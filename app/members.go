package app

import (
	"context"

	"github.com/atrium-dev/atrium"
)

// ListMembers returns a page of a binder's members (members only).
func (a *App) ListMembers(ctx context.Context, binderID string, p Page) ([]*atrium.Member, string, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	if _, _, err := visibleBinder(ctx, a.store.GetBinderForUser, act.User, binderID); err != nil {
		return nil, "", a.deny(ctx, err, act.User.OrgID, "member.list", "binder", binderID)
	}
	return pageAfterID(p, func(after string, limit int) ([]*atrium.Member, error) {
		return a.store.ListMembers(ctx, binderID, after, limit)
	}, func(m *atrium.Member) string { return m.UserID })
}

// AddMemberInput adds a user of the organisation to a binder.
type AddMemberInput struct {
	UserID string `json:"user_id"`
	Role   string `json:"role,omitempty"`
}

// AddMember adds a member (binder owners only). Users of other
// organisations are not found.
func (a *App) AddMember(ctx context.Context, binderID string, in AddMemberInput) (*atrium.Member, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := validMemberInput(&in); err != nil {
		return nil, err
	}
	m, err := idempotent(a, ctx, "member.add:"+binderID, in, func(w *writer) (*atrium.Member, error) {
		b, _, err := a.manageableBinder(w, act.User, binderID)
		if err != nil {
			return nil, err
		}
		return a.addMember(w, act, b, in)
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "member.add", "binder", binderID)
	}
	return m, nil
}

// addMember adds in.UserID to binder b for act (whose right to change the
// binder's members is checked already): the feature, the target, and the
// organisation's relationship policy. A user the policy hides from the
// actor is refused as if they did not exist.
func (a *App) addMember(w *writer, act *atrium.Actor, b *atrium.Binder, in AddMemberInput) (*atrium.Member, error) {
	if err := a.checkFeature(w.ctx, act, atrium.FeatureMembersAdd); err != nil {
		return nil, err
	}
	notUser := atrium.Errorf(atrium.EInvalid, "user_id is not a user of this organisation")
	// Locked, so that a deletion of the user cannot cross this.
	target, err := a.orgUserForUpdate(w, b.OrgID, in.UserID)
	if atrium.ErrorCode(err) == atrium.ENotFound || err == nil && target.Status == atrium.StatusDeleted {
		return nil, notUser
	}
	if err != nil {
		return nil, err
	}
	hidden, err := a.mayReach(w.ctx, w.Queries, act.User, target, atrium.ContactAddMember)
	if err != nil {
		return nil, err
	}
	if hidden {
		return nil, notUser
	}
	if !atrium.CanAddMember(target, b) {
		return nil, atrium.Errorf(atrium.EInvalid, "a deactivated user cannot be added")
	}
	m := &atrium.Member{BinderID: b.ID, UserID: target.ID, Role: in.Role, AddedBy: act.User.ID, CreatedAt: w.now,
		User: userRef(target)}
	if err := w.AddMember(w.ctx, m); err != nil {
		return nil, err
	}
	if err := w.auditIn(b.OrgID, b.ID, "member.add", "user", target.ID, "as "+in.Role); err != nil {
		return nil, err
	}
	return m, w.event(atrium.EventMemberAdded, b.OrgID, b.ID, target.ID, "member", m)
}

// validMemberInput defaults and checks a member's role.
func validMemberInput(in *AddMemberInput) error {
	if in.Role == "" {
		in.Role = atrium.BinderRoleEditor
	}
	if !atrium.ValidBinderRole(in.Role) {
		return atrium.Errorf(atrium.EInvalid, "role must be \"owner\", \"editor\" or \"viewer\"")
	}
	return nil
}

// RemoveMember removes a member: binder owners may remove anyone, and any
// member may leave. The last owner cannot go.
func (a *App) RemoveMember(ctx context.Context, binderID, userID string) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	err = a.write(ctx, func(w *writer) error {
		b, mine, err := lockedBinder(w, act.User, binderID)
		if err != nil {
			return err
		}
		if userID != act.User.ID && !atrium.CanManageBinder(act.User, b, mine) {
			return atrium.Errorf(atrium.EForbidden, "only the binder's owners can remove other members")
		}
		if !atrium.ValidID(userID) {
			return atrium.NotFound("member")
		}
		m, err := w.GetMember(ctx, b.ID, userID)
		if err != nil {
			return err
		}
		if err := a.keepAnOwner(w, b.ID, m); err != nil {
			return err
		}
		if err := w.Tx.RemoveMember(ctx, b.ID, userID); err != nil {
			return err
		}
		if err := w.auditIn(b.OrgID, b.ID, "member.remove", "user", userID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventMemberRemoved, b.OrgID, b.ID, userID, "member", m)
	})
	return a.deny(ctx, err, act.User.OrgID, "member.remove", "binder", binderID)
}

// keepAnOwner refuses to remove a binder's last owner.
func (a *App) keepAnOwner(w *writer, binderID string, m *atrium.Member) error {
	if m.Role != atrium.BinderRoleOwner {
		return nil
	}
	n, err := w.CountOwners(w.ctx, binderID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return atrium.Errorf(atrium.EConflict, "a binder needs an owner: add another owner first")
	}
	return nil
}
