package atrium

import (
	"github.com/google/uuid"
)

// NewID returns a new identifier: a UUIDv7 as text, so identifiers sort by
// creation time and are made by the application, never by the database.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// ValidID reports whether s is a well-formed identifier. A malformed id is
// treated like an unknown one by callers (not found), so that probing reveals
// nothing.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}
