package app

import (
	"context"
	"encoding/base64"

	"github.com/atrium-dev/atrium"
)

// DeviceKey returns the current session's device key (base64), which the
// device encrypts its local cache with. EGone once it was destroyed.
func (a *App) DeviceKey(ctx context.Context) (string, error) {
	act, err := actor(ctx)
	if err != nil {
		return "", err
	}
	s, err := a.store.GetSession(ctx, act.SessionID)
	if err != nil {
		return "", err
	}
	if len(s.DeviceKey) == 0 {
		return "", atrium.Errorf(atrium.EGone, "this device's key was destroyed")
	}
	return base64.StdEncoding.EncodeToString(s.DeviceKey), nil
}

// deviceOwner loads user userID for an action on their devices: the user
// themselves, or an administrator who may act on them. Users of other
// organisations are not found.
func (a *App) deviceOwner(ctx context.Context, act *atrium.Actor, userID string, read bool) (*atrium.User, error) {
	if userID == act.User.ID {
		return act.User, nil
	}
	if !atrium.CanManageUsers(act.User, act.User.OrgID) {
		return nil, atrium.Errorf(atrium.EForbidden, "only organisation administrators can see or act on others' devices")
	}
	u, err := a.orgUser(ctx, a.store.Queries, act.User.OrgID, userID)
	if err != nil {
		return nil, err
	}
	if !read {
		if err := canAdminister(act.User, u); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// ListDevices returns a page of a user's devices (their live sessions,
// and those asked to wipe, with the wipe's state), for the user or an
// administrator.
func (a *App) ListDevices(ctx context.Context, userID string, p Page) ([]*atrium.Session, string, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, "", err
	}
	u, err := a.deviceOwner(ctx, act, userID, true)
	if err != nil {
		return nil, "", a.deny(ctx, err, act.User.OrgID, "device.list", "user", userID)
	}
	return pageAfterID(p, func(after string, limit int) ([]*atrium.Session, error) {
		list, err := a.store.ListDevices(ctx, u.ID, a.now(), after, limit)
		for _, s := range list {
			s.Current = s.ID == act.SessionID
		}
		return list, err
	}, func(s *atrium.Session) string { return s.ID })
}

// LogoutDevices ends one of a user's sessions (sessionID), or all of them
// (""), for the user or an administrator: remote logout.
func (a *App) LogoutDevices(ctx context.Context, userID, sessionID string) (int, error) {
	act, err := actor(ctx)
	if err != nil {
		return 0, err
	}
	u, err := a.deviceOwner(ctx, act, userID, false)
	if err == nil && sessionID != "" && !atrium.ValidID(sessionID) {
		err = atrium.NotFound("session")
	}
	if err != nil {
		return 0, a.deny(ctx, err, act.User.OrgID, "device.logout", "user", userID)
	}
	var n int
	err = a.write(ctx, func(w *writer) error {
		ids, err := w.RevokeSessions(w.ctx, u.ID, sessionID, "", w.now)
		if err != nil {
			return err
		}
		if sessionID == "" {
			// Logging out everywhere ends the apps' access too.
			if err := w.RevokeUserGrants(w.ctx, u.ID, w.now); err != nil {
				return err
			}
		}
		if n = len(ids); n == 0 && sessionID != "" {
			return atrium.NotFound("session")
		}
		if n == 0 {
			return nil
		}
		return w.sessionsRevoked(u, ids, "device.logout")
	})
	if err != nil {
		return 0, a.deny(ctx, err, act.User.OrgID, "device.logout", "user", userID)
	}
	a.sessions.clear()
	return n, nil
}

// WipeDevice asks one of a user's devices to wipe itself, for the user or
// an administrator. Its device key is destroyed at once, so that a device
// that never connects again cannot read its local cache either; one that
// connects gets the wipe command on its event stream (at once if it is
// connected), erases its local data and confirms (ConfirmWipe).
func (a *App) WipeDevice(ctx context.Context, userID, sessionID string) (*atrium.Session, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	u, err := a.deviceOwner(ctx, act, userID, false)
	if err == nil && !atrium.ValidID(sessionID) {
		err = atrium.NotFound("session")
	}
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "device.wipe", "user", userID)
	}
	err = a.write(ctx, func(w *writer) error {
		ids, err := w.RequestWipe(w.ctx, u.ID, sessionID, act.User.ID, w.now)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return atrium.NotFound("session") // not a live session of the user, or already asked
		}
		return w.wipeRequested(u, ids)
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "device.wipe", "user", userID)
	}
	a.sessions.clear()
	return a.store.GetSession(ctx, sessionID)
}

// wipeRequested audits wipes asked of sessions and tells every node to
// send them the wipe command.
func (w *writer) wipeRequested(u *atrium.User, ids []string) error {
	for _, id := range ids {
		if err := w.audit(u.OrgID, "device.wipe", "session", id, "user "+u.ID); err != nil {
			return err
		}
	}
	return w.event(atrium.EventDeviceWipe, u.OrgID, "", u.ID, "sessions", map[string]any{"session_ids": ids})
}

// ConfirmWipe is the device's word that it erased its local data: the
// wipe is recorded as confirmed and the session ends.
func (a *App) ConfirmWipe(ctx context.Context) error {
	act, err := actor(ctx)
	if err != nil {
		return err
	}
	err = a.write(ctx, func(w *writer) error {
		ok, err := w.ConfirmWipe(w.ctx, act.SessionID, w.now)
		if err != nil {
			return err
		}
		if !ok {
			return atrium.Errorf(atrium.EConflict, "no wipe was asked of this device")
		}
		if err := w.audit(act.User.OrgID, "device.wipe_confirmed", "session", act.SessionID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventSessionRevoked, act.User.OrgID, "", act.User.ID, "sessions",
			map[string]any{"session_ids": []string{act.SessionID}})
	})
	if err == nil {
		a.sessions.clear()
	}
	return err
}
