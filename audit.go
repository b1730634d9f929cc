package atrium

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"
	OutcomeFailure = "failure"
)

// AuditEntry records one state change or attempt: who, what, to what, when,
// from where, and how it ended. Entries are written in the transaction of
// the change they record.
//
// Each organisation's entries form a hash chain: Seq numbers them from 1
// without gaps, PrevHash is the Hash of the entry before (empty for the
// first) and Hash covers PrevHash and every field (ChainHash), so that an
// entry altered, removed, inserted or moved breaks the chain.
type AuditEntry struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"org_id"`
	Seq        int64     `json:"seq"`
	ActorID    string    `json:"actor_id"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	BinderID   string    `json:"binder_id,omitempty"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	Outcome    string    `json:"outcome"`
	Detail     string    `json:"detail,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// ChainHash is the entry's hash given the hash of the entry before it
// (hex, empty for the first): SHA-256 over a version tag, the previous
// hash, the sequence number, the creation time in milliseconds and every
// text field, each prefixed with its length so that no two different
// entries encode alike.
func (e *AuditEntry) ChainHash(prev string) string {
	h := sha256.New()
	var buf []byte
	field := func(s string) {
		buf = binary.AppendUvarint(buf[:0], uint64(len(s)))
		h.Write(buf)
		h.Write([]byte(s))
	}
	field("atrium/audit/v1")
	field(prev)
	buf = binary.BigEndian.AppendUint64(buf[:0], uint64(e.Seq))
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.CreatedAt.UnixMilli()))
	h.Write(buf)
	for _, s := range []string{e.ID, e.OrgID, e.ActorID, e.Action, e.TargetType, e.TargetID, e.BinderID,
		e.IP, e.UserAgent, e.Outcome, e.Detail} {
		field(s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditCheckpoint is a signed statement of an organisation's audit chain
// at one point: its length and the hash of its last entry. The signature
// (Ed25519, by the server's audit key KeyID) covers CheckpointMessage.
type AuditCheckpoint struct {
	OrgID     string    `json:"org_id"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"`
	CreatedAt time.Time `json:"created_at"`
	// Prune marks the statement that the entries up to Seq were removed by
	// the retention (a different statement, signed as such).
	Prune bool `json:"prune,omitempty"`
}

// Message is what the checkpoint's signature covers.
func (c *AuditCheckpoint) Message() []byte {
	var b []byte
	tag := "atrium/audit-checkpoint/v1"
	if c.Prune {
		tag = "atrium/audit-prune/v1"
	}
	for _, s := range []string{tag, c.OrgID, c.Hash, c.KeyID} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(c.Seq))
	return binary.BigEndian.AppendUint64(b, uint64(c.CreatedAt.UnixMilli()))
}
