package client

import (
	"context"
	"net/http"

	"github.com/atrium-dev/atrium"
)

// CreateUserInput is a new user of the caller's organisation. Without a
// Password the user is invited and the result carries an invitation token.
type CreateUserInput struct {
	Email    string `json:"email"`
	Name     string `json:"name,omitempty"`
	Kind     string `json:"kind"`           // atrium.KindInternal or atrium.KindClient
	Role     string `json:"role,omitempty"` // atrium.OrgRoleAdmin or atrium.OrgRoleMember (default)
	Password string `json:"password,omitempty"`
	// IdempotencyKey, if set, is sent as the Idempotency-Key header; when
	// empty the client makes one up for this call.
	IdempotencyKey string `json:"-"`
}

// CreatedUser is a new user and, for an invited one, the invitation.
type CreatedUser struct {
	*atrium.User
	Invitation *Invitation `json:"invitation,omitempty"`
}

// Invitation is the one-time token an invited user accepts with.
type Invitation struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
}

// UpdateUserInput changes a user; nil fields stay as they are. Setting
// Status to atrium.StatusDeactivated ends all the user's sessions.
type UpdateUserInput struct {
	Name   *string `json:"name,omitempty"`
	Role   *string `json:"role,omitempty"`
	Status *string `json:"status,omitempty"`
}

// String returns a pointer to s, for the optional fields of update inputs.
func String(s string) *string { return &s }

// ListUsers returns a page of the organisation's users (administrators
// only; others get 403).
func (c *Client) ListUsers(ctx context.Context, opts ListOptions) (*Page[*atrium.User], error) {
	var out Page[*atrium.User]
	err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/users", query: opts.values(), retry: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateUser adds a user to the organisation (administrators only). It is
// idempotent: see CreateUserInput.IdempotencyKey.
func (c *Client) CreateUser(ctx context.Context, in CreateUserInput) (*CreatedUser, error) {
	var out CreatedUser
	if err := c.do(ctx, creating("/api/v1/users", in, in.IdempotencyKey), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateUser changes a user of the organisation (administrators only).
func (c *Client) UpdateUser(ctx context.Context, userID string, in UpdateUserInput) (*atrium.User, error) {
	var out atrium.User
	err := c.do(ctx, &request{method: http.MethodPatch, path: pathf("/api/v1/users/%s", userID), body: in}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UserPermissions are a user's overrides of the organisation's feature
// defaults and the features they may use as a result.
type UserPermissions struct {
	UserID    string             `json:"user_id"`
	Overrides atrium.Permissions `json:"overrides"`
	Effective map[string]bool    `json:"effective"`
}

// GetPermissions returns a user's feature permissions (administrators, or
// the user themselves).
func (c *Client) GetPermissions(ctx context.Context, userID string) (*UserPermissions, error) {
	var out UserPermissions
	err := c.do(ctx, &request{method: http.MethodGet, path: pathf("/api/v1/users/%s/permissions", userID), retry: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SetPermissions replaces a user's overrides, e.g.
// atrium.Permissions{atrium.FeatureFilesUpload: false}; an empty set
// returns them to the organisation's defaults (administrators only). It is
// safe to retry: the same body gives the same result.
func (c *Client) SetPermissions(ctx context.Context, userID string, p atrium.Permissions) (*UserPermissions, error) {
	if p == nil {
		p = atrium.Permissions{}
	}
	var out UserPermissions
	err := c.do(ctx, &request{method: http.MethodPut, path: pathf("/api/v1/users/%s/permissions", userID), body: p, retry: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// creating is a POST that creates an object: it always carries an
// idempotency key (key, or a fresh one) and so may be retried.
func creating(path string, body any, key string) *request {
	if key == "" {
		key = newIdempotencyKey()
	}
	return &request{method: http.MethodPost, path: path, body: body, key: key, retry: true}
}
