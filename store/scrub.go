package store

import (
	"context"
	"strings"
	"time"

	"github.com/atrium-dev/atrium"
)

// The event outbox keeps what changed for as long as streams may resume
// (30 days by default). When content is erased (a user's under the erase
// policy, old messages by the retention), its copies there are erased
// too, so that a replay cannot bring it back. (A message deleted by its
// sender stays in the events of the members who were sent it, followed by
// its deletion: they had it already.)

// scrubMessage is how a message event's payload is rewritten: its text,
// mentions and attachments gone, marked deleted.
func (q Queries) scrubMessage(cond string) string {
	if q.d.name() == "postgres" {
		return `UPDATE events SET payload = (payload::jsonb || '{"text":"","mentions":[],"attachments":null,"deleted":true}'::jsonb)::text
			WHERE type IN ('message.created', 'message.edited') AND ` + cond
	}
	return `UPDATE events SET payload = json_set(payload, '$.text', '', '$.mentions', json('[]'), '$.attachments', json('null'),
		'$.deleted', json('true')) WHERE type IN ('message.created', 'message.edited') AND ` + cond
}

// jsonField is the expression of a text field of an event's payload, at
// a path of keys.
func (q Queries) jsonField(path ...string) string {
	if q.d.name() == "postgres" {
		return `(payload::jsonb #>> '{` + strings.Join(path, ",") + `}')`
	}
	return `json_extract(payload, '$.` + strings.Join(path, ".") + `')`
}

// ScrubMessagesBy erases, in an organisation's outbox, the text of every
// message a user sent.
func (q Queries) ScrubMessagesBy(ctx context.Context, orgID, senderID string) error {
	_, err := q.q.ExecContext(ctx, q.scrubMessage(`org_id = $1 AND `+q.jsonField("sender_id")+` = $2`), orgID, senderID)
	return atrium.Internal("store.ScrubMessagesBy", err)
}

// ScrubMessagesBefore erases, in an organisation's outbox, the text of
// messages sent before t.
func (q Queries) ScrubMessagesBefore(ctx context.Context, orgID string, t time.Time) error {
	_, err := q.q.ExecContext(ctx, q.scrubMessage(`org_id = $1 AND created_at < $2`), orgID, ms(t))
	return atrium.Internal("store.ScrubMessagesBefore", err)
}

// ScrubMemberEvents replaces, in an organisation's outbox, a deleted
// user's name and address in the member events about them.
func (q Queries) ScrubMemberEvents(ctx context.Context, orgID, userID string) error {
	set := `json_set(payload, '$.user.name', '` + atrium.DeletedUserName + `', '$.user.email', '')`
	if q.d.name() == "postgres" {
		set = `jsonb_set(jsonb_set(payload::jsonb, '{user,name}', '"` + atrium.DeletedUserName + `"'), '{user,email}', '""')::text`
	}
	_, err := q.q.ExecContext(ctx, `UPDATE events SET payload = `+set+`
		WHERE org_id = $1 AND user_id = $2 AND type IN ('member.added', 'member.removed') AND `+q.jsonField("user_id")+` = $2
		AND `+q.jsonField("user", "email")+` IS NOT NULL`, orgID, userID)
	return atrium.Internal("store.ScrubMemberEvents", err)
}
