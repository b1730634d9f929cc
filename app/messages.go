package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/store"
)

// PostMessageInput is a new message. ClientKey, if given, makes the post
// idempotent: posting the same key again returns the first message.
type PostMessageInput struct {
	Text      string `json:"text"`
	ReplyTo   string `json:"reply_to,omitempty"`
	ClientKey string `json:"client_key,omitempty"`
	// Attachments are ids of files of the same binder.
	Attachments []string `json:"attachments,omitempty"`
}

// PostMessage adds a message to a binder's conversation (owners and
// editors). Mentions of members by e-mail address are resolved to their
// user ids.
func (a *App) PostMessage(ctx context.Context, binderID string, in PostMessageInput) (*atrium.Message, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := atrium.ValidateMessageText(in.Text); err != nil {
		return nil, err
	}
	if len(in.ClientKey) > atrium.MaxIdempotencyKey {
		return nil, atrium.Errorf(atrium.EInvalid, "client_key is longer than %d bytes", atrium.MaxIdempotencyKey)
	}
	if in.ReplyTo != "" && !atrium.ValidID(in.ReplyTo) {
		return nil, atrium.Errorf(atrium.EInvalid, "reply_to is not a message of this binder")
	}
	if err := checkAttachmentIDs(in.Attachments); err != nil {
		return nil, err
	}
	post := func() (*atrium.Message, error) {
		// The post is checked on a read outside the write transaction, so
		// that in the common case it takes one statement there.
		plan, err := planPost(ctx, a.store, a.store.GetBinderForUser, act.User, binderID, in)
		if err != nil {
			return nil, err
		}
		if err := a.checkFeature(ctx, act, atrium.FeatureMessagesPost); err != nil {
			return nil, err
		}
		if err := a.checkMentions(ctx, a.store.Queries, act.User, plan.mentions); err != nil {
			return nil, err
		}
		return idempotent(a, ctx, "message.post:"+binderID, in, func(w *writer) (*atrium.Message, error) {
			return a.postMessage(w, act.User, binderID, in, plan)
		})
	}
	msg, err := post()
	if atrium.ErrorCode(err) == atrium.EConflict && in.ClientKey != "" {
		msg, err = post() // another copy won the race for the key: answer with its message
	}
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "message.post", "binder", binderID)
	}
	return msg, nil
}

// postReads are the reads that check a post, from a pool or a transaction.
type postReads interface {
	GetMessageByClientKey(ctx context.Context, binderID, senderID, key string) (*atrium.Message, error)
	GetMessage(ctx context.Context, binderID, id string) (*atrium.Message, error)
	MemberIDsByEmails(ctx context.Context, binderID string, emails []string) ([]string, error)
	GetFile(ctx context.Context, id string) (*atrium.File, error)
}

// checkAttachmentIDs checks the form of a post's attachments: at most
// MaxAttachments distinct file ids.
func checkAttachmentIDs(ids []string) error {
	if len(ids) > atrium.MaxAttachments {
		return atrium.Errorf(atrium.EInvalid, "a message attaches at most %d files", atrium.MaxAttachments)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !atrium.ValidID(id) || seen[id] {
			return atrium.Errorf(atrium.EInvalid, "attachments must be distinct ids of files of this binder")
		}
		seen[id] = true
	}
	return nil
}

// postPlan is a post checked against one read of its binder.
type postPlan struct {
	binder   *atrium.Binder  // with the ACLVersion the checks saw
	mentions []string        // the mentioned members' ids
	prev     *atrium.Message // the message already posted with the client key
}

