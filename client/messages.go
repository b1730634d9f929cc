package client

import (
	"context"
	"net/http"

	"github.com/atrium-dev/atrium"
)

// PostMessageInput is a new message. Mentions are written in the text as
// "@" followed by a member's e-mail address.
type PostMessageInput struct {
	Text string `json:"text"`
	// ReplyTo is the id of a message of the same binder this one answers.
	ReplyTo string `json:"reply_to,omitempty"`
	// ClientKey, if set, is stored with the message: posting again with
	// the same key returns the first message.
	ClientKey string `json:"client_key,omitempty"`
	// IdempotencyKey, if set, is sent as the Idempotency-Key header; when
	// empty the client makes one up for this call.
	IdempotencyKey string `json:"-"`
}

// ReadState is a member's read position in a binder and how many messages
// from others remain unread after it.
type ReadState struct {
	BinderID string `json:"binder_id"`
	ReadSeq  int64  `json:"read_seq"`
	Unread   int64  `json:"unread"`
}

// ListMessages returns a page of a binder's conversation. Deleted messages
// are tombstones: Deleted is set and the text is empty.
func (c *Client) ListMessages(ctx context.Context, binderID string, opts MessageListOptions) (*Page[*atrium.Message], error) {
	var out Page[*atrium.Message]
	r := &request{method: http.MethodGet, path: pathf("/api/v1/binders/%s/messages", binderID), query: opts.values(), retry: true}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PostMessage adds a message to a binder (owners and editors). It is
// idempotent: see PostMessageInput.IdempotencyKey.
func (c *Client) PostMessage(ctx context.Context, binderID string, in PostMessageInput) (*atrium.Message, error) {
	var out atrium.Message
	if err := c.do(ctx, creating(pathf("/api/v1/binders/%s/messages", binderID), in, in.IdempotencyKey), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EditMessage replaces the text of one of the user's own messages.
func (c *Client) EditMessage(ctx context.Context, binderID, messageID, text string) (*atrium.Message, error) {
	var out atrium.Message
	r := &request{method: http.MethodPatch, path: pathf("/api/v1/binders/%s/messages/%s", binderID, messageID),
		body: map[string]string{"text": text}}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteMessage turns a message into a tombstone (its sender or a binder
// owner) and returns the tombstone.
func (c *Client) DeleteMessage(ctx context.Context, binderID, messageID string) (*atrium.Message, error) {
	var out atrium.Message
	r := &request{method: http.MethodDelete, path: pathf("/api/v1/binders/%s/messages/%s", binderID, messageID)}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MarkRead moves the user's read position in a binder forward to seq, or
// to the last message when seq is 0; it never moves back. Since moving
// forward twice is harmless, it is retried after network failures.
func (c *Client) MarkRead(ctx context.Context, binderID string, seq int64) (*ReadState, error) {
	var out ReadState
	body := map[string]int64{}
	if seq > 0 {
		body["seq"] = seq
	}
	r := &request{method: http.MethodPost, path: pathf("/api/v1/binders/%s/read", binderID), body: body, retry: true}
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
