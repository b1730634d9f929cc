package atrium

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one entry of a binder's conversation. Seq numbers a binder's
// messages from 1 without gaps, in commit order.
type Message struct {
	ID       string   `json:"id"`
	BinderID string   `json:"binder_id"`
	Seq      int64    `json:"seq"`
	SenderID string   `json:"sender_id"`
	Text     string   `json:"text"`
	ReplyTo  string   `json:"reply_to,omitempty"`
	Mentions []string `json:"mentions"`
	// Attachments are ids of files of the binder the message attaches.
	Attachments []string   `json:"attachments,omitempty"`
	ClientKey   string     `json:"client_key,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	EditedAt    *time.Time `json:"edited_at,omitempty"`
	// Deleted marks a tombstone: the text is gone, the place in the
	// conversation stays.
	Deleted   bool       `json:"deleted"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
}

// MaxAttachments bounds the files one message attaches.
const MaxAttachments = 10

// ValidateMessageText checks a message's Markdown text.
func ValidateMessageText(text string) error {
	if !utf8.ValidString(text) {
		return Errorf(EInvalid, "text is not valid UTF-8")
	}
	if strings.TrimSpace(text) == "" {
		return Errorf(EInvalid, "text is required")
	}
	if len(text) > MaxMessageBytes {
		return Errorf(ETooLarge, "text is longer than %d bytes", MaxMessageBytes)
	}
	if strings.ContainsRune(text, 0) {
		return Errorf(EInvalid, "text contains a NUL character")
	}
	return nil
}

// mentionRE matches @mentions by e-mail address, e.g. "@ana@example.com".
var mentionRE = regexp.MustCompile(`(?:^|[\s(])@([A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})`)

// MentionedEmails returns the distinct e-mail addresses mentioned in a
// message's text, lower-cased, in order of first appearance. Whether each is
// a member is decided by the caller.
func MentionedEmails(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range mentionRE.FindAllStringSubmatch(text, 50) {
		e := strings.ToLower(strings.TrimRight(m[1], "."))
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}