// planPost checks that u may post to the binder and resolves its
// mentions, as read through q and get.
func planPost(ctx context.Context, q postReads, get getBinderFunc, u *atrium.User, binderID string, in PostMessageInput) (*postPlan, error) {
	b, m, err := visibleBinder(ctx, get, u, binderID)
	if err != nil {
		return nil, err
	}
	if !atrium.CanPost(u, b, m) {
		return nil, atrium.Errorf(atrium.EForbidden, "viewers cannot post in this binder")
	}
	p := &postPlan{binder: b}
	if in.ClientKey != "" {
		prev, err := q.GetMessageByClientKey(ctx, b.ID, u.ID, in.ClientKey)
		if err == nil {
			p.prev = prev
			return p, nil
		}
		if atrium.ErrorCode(err) != atrium.ENotFound {
			return nil, err
		}
	}
	if in.ReplyTo != "" {
		_, err := q.GetMessage(ctx, b.ID, in.ReplyTo)
		if atrium.ErrorCode(err) == atrium.ENotFound {
			return nil, atrium.Errorf(atrium.EInvalid, "reply_to is not a message of this binder")
		}
		if err != nil {
			return nil, err
		}
	}
	for _, id := range in.Attachments {
		f, err := q.GetFile(ctx, id)
		if atrium.ErrorCode(err) == atrium.ENotFound || err == nil && f.BinderID != b.ID {
			return nil, atrium.Errorf(atrium.EInvalid, "attachment %s is not a file of this binder", id)
		}
		if err != nil {
			return nil, err
		}
	}
	if p.mentions, err = q.MemberIDsByEmails(ctx, b.ID, atrium.MentionedEmails(in.Text)); err != nil {
		return nil, err
	}
	return p, nil
}

// postMessage writes a planned post. The message goes in at once if the
// binder's membership is still as planned; if not (or if the client key was
// used already), the post is checked again under the binder's lock.
func (a *App) postMessage(w *writer, u *atrium.User, binderID string, in PostMessageInput, plan *postPlan) (*atrium.Message, error) {
	ctx := w.ctx
	if plan.prev == nil {
		msg := newMessage(plan, u, in, w.now)
		ok, err := w.CreateMessageIfACL(ctx, msg, plan.binder.ACLVersion)
		if err != nil {
			return nil, err // a racing copy with the same client key gets EConflict; PostMessage retries
		}
		if ok {
			return msg, a.recordPost(w, plan.binder, msg)
		}
	}
	plan, err := planPost(ctx, w, w.GetBinderForUserLocked, u, binderID, in)
	if err != nil {
		return nil, err
	}
	if err := a.checkMentions(ctx, w.Queries, u, plan.mentions); err != nil {
		return nil, err
	}
	if plan.prev != nil {
		return sameMessage(plan.prev, in)
	}
	msg := newMessage(plan, u, in, w.now)
	if err := w.CreateMessageNextSeq(ctx, msg); err != nil {
		return nil, err
	}
	return msg, a.recordPost(w, plan.binder, msg)
}

func newMessage(p *postPlan, u *atrium.User, in PostMessageInput, now time.Time) *atrium.Message {
	return &atrium.Message{ID: atrium.NewID(), BinderID: p.binder.ID, SenderID: u.ID, Text: in.Text,
		ReplyTo: in.ReplyTo, Mentions: p.mentions, Attachments: in.Attachments, ClientKey: in.ClientKey, CreatedAt: now}
}

// recordPost audits a posted message and emits its event.
func (a *App) recordPost(w *writer, b *atrium.Binder, msg *atrium.Message) error {
	if err := w.auditIn(b.OrgID, b.ID, "message.post", "message", msg.ID, ""); err != nil {
		return err
	}
	return w.event(atrium.EventMessageCreated, b.OrgID, b.ID, "", "message", msg)
}

// sameMessage returns the message already posted under a client key, or
// EPrecondition if the key was used for a different message.
func sameMessage(prev *atrium.Message, in PostMessageInput) (*atrium.Message, error) {
	if (prev.Text != in.Text || !slices.Equal(prev.Attachments, in.Attachments)) && !prev.Deleted || prev.ReplyTo != in.ReplyTo {
		return nil, atrium.Errorf(atrium.EPrecondition, "this client_key was used for a different message")
	}
	return prev, nil
}

