package app

import (
	"context"
	"strings"

	"github.com/atrium-dev/atrium"
)

// CreateBinderInput is a new binder.
type CreateBinderInput struct {
	Title string `json:"title"`
	// Members are added with the binder, in the same transaction: all of
	// them, or (if any is refused) no binder at all.
	Members []AddMemberInput `json:"members,omitempty"`
}

// MaxInitialMembers bounds the members a binder is created with.
const MaxInitialMembers = 100

// CreateBinder creates a binder in the actor's organisation with the actor
// as its owner.
func (a *App) CreateBinder(ctx context.Context, in CreateBinderInput) (*atrium.Binder, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	b := &atrium.Binder{BinderInfo: atrium.BinderInfo{OrgID: act.User.OrgID, Title: strings.TrimSpace(in.Title), CreatedBy: act.User.ID}}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	if len(in.Members) > MaxInitialMembers {
		return nil, atrium.Errorf(atrium.EInvalid, "a binder can be created with at most %d members", MaxInitialMembers)
	}
	seen := map[string]bool{act.User.ID: true}
	for i := range in.Members {
		if err := validMemberInput(&in.Members[i]); err != nil {
			return nil, err
		}
		if seen[in.Members[i].UserID] {
			return nil, atrium.Errorf(atrium.EInvalid, "members: each user once, and not the creator, who owns the binder already")
		}
		seen[in.Members[i].UserID] = true
	}
	if err := a.checkFeature(ctx, act, atrium.FeatureBindersCreate); err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "binder.create", "org", act.User.OrgID)
	}
	b, err = idempotent(a, ctx, "binder.create", in, func(w *writer) (*atrium.Binder, error) {
		b.ID, b.CreatedAt, b.UpdatedAt = atrium.NewID(), w.now, w.now
		b.MyRole = atrium.BinderRoleOwner
		m := &atrium.Member{BinderID: b.ID, UserID: act.User.ID, Role: atrium.BinderRoleOwner, AddedBy: act.User.ID,
			CreatedAt: w.now, User: userRef(act.User)}
		if err := w.CreateBinder(ctx, b); err != nil {
			return nil, err
		}
		if err := w.AddMember(ctx, m); err != nil {
			return nil, err
		}
		if err := w.audit(b.OrgID, "binder.create", "binder", b.ID, ""); err != nil {
			return nil, err
		}
		if err := w.event(atrium.EventMemberAdded, b.OrgID, b.ID, act.User.ID, "member", m); err != nil {
			return nil, err
		}
		if err := w.event(atrium.EventBinderCreated, b.OrgID, b.ID, act.User.ID, "binder", b.Info()); err != nil {
			return nil, err
		}
		for _, in := range in.Members {
			if _, err := a.addMember(w, act, b, in); err != nil {
				return nil, err
			}
		}
		return b, nil
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "binder.create", "org", act.User.OrgID)
	}
	return b, nil
}

func userRef(u *atrium.User) *atrium.UserRef {
	return &atrium.UserRef{ID: u.ID, Name: u.Name, Email: u.Email, Kind: u.Kind}
}

// ListBinders returns a page of the binders the actor belongs to.
func (a *App) ListBinders(ctx context.Context, p Page) ([]*atrium.Binder, string, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	return pageAfterID(p, func(after string, limit int) ([]*atrium.Binder, error) {
		return a.store.ListBindersForUser(ctx, act.User.ID, after, limit)
	}, func(b *atrium.Binder) string { return b.ID })
}

// getBinderFunc loads a binder with a user's membership of it: the
// store's GetBinderForUser, or a transaction's GetBinderForUserLocked.
type getBinderFunc func(ctx context.Context, id, userID string) (*atrium.Binder, *atrium.Member, error)

