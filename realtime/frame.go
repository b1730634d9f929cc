package realtime

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/atrium-dev/atrium"
)

// Frame encodes an event as the JSON text frame clients receive:
// {"cursor":…,"type":…,"binder_id":…,"created_at":…,"<kind>":{…}}.
func Frame(e *atrium.Event) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"cursor":`)
	buf.WriteString(strconv.Quote(e.Pos.Cursor()))
	buf.WriteString(`,"type":`)
	buf.WriteString(strconv.Quote(e.Type))
	buf.WriteString(`,"binder_id":`)
	buf.WriteString(strconv.Quote(e.BinderID))
	buf.WriteString(`,"created_at":`)
	ts, _ := json.Marshal(e.CreatedAt)
	buf.Write(ts)
	if e.Kind != "" && len(e.Payload) > 0 {
		buf.WriteString(`,`)
		buf.WriteString(strconv.Quote(e.Kind))
		buf.WriteString(`:`)
		buf.Write(e.Payload)
	}
	buf.WriteString(`}`)
	return buf.Bytes()
}

// containsSession reports whether a session.revoked payload names id.
func containsSession(payload []byte, id string) bool {
	var p struct {
		SessionIDs []string `json:"session_ids"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return false
	}
	for _, s := range p.SessionIDs {
		if s == id {
			return true
		}
	}
	return false
}
