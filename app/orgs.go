package app

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
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
// Settings, when given, is a JSON object of the settings to change: the
// keys it names take its values, the others keep theirs.
type UpdateOrgInput struct {
	Name     *string         `json:"name,omitempty"`
	Settings json.RawMessage `json:"settings,omitempty"`
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
		before := o.Settings.Marshal()
		if len(in.Settings) > 0 {
			if err := mergeSettings(&o.Settings, in.Settings); err != nil {
				return err
			}
		}
		if err := o.Validate(); err != nil {
			return err
		}
		o.UpdatedAt = w.now
		if err := w.UpdateOrg(ctx, o); err != nil {
			return err
		}
		if err := w.audit(o.ID, "org.update", "org", o.ID, settingsChange(before, o.Settings.Marshal())); err != nil {
			return err
		}
		// Every node recomputes its users' features.
		return w.event(atrium.EventOrgSettingsChanged, o.ID, "", "", "org", map[string]string{"org_id": o.ID})
	})
	if err != nil {
		return nil, err
	}
	a.sessions.clear()
	return o, nil
}

// GetOrgSettings returns the actor's organisation's settings.
func (a *App) GetOrgSettings(ctx context.Context) (*atrium.OrgSettings, error) {
	o, err := a.GetOrg(ctx)
	if err != nil {
		return nil, err
	}
	return &o.Settings, nil
}

// PatchOrgSettings changes the settings a JSON object names
// (administrators only); see UpdateOrgInput.
func (a *App) PatchOrgSettings(ctx context.Context, patch json.RawMessage) (*atrium.OrgSettings, error) {
	o, err := a.UpdateOrg(ctx, UpdateOrgInput{Settings: patch})
	if err != nil {
		return nil, err
	}
	return &o.Settings, nil
}

// mergeSettings applies a JSON object of settings onto s, refusing
// unknown keys. A null blocked_extensions restores the default list.
func mergeSettings(s *atrium.OrgSettings, patch json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return atrium.Errorf(atrium.EInvalid, "settings: %v", err)
	}
	if dec.More() {
		return atrium.Errorf(atrium.EInvalid, "settings: data after the JSON object")
	}
	if s.BlockedExtensions == nil {
		s.BlockedExtensions = atrium.DefaultOrgSettings().BlockedExtensions
	}
	return nil
}

// settingsChange describes, for the audit log, which settings changed.
func settingsChange(before, after string) string {
	var b, a map[string]json.RawMessage
	_ = json.Unmarshal([]byte(before), &b)
	_ = json.Unmarshal([]byte(after), &a)
	var changed []string
	for k, v := range a {
		if !bytes.Equal(b[k], v) {
			changed = append(changed, k+"="+truncate(string(v), 100))
		}
	}
	sort.Strings(changed)
	if len(changed) == 0 {
		return ""
	}
	return "settings: " + strings.Join(changed, ", ")
}