// visibleBinder loads a binder the user may see, with their membership.
// Binders of other organisations, deleted binders and binders the user is
// not a member of are all "not found", so their existence never leaks.
func visibleBinder(ctx context.Context, get getBinderFunc, u *atrium.User, id string) (*atrium.Binder, *atrium.Member, error) {
	if !atrium.ValidID(id) {
		return nil, nil, atrium.NotFound("binder")
	}
	b, m, err := get(ctx, id, u.ID)
	if err != nil {
		return nil, nil, err
	}
	if !atrium.CanSeeBinder(u, b, m) {
		return nil, nil, atrium.NotFound("binder")
	}
	return b, m, nil
}

// lockedBinder loads a binder the user may see for a change, locking it so
// that what is checked here still holds at commit (see
// store.GetBinderForUserLocked).
func lockedBinder(w *writer, u *atrium.User, id string) (*atrium.Binder, *atrium.Member, error) {
	return visibleBinder(w.ctx, w.GetBinderForUserLocked, u, id)
}

// GetBinder returns a binder the actor belongs to, with their unread count.
func (a *App) GetBinder(ctx context.Context, id string) (*atrium.Binder, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	b, m, err := visibleBinder(ctx, a.store.GetBinderForUser, act.User, id)
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "binder.read", "binder", id)
	}
	if b.Unread, err = a.store.CountUnread(ctx, b.ID, act.User.ID, m.ReadSeq); err != nil {
		return nil, err
	}
	return b, nil
}

// UpdateBinderInput changes a binder; nil fields stay as they are.
type UpdateBinderInput struct {
	Title *string `json:"title,omitempty"`
}

// UpdateBinder renames a binder (binder owners only).
func (a *App) UpdateBinder(ctx context.Context, id string, in UpdateBinderInput) (*atrium.Binder, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if in.Title == nil {
		return nil, atrium.Errorf(atrium.EInvalid, "nothing to change: give a title")
	}
	title := strings.TrimSpace(*in.Title)
	if err := atrium.ValidateTitle(title); err != nil {
		return nil, err
	}
	var b *atrium.Binder
	err = a.write(ctx, func(w *writer) error {
		var m *atrium.Member
		if b, m, err = a.manageableBinder(w, act.User, id); err != nil {
			return err
		}
		if b.Unread, err = w.CountUnread(ctx, b.ID, act.User.ID, m.ReadSeq); err != nil {
			return err
		}
		b.Title, b.UpdatedAt = title, w.now
		if err := w.UpdateBinderTitle(ctx, b.ID, title, w.now); err != nil {
			return err
		}
		if err := w.audit(b.OrgID, "binder.update", "binder", b.ID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventBinderUpdated, b.OrgID, b.ID, "", "binder", b.Info())
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "binder.update", "binder", id)
	}
	return b, nil
}

// manageableBinder loads a binder the user owns: ENotFound if they cannot
// see it, EForbidden if they can see it but not manage it.
func (a *App) manageableBinder(w *writer, u *atrium.User, id string) (*atrium.Binder, *atrium.Member, error) {
	b, m, err := lockedBinder(w, u, id)
	if err != nil {
		return nil, nil, err
	}
	if !atrium.CanManageBinder(u, b, m) {
		return nil, nil, atrium.Errorf(atrium.EForbidden, "only the binder's owners can do this")
	}
	return b, m, nil
}

// DeleteBinder deletes a binder (binder owners only). Its members are told
// on the event stream; afterwards it is not found for anyone.
func (a *App) DeleteBinder(ctx context.Context, id string) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	err = a.write(ctx, func(w *writer) error {
		b, _, err := a.manageableBinder(w, act.User, id)
		if err != nil {
			return err
		}
		if err := w.DeleteBinder(ctx, b.ID, w.now); err != nil {
			return err
		}
		if err := w.audit(b.OrgID, "binder.delete", "binder", b.ID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventBinderDeleted, b.OrgID, b.ID, "", "binder", map[string]string{"id": b.ID})
	})
	return a.deny(ctx, err, act.User.OrgID, "binder.delete", "binder", id)
}