// MessagePage asks for messages after a sequence number (oldest first) or,
// with Before, before one (newest first).
type MessagePage struct {
	After  int64
	Before int64
	Limit  int
}

// ListMessages returns a page of a binder's conversation (members only),
// and the sequence number to continue from (0 at the end).
func (a *App) ListMessages(ctx context.Context, binderID string, p MessagePage) ([]*atrium.Message, int64, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, 0, err
	}
	if p.After < 0 || p.Before < 0 || (p.After > 0 && p.Before > 0) {
		return nil, 0, atrium.Errorf(atrium.EInvalid, "give either after or before, as a sequence number")
	}
	if _, _, err := visibleBinder(ctx, a.store.GetBinderForUser, act.User, binderID); err != nil {
		return nil, 0, a.deny(ctx, err, act.User.OrgID, "message.list", "binder", binderID)
	}
	limit := atrium.ClampLimit(p.Limit)
	list, err := a.store.ListMessages(ctx, binderID, p.After, p.Before, limit+1)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].Seq
	}
	return list, next, nil
}

// EditMessageInput replaces a message's text.
type EditMessageInput struct {
	Text string `json:"text"`
}

// EditMessage replaces the text of the actor's own message.
func (a *App) EditMessage(ctx context.Context, binderID, id string, in EditMessageInput) (*atrium.Message, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if err := atrium.ValidateMessageText(in.Text); err != nil {
		return nil, err
	}
	var msg *atrium.Message
	err = a.write(ctx, func(w *writer) error {
		b, m, live, err := a.liveMessage(w, act.User, binderID, id)
		if err != nil {
			return err
		}
		msg = live
		if !atrium.CanEditMessage(act.User, b, m, msg) {
			return atrium.Errorf(atrium.EForbidden, "only the sender can edit a message")
		}
		if err := a.checkFeature(ctx, act, atrium.FeatureMessagesEdit); err != nil {
			return err
		}
		if err := a.withinEditWindow(w, b.OrgID, msg); err != nil {
			return err
		}
		if msg.Mentions, err = w.MemberIDsByEmails(ctx, b.ID, atrium.MentionedEmails(in.Text)); err != nil {
			return err
		}
		if err := a.checkMentions(ctx, w.Queries, act.User, msg.Mentions); err != nil {
			return err
		}
		now := w.now
		msg.Text, msg.EditedAt = in.Text, &now
		if err := w.EditMessage(ctx, msg); err != nil {
			return err
		}
		if err := w.auditIn(b.OrgID, b.ID, "message.edit", "message", msg.ID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventMessageEdited, b.OrgID, b.ID, "", "message", msg)
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "message.edit", "message", id)
	}
	return msg, nil
}

