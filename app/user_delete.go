package app

import (
	"context"
	"fmt"

	"github.com/atrium-dev/atrium"
)

// DeleteUser deletes a user of the organisation (administrators, on users
// they may act on; never themselves or the owner). Every device is wiped
// and logged out, memberships, relationships, permissions and invitations
// go, and their personal data is replaced by placeholders: what they
// wrote stays, as "Deleted user"'s, or, under the organisation's "erase"
// policy, their messages are erased and their files deleted. Binders the
// user alone owned pass to the administrator.
func (a *App) DeleteUser(ctx context.Context, id string) error {
	act, err := a.adminOf(ctx, "user.delete")
	if err != nil {
		return err
	}
	var objects []string
	err = a.write(ctx, func(w *writer) error {
		u, err := a.orgUserForUpdate(w, act.User.OrgID, id)
		if err != nil {
			return err
		}
		switch {
		case u.Status == atrium.StatusDeleted:
			return atrium.NotFound("user")
		case u.ID == act.User.ID:
			return atrium.Errorf(atrium.EForbidden, "you cannot delete yourself; ask another administrator")
		case u.Role == atrium.OrgRoleOwner:
			return atrium.Errorf(atrium.EForbidden, "the organisation's owner cannot be deleted")
		}
		if err := canAdminister(act.User, u); err != nil {
			return err
		}
		o, err := w.GetOrg(w.ctx, u.OrgID)
		if err != nil {
			return err
		}
		objects = objects[:0]
		return a.deleteUser(w, act.User, u, o.Settings.UserDeletion, &objects)
	})
	if err != nil {
		return a.deny(ctx, err, act.User.OrgID, "user.delete", "user", id)
	}
	a.sessions.clear()
	for _, b := range objects {
		a.deleteObject(ctx, b)
	}
	return nil
}

// cutOff ends all of a user's access, for a deactivation or a deletion:
// every device wiped (its key destroyed, a connected one told to erase
// its data) and logged out, and the apps they authorised revoked.
func (w *writer) cutOff(u, by *atrium.User) error {
	wiped, err := w.RequestWipe(w.ctx, u.ID, "", by.ID, w.now)
	if err != nil {
		return err
	}
	if len(wiped) > 0 {
		if err := w.wipeRequested(u, wiped); err != nil {
			return err
		}
	}
	if _, err := w.RevokeSessions(w.ctx, u.ID, "", "", w.now); err != nil {
		return err
	}
	return w.RevokeUserGrants(w.ctx, u.ID, w.now)
}

// deleteUser does DeleteUser's work in its transaction, and adds to
// objects the stored objects to delete once it has committed.
func (a *App) deleteUser(w *writer, by, u *atrium.User, policy string, objects *[]string) error {
	if err := w.cutOff(u, by); err != nil {
		return err
	}
	orphans, err := w.BindersOwnedOnlyBy(w.ctx, u.ID)
	if err != nil {
		return err
	}
	for _, b := range orphans {
		if err := w.MakeOwner(w.ctx, b, by.ID, by.ID, w.now); err != nil {
			return err
		}
		if err := w.auditIn(u.OrgID, b, "binder.owner_transfer", "user", by.ID, "from deleted user "+u.ID); err != nil {
			return err
		}
		m := &atrium.Member{BinderID: b, UserID: by.ID, Role: atrium.BinderRoleOwner, AddedBy: by.ID, CreatedAt: w.now, User: userRef(by)}
		if err := w.event(atrium.EventMemberAdded, u.OrgID, b, by.ID, "member", m); err != nil {
			return err
		}
	}
	if err := w.ScrubMemberEvents(w.ctx, u.OrgID, u.ID); err != nil {
		return err
	}
	if policy == atrium.UserDeletionErase {
		msgs, err := w.EraseMessagesBy(w.ctx, u.ID, w.now)
		if err != nil {
			return err
		}
		if err := w.ScrubMessagesBy(w.ctx, u.OrgID, u.ID); err != nil {
			return err
		}
		for _, m := range msgs {
			if err := w.event(atrium.EventMessageDeleted, u.OrgID, m.BinderID, "", "message", m); err != nil {
				return err
			}
		}
		files, err := w.DeleteFilesBy(w.ctx, u.ID, w.now)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := w.event(atrium.EventFileDeleted, u.OrgID, f.BinderID, "", "file", fileRemoved{ID: f.ID, BinderID: f.BinderID}); err != nil {
				return err
			}
		}
		if err := w.audit(u.OrgID, "user.erase_content", "user", u.ID,
			fmt.Sprintf("%d messages erased, %d files deleted", len(msgs), len(files))); err != nil {
			return err
		}
	}
	binders, err := w.RemoveUserEverywhere(w.ctx, u.ID)
	if err != nil {
		return err
	}
	for _, b := range binders {
		m := &atrium.Member{BinderID: b, UserID: u.ID, CreatedAt: w.now}
		if err := w.event(atrium.EventMemberRemoved, u.OrgID, b, u.ID, "member", m); err != nil {
			return err
		}
	}
	// Their exports go with them (the objects once the deletion commits).
	exports, err := w.UserExports(w.ctx, u.ID)
	if err != nil {
		return err
	}
	for _, id := range exports {
		blobID, err := w.DeleteExport(w.ctx, id)
		if err != nil {
			return err
		}
		if blobID != "" {
			*objects = append(*objects, blobID)
		}
	}
	if err := w.AnonymiseUser(w.ctx, u.ID, w.now); err != nil {
		return err
	}
	return w.audit(u.OrgID, "user.delete", "user", u.ID, "policy "+policy)
}

