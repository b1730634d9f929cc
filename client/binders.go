package client

import (
	"context"
	"net/http"

	"github.com/atrium-dev/atrium"
)

// CreateBinderInput is a new binder; its creator becomes its owner.
type CreateBinderInput struct {
	Title string `json:"title"`
	// IdempotencyKey, if set, is sent as the Idempotency-Key header; when
	// empty the client makes one up for this call.
	IdempotencyKey string `json:"-"`
}

// UpdateBinderInput changes a binder; nil fields stay as they are.
type UpdateBinderInput struct {
	Title *string `json:"title,omitempty"`
}

// AddMemberInput adds a user of the organisation to a binder.
type AddMemberInput struct {
	UserID string `json:"user_id"`
	Role   string `json:"role,omitempty"` // atrium.BinderRole*; editor when empty
	// IdempotencyKey, if set, is sent as the Idempotency-Key header; when
	// empty the client makes one up for this call.
	IdempotencyKey string `json:"-"`
}

// ListBinders returns a page of the binders the user belongs to, each with
// the user's role, read position and unread count.
func (c *Client) ListBinders(ctx context.Context, opts ListOptions) (*Page[*atrium.Binder], error) {
	var out Page[*atrium.Binder]
	err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/binders", query: opts.values(), retry: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateBinder creates a binder. It is idempotent: see
// CreateBinderInput.IdempotencyKey.
func (c *Client) CreateBinder(ctx context.Context, in CreateBinderInput) (*atrium.Binder, error) {
	var out atrium.Binder
	if err := c.do(ctx, creating("/api/v1/binders", in, in.IdempotencyKey), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetBinder returns a binder the user belongs to, with their unread count.
// Binders they cannot see get 404.
func (c *Client) GetBinder(ctx context.Context, binderID string) (*atrium.Binder, error) {
	var out atrium.Binder
	err := c.do(ctx, &request{method: http.MethodGet, path: pathf("/api/v1/binders/%s", binderID), retry: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateBinder changes a binder (binder owners only).
func (c *Client) UpdateBinder(ctx context.Context, binderID string, in UpdateBinderInput) (*atrium.Binder, error) {
	var out atrium.Binder
	err := c.do(ctx, &request{method: http.MethodPatch, path: pathf("/api/v1/binders/%s", binderID), body: in}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteBinder deletes a binder (binder owners only).
func (c *Client) DeleteBinder(ctx context.Context, binderID string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: pathf("/api/v1/binders/%s", binderID)}, nil)
}

// ListMembers returns a page of a binder's members.
func (c *Client) ListMembers(ctx context.Context, binderID string, opts ListOptions) (*Page[*atrium.Member], error) {
	var out Page[*atrium.Member]
	r := &request{method: http.MethodGet, path: pathf("/api/v1/binders/%s/members", binderID), query: opts.values(), retry: true}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddMember adds a user to a binder (binder owners only). It is
// idempotent: see AddMemberInput.IdempotencyKey.
func (c *Client) AddMember(ctx context.Context, binderID string, in AddMemberInput) (*atrium.Member, error) {
	var out atrium.Member
	if err := c.do(ctx, creating(pathf("/api/v1/binders/%s/members", binderID), in, in.IdempotencyKey), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveMember removes a user from a binder: binder owners may remove
// anyone, and any member may remove themself. The last owner cannot be
// removed (409).
func (c *Client) RemoveMember(ctx context.Context, binderID, userID string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: pathf("/api/v1/binders/%s/members/%s", binderID, userID)}, nil)
}