// liveMessage loads, for a change, a message that is not deleted, of a
// binder the user may see, with the binder and the user's membership.
func (a *App) liveMessage(w *writer, u *atrium.User, binderID, id string) (*atrium.Binder, *atrium.Member, *atrium.Message, error) {
	b, m, err := lockedBinder(w, u, binderID)
	if err != nil {
		return nil, nil, nil, err
	}
	if !atrium.ValidID(id) {
		return nil, nil, nil, atrium.NotFound("message")
	}
	msg, err := w.GetMessage(w.ctx, b.ID, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if msg.Deleted {
		return nil, nil, nil, atrium.NotFound("message")
	}
	return b, m, msg, nil
}

// DeleteMessage turns a message into a tombstone: its sender or a binder
// owner may do so.
func (a *App) DeleteMessage(ctx context.Context, binderID, id string) (*atrium.Message, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	var msg *atrium.Message
	err = a.write(ctx, func(w *writer) error {
		b, m, live, err := a.liveMessage(w, act.User, binderID, id)
		if err != nil {
			return err
		}
		msg = live
		if !atrium.CanDeleteMessage(act.User, b, m, msg) {
			return atrium.Errorf(atrium.EForbidden, "only the sender or a binder owner can delete a message")
		}
		if err := w.TombstoneMessage(ctx, b.ID, id, w.now); err != nil {
			return err
		}
		now := w.now
		msg.Text, msg.Mentions, msg.Attachments, msg.Deleted, msg.DeletedAt = "", []string{}, nil, true, &now
		if err := w.auditIn(b.OrgID, b.ID, "message.delete", "message", msg.ID, ""); err != nil {
			return err
		}
		return w.event(atrium.EventMessageDeleted, b.OrgID, b.ID, "", "message", msg)
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "message.delete", "message", id)
	}
	return msg, nil
}

// MarkReadInput moves the actor's read position; Seq 0 means "everything".
type MarkReadInput struct {
	Seq int64 `json:"seq,omitempty"`
}

// ReadState is a member's read position in a binder.
type ReadState struct {
	BinderID string `json:"binder_id"`
	ReadSeq  int64  `json:"read_seq"`
	Unread   int64  `json:"unread"`
}

// MarkRead moves the actor's read position forward (never back). The
// actor's other devices hear of it on the event stream.
func (a *App) MarkRead(ctx context.Context, binderID string, in MarkReadInput) (*ReadState, error) {
	act, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if in.Seq < 0 {
		return nil, atrium.Errorf(atrium.EInvalid, "seq must not be negative")
	}
	var st *ReadState
	err = a.write(ctx, func(w *writer) error {
		b, m, err := lockedBinder(w, act.User, binderID)
		if err != nil {
			return err
		}
		seq := in.Seq
		if seq == 0 {
			seq = b.LastSeq
		}
		if seq > b.LastSeq {
			return atrium.Errorf(atrium.EInvalid, "seq %d is past the binder's last message (%d)", seq, b.LastSeq)
		}
		moved, err := w.SetReadSeq(ctx, b.ID, act.User.ID, seq)
		if err != nil {
			return err
		}
		st = &ReadState{BinderID: b.ID, ReadSeq: max(seq, m.ReadSeq)}
		if st.Unread, err = w.CountUnread(ctx, b.ID, act.User.ID, st.ReadSeq); err != nil || !moved {
			return err
		}
		if err := w.audit(b.OrgID, "read.update", "binder", b.ID, fmt.Sprintf("read to %d", st.ReadSeq)); err != nil {
			return err
		}
		return w.event(atrium.EventReadUpdated, b.OrgID, b.ID, act.User.ID, "read", st)
	})
	if err != nil {
		return nil, a.deny(ctx, err, act.User.OrgID, "read.update", "binder", binderID)
	}
	return st, nil
}

// withinEditWindow refuses an edit after the organisation's edit window.
func (a *App) withinEditWindow(w *writer, orgID string, msg *atrium.Message) error {
	o, err := w.GetOrg(w.ctx, orgID)
	if err != nil {
		return err
	}
	window := time.Duration(o.Settings.MessageEditWindowMinutes) * time.Minute
	if window > 0 && w.now.Sub(msg.CreatedAt) > window {
		return atrium.Errorf(atrium.EForbidden, "messages can be edited for %d minutes after posting", o.Settings.MessageEditWindowMinutes)
	}
	return nil
}

// checkMentions refuses a message by a client that mentions someone the
// organisation's relationship policy does not let them reach.
func (a *App) checkMentions(ctx context.Context, q store.Queries, author *atrium.User, mentions []string) error {
	if author.Kind != atrium.KindClient {
		return nil
	}
	for _, id := range mentions {
		u, err := q.GetUser(ctx, id)
		if err != nil {
			return err
		}
		if _, err := a.mayReach(ctx, q, author, u, atrium.ContactMention); err != nil {
			return err
		}
	}
	return nil
}
