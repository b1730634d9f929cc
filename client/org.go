package client

import (
	"context"
	"net/http"

	"github.com/atrium-dev/atrium"
)

// UpdateOrgInput changes the organisation; nil fields stay as they are.
// Settings, when given, are sent whole: read them with GetOrg, change what
// is needed and send them back (PatchOrgSettings changes single settings).
type UpdateOrgInput struct {
	Name     *string             `json:"name,omitempty"`
	Settings *atrium.OrgSettings `json:"settings,omitempty"`
}

// GetOrg returns the user's organisation with its settings.
func (c *Client) GetOrg(ctx context.Context) (*atrium.Org, error) {
	var out atrium.Org
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/org", retry: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateOrg renames the organisation or changes its settings
// (administrators only; others get 403, invalid settings 400).
func (c *Client) UpdateOrg(ctx context.Context, in UpdateOrgInput) (*atrium.Org, error) {
	var out atrium.Org
	if err := c.do(ctx, &request{method: http.MethodPatch, path: "/api/v1/org", body: in}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetOrgSettings returns the organisation's settings.
func (c *Client) GetOrgSettings(ctx context.Context) (*atrium.OrgSettings, error) {
	var out atrium.OrgSettings
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/org/settings", retry: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PatchOrgSettings changes the settings patch names, e.g.
// map[string]any{"file_sharing": false}; the others keep their values
// (administrators only).
func (c *Client) PatchOrgSettings(ctx context.Context, patch map[string]any) (*atrium.OrgSettings, error) {
	var out atrium.OrgSettings
	if err := c.do(ctx, &request{method: http.MethodPatch, path: "/api/v1/org/settings", body: patch}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
