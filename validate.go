package atrium

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input limits. Each is enforced in a Validate method, so every way in (API,
// command line, later mail and SDK) shares it.
const (
	MaxNameLen        = 200      // org, user and binder names and titles, in characters
	MaxEmailLen       = 254      // RFC 5321 path limit
	MinPasswordLen    = 10       // characters
	MaxPasswordLen    = 1024     // bytes; argon2 takes any length, this bounds the work
	MaxMessageBytes   = 64 << 10 // a message's Markdown text
	MaxDeviceNameLen  = 100      // characters
	MaxPlatformLen    = 50       // characters
	MaxIdempotencyKey = 200      // bytes
	MaxSettingsBytes  = 16 << 10 // an organisation's settings document
	MaxListLimit      = 200      // items in one page of any list
	DefaultListLimit  = 50       // items when the caller does not say
)

// CheckText validates a required, single-line piece of text: valid UTF-8,
// no control characters, not blank, at most max characters.
func CheckText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return Errorf(EInvalid, "%s is not valid UTF-8", field)
	}
	if strings.TrimSpace(s) == "" {
		return Errorf(EInvalid, "%s is required", field)
	}
	if utf8.RuneCountInString(s) > max {
		return Errorf(EInvalid, "%s is longer than %d characters", field, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Errorf(EInvalid, "%s contains a control character", field)
		}
	}
	return nil
}

// NormalizeEmail returns the canonical form of an e-mail address (trimmed,
// lower case) after checking it is a plain address.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", Errorf(EInvalid, "email is required")
	}
	if len(s) > MaxEmailLen || !utf8.ValidString(s) {
		return "", Errorf(EInvalid, "email is not a valid address")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", Errorf(EInvalid, "email is not a valid address")
	}
	return s, nil
}

// ValidatePassword checks a new password's length. Strength beyond length is
// the organisation's policy and comes later.
func ValidatePassword(p string) error {
	if !utf8.ValidString(p) {
		return Errorf(EInvalid, "password is not valid UTF-8")
	}
	if utf8.RuneCountInString(p) < MinPasswordLen {
		return Errorf(EInvalid, "password must be at least %d characters", MinPasswordLen)
	}
	if len(p) > MaxPasswordLen {
		return Errorf(EInvalid, "password is longer than %d bytes", MaxPasswordLen)
	}
	return nil
}

// ClampLimit returns a page size within [1, MaxListLimit], DefaultListLimit
// for zero.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultListLimit
	case n > MaxListLimit:
		return MaxListLimit
	}
	return n
}
