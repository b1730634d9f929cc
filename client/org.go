package client

import (
	"context"
	"net/http"

	"github.com/atrium-dev/atrium"
)

// UpdateOrgInput changes the organisation; nil fields stay as they are.
// Settings, when given, replace the settings whole: read them with GetOrg,
// change what is needed and send them back.
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
