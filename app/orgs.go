package app

import (
	"context"
	"strings"

	"github.com/atrium-dev/atrium"
)

// GetOrg returns the actor's organisation.
func (a *App) GetOrg(ctx context.Context) (*atrium.Org, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	return a.store.GetOrg(ctx, act.User.OrgID)
}

// UpdateOrgInput changes the organisation; nil fields stay as they are.
// Settings, when given, replace the settings whole.
type UpdateOrgInput struct {
	Name     *string             `json:"name,omitempty"`
	Settings *atrium.OrgSettings `json:"settings,omitempty"`
}

// UpdateOrg renames the actor's organisation or changes its settings
// (administrators only).
func (a *App) UpdateOrg(ctx context.Context, in UpdateOrgInput) (*atrium.Org, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !atrium.CanManageUsers(act.User, act.User.OrgID) {
		return nil, a.deny(ctx, atrium.Errorf(atrium.EForbidden, "only organisation administrators can change the organisation"),
			act.User.OrgID, "org.update", "org", act.User.OrgID)
	}
	var o *atrium.Org
	err = a.write(ctx, func(w *writer) error {
		if o, err = w.GetOrg(ctx, act.User.OrgID); err != nil {
			return err
		}
		if in.Name != nil {
			o.Name = strings.TrimSpace(*in.Name)
		}
		if in.Settings != nil {
			o.Settings = *in.Settings
			if o.Settings.BlockedExtensions == nil {
				o.Settings.BlockedExtensions = atrium.DefaultOrgSettings().BlockedExtensions
			}
		}
		if err := o.Validate(); err != nil {
			return err
		}
		o.UpdatedAt = w.now
		if err := w.UpdateOrg(ctx, o); err != nil {
			return err
		}
		return w.audit(o.ID, "org.update", "org", o.ID, "")
	})
	return o, err
}
