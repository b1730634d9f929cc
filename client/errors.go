package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Error is a refusal by the server: a response with a 4xx or 5xx status.
// Code is Atrium's stable error code ("not_found", "forbidden",
// "precondition", …, the E* constants of the atrium package) when the
// response had the API's error shape, and empty otherwise (for example a
// proxy's 502 page).
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the stable error code, e.g. "unauthorized".
	Code string
	// Message is the server's explanation, safe to show to a person.
	Message string
	// RetryAfter is how long the server asked the client to wait before
	// trying again (rate limits), or zero.
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("atrium: HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("atrium: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// ErrorCode returns the Code of the first *Error in err's chain, or "" if
// there is none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// errorFromResponse builds the *Error for a response with an error status,
// reading the {"error":{"code","message"}} body when there is one.
func errorFromResponse(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	if resp.Body == nil {
		return e
	}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if json.Unmarshal(raw, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	}
	return e
}