// SetUserStatusAsSystem deactivates or reactivates a user for the
// operator (the `atrium user` command), with the organisation owner's
// rights; the audit log records the system as the actor.
func (a *App) SetUserStatusAsSystem(ctx context.Context, userID, status string) (*atrium.User, error) {
	var u *atrium.User
	err := a.asOwnerOf(ctx, userID, func(w *writer, owner, target *atrium.User) error {
		u = target
		return a.applyUserUpdate(w, owner, target, UpdateUserInput{Status: &status})
	})
	if err == nil {
		a.sessions.clear()
	}
	return u, err
}

// DeleteUserAsSystem deletes a user for the operator, as DeleteUser does;
// binders the user alone owned pass to the organisation's owner.
func (a *App) DeleteUserAsSystem(ctx context.Context, userID string) error {
	var objects []string
	err := a.asOwnerOf(ctx, userID, func(w *writer, owner, target *atrium.User) error {
		switch {
		case target.Status == atrium.StatusDeleted:
			return atrium.NotFound("user")
		case target.Role == atrium.OrgRoleOwner:
			return atrium.Errorf(atrium.EForbidden, "the organisation's owner cannot be deleted")
		}
		o, err := w.GetOrg(w.ctx, target.OrgID)
		if err != nil {
			return err
		}
		objects = objects[:0]
		return a.deleteUser(w, owner, target, o.Settings.UserDeletion, &objects)
	})
	if err == nil {
		a.sessions.clear()
		for _, b := range objects {
			a.deleteObject(ctx, b)
		}
	}
	return err
}

// asOwnerOf runs fn in a write transaction on user userID, with the
// owner of their organisation.
func (a *App) asOwnerOf(ctx context.Context, userID string, fn func(w *writer, owner, target *atrium.User) error) error {
	if !atrium.ValidID(userID) {
		return atrium.NotFound("user")
	}
	return a.write(ctx, func(w *writer) error {
		u, err := w.GetUserForUpdate(w.ctx, userID)
		if err != nil {
			return err
		}
		owner, err := w.OrgOwner(w.ctx, u.OrgID)
		if err != nil {
			return err
		}
		return fn(w, owner, u)
	})
}

// deleteObject removes a stored object whose record is gone.
func (a *App) deleteObject(ctx context.Context, blobID string) {
	fs, err := a.files()
	if err != nil {
		return
	}
	if err := fs.Blobs.Delete(context.WithoutCancel(ctx), blobID); err != nil {
		a.log.Warn("an object stays behind", "blob", blobID, "err", err)
	}
}
