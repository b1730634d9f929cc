package atrium

import "time"

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"
	OutcomeFailure = "failure"
)

// AuditEntry records one state change or attempt: who, what, to what, when,
// from where, and how it ended. Entries are written in the transaction of
// the change they record.
type AuditEntry struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"org_id"`
	ActorID    string    `json:"actor_id"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	Outcome    string    `json:"outcome"`
	Detail     string    `json:"detail,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}
