package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/atrium-dev/atrium"
)

// Directory returns a page of the people the user may see in their
// organisation, optionally those whose name or address contains text. For
// a client user, the organisation's relationship policy decides who that
// is.
func (c *Client) Directory(ctx context.Context, text string, opts ListOptions) (*Page[*atrium.UserRef], error) {
	q := opts.values()
	if text != "" {
		q.Set("q", text)
	}
	var out Page[*atrium.UserRef]
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/directory", query: q, retry: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateRelationship makes an internal user one of a client's
// relationship managers (administrators only).
func (c *Client) CreateRelationship(ctx context.Context, clientID, internalID string) (*atrium.Relationship, error) {
	var out atrium.Relationship
	body := map[string]string{"client_id": clientID, "internal_id": internalID}
	if err := c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/relationships", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteRelationship ends a relationship (administrators only).
func (c *Client) DeleteRelationship(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: pathf("/api/v1/relationships/%s", id), retry: true}, nil)
}

// ExplainContact says whether user from may contact user to in the given
// way (atrium.ContactMessage, ContactAddMember, ContactMention or
// ContactSee) under the organisation's policy, and which rule decided
// (administrators only).
func (c *Client) ExplainContact(ctx context.Context, from, to, action string) (*atrium.ContactDecision, error) {
	q := url.Values{"from": {from}, "to": {to}, "action": {action}}
	var out atrium.ContactDecision
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/relationships/explain", query: q, retry: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
