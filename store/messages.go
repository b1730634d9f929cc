package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/atrium-dev/atrium"
)

const messageCols = `id, binder_id, seq, sender_id, text, reply_to, mentions, client_key,
	created_at, edited_at, deleted_at, attachments`

func scanMessage(row interface{ Scan(...any) error }) (*atrium.Message, error) {
	var m atrium.Message
	var replyTo, clientKey, attachments sql.NullString
	var mentions string
	var created int64
	var edited, deleted sql.NullInt64
	if err := row.Scan(&m.ID, &m.BinderID, &m.Seq, &m.SenderID, &m.Text, &replyTo, &mentions,
		&clientKey, &created, &edited, &deleted, &attachments); err != nil {
		return nil, err
	}
	m.ReplyTo, m.ClientKey = replyTo.String, clientKey.String
	if err := json.Unmarshal([]byte(mentions), &m.Mentions); err != nil {
		return nil, err
	}
	if attachments.Valid {
		if err := json.Unmarshal([]byte(attachments.String), &m.Attachments); err != nil {
			return nil, err
		}
	}
	m.CreatedAt = fromMS(created)
	m.EditedAt, m.DeletedAt = fromNullMS(edited), fromNullMS(deleted)
	m.Deleted = m.DeletedAt != nil
	return &m, nil
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// attachmentsJSON encodes a message's attachments; none is NULL.
func attachmentsJSON(ids []string) sql.NullString {
	if len(ids) == 0 {
		return sql.NullString{}
	}
	b, _ := json.Marshal(ids)
	return sql.NullString{String: string(b), Valid: true}
}

func mentionsJSON(m []string) string {
	if m == nil {
		m = []string{}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// CreateMessage inserts a message. EConflict if the sender already used its
// client key in this binder.
func (q Queries) CreateMessage(ctx context.Context, m *atrium.Message) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO messages (`+messageCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, $10)`,
		m.ID, m.BinderID, m.Seq, m.SenderID, m.Text, nullString(m.ReplyTo), mentionsJSON(m.Mentions),
		nullString(m.ClientKey), ms(m.CreatedAt), attachmentsJSON(m.Attachments))
	if q.d.isUnique(err) {
		return atrium.Errorf(atrium.EConflict, "a message with this client key exists")
	}
	return atrium.Internal("store.CreateMessage", err)
}

// GetMessage returns a message of a binder; ENotFound if there is none.
func (q Queries) GetMessage(ctx context.Context, binderID, id string) (*atrium.Message, error) {
	m, err := scanMessage(q.q.QueryRowContext(ctx, `SELECT `+messageCols+`
		FROM messages WHERE binder_id = $1 AND id = $2`, binderID, id))
	if err != nil {
		return nil, notFound(err, "message", "store.GetMessage")
	}
	return m, nil
}

// GetMessageByClientKey returns the sender's message with a client key;
// ENotFound if there is none.
func (q Queries) GetMessageByClientKey(ctx context.Context, binderID, senderID, key string) (*atrium.Message, error) {
	m, err := scanMessage(q.q.QueryRowContext(ctx, `SELECT `+messageCols+`
		FROM messages WHERE binder_id = $1 AND sender_id = $2 AND client_key = $3`, binderID, senderID, key))
	if err != nil {
		return nil, notFound(err, "message", "store.GetMessageByClientKey")
	}
	return m, nil
}

// ListMessages returns up to limit messages of a binder: with seq above
// `after` in ascending order, or, when before > 0, with seq below `before`
// in descending order.
func (q Queries) ListMessages(ctx context.Context, binderID string, after, before int64, limit int) ([]*atrium.Message, error) {
	query := `SELECT ` + messageCols + ` FROM messages WHERE binder_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`
	arg := after
	if before > 0 {
		query = `SELECT ` + messageCols + ` FROM messages WHERE binder_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`
		arg = before
	}
	return queryAll(ctx, q.q, "store.ListMessages", scanMessage, query, binderID, arg, limit)
}

// EditMessage replaces a live message's text and mentions; ENotFound if
// there is no such live message.
func (q Queries) EditMessage(ctx context.Context, m *atrium.Message) error {
	res, err := q.q.ExecContext(ctx, `UPDATE messages SET text = $3, mentions = $4, edited_at = $5
		WHERE binder_id = $1 AND id = $2 AND deleted_at IS NULL`,
		m.BinderID, m.ID, m.Text, mentionsJSON(m.Mentions), nullMS(m.EditedAt))
	return changedOne(res, err, "message", "store.EditMessage")
}

// TombstoneMessage deletes a message's text, keeping its place; ENotFound
// if there is no such live message.
func (q Queries) TombstoneMessage(ctx context.Context, binderID, id string, now time.Time) error {
	res, err := q.q.ExecContext(ctx, `UPDATE messages SET text = '', mentions = '[]', attachments = NULL, deleted_at = $3
		WHERE binder_id = $1 AND id = $2 AND deleted_at IS NULL`, binderID, id, ms(now))
	return changedOne(res, err, "message", "store.TombstoneMessage")
}

// changedOne maps an update that matched no row to ENotFound.
func changedOne(res sql.Result, err error, kind, op string) error {
	if err != nil {
		return atrium.Internal(op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return atrium.Internal(op, err)
		}
		return atrium.NotFound(kind)
	}
	return nil
}
