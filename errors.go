package atrium

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: clients match on them, and the HTTP layer
// maps each to one status code.
const (
	EInvalid         = "invalid"             // the input is malformed or fails validation
	ENotFound        = "not_found"           // the object does not exist or is not visible to the actor
	EForbidden       = "forbidden"           // the actor may see the object but not do this to it
	EConflict        = "conflict"            // the change clashes with the current state
	EUnauthorized    = "unauthorized"        // no valid credentials
	ERateLimited     = "rate_limited"        // too many attempts; retry later
	ETooLarge        = "too_large"           // the request body is over its limit
	EQuota           = "quota_exceeded"      // the change would take the organisation over its storage quota
	EVersion         = "unsupported_version" // the client speaks a version of a protocol (tus) the server does not
	EUnsupported     = "unsupported"         // e.g. a media type the endpoint does not take
	EInternal        = "internal"            // a fault of the server; details are logged, never shown
	EUnavailable     = "unavailable"         // the server cannot serve now (shutting down, not ready)
	EGone            = "gone"                // the object existed and was removed (e.g. an expired invitation)
	EPrecondition    = "precondition"        // e.g. a reused idempotency key with another request
	EUpgrade         = "upgrade_needed"      // e.g. the database schema is newer than this binary
	EMalware         = "malware_detected"    // the malware scanner found the upload infected; it was quarantined
	EFeatureDisabled = "feature_disabled"    // the feature is switched off for this user (organisation setting or permission)
	EScope           = "insufficient_scope"  // an OAuth access token without the scope the request needs
)

// Error is Atrium's error. Code is one of the E* constants, Message is safe
// to show to the caller, Op names the operation that failed, and Err is the
// wrapped cause, which is logged but never shown.
type Error struct {
	Code    string
	Message string
	Op      string
	Err     error
	// RetryAfter, when non-zero, is the number of seconds after which a
	// rate-limited request may be retried.
	RetryAfter int
}

// Error implements the error interface.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Code
	}
	switch {
	case e.Op != "" && e.Err != nil:
		return fmt.Sprintf("%s: %s: %v", e.Op, msg, e.Err)
	case e.Op != "":
		return e.Op + ": " + msg
	case e.Err != nil:
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause, so errors.Is and errors.As see through an Error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the given code and a message safe to show.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure: the caller sees only "internal
// error"; the cause is kept for the log.
func Internal(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: EInternal, Message: "internal error", Op: op, Err: err}
}

// ErrorCode returns the code of the first Error in err's chain, EInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of the first Error in err's chain that is
// safe to show, or "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EInternal {
		if e.Message != "" {
			return e.Message
		}
		return e.Code
	}
	return "internal error"
}

// NotFound is the one error for an object the actor cannot see, whether it
// does not exist or belongs to someone else: the two must be
// indistinguishable.
func NotFound(kind string) *Error {
	return Errorf(ENotFound, "%s not found", kind)
}
