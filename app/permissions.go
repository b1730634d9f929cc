package app

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/atrium-dev/atrium"
)

// userFeatures computes what u may use: the organisation's defaults for
// u's kind, overridden by u's permissions.
func (a *App) userFeatures(ctx context.Context, u *atrium.User) (map[string]bool, error) {
	o, err := a.store.GetOrg(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	p, err := a.store.GetPermissions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return atrium.EffectiveFeatures(o, u, p), nil
}

// features returns the actor's features, computing them if the actor
// came without.
func (a *App) features(ctx context.Context, act *atrium.Actor) (map[string]bool, error) {
	if act.Features != nil {
		return act.Features, nil
	}
	f, err := a.userFeatures(ctx, act.User)
	if err != nil {
		return nil, err
	}
	act.Features = f
	return f, nil
}

// checkFeature is the check point of feature permissions: 403
// feature_disabled when feature is switched off for the actor.
func (a *App) checkFeature(ctx context.Context, act *atrium.Actor, feature string) error {
	f, err := a.features(ctx, act)
	if err != nil {
		return err
	}
	if !f[feature] {
		return atrium.FeatureDisabled(feature)
	}
	return nil
}

// Features returns the actor's own features (GET /me).
func (a *App) Features(ctx context.Context) (map[string]bool, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return a.features(ctx, act)
}

// UserPermissions is one user's overrides and what they may use as a
// result.
type UserPermissions struct {
	UserID    string             `json:"user_id"`
	Overrides atrium.Permissions `json:"overrides"`
	Effective map[string]bool    `json:"effective"`
}

// GetPermissions returns a user's permissions: administrators see any
// user of their organisation, others only themselves.
func (a *App) GetPermissions(ctx context.Context, userID string) (*UserPermissions, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if userID != act.User.ID && !atrium.CanManageUsers(act.User, act.User.OrgID) {
		return nil, a.deny(ctx, atrium.Errorf(atrium.EForbidden, "only organisation administrators can see others' permissions"),
			act.User.OrgID, "user.permissions_read", "user", userID)
	}
	u, err := a.orgUser(ctx, a.store.Queries, act.User.OrgID, userID)
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "user.permissions_read", "user", userID)
	}
	p, err := a.store.GetPermissions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	o, err := a.store.GetOrg(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	return &UserPermissions{UserID: u.ID, Overrides: p, Effective: atrium.EffectiveFeatures(o, u, p)}, nil
}

// SetPermissions replaces a user's overrides (administrators only). An
// administrator cannot change their own, an owner's, or another
// administrator's unless they are the owner, and cannot switch on for
// someone a feature that is off for themselves.
func (a *App) SetPermissions(ctx context.Context, userID string, p atrium.Permissions) (*UserPermissions, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	deny := func(err error) error { return a.deny(ctx, err, act.User.OrgID, "user.permissions", "user", userID) }
	if !atrium.CanManageUsers(act.User, act.User.OrgID) {
		return nil, deny(atrium.Errorf(atrium.EForbidden, "only organisation administrators can change permissions"))
	}
	if p == nil {
		p = atrium.Permissions{}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	mine, err := a.features(ctx, act)
	if err != nil {
		return nil, err
	}
	var out *UserPermissions
	err = a.write(ctx, func(w *writer) error {
		u, err := a.orgUserForUpdate(w, act.User.OrgID, userID)
		if err == nil && u.Status == atrium.StatusDeleted {
			err = atrium.NotFound("user")
		}
		if err != nil {
			return err
		}
		if err := canAdminister(act.User, u); err != nil {
			return err
		}
		if u.ID == act.User.ID && act.User.Role != atrium.OrgRoleOwner {
			return atrium.Errorf(atrium.EForbidden, "administrators cannot change their own permissions")
		}
		old, err := w.GetPermissions(w.ctx, u.ID)
		if err != nil {
			return err
		}
		o, err := w.GetOrg(w.ctx, u.OrgID)
		if err != nil {
			return err
		}
		if act.User.Role != atrium.OrgRoleOwner {
			// What the change switches on, by an override or by removing
			// one, and any override that keeps a feature on whatever the
			// organisation's settings, the administrator must have
			// themselves.
			before, after := atrium.EffectiveFeatures(o, u, old), atrium.EffectiveFeatures(o, u, p)
			for _, name := range atrium.Features {
				if (after[name] && !before[name] || p[name] && !old[name]) && !mine[name] {
					return atrium.Errorf(atrium.EForbidden, "%s is off for you: you cannot switch it on for others", name)
				}
			}
		}
		if err := w.SetPermissions(w.ctx, u.ID, p, w.now); err != nil {
			return err
		}
		out = &UserPermissions{UserID: u.ID, Overrides: p, Effective: atrium.EffectiveFeatures(o, u, p)}
		if err := w.audit(u.OrgID, "user.permissions", "user", u.ID, permissionChange(old, p)); err != nil {
			return err
		}
		return w.event(atrium.EventPermissionsChanged, u.OrgID, "", u.ID, "user", map[string]string{"user_id": u.ID})
	})
	if err != nil {
		return nil, deny(err)
	}
	a.sessions.clear()
	return out, nil
}

// canAdminister reports whether admin may act on target: owners on
// anyone, administrators on members only (never on an owner or another
// administrator, except themselves).
func canAdminister(admin, target *atrium.User) error {
	switch {
	case admin.Role == atrium.OrgRoleOwner, target.ID == admin.ID:
		return nil
	case target.Role == atrium.OrgRoleOwner:
		return atrium.Errorf(atrium.EForbidden, "administrators cannot act on the organisation's owner")
	case target.Role == atrium.OrgRoleAdmin:
		return atrium.Errorf(atrium.EForbidden, "only the owner can act on another administrator")
	}
	return nil
}

// permissionChange describes, for the audit log, how overrides changed.
func permissionChange(old, now atrium.Permissions) string {
	var changes []string
	for _, name := range atrium.Features {
		o, had := old[name]
		n, has := now[name]
		switch {
		case had && !has:
			changes = append(changes, name+"=default")
		case has && (!had || o != n):
			changes = append(changes, fmt.Sprintf("%s=%t", name, n))
		}
	}
	sort.Strings(changes)
	return strings.Join(changes, ", ")
}
